//! What the builder reads: OCI Env, Entrypoint, Cmd, User.

use rapko_config::{DEFAULT_PATH, DEFAULT_SSL_CERT_FILE};

use crate::{load, strings};

#[test]
fn command_and_cmd_are_split_like_apko() {
    let c = load("full.yaml");
    assert_eq!(
        c.entrypoint_argv().ok(),
        Some(strings(&[
            "/sbin/tini",
            "--",
            "/usr/bin/app",
            "--listen",
            ":8080"
        ]))
    );
    assert_eq!(
        c.cmd_argv().ok(),
        Some(strings(&["--verbose", "two words"]))
    );
}

#[test]
fn shell_fragment_runs_under_sh() {
    let c = load("examples/rootless-shell.yaml");
    assert_eq!(
        c.entrypoint_argv().ok(),
        Some(strings(&["/bin/sh", "-c", "exec \"$@\""]))
    );
    assert_eq!(
        c.cmd_argv().ok(),
        Some(strings(&[
            "echo", "hello", "from", "a", "rootless", "image"
        ]))
    );
}

#[test]
fn service_bundle_runs_s6() {
    let c = load("examples/nginx-service-bundle.yaml");
    assert_eq!(
        c.entrypoint_argv().ok(),
        Some(strings(&["/bin/s6-svscan", "/sv"]))
    );
    assert_eq!(c.cmd_argv().ok(), Some(vec![]));
}

#[test]
fn no_entrypoint_is_empty() {
    let c = load("examples/build-options.yaml");
    assert_eq!(c.entrypoint_argv().ok(), Some(vec![]));
}

#[test]
fn environment_list_is_sorted_with_defaults() {
    let c = load("examples/wolfi-base.yaml");
    assert_eq!(
        c.environment_list(),
        [
            format!("PATH={DEFAULT_PATH}"),
            format!("SSL_CERT_FILE={DEFAULT_SSL_CERT_FILE}")
        ]
    );
    let c = load("full.yaml");
    assert_eq!(c.environment_list()[0], "APP_MODE=production");
    assert_eq!(
        c.environment_list().last().map(String::as_str),
        Some("TZ=UTC")
    );
}

#[test]
fn run_as_resolves_names_and_uids() {
    let by_name = load("examples/nginx-service-bundle.yaml")
        .run_as()
        .ok()
        .flatten();
    assert_eq!(
        by_name.map(|r| (r.spec, r.uid, r.user_name, r.gid)),
        Some((
            "www".to_string(),
            10080,
            Some("www".to_string()),
            Some(10080)
        ))
    );
    let by_uid = load("examples/rootless-shell.yaml").run_as().ok().flatten();
    assert_eq!(
        by_uid.map(|r| (r.spec, r.uid, r.user_name, r.gid)),
        Some((
            "65532".to_string(),
            65532,
            Some("nonroot".to_string()),
            Some(65532)
        ))
    );
    assert_eq!(load("examples/wolfi-base.yaml").run_as().ok(), Some(None));
}
