//! `to_yaml`: the effective config, deterministic, and readable back.

use std::path::Path;

use crate::{load, parse};

const ALL_FILES: &[&str] = &[
    "full.yaml",
    "include/top.yaml",
    "include/sub/child.yaml",
    "examples/alpine-base.yaml",
    "examples/wolfi-base.yaml",
    "examples/nginx-service-bundle.yaml",
    "examples/rootless-shell.yaml",
    "examples/glibc-merged-usr.yaml",
    "examples/extra-certificates.yaml",
    "examples/build-options.yaml",
];

#[test]
fn round_trip_gives_the_same_config() {
    for name in ALL_FILES {
        let config = load(name);
        let yaml = config.to_yaml();
        let again = rapko_config::parse_str(&yaml, Path::new("shown.yaml"));
        assert_eq!(again.as_ref().ok(), Some(&config), "{name}:\n{yaml}");
        // And printing it again gives the same text.
        assert_eq!(again.map(|c| c.to_yaml()).ok(), Some(yaml), "{name}");
    }
}

#[test]
fn output_is_the_effective_config() {
    let yaml = load("include/top.yaml").to_yaml();
    let expected = r#"contents:
  repositories:
  - https://base.example.org/main
  - https://top.example.org/main
  keyring:
  - base.rsa.pub
  packages:
  - base-pkg
  - middle-pkg
  - top-pkg
entrypoint:
  command: /bin/base
cmd: top-cmd
stop-signal: SIGTERM
work-dir: /base
accounts:
  run-as: baseuser
  users:
  - username: baseuser
    uid: 1000
    homedir: /home/baseuser
  - username: topuser
    uid: 2000
    homedir: /home/topuser
  groups:
  - groupname: basegroup
    gid: 1000
archs:
- amd64
environment:
  FROM_BASE: "1"
  PATH: /usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/sbin:/bin
  SHARED: top
  SSL_CERT_FILE: /etc/ssl/certs/ca-certificates.crt
paths:
- path: /base
  type: directory
- path: /top
  type: empty-file
vcs-url: https://base.example.org/repo.git@base
annotations:
  base.annotation: "yes"
  shared.annotation: top
volumes:
- /base-volume
- /top-volume
layering:
  strategy: origin
  budget: 2
"#;
    assert_eq!(yaml, expected);
}

#[test]
fn permissions_are_written_as_integers_with_an_octal_comment() {
    let yaml = load("examples/nginx-service-bundle.yaml").to_yaml();
    assert!(yaml.contains("  permissions: 493 # 0o755\n"), "{yaml}");
    assert!(yaml.contains("- amd64\n"), "{yaml}");
}

#[test]
fn passwords_in_urls_are_hidden() {
    let c = parse(
        "contents:\n  repositories:\n    - https://user:hunter2@private.example.org/main\n  packages: [a]\n",
    );
    let yaml = c.map(|c| c.to_yaml()).unwrap_or_default();
    assert!(
        yaml.contains("https://user:xxxxx@private.example.org/main"),
        "{yaml}"
    );
    assert!(!yaml.contains("hunter2"));
}

#[test]
fn json_uses_the_same_keys_and_plain_integers() {
    let json = serde_json::to_value(load("examples/nginx-service-bundle.yaml"));
    let json = json.unwrap_or_default();
    assert_eq!(json["paths"][0]["permissions"], serde_json::json!(493));
    assert_eq!(json["stop-signal"], serde_json::json!("SIGQUIT"));
    assert_eq!(
        json["entrypoint"]["type"],
        serde_json::json!("service-bundle")
    );
    assert_eq!(json["archs"], serde_json::json!(["386", "amd64"]));
    assert_eq!(json["accounts"]["run-as"], serde_json::json!("www"));
}
