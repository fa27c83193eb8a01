//! The commands that look without building: `show-config`, `show-packages`, `dot`, and the
//! help and version every command must have.

use crate::support::{ALPINE_BASE, rapko, run_ok, stderr, stdout, write_config};

#[test]
fn every_command_has_help_and_the_binary_a_version() {
    let dir = tempfile::tempdir().unwrap();
    let version = run_ok(rapko(dir.path()).arg("--version"));
    assert_eq!(
        stdout(&version).trim(),
        format!("rapko {}", env!("CARGO_PKG_VERSION"))
    );
    let commands: &[&[&str]] = &[
        &["build"],
        &["build-minirootfs"],
        &["publish"],
        &["login"],
        &["logout"],
        &["show-config"],
        &["show-packages"],
        &["lock"],
        &["dot"],
        &["sbom"],
        &["cache", "info"],
        &["cache", "clean"],
        &["apk", "vercmp"],
        &["apk", "inspect"],
        &["apk", "index"],
        &["apk", "verify-index"],
    ];
    for command in commands {
        let out = run_ok(rapko(dir.path()).args(*command).arg("--help"));
        let text = stdout(&out);
        assert!(text.contains("Usage: rapko"), "{command:?} --help:\n{text}");
    }
    let bad = rapko(dir.path()).arg("no-such-command").output().unwrap();
    assert_eq!(bad.status.code(), Some(2), "bad usage exits 2");
}

#[test]
fn show_config_prints_the_effective_config_after_includes_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "base.yaml", ALPINE_BASE);
    let config = write_config(
        dir.path(),
        "app.yaml",
        "include: base.yaml\nenvironment:\n  GREETING: boo\nwork-dir: /srv\n",
    );
    let out = run_ok(rapko(dir.path()).arg("show-config").arg(&config).args([
        "-p",
        "tzdata",
        "--arch",
        "aarch64",
        "--annotations",
        "org.example=1",
    ]));
    let yaml = stdout(&out);
    for expected in [
        "- alpine-base",
        "- tzdata",
        "GREETING: boo",
        "work-dir: /srv",
        "- arm64",
        "org.example:",
        "PATH: /usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/sbin:/bin",
    ] {
        assert!(yaml.contains(expected), "missing {expected:?} in:\n{yaml}");
    }
    assert!(
        !yaml.contains("amd64"),
        "--arch replaces the config's archs:\n{yaml}"
    );
}

#[test]
fn show_config_names_the_file_line_and_column_of_an_unknown_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "bad.yaml",
        "contents:\n  packages: [a]\n  repos: [b]\n",
    );
    let out = rapko(dir.path())
        .arg("show-config")
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("bad.yaml:3:"), "{err}");
    assert!(err.contains("unknown key \"repos\""), "{err}");
}

#[test]
fn show_packages_formats_and_dot_agree_on_the_resolution() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "base.yaml", ALPINE_BASE);
    let cache = dir.path().join("cache");
    let plain = stdout(&run_ok(rapko(&cache).arg("show-packages").arg(&config)));
    let lines: Vec<&str> = plain.lines().collect();
    assert_eq!(lines.len(), 25, "{plain}");
    assert!(lines.contains(&"musl-1.2.4_git20230717-r4"), "{plain}");
    assert_eq!(
        lines.last(),
        Some(&"alpine-base-3.19.1-r0"),
        "the world comes last in install order"
    );

    let eq = stdout(&run_ok(
        rapko(&cache)
            .args(["show-packages", "--format", "name=version"])
            .arg(&config),
    ));
    assert!(eq.lines().any(|l| l == "musl=1.2.4_git20230717-r4"), "{eq}");

    let json = stdout(&run_ok(
        rapko(&cache)
            .args(["show-packages", "--format", "json"])
            .arg(&config),
    ));
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    let names: Vec<&str> = parsed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 25);
    assert!(parsed[0]["checksum"].as_str().unwrap().starts_with("Q1"));

    let dot = stdout(&run_ok(rapko(&cache).arg("dot").arg(&config)));
    assert!(dot.trim_start().starts_with("digraph"), "{dot}");
    for name in &names {
        assert!(
            dot.contains(&format!("\"{name}")),
            "{name} missing from the graph:\n{dot}"
        );
    }
    assert!(dot.contains("->"), "the graph has edges:\n{dot}");
}

#[test]
fn an_unknown_package_fails_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "base.yaml", ALPINE_BASE);
    let out = rapko(&dir.path().join("cache"))
        .args(["show-packages", "-p", "busybx"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("unknown package \"busybx\""), "{err}");
    assert!(err.contains("did you mean busybox"), "{err}");
    assert!(stdout(&out).is_empty());
}
