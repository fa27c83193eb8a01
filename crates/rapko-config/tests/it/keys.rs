//! Every key, read from `full.yaml`, and the example configs.

use std::collections::BTreeMap;

use rapko_config::{Arch, EntrypointType, LayeringStrategy, PathType, SERVICE_BUNDLE_COMMAND};

use crate::{load, strings};

#[test]
fn contents_keys() {
    let c = load("full.yaml").contents;
    assert_eq!(
        c.repositories,
        strings(&[
            "https://dl-cdn.alpinelinux.org/alpine/v3.19/main",
            "@community https://dl-cdn.alpinelinux.org/alpine/v3.19/community",
        ])
    );
    assert_eq!(c.build_repositories, strings(&["./local-packages"]));
    assert_eq!(
        c.runtime_repositories,
        strings(&["https://mirror.example.org/alpine/v3.19/main"])
    );
    assert_eq!(c.keyring.len(), 2);
    assert_eq!(c.keyring[0], "./keys/local.rsa.pub");
    assert_eq!(
        c.packages,
        strings(&["alpine-baselayout", "busybox>=1.36", "tini@community"])
    );
    let base = c.baseimage.unwrap_or_default();
    assert_eq!(
        (base.image.as_str(), base.apkindex.as_str()),
        ("./base-layout", "./base-index")
    );
}

