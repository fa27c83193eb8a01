//! Tests of `rapko apk`: vercmp, inspect (text and JSON) on real packages, index and
//! verify-index round trips signed with rapko-test's key, and the failures users meet.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use rapko_apk::{ApkIndex, Keyring, Trust};
use serde_json::Value;

use crate::support::fixture;

fn rapko() -> Command {
    let mut cmd = Command::cargo_bin("rapko").expect("the rapko binary is built");
    cmd.env("NO_COLOR", "1");
    cmd
}

const MUSL: &str = "alpine-3.19/main/x86_64/musl-1.2.4_git20230717-r4.apk";

/// The `C:` the Alpine index gives for musl.
fn musl_index_checksum() -> String {
    let bytes = std::fs::read(fixture("alpine-3.19/main/x86_64/APKINDEX.tar.gz")).expect("index");
    let (index, _) = ApkIndex::read(&bytes, Trust::Ignore).expect("index parses");
    let musl = index
        .packages
        .iter()
        .find(|p| p.name == "musl")
        .expect("musl is listed");
    musl.checksum.expect("C:").to_q1()
}

#[test]
fn vercmp_prints_the_order() {
    for (a, b, sign) in [
        ("1.2", "1.10", "<\n"),
        ("1.2.4-r4", "1.2.4-r4", "=\n"),
        ("2.0_rc1", "2.0_beta3", ">\n"),
        ("1.0", "1.0_alpha", ">\n"),
    ] {
        rapko()
            .args(["apk", "vercmp", a, b])
            .assert()
            .success()
            .stdout(sign);
    }
}

#[test]
fn vercmp_compares_invalid_versions_like_apk_tools() {
    // apk-tools' own vectors: an unknown suffix or a second letter makes a version invalid,
    // and apk still orders it.
    for (a, b, sign) in [
        ("23_foo", "4_beta", ">\n"),
        ("4_beta", "23_foo", "<\n"),
        ("1.0", "1.0bc", "<\n"),
        ("1.0bc", "1.0", ">\n"),
    ] {
        rapko()
            .args(["apk", "vercmp", a, b])
            .assert()
            .success()
            .stdout(sign)
            .stderr(predicate::str::contains("note: invalid version"));
    }
}

#[test]
fn inspect_shows_metadata_checksums_signature_and_files() {
    let keys = fixture("keys/alpine");
    let out = rapko()
        .args(["apk", "inspect"])
        .arg(fixture(MUSL))
        .arg("--keyring")
        .arg(&keys)
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    for expected in [
        "name            musl\n",
        "version         1.2.4_git20230717-r4\n",
        "provides        so:libc.musl-x86_64.so.1=1\n",
        &format!("checksum        {}", musl_index_checksum()),
        "datahash        e18133cc504fb5cb6e025c64cec34f9a8f1a72fc24d2c1b882c4cd1538c6744f ok",
        "verified with alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub",
        "files (3):",
        "-rwxr-xr-x 0:0    649832 lib/ld-musl-x86_64.so.1",
        "lrwxrwxrwx 0:0         0 lib/libc.musl-x86_64.so.1 -> ld-musl-x86_64.so.1",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn inspect_json_is_for_scripts() {
    let out = rapko()
        .args(["apk", "inspect", "--json"])
        .arg(fixture(MUSL))
        .arg("--keyring")
        .arg(fixture("keys/alpine"))
        .assert()
        .success();
    let json: Value = serde_json::from_slice(&out.get_output().stdout).expect("stdout is JSON");
    assert_eq!(json["name"], "musl");
    assert_eq!(json["checksum"], musl_index_checksum().as_str());
    assert_eq!(json["provides"][0], "so:libc.musl-x86_64.so.1=1");
    assert_eq!(json["datahash"]["ok"], true);
    assert_eq!(json["signature"]["status"], "verified");
    assert_eq!(json["signature"]["algorithm"], "RSA-SHA1");
    let files = json["files"].as_array().expect("files");
    let loader = files
        .iter()
        .find(|f| f["path"] == "lib/ld-musl-x86_64.so.1")
        .expect("the loader is listed");
    assert_eq!(loader["size"], 649_832);
    assert_eq!(loader["mode"], "0755");
    assert_eq!(loader["sha1"].as_str().map(str::len), Some(40));
    let link = files
        .iter()
        .find(|f| f["kind"] == "symlink")
        .expect("a symlink");
    assert_eq!(link["target"], "ld-musl-x86_64.so.1");
}

#[test]
fn inspect_without_keyring_and_of_unsigned_packages() {
    let out = rapko()
        .args(["apk", "inspect", "--json"])
        .arg(fixture(MUSL))
        .assert()
        .success();
    let json: Value = serde_json::from_slice(&out.get_output().stdout).expect("JSON");
    assert_eq!(json["signature"]["status"], "not checked");
    let out = rapko()
        .args(["apk", "inspect", "--json", "--keyring"])
        .arg(fixture("keys/wolfi"))
        .arg(fixture("wolfi/unsigned/perl-json-4.11-r0.apk"))
        .assert()
        .success();
    let json: Value = serde_json::from_slice(&out.get_output().stdout).expect("JSON");
    assert_eq!(json["signature"]["status"], "unsigned");
}

#[test]
fn inspect_fails_on_a_tampered_package_saying_what_failed() {
    rapko()
        .args(["apk", "inspect", "--keyring"])
        .arg(fixture("keys/wolfi"))
        .arg(fixture("wolfi/bad-signature/neon-4604-r0.apk"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("MISMATCH"))
        .stdout(predicate::str::contains("FAILED"))
        .stderr(predicate::str::contains(
            "neon-4604-r0.apk did not check out",
        ))
        .stderr(predicate::str::contains("datahash, signature"));
}

#[test]
fn inspect_of_a_file_that_is_not_a_package() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("junk.apk");
    std::fs::write(&file, "not a package").expect("write");
    rapko()
        .args(["apk", "inspect"])
        .arg(&file)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot read package"))
        .stderr(predicate::str::contains("junk.apk"))
        .stderr(predicate::str::contains("gzip"));
}

fn test_keys() -> std::path::PathBuf {
    rapko_test::test_key_dir()
}

fn build_index(dir: &Path) -> std::path::PathBuf {
    let output = dir.join("x86_64/APKINDEX.tar.gz");
    std::fs::create_dir_all(dir.join("x86_64")).expect("mkdir");
    let packages: Vec<_> = [
        "custom-ca-certs-1",
        "custom-ca-certs-2",
        "pretend-baselayout",
        "replayout",
    ]
    .iter()
    .map(|p| fixture(&format!("small/melange-rsa256/x86_64/{p}-1.0.0-r0.apk")))
    .collect();
    rapko()
        .args([
            "apk",
            "index",
            "--description",
            "rapko test repository",
            "--rewrite-arch",
            "x86_64",
        ])
        .arg("--output")
        .arg(&output)
        .arg("--sign")
        .arg(test_keys().join("rapko-test.rsa"))
        .args(&packages)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "4 packages, signed with rapko-test.rsa.pub",
        ));
    output
}

