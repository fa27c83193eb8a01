//! The other real indexes of the fixtures: apko's own test repositories, a glibc distro,
//! older Alpine releases and another architecture. No apk-tools reference here: the
//! referee judges every answer.

use rapko_apk::Dependency;
use rapko_solve::{Repository, Resolver, check, resolve_consistent};

use crate::{load_index, load_index_signed_by, ok, sorted, world};

fn melange(arch: &str) -> Vec<Repository> {
    let rel = format!("small/melange-rsa256/{arch}/APKINDEX.tar.gz");
    vec![Repository::new(load_index_signed_by(
        &rel,
        "small/melange-rsa256/melange.rsa.pub",
    ))]
}

#[test]
fn apko_test_repository_with_replaces_and_two_providers() {
    let repos = melange("x86_64");
    let r = ok(&repos, "replayout");
    assert_eq!(
        sorted(&r),
        ["pretend-baselayout-1.0.0-r0", "replayout-1.0.0-r0"]
    );
    // Two packages provide custom-ca-certificates, neither with a priority: apk would ask
    // which; rapko, like apko, takes the first listed.
    let r = ok(&repos, "custom-ca-certificates");
    assert_eq!(sorted(&r), ["custom-ca-certs-1-1.0.0-r0"]);
    let r = ok(&repos, "custom-ca-certificates !custom-ca-certs-1");
    assert_eq!(sorted(&r), ["custom-ca-certs-2-1.0.0-r0"]);
    // Both may be installed: the provided name has no version.
    let r = ok(&repos, "custom-ca-certs-1 custom-ca-certs-2");
    assert_eq!(r.packages.len(), 2);
}

#[test]
fn both_architectures_agree() {
    let (x86, arm) = (melange("x86_64"), melange("aarch64"));
    let (rx, ra) = (Resolver::new(&x86), Resolver::new(&arm));
    let w = world("replayout custom-ca-certificates");
    let both = resolve_consistent(&[("x86_64", &rx), ("aarch64", &ra)], &w)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(both[0].name_versions(), both[1].name_versions());
}

#[test]
fn a_glibc_distribution_resolves() {
    let repos = vec![Repository::new(load_index_signed_by(
        "glibc-distro/main/x86_64/APKINDEX.tar.gz",
        "glibc-distro/keys/myrepo.rsa.pub",
    ))];
    let r = ok(&repos, "bash busybox apk-tools ca-certificates");
    for name in [
        "glibc",
        "ld-linux",
        "ncurses",
        "libcrypt1",
        "libxcrypt",
        "agnios-baselayout",
    ] {
        assert!(
            r.get(name).is_some(),
            "{name} missing from {:?}",
            r.name_versions()
        );
    }
    // glibc forbids musl; musl is not there, so nothing to forbid.
    assert!(r.get("musl").is_none());
}

#[test]
fn older_alpine_releases_and_another_architecture_resolve() {
    for (rel, worlds) in [
        (
            "alpine-3.7/main/aarch64/APKINDEX.tar.gz",
            &["alpine-base"][..],
        ),
        (
            "indexes/alpine-3.16-main/x86_64/APKINDEX.tar.gz",
            &["alpine-base", "python3", "nginx openssl", "build-base"][..],
        ),
        (
            "indexes/alpine-3.17-main/aarch64/APKINDEX.tar.gz",
            &["alpine-base", "python3", "postgresql15", "git openssh"][..],
        ),
    ] {
        let repos = vec![Repository::new(load_index(rel))];
        let resolver = Resolver::new(&repos);
        for w in worlds {
            let atoms: Vec<Dependency> = world(w);
            let r = resolver
                .resolve(&atoms)
                .unwrap_or_else(|e| panic!("{rel}: {w}: {e}"));
            let violations = check::verify_resolution(&repos, &atoms, &r);
            assert!(violations.is_empty(), "{rel}: {w}: {violations:?}");
            assert!(
                r.get("musl").is_some(),
                "{rel}: {w}: no musl in {:?}",
                r.name_versions()
            );
        }
    }
}
