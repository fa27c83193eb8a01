//! A registry with htpasswd basic auth: login, docker config credentials, and the
//! errors without or with wrong credentials.

use rapko_registry::{
    Auth, Credentials, DockerConfig, Error, Options, PushRequest, Root, StoredIn, blocking,
};

use crate::support::{Registry, fast_options, single_arch, skopeo_raw};

const USER: &str = "alice";
const PASSWORD: &str = "s3cret-Pa55";

fn with_config(dir: &std::path::Path) -> Options {
    Options {
        auth: Auth::Config(DockerConfig::in_dir(dir).unwrap()),
        ..fast_options()
    }
}

#[test]
fn login_then_push_with_the_stored_credentials() {
    let Some(_) = rapko_test::require_tool("skopeo") else {
        return;
    };
    let Some(reg) = Registry::start_with_htpasswd(USER, PASSWORD) else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let mut config = DockerConfig::in_dir(home.path()).unwrap();
    let stored = blocking::login(
        &reg.addr(),
        &Credentials::new(USER, PASSWORD),
        &mut config,
        &fast_options(),
    )
    .unwrap();
    assert_eq!(stored, StoredIn::File(home.path().join("config.json")));
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.path().join("config.json")).unwrap()).unwrap();
    assert!(doc["auths"][reg.addr()]["auth"].is_string(), "{doc}");

    let image = single_arch(&[("etc/secret", b"x\n")]);
    let dest = format!("{}/private/app:v1", reg.addr());
    let request = PushRequest::new(&image.layout, Root::Sole, vec![dest.parse().unwrap()]);
    blocking::push(&request, &with_config(home.path())).unwrap();
    let creds = format!("{USER}:{PASSWORD}");
    assert_eq!(skopeo_raw(&dest, Some(&creds)), image.blob(&image.root));

    // After logout the same push is refused, with a message that says what to do.
    assert!(blocking::logout(&reg.addr(), &mut config).unwrap());
    let err = blocking::push(&request, &with_config(home.path())).unwrap_err();
    assert!(matches!(err, Error::AuthRequired { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&reg.addr()) && msg.contains(&format!("rapko login {}", reg.addr())),
        "{msg}"
    );
}

#[test]
fn wrong_or_missing_credentials_fail_clearly() {
    let Some(reg) = Registry::start_with_htpasswd(USER, PASSWORD) else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let mut config = DockerConfig::in_dir(home.path()).unwrap();
    let err = blocking::login(
        &reg.addr(),
        &Credentials::new(USER, "wrong-password"),
        &mut config,
        &fast_options(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::AuthRejected { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("rejected the credentials of user \"alice\"") && msg.contains(&reg.addr()),
        "{msg}"
    );
    assert!(
        !msg.contains("wrong-password"),
        "never show a password: {msg}"
    );
    assert!(
        !home.path().join("config.json").exists(),
        "a failed login stores nothing"
    );

    let image = single_arch(&[("etc/x", b"x\n")]);
    let request = PushRequest::new(
        &image.layout,
        Root::Sole,
        vec![format!("{}/app:v1", reg.addr()).parse().unwrap()],
    );
    // Anonymous.
    let err = blocking::push(&request, &fast_options()).unwrap_err();
    assert!(matches!(err, Error::AuthRequired { .. }), "{err}");
    assert!(err.to_string().contains("repository app"), "{err}");
    // Wrong password from the docker config.
    std::fs::write(
        home.path().join("config.json"),
        format!(
            r#"{{"auths":{{"{}":{{"auth":"YWxpY2U6bm9wZQ=="}}}}}}"#,
            reg.addr()
        ),
    )
    .unwrap();
    let err = blocking::push(&request, &with_config(home.path())).unwrap_err();
    assert!(
        matches!(err, Error::AuthRejected { ref username, .. } if username == USER),
        "{err}"
    );
    assert!(!err.to_string().contains("nope"), "{err}");
}

#[test]
fn basic_credentials_given_directly() {
    let Some(reg) = Registry::start_with_htpasswd(USER, PASSWORD) else {
        return;
    };
    let image = single_arch(&[("etc/x", b"direct\n")]);
    let request = PushRequest::new(
        &image.layout,
        Root::Sole,
        vec![format!("{}/direct:v1", reg.addr()).parse().unwrap()],
    );
    let options = Options {
        auth: Auth::Basic(Credentials::new(USER, PASSWORD)),
        ..fast_options()
    };
    let report = blocking::push(&request, &options).unwrap();
    assert_eq!(report.blobs_uploaded, 2);
}

#[test]
fn a_broken_credential_helper_matters_only_where_credentials_are_needed() {
    let Some(open) = Registry::start() else {
        return;
    };
    let Some(locked) = Registry::start_with_htpasswd(USER, PASSWORD) else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config.json"),
        r#"{"credsStore":"rapko-test-absent"}"#,
    )
    .unwrap();
    let image = single_arch(&[("etc/x", b"helper\n")]);
    let push_to = |reg: &Registry| {
        let request = PushRequest::new(
            &image.layout,
            Root::Sole,
            vec![format!("{}/app:v1", reg.addr()).parse().unwrap()],
        );
        blocking::push(&request, &with_config(home.path()))
    };
    push_to(&open).unwrap();
    let err = push_to(&locked).unwrap_err();
    assert!(matches!(err, Error::CredentialHelper { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("docker-credential-rapko-test-absent"),
        "{err}"
    );
}

/// Set in the child process of `docker_config_env_is_honoured`: the destination to push to.
const CHILD_DEST: &str = "RAPKO_REGISTRY_TEST_CHILD_DEST";
const CHILD_LAYOUT: &str = "RAPKO_REGISTRY_TEST_CHILD_LAYOUT";

/// The default credential source reads `$DOCKER_CONFIG/config.json`. The environment is
/// process-wide, so the push runs in a child process (this test binary, this test only)
/// with DOCKER_CONFIG set.
#[test]
fn docker_config_env_is_honoured() {
    if let (Ok(dest), Ok(layout)) = (std::env::var(CHILD_DEST), std::env::var(CHILD_LAYOUT)) {
        let request = PushRequest::new(layout, Root::Sole, vec![dest.parse().unwrap()]);
        let options = Options {
            auth: Auth::DockerConfig,
            ..fast_options()
        };
        if let Err(e) = blocking::push(&request, &options) {
            panic!("child push failed: {e}");
        }
        return;
    }
    let Some(reg) = Registry::start_with_htpasswd(USER, PASSWORD) else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let mut config = DockerConfig::in_dir(home.path()).unwrap();
    blocking::login(
        &reg.addr(),
        &Credentials::new(USER, PASSWORD),
        &mut config,
        &fast_options(),
    )
    .unwrap();
    let image = single_arch(&[("etc/env", b"env\n")]);
    let dest = format!("{}/env/app:v1", reg.addr());
    let child = |docker_config: &std::path::Path| {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "auth::docker_config_env_is_honoured",
                "--test-threads=1",
            ])
            .env("DOCKER_CONFIG", docker_config)
            .env(CHILD_DEST, &dest)
            .env(CHILD_LAYOUT, &image.layout)
            .output()
            .unwrap()
    };
    let out = child(home.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let (status, _, _) = crate::support::http_get(reg.port, "/v2/").unwrap();
    assert_eq!(status, 401, "the registry does demand credentials");
    let empty = tempfile::tempdir().unwrap();
    let out = child(empty.path());
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("requires authentication"), "{said}");
}
