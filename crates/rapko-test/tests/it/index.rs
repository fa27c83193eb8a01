//! Indexes and repositories read back by the Python reader and verified with openssl.

use std::collections::BTreeMap;

use rapko_test::{ApkBuilder, BuiltApk, IndexBuilder, IndexFault, SignatureKind, write_repo};

use crate::check::{Described, describe, describe_file, openssl_verify};

fn packages() -> Vec<BuiltApk> {
    vec![
        ApkBuilder::new("alpha", "1.0-r0")
            .depends(["beta"])
            .provides(["cmd:alpha=1.0-r0"])
            .executable("usr/bin/alpha", "a")
            .build(),
        ApkBuilder::new("beta", "2.0-r1")
            .arch("noarch")
            .install_if(["alpha", "gamma"])
            .provider_priority(10)
            .file("usr/share/beta/data", "b")
            .build(),
    ]
}

/// Records of the `APKINDEX` entry, keyed by `P:`, each a map of field letter to value.
fn records(d: &Described, member: usize) -> BTreeMap<String, BTreeMap<String, String>> {
    let text = d.text(member, "APKINDEX");
    assert!(text.ends_with("\n\n"), "{text:?}");
    text.split("\n\n")
        .filter(|r| !r.is_empty())
        .map(|r| {
            let fields: BTreeMap<String, String> = r
                .lines()
                .map(|l| {
                    let (k, v) = l
                        .split_once(':')
                        .unwrap_or_else(|| panic!("bad line {l:?}"));
                    (k.to_owned(), v.to_owned())
                })
                .collect();
            (fields["P"].clone(), fields)
        })
        .collect()
}

#[test]
fn repository_layout_and_records() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let apks = packages();
    let arch_dir = write_repo(tmp.path(), "aarch64", &apks);
    assert_eq!(arch_dir, tmp.path().join("aarch64"));
    let Some(idx) = describe_file(&arch_dir.join("APKINDEX.tar.gz")) else {
        return;
    };
    assert_eq!(idx.member_count(), 2);
    assert_eq!(
        idx.member(1)["ends_with_eoa"],
        true,
        "the index tar is complete"
    );
    let names: Vec<&str> = idx
        .entries(1)
        .iter()
        .map(|e| e["name"].as_str().expect("n"))
        .collect();
    assert_eq!(names, ["DESCRIPTION", "APKINDEX"]);
    let recs = records(&idx, 1);
    assert_eq!(recs.len(), 2);
    for apk in &apks {
        let file = arch_dir.join(apk.file_name());
        let r = &recs[apk.name()];
        // C: and S: recomputed from the file on disk by the Python reader.
        let Some(pkg) = describe_file(&file) else {
            return;
        };
        let c = format!("Q1{}", pkg.member(1)["sha1_b64"].as_str().expect("b64"));
        assert_eq!(r["C"], c);
        let size = std::fs::metadata(&file).expect("stat").len();
        assert_eq!(r["S"], size.to_string());
        assert_eq!(r["V"], apk.version());
        assert_eq!(r["I"], apk.meta.installed_size.to_string());
    }
    assert_eq!(
        recs["beta"]["A"], "aarch64",
        "noarch is listed under the repo arch"
    );
    assert_eq!(recs["alpha"]["A"], "x86_64");
    assert_eq!(recs["beta"]["i"], "alpha gamma");
    assert_eq!(recs["beta"]["k"], "10");
    assert_eq!(recs["alpha"]["D"], "beta");
    assert_eq!(recs["alpha"]["p"], "cmd:alpha=1.0-r0");
}

fn index_signature_ok(index: &[u8], digest: &str) -> Option<bool> {
    let d = describe(index)?;
    assert_eq!(d.member_count(), 2, "{:#}", d.json);
    openssl_verify(digest, &d.member_file(1), &d.sig_file(0))
}

#[test]
fn index_signatures_verify_with_openssl() {
    let apks = packages();
    let sha1 = IndexBuilder::new().packages(&apks).build();
    let sha256 = IndexBuilder::new()
        .signature(SignatureKind::RsaSha256)
        .packages(&apks)
        .build();
    let (Some(ok1), Some(ok256)) = (
        index_signature_ok(&sha1, "sha1"),
        index_signature_ok(&sha256, "sha256"),
    ) else {
        return;
    };
    assert!(ok1 && ok256, "sha1: {ok1}, sha256: {ok256}");
    let Some(d) = describe(&sha256) else { return };
    assert_eq!(d.entries(0)[0]["name"], ".SIGN.RSA256.rapko-test.rsa.pub");
}

#[test]
fn index_faults_break_the_signature() {
    let apks = packages();
    for fault in [IndexFault::BadSignature, IndexFault::TamperAfterSigning] {
        let index = IndexBuilder::new().packages(&apks).fault(fault).build();
        let Some(ok) = index_signature_ok(&index, "sha1") else {
            return;
        };
        assert!(!ok, "{fault:?} still verifies");
    }
    let tampered = IndexBuilder::new()
        .packages(&apks)
        .fault(IndexFault::TamperAfterSigning)
        .build();
    let Some(d) = describe(&tampered) else { return };
    assert!(records(&d, 1).contains_key("tampered-evil"));
}

#[test]
fn unsigned_and_truncated_indexes() {
    let unsigned = IndexBuilder::new()
        .signature(SignatureKind::Unsigned)
        .description("v0-test")
        .packages(&packages())
        .build();
    let Some(d) = describe(&unsigned) else { return };
    assert_eq!(d.member_count(), 1);
    assert_eq!(d.text(0, "DESCRIPTION"), "v0-test");
    let truncated = IndexBuilder::new().fault(IndexFault::Truncated).build();
    let Some(d) = describe(&truncated) else {
        return;
    };
    assert!(
        d.json["error"]
            .as_str()
            .unwrap_or_default()
            .contains("truncated")
    );
}