#[test]
fn entrypoint_cmd_stop_signal_work_dir() {
    let c = load("full.yaml");
    assert_eq!(c.entrypoint.kind, None);
    assert_eq!(
        c.entrypoint.command,
        r#"/sbin/tini -- /usr/bin/app --listen ":8080""#
    );
    assert_eq!(c.entrypoint.shell_fragment, "");
    assert_eq!(c.cmd, r#"--verbose "two words""#);
    assert_eq!(c.stop_signal, "SIGQUIT");
    assert_eq!(c.work_dir, "/srv/app");
}

#[test]
fn accounts_keys() {
    let a = load("full.yaml").accounts;
    assert_eq!(a.run_as, "app");
    assert_eq!(a.groups.len(), 1);
    assert_eq!(a.groups[0].groupname, "app");
    assert_eq!(a.groups[0].gid, 10000);
    assert_eq!(a.groups[0].members, strings(&["app", "helper"]));
    let app = &a.users[0];
    assert_eq!(
        (
            app.username.as_str(),
            app.uid,
            app.gid,
            app.shell.as_str(),
            app.homedir.as_str()
        ),
        ("app", 10000, Some(10000), "/bin/ash", "/srv/app")
    );
    let helper = &a.users[1];
    assert_eq!((helper.uid, helper.gid), (10001, None));
    // Defaults: apko's home directory is filled in, gid and shell are computed.
    assert_eq!(helper.homedir, "/home/helper");
    assert_eq!(helper.primary_gid(), 10001);
    assert_eq!(helper.login_shell(), "/bin/sh");
}

#[test]
fn archs_are_parsed_sorted_and_deduplicated() {
    let c = load("full.yaml");
    // Written x86_64, arm64, arm/v7: read in OCI name order.
    assert_eq!(c.archs, vec![Arch::X86_64, Arch::Armv7, Arch::Aarch64]);
}

#[test]
fn environment_gets_apkos_defaults() {
    let env = load("full.yaml").environment;
    let expected: BTreeMap<String, String> = [
        ("APP_MODE", "production"),
        (
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/sbin:/bin",
        ),
        ("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"),
        ("TZ", "UTC"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(env, expected);
}

#[test]
fn a_set_path_is_kept() {
    let env = load("examples/alpine-base.yaml").environment;
    assert_eq!(env["PATH"], "/usr/sbin:/sbin:/usr/bin:/bin");
    assert_eq!(env["SSL_CERT_FILE"], "/etc/ssl/certs/ca-certificates.crt");
}

#[test]
fn paths_keys() {
    let p = load("full.yaml").paths;
    let kinds: Vec<PathType> = p.iter().map(|m| m.kind).collect();
    assert_eq!(
        kinds,
        [
            PathType::Directory,
            PathType::EmptyFile,
            PathType::Hardlink,
            PathType::Symlink,
            PathType::Permissions,
        ]
    );
    let dir = &p[0];
    assert_eq!(dir.path, "/srv/app/data");
    assert_eq!((dir.uid, dir.gid), (Some(10000), Some(10000)));
    assert_eq!(dir.permissions.map(|m| m.mode()), Some(0o750));
    assert!(dir.recursive);
    assert_eq!(p[1].permissions.map(|m| m.mode()), Some(0o644));
    assert_eq!((p[1].uid, p[1].gid, p[1].recursive), (None, None, false));
    assert_eq!(p[2].source, "/usr/bin/app");
    assert_eq!(p[3].source, "/bin/busybox");
    assert_eq!(p[3].permissions, None);
    assert_eq!(p[4].permissions.map(|m| m.mode()), Some(416));
}

#[test]
fn vcs_url_annotations_volumes_layering() {
    let c = load("full.yaml");
    assert_eq!(
        c.vcs_url,
        "https://git.example.org/app.git@0123456789abcdef"
    );
    assert_eq!(
        c.vcs_source_and_revision(),
        Some(("https://git.example.org/app.git", "0123456789abcdef"))
    );
    assert_eq!(c.annotations["org.opencontainers.image.title"], "app");
    assert_eq!(c.annotations["org.opencontainers.image.vendor"], "Example");
    assert_eq!(c.volumes, strings(&["/srv/app/data"]));
    let l = c.layering.as_ref().map(|l| (l.strategy, l.budget));
    assert_eq!(l, Some((LayeringStrategy::Origin, 4)));
    assert_eq!(c.include, "");
}

#[test]
fn certificates_and_options() {
    let c = load("full.yaml");
    let certs = c.certificates.unwrap_or_default().additional;
    assert_eq!(certs.len(), 1);
    assert_eq!(certs[0].name, "example-root");
    assert!(
        certs[0]
            .content
            .starts_with("-----BEGIN CERTIFICATE-----\nMIIBfake\n")
    );
    let debug = &c.options["debug"];
    assert_eq!(debug.contents.packages.add, strings(&["busybox-extras"]));
    assert_eq!(debug.contents.packages.remove, strings(&["tini@community"]));
    assert_eq!(debug.accounts.run_as, "0");
    assert_eq!(debug.environment["APP_MODE"], "debug");
    assert_eq!(debug.entrypoint.shell_fragment, "exec /bin/sh");
}

#[test]
fn service_bundle_example_gets_s6() {
    let c = load("examples/nginx-service-bundle.yaml");
    assert_eq!(c.entrypoint.kind, Some(EntrypointType::ServiceBundle));
    assert_eq!(c.entrypoint.command, SERVICE_BUNDLE_COMMAND);
    assert_eq!(
        c.entrypoint.services["nginx"],
        r#"/usr/sbin/nginx -c /etc/nginx/nginx.conf -g "daemon off;""#
    );
    assert_eq!(
        c.contents.packages,
        strings(&["alpine-baselayout", "nginx", "s6"])
    );
    assert_eq!(c.archs, vec![Arch::X86, Arch::X86_64]);
    assert_eq!(c.accounts.users[0].login_shell(), "/sbin/nologin");
    assert_eq!(c.paths[1].permissions.map(|m| m.mode()), Some(0o644));
}

#[test]
fn every_example_loads() {
    for name in [
        "examples/alpine-base.yaml",
        "examples/wolfi-base.yaml",
        "examples/nginx-service-bundle.yaml",
        "examples/rootless-shell.yaml",
        "examples/glibc-merged-usr.yaml",
        "examples/extra-certificates.yaml",
        "examples/build-options.yaml",
        "full.yaml",
    ] {
        let c = load(name);
        assert!(!c.contents.packages.is_empty(), "{name}");
    }
}

#[test]
fn glibc_example_has_the_merged_usr_links() {
    let c = load("examples/glibc-merged-usr.yaml");
    let links: Vec<(&str, &str)> = c
        .paths
        .iter()
        .filter(|m| m.kind == PathType::Symlink)
        .map(|m| (m.path.as_str(), m.source.as_str()))
        .collect();
    assert_eq!(links, [("/lib64", "lib"), ("/bin", "usr/bin")]);
    assert_eq!(c.archs, vec![Arch::X86_64]);
}
