//! The Alpine 3.19.1 ISO repository against what apk-tools 2.14.10 installs
//! (apk-tools-tests/resolutions-alpine-3.19-iso.tsv).

use rapko_solve::{Reason, ResolveError, Resolver, to_dot};

use crate::{err, iso, ok, sorted, world};

use rapko_test::ALPINE_BASE_PACKAGES as ALPINE_BASE;

#[test]
fn alpine_base_is_exactly_the_25_packages_apk_installs() {
    let r = ok(iso(), "alpine-base");
    let mut names: Vec<&str> = r.packages.iter().map(|p| p.info.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ALPINE_BASE);
    let ssl_client = r.get("ssl_client").map(|p| p.reason);
    assert_eq!(ssl_client, Some(Reason::InstallIf));
    assert_eq!(r.get("alpine-base").map(|p| p.reason), Some(Reason::World));
    assert_eq!(r.get("musl").map(|p| p.reason), Some(Reason::Dependency));
}

#[test]
fn alpine_base_installs_dependencies_first() {
    let r = ok(iso(), "alpine-base");
    let position = |name: &str| {
        r.packages
            .iter()
            .position(|p| p.info.name == name)
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    for (i, p) in r.packages.iter().enumerate() {
        for link in &p.depends {
            for &dep in &link.satisfied_by {
                // Only a cycle may put a dependency after its dependent.
                let cycle = r.packages[dep]
                    .depends
                    .iter()
                    .any(|l| l.satisfied_by.iter().any(|&x| x <= i));
                assert!(
                    dep < i || cycle,
                    "{} before its dependency {}",
                    p.info.name,
                    r.packages[dep].info.name
                );
            }
        }
    }
    // apk's own order for this world: the walk from alpine-base's first dependency.
    let first: Vec<&str> = r
        .packages
        .iter()
        .take(8)
        .map(|p| p.info.name.as_str())
        .collect();
    assert_eq!(
        first,
        [
            "alpine-baselayout-data",
            "musl",
            "busybox",
            "busybox-binsh",
            "alpine-baselayout",
            "ifupdown-ng",
            "libcap2",
            "openrc"
        ]
    );
    assert!(position("libssl3") < position("ssl_client"));
    assert!(position("busybox") < position("ssl_client"));
    assert_eq!(
        r.packages.last().map(|p| p.info.name.as_str()),
        Some("alpine-base")
    );
    // Same order on every run, from a fresh resolver.
    for _ in 0..3 {
        let again = ok(iso(), "alpine-base");
        assert_eq!(again.name_versions(), r.name_versions());
        assert_eq!(to_dot(&again), to_dot(&r));
    }
}

/// What apk-tools 2.14.10 did, one world a line.
struct Case {
    world: String,
    ok: bool,
    packages: Vec<String>,
}

fn cases() -> Vec<Case> {
    let path = rapko_test::fixture("apk-tools-tests/resolutions-alpine-3.19-iso.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert!(fields.len() >= 2, "bad line {line:?}");
            let mut packages: Vec<String> = fields
                .get(2)
                .map(|f| f.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default();
            packages.sort();
            Case {
                world: fields[0].to_owned(),
                ok: fields[1] == "ok",
                packages,
            }
        })
        .collect()
}

/// The packages an unsatisfiable world's message must name.
fn must_name(world: &str) -> &'static [&'static str] {
    match world {
        "alpine-base network-extras" => &["ifupdown-ng-0.12.1-r4", "vlan", "network-extras-2.0-r0"],
        "util-linux" => &["util-linux"],
        "busybox>1.36.1-r15" => &["busybox-1.36.1-r15"],
        "openssh !openssh-server" => &[
            "openssh-9.6_p1-r0",
            "openssh-server-9.6_p1-r0",
            "!openssh-server",
        ],
        other => panic!("no expectation for the unsatisfiable world {other:?}; add one"),
    }
}

#[test]
fn all_33_worlds_match_apk_tools() {
    let cases = cases();
    assert_eq!(cases.len(), 33);
    let mut failures = Vec::new();
    for case in &cases {
        let result = crate::resolve(iso(), &case.world);
        match (case.ok, result) {
            (true, Ok(r)) => {
                if sorted(&r) != case.packages {
                    let got = sorted(&r);
                    let extra: Vec<_> = got.iter().filter(|p| !case.packages.contains(p)).collect();
                    let missing: Vec<_> =
                        case.packages.iter().filter(|p| !got.contains(p)).collect();
                    failures.push(format!(
                        "{}: extra {extra:?}, missing {missing:?}",
                        case.world
                    ));
                }
            }
            (true, Err(e)) => {
                failures.push(format!("{}: apk installs it, we fail: {e}", case.world))
            }
            (false, Ok(r)) => failures.push(format!(
                "{}: apk fails, we install {:?}",
                case.world,
                r.name_versions()
            )),
            (false, Err(e)) => {
                let message = e.to_string();
                for name in must_name(&case.world) {
                    if !message.contains(name) {
                        failures.push(format!(
                            "{}: the message does not name {name}: {message}",
                            case.world
                        ));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn unsatisfiable_iso_worlds_explain_themselves() {
    let e = err(iso(), "alpine-base network-extras");
    let ResolveError::Unsatisfiable { reasons, .. } = &e else {
        panic!("expected Unsatisfiable, got {e}");
    };
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("vlan-2.3-r1")
                && r.contains("ifupdown-ng-0.12.1-r4 forbids (!vlan)")),
        "{e}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.ends_with("needs ifupdown-any, provided only by ifupdown-ng-0.12.1-r4")),
        "{e}"
    );

    let e = err(iso(), "busybox>1.36.1-r15");
    assert_eq!(
        e,
        ResolveError::NoMatchingVersion {
            atom: "busybox>1.36.1-r15".into(),
            name: "busybox".into(),
            available: vec!["busybox-1.36.1-r15".into()],
        }
    );

    let e = err(iso(), "openssh !openssh-server");
    let text = e.to_string();
    assert!(
        text.contains("openssh-9.6_p1-r0 needs openssh-server, provided only by openssh-server-9.6_p1-r0, which the world forbids (!openssh-server)"),
        "{text}"
    );

    let e = err(iso(), "util-linux");
    assert!(
        matches!(e, ResolveError::UnknownPackage { ref name, .. } if name == "util-linux"),
        "{e}"
    );
}

#[test]
fn a_resolver_is_reusable_and_results_do_not_depend_on_world_order() {
    let resolver = Resolver::new(iso());
    let a = resolver
        .resolve(&world("openssh wget alpine-base tzdata"))
        .unwrap_or_else(|e| panic!("{e}"));
    let b = resolver
        .resolve(&world("tzdata alpine-base wget openssh"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(a.name_versions(), b.name_versions());
}
