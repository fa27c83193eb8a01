//! Synthetic repositories: each rule of apk's solver, and traps where the first choice
//! is wrong but a solution exists.

use rapko_solve::{Reason, Repository, ResolveError, Resolver, resolve_consistent, to_dot};

use crate::{err, index, ok, sorted, world};

fn repo(text: &str) -> Vec<Repository> {
    vec![Repository::new(index(text))]
}

#[test]
fn trap_a_preferred_provider_whose_dependency_conflicts_later() {
    // libx-fast is preferred for so:libx.so.1 (higher priority) but needs helper, which
    // app forbids; the solver must fall back to libx-slow.
    let r = repo(
        "P:app V:1 D:so:libx.so.1|!helper|tool
         P:libx-fast V:2 p:so:libx.so.1=1 k:100 D:helper
         P:libx-slow V:1 p:so:libx.so.1=1 k:10
         P:helper V:1
         P:tool V:1",
    );
    assert_eq!(sorted(&ok(&r, "app")), ["app-1", "libx-slow-1", "tool-1"]);
}

#[test]
fn trap_only_the_lower_version_works() {
    // foo-2 needs bar>=2, and bar-2 conflicts with baz, which app also needs.
    let r = repo(
        "P:app V:1 D:foo|baz
         P:foo V:2 D:bar>=2
         P:foo V:1 D:bar
         P:bar V:2 D:!baz
         P:bar V:1
         P:baz V:1",
    );
    assert_eq!(sorted(&ok(&r, "app")), ["app-1", "bar-1", "baz-1", "foo-1"]);
    // Two providers of a name where only the lower-ranked one's version fits.
    let r = repo(
        "P:app V:1 D:so:libz.so.1>=1.3|old-tool
         P:zlib-ng V:2 p:so:libz.so.1=1.3.0 D:!old-tool
         P:zlib V:1.3.1 p:so:libz.so.1=1.3.1 k:1
         P:old-tool V:1",
    );
    assert_eq!(
        sorted(&ok(&r, "app")),
        ["app-1", "old-tool-1", "zlib-1.3.1"]
    );
}

#[test]
fn trap_a_deep_choice_undone_by_a_late_requirement() {
    // a's highest version pulls c-2 through b-2, but d needs c<2.
    let r = repo(
        "P:top V:1 D:a|d
         P:a V:2 D:b>=2
         P:a V:1 D:b
         P:b V:2 D:c>=2
         P:b V:1 D:c
         P:c V:2
         P:c V:1
         P:d V:1 D:c<2",
    );
    assert_eq!(
        sorted(&ok(&r, "top")),
        ["a-1", "b-1", "c-1", "d-1", "top-1"]
    );
}

#[test]
fn every_operator_on_names_and_provided_names() {
    let r = repo(
        "P:lib V:1.0-r0 p:so:lib.so=1.0
         P:lib V:1.1-r0 p:so:lib.so=1.1
         P:lib V:1.1.5-r0 p:so:lib.so=1.1.5
         P:lib V:2.0-r0 p:so:lib.so=2.0",
    );
    for (w, expect) in [
        ("lib", "lib-2.0-r0"),
        ("lib=1.1-r0", "lib-1.1-r0"),
        ("lib>1.0-r0", "lib-2.0-r0"),
        ("lib<1.1.5", "lib-1.1-r0"),
        ("lib<=1.1.5-r0", "lib-1.1.5-r0"),
        ("lib>=1.1", "lib-2.0-r0"),
        ("lib~1.1", "lib-1.1.5-r0"),
        ("lib=~1.0", "lib-1.0-r0"),
        ("so:lib.so<2", "lib-1.1.5-r0"),
        ("so:lib.so~1.1", "lib-1.1.5-r0"),
        ("so:lib.so=1.0", "lib-1.0-r0"),
    ] {
        assert_eq!(sorted(&ok(&r, w)), [expect], "{w}");
    }
    // apk orders 2.0 above 2 (more components), so only a constraint above 2.0 fails.
    assert_eq!(sorted(&ok(&r, "lib>2")), ["lib-2.0-r0"]);
    let e = err(&r, "lib>2.0-r0");
    assert!(
        e.to_string()
            .contains("no version of lib matches lib>2.0-r0"),
        "{e}"
    );
}

#[test]
fn an_unversioned_provide_satisfies_only_unconstrained_atoms() {
    let r = repo(
        "P:app V:1 D:virt>=1
         P:other V:1 D:virt
         P:only-unversioned V:5 p:virt k:1",
    );
    assert_eq!(sorted(&ok(&r, "other")), ["only-unversioned-5", "other-1"]);
    let e = err(&r, "app");
    let text = e.to_string();
    assert!(
        text.contains("app-1 needs virt>=1, but no version matches"),
        "{text}"
    );
}

