//! The real apk-tools (Alpine 3.19's 2.14.0, run from the shared fixtures through the musl
//! loader) verifies and installs synthetic packages from a synthetic repository.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rapko_test::{ApkBuilder, BuiltApk, Entry, Fault, SignatureKind, test_keyring_dir, write_repo};

/// Alpine 3.19 packages holding apk and the libraries it loads.
const RUNTIME: [&str; 5] = [
    "apk-tools-2.14.0-r5.apk",
    "musl-1.2.4_git20230717-r4.apk",
    "libcrypto3-3.1.4-r5.apk",
    "libssl3-3.1.4-r5.apk",
    "zlib-1.3.1-r0.apk",
];

/// apk-tools unpacked in a temporary directory.
struct Apk {
    dir: tempfile::TempDir,
}

impl Apk {
    /// Unpacks the runtime with GNU tar; `None` (skip) when tar is missing.
    fn unpack() -> Option<Self> {
        let tar = rapko_test::require_tool("tar")?;
        let dir = tempfile::tempdir().expect("tempdir");
        for pkg in RUNTIME {
            let file = rapko_test::fixture(&format!("alpine-3.19/main/x86_64/{pkg}"));
            let out = Command::new(&tar)
                .arg("-xzf")
                .arg(&file)
                .arg("-C")
                .arg(dir.path())
                .arg("--warning=no-unknown-keyword")
                .output()
                .expect("run tar");
            assert!(
                out.status.success(),
                "untar {pkg}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Some(Self { dir })
    }

    /// Runs `apk ARGS` with the test keyring.
    fn run(&self, args: &[&str]) -> Output {
        let d = self.dir.path();
        Command::new(d.join("lib/ld-musl-x86_64.so.1"))
            .arg("--library-path")
            .arg(format!(
                "{}:{}",
                d.join("lib").display(),
                d.join("usr/lib").display()
            ))
            .arg(d.join("sbin/apk"))
            .arg("--keys-dir")
            .arg(test_keyring_dir())
            .args(args)
            .output()
            .expect("run apk")
    }
}

fn text(o: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn write(dir: &Path, apk: &BuiltApk) -> String {
    apk.write_to(dir).display().to_string()
}

#[test]
fn apk_verify_accepts_good_and_refuses_bad_packages() {
    let Some(apk) = Apk::unpack() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let base = || ApkBuilder::new("v", "1.0-r0").file("usr/share/v/a", "content\n");
    let good = [
        ("sha1", base().build()),
        ("sha256", base().signature(SignatureKind::RsaSha256).build()),
    ];
    for (what, pkg) in &good {
        let path = write(tmp.path(), pkg);
        let out = apk.run(&["verify", &path]);
        assert!(out.status.success(), "{what}: {}", text(&out));
    }
    let bad = [
        ("bad signature", base().fault(Fault::BadSignature).build()),
        ("wrong datahash", base().fault(Fault::WrongDatahash).build()),
        ("tampered data", base().fault(Fault::TamperData).build()),
        ("truncated", base().fault(Fault::Truncated).build()),
        ("unknown key", base().key_name("nobody.rsa.pub").build()),
    ];
    // apk-tools reports signature and datahash failures alike as "BAD signature", an
    // unknown or wrong key as "UNTRUSTED", truncation as "BAD archive".
    for (what, pkg) in &bad {
        let path = write(tmp.path(), pkg);
        let out = apk.run(&["verify", &path]);
        assert!(
            !out.status.success(),
            "apk verify accepted a package with {what}: {}",
            text(&out)
        );
    }
}

/// A repository of two packages, the first depending on the second.
fn repo(dir: &Path) -> PathBuf {
    let pkgs = [
        ApkBuilder::new("hello", "1.0-r0")
            .depends(["libhello"])
            .executable("usr/bin/hello", "#!/bin/sh\necho hello\n")
            .symlink("usr/bin/hi", "hello")
            .hardlink("usr/bin/hello2", "usr/bin/hello")
            .entry(Entry::file("etc/hello.conf", "x=1\n").mode(0o600))
            .script(".post-install", "#!/bin/sh\nexit 1\n")
            .build(),
        ApkBuilder::new("libhello", "2.0-r1")
            .arch("noarch")
            .provides(["so:libhello.so.2=2.0"])
            .file("usr/lib/libhello.so.2", "not really a library")
            .build(),
    ];
    write_repo(dir, "x86_64", &pkgs);
    dir.to_owned()
}

/// apk-tools chowns what it installs, which needs root.
fn is_root() -> bool {
    let uid = Command::new("id").arg("-u").output().map(|o| o.stdout);
    let root = uid.is_ok_and(|u| u.trim_ascii() == b"0");
    if !root {
        eprintln!("skipping: apk add needs root");
    }
    root
}

#[test]
fn apk_add_installs_from_a_synthetic_repository() {
    if !is_root() {
        return;
    }
    let Some(apk) = Apk::unpack() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = repo(&tmp.path().join("repo"));
    let root = tmp.path().join("root");
    let out = apk.run(&[
        "--root",
        root.to_str().expect("utf-8 path"),
        "--initdb",
        "--no-network",
        "--no-cache",
        "--no-scripts",
        "--repositories-file",
        "/dev/null",
        "--repository",
        repo.to_str().expect("utf-8 path"),
        "add",
        "hello",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let hello = std::fs::read_to_string(root.join("usr/bin/hello")).expect("hello installed");
    assert_eq!(hello, "#!/bin/sh\necho hello\n");
    let link = std::fs::read_link(root.join("usr/bin/hi")).expect("symlink installed");
    assert_eq!(link, Path::new("hello"));
    assert!(root.join("usr/lib/libhello.so.2").is_file());
    let installed = std::fs::read_to_string(root.join("lib/apk/db/installed")).expect("db");
    assert!(installed.contains("P:hello\nV:1.0-r0\n"), "{installed}");
    assert!(installed.contains("P:libhello\nV:2.0-r1\n"), "{installed}");

    // apk audit re-hashes every installed file against the recorded checksums.
    let audit = apk.run(&["--root", root.to_str().expect("utf-8"), "audit", "--system"]);
    assert!(audit.status.success(), "{}", text(&audit));
    assert_eq!(
        String::from_utf8_lossy(&audit.stdout),
        "",
        "{}",
        text(&audit)
    );
    // ...and would see a changed file, so the clean result above means the checksums match.
    std::fs::write(root.join("usr/bin/hello"), "changed").expect("write");
    let audit = apk.run(&["--root", root.to_str().expect("utf-8"), "audit", "--system"]);
    assert!(
        String::from_utf8_lossy(&audit.stdout).contains("usr/bin/hello"),
        "{}",
        text(&audit)
    );
}
