//! Alpine 3.19 main + community (23 000 packages): real-world worlds, each judged by the
//! referee (see `crate::resolve`), plus facts about specific choices.

use rapko_solve::{ResolveError, Resolver};

use crate::{err, ok, upstream, world};

/// Worlds people build images from.
const WORLDS: &[&str] = &[
    "alpine-base",
    "busybox",
    "python3",
    "python3 py3-pip",
    "nginx",
    "postgresql16",
    "nodejs npm",
    "build-base",
    "git openssh",
    "curl ca-certificates",
    "bash coreutils",
    "openjdk17-jre-headless",
    "go",
    "rust cargo",
    "redis",
    "php82 php82-fpm",
    "ruby",
    "perl",
    "apache2",
    "haproxy",
    "mariadb mariadb-client",
    "sqlite",
    "jq yq",
    "ffmpeg",
    "imagemagick",
    "gcc musl-dev make",
    "docker-cli",
    "vim",
    "tzdata",
    "openssl",
    "wget",
    "lua5.4",
    "prometheus",
    "tini su-exec",
    "build-base python3 nodejs npm nginx postgresql16",
    "alpine-base openssh chrony",
    "/bin/sh",
    "so:libssl.so.3",
    "cmd:git",
    "python3~3.11",
    "nodejs>=20",
    "pipewire pipewire-pulse",
];

#[test]
fn real_worlds_resolve_and_the_referee_agrees() {
    let resolver = Resolver::new(upstream());
    let mut failures = Vec::new();
    for w in WORLDS {
        let atoms = world(w);
        match resolver.resolve(&atoms) {
            Ok(r) => {
                let violations = rapko_solve::check::verify_resolution(upstream(), &atoms, &r);
                if !violations.is_empty() {
                    let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
                    failures.push(format!("{w}: {}", list.join("; ")));
                }
                if r.packages.is_empty() {
                    failures.push(format!("{w}: nothing chosen"));
                }
            }
            Err(e) => failures.push(format!("{w}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn providers_are_chosen_the_way_apk_chooses_them() {
    // /bin/sh: busybox-binsh (k:100) over dash-binsh (60) and yash-binsh (50).
    let r = ok(upstream(), "/bin/sh");
    assert!(r.get("busybox-binsh").is_some(), "{:?}", r.name_versions());
    // nginx: the real package, not openresty's unversioned provide.
    let r = ok(upstream(), "nginx");
    assert!(r.get("nginx").is_some() && r.get("openresty").is_none());
    // npm needs cmd:node: nodejs-current provides it at 21.7.2, nodejs at 20.12.1; apk
    // takes the higher provided version before looking at provider_priority.
    let r = ok(upstream(), "npm");
    assert!(
        r.get("nodejs-current").is_some() && r.get("nodejs").is_none(),
        "{:?}",
        r.name_versions()
    );
    // Asking for nodejs settles it: cmd:node is then provided by nodejs.
    let r = ok(upstream(), "nodejs npm");
    assert!(
        r.get("nodejs").is_some() && r.get("nodejs-current").is_none(),
        "{:?}",
        r.name_versions()
    );
    // java-jre-headless: the highest provider_priority among unversioned provides.
    let r = ok(upstream(), "java-jre-headless");
    assert!(
        r.get("openjdk21-jre-headless").is_some(),
        "{:?}",
        r.name_versions()
    );
    // openssh-client: same provided version, openssh-client-default has k:2 over krb5's 1.
    let r = ok(upstream(), "openssh-client");
    assert!(r.get("openssh-client-default").is_some());
    // lua: lua5.4 has the highest priority.
    let r = ok(upstream(), "lua");
    assert!(r.get("lua5.4").is_some(), "{:?}", r.name_versions());
}

#[test]
fn choosing_another_provider_explicitly_works_and_conflicts_are_explained() {
    let r = ok(upstream(), "nodejs-current npm");
    assert!(
        r.get("nodejs-current").is_some() && r.get("nodejs").is_none(),
        "{:?}",
        r.name_versions()
    );
    let r = ok(upstream(), "dash-binsh /bin/sh");
    assert!(
        r.get("dash-binsh").is_some() && r.get("busybox-binsh").is_none(),
        "{:?}",
        r.name_versions()
    );
    // openresty's unversioned provide of nginx satisfies a plain `nginx`, as in apk.
    let r = ok(upstream(), "nginx openresty");
    assert!(
        r.get("nginx").is_none() && r.get("openresty").is_some(),
        "{:?}",
        r.name_versions()
    );
    // With a version only the real nginx fits, and it provides nginx with a version while
    // openresty provides it without: apk will not install both.
    let e = err(upstream(), "nginx=1.24.0-r16 openresty");
    let text = e.to_string();
    assert!(
        text.contains("nginx-1.24.0-r16") && text.contains("openresty-1.21.4.3-r0"),
        "{text}"
    );
    assert!(text.contains("both provide"), "{text}");
}

#[test]
fn unknown_names_suggest_close_ones() {
    let e = err(upstream(), "pyhton3");
    assert_eq!(
        e.to_string(),
        r#"unknown package "pyhton3"; did you mean python3?"#
    );
    let e = err(upstream(), "ngnix");
    assert!(
        matches!(&e, ResolveError::UnknownPackage { suggestions, .. } if suggestions.first().map(String::as_str) == Some("nginx")),
        "{e}"
    );
}