#[test]
fn cmd_so_and_pc_names_resolve_through_provides() {
    let r = repo(
        "P:git V:2.43 p:cmd:git=2.43 D:so:libcurl.so.4|pc:zlib
         P:curl-libs V:8.5 p:so:libcurl.so.4=4.8.0
         P:zlib-dev V:1.3 p:pc:zlib=1.3",
    );
    assert_eq!(
        sorted(&ok(&r, "cmd:git")),
        ["curl-libs-8.5", "git-2.43", "zlib-dev-1.3"]
    );
}

#[test]
fn conflicts_in_the_world_and_in_packages() {
    let r = repo(
        "P:app V:1 D:sh
         P:sh V:1 p:shell=1
         P:mksh V:1 p:shell=1 k:1
         P:strict V:1 D:!mksh
         P:loose V:1 D:shell",
    );
    assert_eq!(sorted(&ok(&r, "app !mksh")), ["app-1", "sh-1"]);
    // With mksh forbidden, the lower-priority sh provides shell.
    assert_eq!(sorted(&ok(&r, "loose !mksh")), ["loose-1", "sh-1"]);
    assert_eq!(
        sorted(&ok(&r, "loose strict")),
        ["loose-1", "sh-1", "strict-1"]
    );
    let e = err(&r, "mksh strict");
    assert!(
        e.to_string().contains("which strict-1 forbids (!mksh)"),
        "{e}"
    );
    // A versioned conflict forbids only the matching versions.
    let r = repo(
        "P:app V:1 D:!lib<2
         P:lib V:1
         P:lib V:2",
    );
    assert_eq!(sorted(&ok(&r, "app lib")), ["app-1", "lib-2"]);
}

#[test]
fn provider_priority_and_its_limits() {
    let r = repo(
        "P:busybox-binsh V:1.36 p:/bin/sh k:100
         P:dash-binsh V:0.5 p:/bin/sh k:60
         P:oksh V:7 p:/bin/sh",
    );
    assert_eq!(sorted(&ok(&r, "/bin/sh")), ["busybox-binsh-1.36"]);
    assert_eq!(
        sorted(&ok(&r, "/bin/sh !busybox-binsh")),
        ["dash-binsh-0.5"]
    );
    // Providers without a priority come last (apk would ask; we take the next one).
    assert_eq!(
        sorted(&ok(&r, "/bin/sh !busybox-binsh !dash-binsh")),
        ["oksh-7"]
    );
    // Several unversioned providers of one name may be installed together.
    assert_eq!(sorted(&ok(&r, "/bin/sh dash-binsh")), ["dash-binsh-0.5"]);
    assert_eq!(
        sorted(&ok(&r, "busybox-binsh dash-binsh")),
        ["busybox-binsh-1.36", "dash-binsh-0.5"]
    );
}

#[test]
fn a_name_provided_with_a_version_is_held_by_one_package() {
    let r = repo(
        "P:emacs-nox V:29 p:cmd:emacs=29
         P:emacs-x11 V:29 p:cmd:emacs=29",
    );
    let e = err(&r, "emacs-nox emacs-x11");
    let text = e.to_string();
    assert!(text.contains("both provide cmd:emacs"), "{text}");
}

#[test]
fn install_if_joins_as_a_fix_point_and_never_forces() {
    let r = repo(
        "P:busybox V:1.36-r15
         P:libssl3 V:3.1
         P:ssl_client V:1.36-r15 i:busybox=1.36-r15|libssl3 D:libssl3
         P:app V:1 D:busybox|libssl3
         P:openrc V:1
         P:app-openrc V:1 i:openrc|app D:openrc-helper
         P:openrc-helper V:1
         P:helper-doc V:1 i:openrc-helper|docs
         P:docs V:1
         P:old-busybox-ext V:1 i:busybox=1.0",
    );
    let res = ok(&r, "app");
    assert_eq!(
        sorted(&res),
        [
            "app-1",
            "busybox-1.36-r15",
            "libssl3-3.1",
            "ssl_client-1.36-r15"
        ]
    );
    assert_eq!(
        res.get("ssl_client").map(|p| p.reason),
        Some(Reason::InstallIf)
    );
    // A chain: app-openrc joins and pulls openrc-helper, which lets helper-doc join.
    let res = ok(&r, "app openrc docs");
    assert!(
        res.get("app-openrc").is_some() && res.get("helper-doc").is_some(),
        "{:?}",
        res.name_versions()
    );
    // The world can refuse an install_if package.
    assert_eq!(
        sorted(&ok(&r, "app !ssl_client")),
        ["app-1", "busybox-1.36-r15", "libssl3-3.1"]
    );
}

