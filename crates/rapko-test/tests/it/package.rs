//! A synthetic package has the layout of a real one and verifies with real tools.

use std::process::Command;

use rapko_test::{ApkBuilder, BuiltApk, Entry, SignatureKind, TEST_KEY_NAME};
use serde_json::Value;

use crate::check::{datahashes, describe, describe_file, openssl_verify};

/// A package using every kind of entry and a few scripts.
fn sample() -> ApkBuilder {
    ApkBuilder::new("sample", "1.2.3-r4")
        .description("a sample")
        .url("https://example.invalid/sample")
        .maintainer("Test <test@example.invalid>")
        .commit("0123456789abcdef0123456789abcdef01234567")
        .depends(["so:libc.musl-x86_64.so.1", "busybox>=1.36"])
        .provides(["cmd:sample=1.2.3-r4"])
        .replaces(["old-sample"])
        .triggers(["/usr/lib/sample/*"])
        .executable("usr/bin/sample", b"\x7fELF not really".to_vec())
        .symlink("usr/bin/smp", "sample")
        .hardlink("usr/bin/sample2", "usr/bin/sample")
        .entry(
            Entry::file("etc/sample.conf", "secret=1\n")
                .mode(0o640)
                .owner(0, 42)
                .mtime(1_234_567_890),
        )
        .entry(Entry::dir("var/lib/sample").mode(0o700).owner(100, 101))
        .script(".post-install", "#!/bin/sh\necho installed\n")
        .script("trigger", "#!/bin/sh\n")
}

fn names(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e["name"].as_str().expect("name"))
        .collect()
}

#[test]
fn members_split_like_a_real_package() {
    let apk = sample().build();
    let Some(d) = describe(&apk.bytes) else {
        return;
    };
    assert_eq!(d.member_count(), 3, "{:#}", d.json);
    for i in 0..3 {
        // gzip -n -9 style: no mtime, XFL=2, OS=Unix.
        assert_eq!(d.member(i)["gzip_header"], "1f8b0800000000000203");
    }
    // Signature and control tars are cut before the end-of-archive blocks; data is complete
    // and padded to GNU tar's 10 KiB record.
    assert_eq!(d.member(0)["ends_with_eoa"], false);
    assert_eq!(d.member(1)["ends_with_eoa"], false);
    assert_eq!(d.member(2)["ends_with_eoa"], true);
    assert_eq!(d.member(2)["record_padded"], true);
    assert_eq!(
        names(d.entries(0)),
        [format!(".SIGN.RSA.{TEST_KEY_NAME}").as_str()]
    );
    assert_eq!(
        names(d.entries(1)),
        [".PKGINFO", ".post-install", ".trigger"]
    );
    assert_eq!(d.entry(1, ".post-install")["mode"], 0o755);
    assert_eq!(
        names(d.entries(2)),
        [
            "etc",
            "etc/sample.conf",
            "usr",
            "usr/bin",
            "usr/bin/sample",
            "usr/bin/sample2",
            "usr/bin/smp",
            "var",
            "var/lib",
            "var/lib/sample",
        ]
    );
}

#[test]
fn entries_carry_modes_owners_and_checksums() {
    let apk = sample().build();
    let Some(d) = describe(&apk.bytes) else {
        return;
    };
    let conf = d.entry(2, "etc/sample.conf");
    assert_eq!(conf["mode"], 0o640);
    assert_eq!(conf["gid"], 42);
    assert_eq!(conf["uname"], "root");
    assert_eq!(conf["gname"], "");
    assert_eq!(conf["mtime"], 1_234_567_890);
    let dir = d.entry(2, "var/lib/sample");
    assert_eq!(
        (dir["type"].as_str(), dir["mode"].as_u64()),
        (Some("5"), Some(0o700))
    );
    assert_eq!(
        (dir["uid"].as_u64(), dir["gid"].as_u64()),
        (Some(100), Some(101))
    );
    assert_eq!(d.entry(2, "usr")["mtime"], rapko_test::DEFAULT_BUILDDATE);

    let key = "APK-TOOLS.checksum.SHA1";
    for e in d.entries(2) {
        assert_eq!(e["pax"]["ctime"], "0", "{e}");
        assert_eq!(e["pax"]["atime"], "0", "{e}");
        match e["type"].as_str() {
            // Files: SHA-1 of the content; symlinks: SHA-1 of the target (as Alpine does).
            Some("0") | Some("2") => assert_eq!(e["pax"][key], e["sha1"], "{e}"),
            _ => assert!(e["pax"].get(key).is_none(), "{e}"),
        }
    }
    let link = d.entry(2, "usr/bin/smp");
    assert_eq!(
        (link["type"].as_str(), link["linkname"].as_str()),
        (Some("2"), Some("sample"))
    );
    let hard = d.entry(2, "usr/bin/sample2");
    assert_eq!(hard["type"], "1");
    assert_eq!(hard["linkname"], "usr/bin/sample");
    assert_eq!(hard["mode"], 0o755, "a hard link takes its target's mode");
}

