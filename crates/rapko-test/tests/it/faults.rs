//! Each deliberate defect is visible to an independent reader, and only that defect.

use rapko_test::{ApkBuilder, Fault};

use crate::check::{datahashes, describe, openssl_verify};

fn base() -> ApkBuilder {
    ApkBuilder::new("faulty", "1.0-r0")
        .file("usr/share/faulty/a", "first file\n")
        .file("usr/share/faulty/b", "second file\n")
}

/// Signature verdict, datahash verdict, and per-file checksum verdicts of a package.
fn verdicts(apk: &rapko_test::BuiltApk) -> Option<(bool, bool, Vec<bool>)> {
    let d = describe(&apk.bytes)?;
    let sig = openssl_verify("sha1", &d.member_file(1), &d.sig_file(0))?;
    let (actual, declared) = datahashes(&d, 1);
    let files = d
        .entries(2)
        .iter()
        .filter(|e| e["type"] == "0")
        .map(|e| e["pax"]["APK-TOOLS.checksum.SHA1"] == e["sha1"])
        .collect();
    Some((sig, actual == declared, files))
}

#[test]
fn healthy_package_passes_every_check() {
    let Some(v) = verdicts(&base().build()) else {
        return;
    };
    assert_eq!(v, (true, true, vec![true, true]));
}

#[test]
fn bad_signature_fails_only_the_signature() {
    let Some(v) = verdicts(&base().fault(Fault::BadSignature).build()) else {
        return;
    };
    assert_eq!(v, (false, true, vec![true, true]));
}

#[test]
fn wrong_datahash_is_signed_but_wrong() {
    let apk = base().fault(Fault::WrongDatahash).build();
    let Some(v) = verdicts(&apk) else { return };
    assert_eq!(v, (true, false, vec![true, true]));
}

#[test]
fn tampered_data_breaks_datahash_and_file_checksum() {
    let honest = base().build();
    let apk = base().fault(Fault::TamperData).build();
    // What an index would record is unchanged: the attack swaps only the data member.
    assert_eq!(apk.q1_checksum(), honest.q1_checksum());
    assert_eq!(apk.control_member(), honest.control_member());
    let Some(v) = verdicts(&apk) else { return };
    assert_eq!(v, (true, false, vec![false, true]));
}

#[test]
fn wrong_file_checksum_passes_datahash() {
    let Some(v) = verdicts(&base().fault(Fault::WrongFileChecksum).build()) else {
        return;
    };
    assert_eq!(v, (true, true, vec![false, true]));
}

#[test]
fn truncated_package_is_short_and_unreadable() {
    let apk = base().fault(Fault::Truncated).build();
    assert!((apk.bytes.len() as u64) < apk.indexed_size);
    let Some(d) = describe(&apk.bytes) else {
        return;
    };
    let err = d.json["error"].as_str().unwrap_or_default();
    assert!(err.contains("truncated"), "{:#}", d.json);
}

#[test]
#[should_panic(expected = "at least one regular file")]
fn tampering_needs_a_file() {
    ApkBuilder::new("empty", "1-r0")
        .fault(Fault::TamperData)
        .build();
}