#[test]
fn install_if_skips_what_cannot_be_installed_and_falls_back_to_an_older_version() {
    let r = repo(
        "P:app V:1 D:!newlib
         P:app-extra V:2 i:app D:newlib
         P:app-extra V:1 i:app
         P:newlib V:1
         P:app-broken V:1 i:app D:missing-thing
         P:app-neg V:1 i:app|!busybox
         P:busybox V:1",
    );
    let res = ok(&r, "app");
    assert_eq!(sorted(&res), ["app-1", "app-extra-1", "app-neg-1"]);
    // `!busybox` in install_if: with busybox there, app-neg stays out.
    assert_eq!(
        sorted(&ok(&r, "app busybox")),
        ["app-1", "app-extra-1", "busybox-1"]
    );
}

#[test]
fn pinned_repositories_are_used_only_when_asked_for() {
    let repos = vec![
        Repository::new(index(
            "P:app V:1 D:lib
             P:lib V:1
             P:tool V:1",
        )),
        Repository::tagged(
            "edge",
            index(
                "P:app V:2 D:lib>=2|helper
                 P:lib V:2
                 P:lib V:3
                 P:helper V:1
                 P:tool V:0.9
                 P:only-edge V:1",
            ),
        ),
    ];
    assert_eq!(sorted(&ok(&repos, "app")), ["app-1", "lib-1"]);
    // app@edge: app and what it needs may come from edge; lib from edge because the main
    // one is too old, at its highest version.
    assert_eq!(
        sorted(&ok(&repos, "app@edge")),
        ["app-2", "helper-1", "lib-3"]
    );
    // A pin prefers its repository even over a higher version elsewhere.
    assert_eq!(sorted(&ok(&repos, "tool@edge")), ["tool-0.9"]);
    let e = err(&repos, "only-edge");
    let text = e.to_string();
    assert!(
        text.contains("only-edge") && text.contains("@edge"),
        "{text}"
    );
    assert_eq!(sorted(&ok(&repos, "only-edge@edge")), ["only-edge-1"]);
    let e = err(&repos, "app@testing");
    assert!(matches!(e, ResolveError::UnknownTag { .. }), "{e}");
}

#[test]
fn replaces_and_the_package_metadata_are_carried_through() {
    let r = repo("P:replayout V:1 r:pretend-baselayout o:replayout-src");
    let res = ok(&r, "replayout");
    let p = &res.packages[0];
    assert_eq!(
        p.info
            .replaces
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["pretend-baselayout"]
    );
    assert_eq!(p.info.origin.as_deref(), Some("replayout-src"));
    assert_eq!((p.repository, p.index), (0, 0));
}

#[test]
fn cycles_are_ordered_the_same_way_every_time() {
    let r = repo(
        "P:busybox V:1 D:so:libc.so
         P:busybox-binsh V:1 D:busybox p:/bin/sh k:100
         P:musl V:1 p:so:libc.so=1 D:/bin/sh
         P:app V:1 D:/bin/sh|musl",
    );
    let first = ok(&r, "app").name_versions();
    // app → /bin/sh → busybox-binsh → busybox → so:libc.so → musl, whose /bin/sh is
    // already being walked: musl first, then back up the cycle.
    assert_eq!(first, ["musl-1", "busybox-1", "busybox-binsh-1", "app-1"]);
    for _ in 0..5 {
        assert_eq!(ok(&r, "app").name_versions(), first);
    }
    let res = ok(&r, "app");
    let busybox = &res.packages[1];
    assert_eq!(busybox.depends[0].satisfied_by, [0]);
    let dot = to_dot(&res);
    assert!(
        dot.contains("\"busybox-1\" -> \"musl-1\" [label=\"so:libc.so\"];"),
        "{dot}"
    );
}

#[test]
fn explanations_follow_the_chain_of_requirements() {
    let r = repo(
        "P:nginx V:1.24 D:so:libssl.so.3
         P:libssl3 V:3.1.4-r5 p:so:libssl.so.3=3 D:!libressl
         P:tool V:1 D:libressl
         P:libressl V:3.8",
    );
    let e = err(&r, "nginx tool");
    let text = e.to_string();
    assert!(
        text.contains("nginx-1.24 needs so:libssl.so.3, provided only by libssl3-3.1.4-r5"),
        "{text}"
    );
    assert!(
        text.contains("tool-1 needs libressl, provided only by libressl-3.8, which libssl3-3.1.4-r5 forbids (!libressl)"),
        "{text}"
    );
    let r = repo("P:app V:1 D:so:libmissing.so.1");
    let e = err(&r, "app");
    assert!(
        e.to_string()
            .contains("app-1 needs so:libmissing.so.1, which no repository provides"),
        "{e}"
    );
}