#[test]
fn regular_files_repeat_the_digest_in_linkname() {
    let apk = sample().build();
    let Some(d) = describe(&apk.bytes) else {
        return;
    };
    let headers = d.member(2)["headers"].as_array().expect("headers");
    let h = headers
        .iter()
        .find(|h| h["name"] == "usr/bin/sample")
        .expect("header");
    let sha1 = d.entry(2, "usr/bin/sample")["sha1"].as_str().expect("sha1");
    // "\0\0\0APK2", u16 LE 64 (NID_sha1), u16 LE 20, digest: what abuild-tar writes.
    assert_eq!(h["linkname_hex"], format!("00000041504b3240001400{sha1}"));
}

#[test]
fn pkginfo_declares_what_the_package_holds() {
    let apk = sample().build();
    let Some(d) = describe(&apk.bytes) else {
        return;
    };
    let pkginfo = d.text(1, ".PKGINFO");
    assert_eq!(pkginfo, apk.pkginfo);
    for line in [
        "pkgname = sample",
        "pkgver = 1.2.3-r4",
        "arch = x86_64",
        "origin = sample",
        "license = MIT",
        "replaces = old-sample",
        "triggers = /usr/lib/sample/*",
        "provides = cmd:sample=1.2.3-r4",
        "depend = so:libc.musl-x86_64.so.1",
        "depend = busybox>=1.36",
    ] {
        assert!(
            pkginfo.lines().any(|l| l == line),
            "missing {line:?} in\n{pkginfo}"
        );
    }
    let (actual, declared) = datahashes(&d, 1);
    assert_eq!(actual, declared);
    assert_eq!(declared, apk.datahash_hex());
    assert_eq!(
        format!("Q1{}", d.member(1)["sha1_b64"].as_str().expect("b64")),
        apk.q1_checksum()
    );
}

fn verify_with_openssl(apk: &BuiltApk, digest: &str, entry: &str) {
    let Some(d) = describe(&apk.bytes) else {
        return;
    };
    assert_eq!(names(d.entries(0)), [entry]);
    let Some(ok) = openssl_verify(digest, &d.member_file(1), &d.sig_file(0)) else {
        return;
    };
    assert!(ok, "openssl does not verify the {digest} signature");
}

#[test]
fn rsa_sha1_signature_verifies_with_openssl() {
    let apk = sample().build();
    verify_with_openssl(&apk, "sha1", ".SIGN.RSA.rapko-test.rsa.pub");
}

#[test]
fn rsa_sha256_signature_verifies_with_openssl() {
    let apk = sample().signature(SignatureKind::RsaSha256).build();
    verify_with_openssl(&apk, "sha256", ".SIGN.RSA256.rapko-test.rsa.pub");
}

#[test]
fn key_name_only_changes_the_entry_name() {
    let apk = sample().key_name("someone-else.rsa.pub").build();
    verify_with_openssl(&apk, "sha1", ".SIGN.RSA.someone-else.rsa.pub");
}