#[test]
fn index_then_verify_index_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = build_index(dir.path());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("x86_64"))
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        leftovers,
        ["APKINDEX.tar.gz"],
        "no temporary file is left behind"
    );

    rapko()
        .args(["apk", "verify-index"])
        .arg(&output)
        .arg("--keyring")
        .arg(test_keys())
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "verified with rapko-test.rsa.pub (4 packages)",
        ));

    // What the library reads back matches the packages.
    let mut keyring = Keyring::new();
    keyring.add_dir(&test_keys()).expect("keys");
    let bytes = std::fs::read(&output).expect("index written");
    let (index, _) = ApkIndex::read(&bytes, Trust::Keyring(&keyring)).expect("verifies");
    assert_eq!(index.description.as_deref(), Some("rapko test repository"));
    let original =
        std::fs::read(fixture("small/melange-rsa256/x86_64/APKINDEX.tar.gz")).expect("read");
    let (reference, _) = ApkIndex::read(&original, Trust::Ignore).expect("reads");
    for pkg in &index.packages {
        let theirs = reference
            .packages
            .iter()
            .find(|p| p.name == pkg.name)
            .expect("listed upstream");
        assert_eq!(pkg.checksum, theirs.checksum, "{}: C:", pkg.name);
        assert_eq!(pkg.file_size, theirs.file_size, "{}: S:", pkg.name);
        assert_eq!(pkg.depends, theirs.depends, "{}: D:", pkg.name);
        assert_eq!(pkg.arch, "x86_64");
    }
}

#[test]
fn verify_index_with_the_wrong_keyring_fails_naming_the_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = build_index(dir.path());
    rapko()
        .args(["apk", "verify-index"])
        .arg(&output)
        .arg("--keyring")
        .arg(fixture("keys/wolfi"))
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("error: cannot verify"))
        .stderr(predicate::str::contains("signed by rapko-test.rsa.pub"))
        .stderr(predicate::str::contains(
            "not in the keyring (1 keys: wolfi-signing.rsa.pub)",
        ));
}

#[test]
fn verify_index_of_real_repositories() {
    rapko()
        .args(["apk", "verify-index"])
        .arg(fixture("alpine-3.19/main/x86_64/APKINDEX.tar.gz"))
        .arg("--keyring")
        .arg(fixture("keys/alpine"))
        .assert()
        .success()
        .stdout(predicate::str::contains("(100 packages)"));
    rapko()
        .args(["apk", "verify-index"])
        .arg(fixture("small/misc/APKINDEX.tar.gz"))
        .arg("--keyring")
        .arg(fixture("keys/alpine"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not signed"));
}

#[test]
fn index_refuses_bad_input_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let junk = dir.path().join("junk.apk");
    std::fs::write(&junk, "junk").expect("write");
    let output = dir.path().join("APKINDEX.tar.gz");
    rapko()
        .args(["apk", "index", "--output"])
        .arg(&output)
        .arg(&junk)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("junk.apk"));
    assert!(!output.exists(), "nothing is written on failure");
    let musl = fixture(MUSL);
    rapko()
        .args(["apk", "index", "--output"])
        .arg(&output)
        .arg(&musl)
        .arg(&musl)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "musl-1.2.4_git20230717-r4 is given twice",
        ));
    rapko()
        .args(["apk", "index", "--output"])
        .arg(&output)
        .arg("--sign")
        .arg(&junk)
        .arg(&musl)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot use"))
        .stderr(predicate::str::contains("junk.apk"));
}