#[test]
fn consistent_versions_across_architectures() {
    let x86 = vec![Repository::new(index(
        "P:app V:1 D:lib
         P:lib V:2
         P:lib V:1
         P:noarch-data V:5",
    ))];
    let arm = vec![Repository::new(index(
        "P:app V:1 D:lib
         P:lib V:1
         P:noarch-data V:5",
    ))];
    let (rx, ra) = (Resolver::new(&x86), Resolver::new(&arm));
    let w = world("app noarch-data");
    let both = resolve_consistent(&[("x86_64", &rx), ("aarch64", &ra)], &w)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sorted(&both[0]), ["app-1", "lib-1", "noarch-data-5"]);
    assert_eq!(sorted(&both[1]), ["app-1", "lib-1", "noarch-data-5"]);
    // Alone, x86_64 takes lib-2.
    assert_eq!(sorted(&ok(&x86, "app")), ["app-1", "lib-2"]);

    let arm_new = vec![Repository::new(index(
        "P:app V:1 D:lib
         P:lib V:3",
    ))];
    let rn = Resolver::new(&arm_new);
    match resolve_consistent(&[("x86_64", &rx), ("aarch64", &rn)], &world("app")) {
        Err(ResolveError::InconsistentVersions { name, versions }) => {
            assert_eq!(name, "lib");
            assert_eq!(
                versions,
                [
                    ("x86_64".to_owned(), "2".to_owned()),
                    ("aarch64".to_owned(), "3".to_owned())
                ]
            );
        }
        other => panic!("expected InconsistentVersions, got {other:?}"),
    }
    match resolve_consistent(&[("x86_64", &rx), ("aarch64", &rn)], &world("nothing-here")) {
        Err(ResolveError::Arch { arch, .. }) => assert_eq!(arch, "x86_64"),
        other => panic!("expected Arch, got {other:?}"),
    }
}

#[test]
fn explanations_group_who_forbids_and_name_every_candidate() {
    let r = repo(
        "P:app V:1 D:foo|baz
         P:foo V:3 D:bar>=3
         P:foo V:2 D:bar>=2
         P:foo V:1 D:bar>=1
         P:bar V:3 D:!baz
         P:bar V:2 D:!baz
         P:bar V:1 D:!baz
         P:baz V:1
         P:x V:1 D:y
         P:y V:1 D:z=2
         P:z V:1",
    );
    let reasons = |w: &str| match err(&r, w) {
        ResolveError::Unsatisfiable { reasons, .. } => reasons,
        other => panic!("{w}: expected Unsatisfiable, got {other}"),
    };
    assert_eq!(
        reasons("app"),
        [
            "the world asks for app, provided only by app-1",
            "app-1 needs foo, provided by foo-3, foo-2 or foo-1",
            "app-1 needs baz, provided only by baz-1, which bar-3, bar-2 and bar-1 forbid (!baz)",
            "foo-3 needs bar>=3, provided only by bar-3",
            "foo-2 needs bar>=2, provided by bar-3 or bar-2",
            "foo-1 needs bar>=1, provided by bar-3, bar-2 or bar-1",
        ]
    );
    assert_eq!(
        reasons("x"),
        [
            "the world asks for x, provided only by x-1",
            "x-1 needs y, provided only by y-1",
            "y-1 needs z=2, but no version matches (there is z-1)",
        ]
    );
    assert_eq!(
        reasons("foo !foo"),
        [
            "the world asks for foo, provided by foo-3, foo-2 or foo-1",
            "the world forbids foo-3, foo-2 and foo-1 (!foo)",
        ]
    );
    assert_eq!(
        reasons("foo=1 foo=2"),
        [
            "the world asks for foo=1, provided only by foo-1",
            "the world asks for foo=2, provided only by foo-2, which cannot be installed beside foo-1, another version",
        ]
    );
    // The same atom twice is one requirement.
    assert_eq!(sorted(&ok(&r, "foo foo")), ["bar-3", "foo-3"]);
}

#[test]
fn install_if_climbs_to_a_higher_version_that_a_later_round_triggers() {
    // d is chosen for virt; c-1 and b-1 join on d; c-3 (the second one) joins on b, which
    // only a later round has: the resolver climbs from c-1 to that c-3.
    let r = repo(
        "P:d V:1 p:virt
         P:c V:1 i:d
         P:c V:3 p:virt
         P:c V:3 i:b
         P:b V:1 i:d",
    );
    let res = ok(&r, "virt");
    assert_eq!(sorted(&res), ["b-1", "c-3", "d-1"]);
    assert_eq!(res.get("c").map(|p| p.index), Some(3));
}