#[test]
fn unsigned_package_has_two_members() {
    let apk = sample().signature(SignatureKind::Unsigned).build();
    assert!(apk.signature_member().is_none());
    let Some(d) = describe(&apk.bytes) else {
        return;
    };
    assert_eq!(d.member_count(), 2);
    assert_eq!(names(d.entries(0))[0], ".PKGINFO");
    let (actual, declared) = datahashes(&d, 0);
    assert_eq!(actual, declared);
}

#[test]
fn long_paths_and_targets_use_pax_records() {
    let long = format!("usr/share/{}/file", "d".repeat(120));
    let target = format!("/opt/{}", "t".repeat(150));
    let apk = ApkBuilder::new("long", "1-r0")
        .file(&long, "x")
        .symlink("usr/bin/far", &target)
        .build();
    let Some(d) = describe(&apk.bytes) else {
        return;
    };
    assert_eq!(
        d.entry(2, &long)["sha1"],
        d.entry(2, &long)["pax"]["APK-TOOLS.checksum.SHA1"]
    );
    assert_eq!(d.entry(2, "usr/bin/far")["linkname"], target);
}

/// The shape of one member: is its tar complete, is it padded to 10 KiB, and for each
/// header kind (typeflag) its magic and whether a user name is set.
#[derive(Debug, PartialEq)]
struct MemberShape {
    complete: bool,
    padded: bool,
    kinds: Vec<(String, String, bool)>,
}

/// The shape of every member; names and sizes are ignored.
fn shape(d: &crate::check::Described) -> Vec<MemberShape> {
    (0..d.member_count())
        .map(|i| {
            let m = d.member(i);
            let mut kinds: Vec<(String, String, bool)> = m["headers"]
                .as_array()
                .expect("headers")
                .iter()
                .map(|h| {
                    let t = h["type"].as_str().expect("type").to_owned();
                    (
                        t,
                        h["magic"].as_str().expect("magic").to_owned(),
                        h["uname"] != "",
                    )
                })
                .collect();
            kinds.sort();
            kinds.dedup();
            MemberShape {
                complete: m["ends_with_eoa"] == true,
                padded: m["record_padded"] == true,
                kinds,
            }
        })
        .collect()
}

#[test]
fn same_shape_as_alpine_busybox() {
    let real = rapko_test::fixture("alpine-3.19/main/x86_64/busybox-binsh-1.36.1-r15.apk");
    let ours = ApkBuilder::new("binsh", "1.0-r0")
        .symlink("bin/sh", "/bin/busybox")
        .script(".post-install", "#!/bin/sh\n")
        .build();
    let (Some(r), Some(o)) = (describe_file(&real), describe(&ours.bytes)) else {
        return;
    };
    assert_eq!(
        shape(&o),
        shape(&r),
        "ours:\n{:#}\nreal:\n{:#}",
        o.json,
        r.json
    );
    for i in 0..3 {
        assert_eq!(o.member(i)["gzip_header"], r.member(i)["gzip_header"]);
    }
    // PAX header naming: GNU tar's %d/PaxHeaders/%f.
    let pax_names = |d: &crate::check::Described| -> Vec<String> {
        d.member(2)["headers"]
            .as_array()
            .expect("headers")
            .iter()
            .filter(|h| h["type"] == "x")
            .map(|h| h["name"].as_str().expect("name").to_owned())
            .collect()
    };
    assert_eq!(pax_names(&o), pax_names(&r));
}

#[test]
fn gnu_tar_lists_the_whole_package() {
    let Some(tar) = rapko_test::require_tool("tar") else {
        return;
    };
    let apk = sample().build();
    let file = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(file.path(), &apk.bytes).expect("write");
    // GNU tar reads the concatenated gzip members as one stream, as with real packages.
    let out = Command::new(tar)
        .arg("-tzf")
        .arg(file.path())
        .output()
        .expect("run tar");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = String::from_utf8_lossy(&out.stdout);
    for name in [
        ".SIGN.RSA.rapko-test.rsa.pub",
        ".PKGINFO",
        "usr/bin/sample",
        "var/lib/sample/",
    ] {
        assert!(list.lines().any(|l| l == name), "{name} not in\n{list}");
    }
}
