//! The chain of trust on the real fixtures: signed index → `C:` → datahash → per-file SHA-1,
//! and every way it must refuse (tampered, unsigned, unknown key).

use std::collections::BTreeMap;
use std::path::Path;

use rapko_apk::{ApkIndex, ApkPackage, Error, Keyring, SignatureError, Signer, Trust};

use crate::common::{all_indexes, entries_of, keyring, read, short, test_keyring};

/// Which keys sign which index (fixtures-relative).
const INDEX_KEYS: &[(&str, &str)] = &[
    ("alpine-3.19/main/x86_64", "keys/alpine"),
    ("alpine-3.19-upstream/main/x86_64", "keys/alpine"),
    ("alpine-3.19-upstream/community/x86_64", "keys/alpine"),
    ("alpine-3.7/main/aarch64", "keys/alpine"),
    ("indexes/alpine-3.16-main/x86_64", "keys/alpine"),
    ("indexes/alpine-3.17-main/aarch64", "keys/alpine"),
    ("glibc-distro/main/x86_64", "glibc-distro/keys"),
    ("small/melange-rsa256/x86_64", "small/melange-rsa256"),
    ("small/melange-rsa256/aarch64", "small/melange-rsa256"),
    ("small/private-rsa-sha1/x86_64", "small/private-rsa-sha1"),
    ("small/private-rsa-sha1/aarch64", "small/private-rsa-sha1"),
    ("small/rsa256-index/x86_64", "small/rsa256-index"),
    (
        "small/multi-signature-index/x86_64",
        "small/multi-signature-index/keys",
    ),
];

fn index_path(repo: &str) -> std::path::PathBuf {
    rapko_test::fixture(&format!("{repo}/APKINDEX.tar.gz"))
}

#[test]
fn every_signed_index_verifies_with_its_keys() {
    for (repo, keys) in INDEX_KEYS {
        let keyring = keyring(keys);
        let (index, verified_by) =
            ApkIndex::read(&read(&index_path(repo)), Trust::Keyring(&keyring))
                .unwrap_or_else(|e| panic!("{repo} with {keys}: {e}"));
        let key = verified_by.expect("a keyring read names the key");
        assert!(keyring.names().contains(&key), "{repo}: verified by {key}");
        assert!(!index.signatures.is_empty(), "{repo}");
    }
}

#[test]
fn the_table_covers_every_index_but_the_unsigned_one() {
    let covered: Vec<String> = INDEX_KEYS
        .iter()
        .map(|(repo, _)| format!("{repo}/APKINDEX.tar.gz"))
        .chain(["small/misc/APKINDEX.tar.gz".to_owned()])
        .collect();
    for path in all_indexes() {
        assert!(
            covered.contains(&short(&path)),
            "{} has no keys in INDEX_KEYS",
            short(&path)
        );
    }
}

#[test]
fn the_unsigned_synthetic_index_is_refused_as_unsigned() {
    let bytes = read(&rapko_test::fixture("small/misc/APKINDEX.tar.gz"));
    let keyring = keyring("keys/alpine");
    let err = ApkIndex::read(&bytes, Trust::Keyring(&keyring)).expect_err("unsigned index refused");
    assert!(
        matches!(err, Error::Signature(SignatureError::Unsigned)),
        "{err}"
    );
    assert!(err.to_string().contains("not signed"), "{err}");
}

#[test]
fn multi_signature_index_has_three_valid_signatures() {
    let bytes = read(&index_path("small/multi-signature-index/x86_64"));
    let (index, _) = ApkIndex::read(&bytes, Trust::Ignore).expect("reads");
    assert_eq!(index.signatures.len(), 3);
    let keyring = keyring("small/multi-signature-index/keys");
    assert_eq!(keyring.len(), 3);
    // The signatures cover everything after the signature member: find where it ends by
    // reading with each key alone, which must succeed for every one of the three keys.
    for name in keyring.names() {
        let mut single = Keyring::new();
        let file = rapko_test::fixture(&format!("small/multi-signature-index/keys/{name}"));
        single.add(&name, &read(&file)).expect("key loads");
        let (_, by) = ApkIndex::read(&bytes, Trust::Keyring(&single))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(by.as_deref(), Some(name.as_str()));
    }
}

#[test]
fn an_index_with_the_wrong_keys_is_refused_naming_signer_and_keys() {
    let bytes = read(&index_path("alpine-3.19/main/x86_64"));
    let wolfi = keyring("keys/wolfi");
    let err = ApkIndex::read(&bytes, Trust::Keyring(&wolfi)).expect_err("wrong keyring refused");
    let text = err.to_string();
    assert!(
        text.contains("alpine-devel@lists.alpinelinux.org-"),
        "{text}"
    );
    assert!(text.contains("wolfi-signing.rsa.pub"), "{text}");
    assert!(text.contains("not in the keyring"), "{text}");
}

/// Checks every package file present in `repo` against its index record and keys.
fn check_repository(repo: &str, keys: &str) -> usize {
    let keyring = keyring(keys);
    let dir = rapko_test::fixture(repo);
    let (index, _) = ApkIndex::read(
        &read(&dir.join("APKINDEX.tar.gz")),
        Trust::Keyring(&keyring),
    )
    .unwrap_or_else(|e| panic!("{repo}: {e}"));
    let mut checked = 0;
    for record in &index.packages {
        let path = dir.join(format!("{}.apk", record.name_version()));
        if !path.exists() {
            continue;
        }
        check_package(&path, record, &keyring);
        checked += 1;
    }
    checked
}

fn check_package(path: &Path, record: &rapko_apk::PackageInfo, keyring: &Keyring) {
    let name = short(path);
    let bytes = read(path);
    let pkg = ApkPackage::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let expected = record.checksum.as_ref().expect("record has C:");
    pkg.verify_checksum(expected)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(record.file_size, bytes.len() as u64, "{name}: S:");
    pkg.verify_signature(&bytes, keyring)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    pkg.verify_datahash(&bytes, true)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(pkg.info.name, record.name, "{name}");
    assert_eq!(pkg.info.version, record.version, "{name}");
    assert_eq!(pkg.info.depends, record.depends, "{name}: D:");
    assert_eq!(pkg.info.provides, record.provides, "{name}: p:");
    // data_entries checks each file's SHA-1 against its PAX record as it goes.
    let (_, entries) = entries_of(&bytes);
    let with_sha1 = entries.iter().filter(|e| e.sha1.is_some()).count();
    let files = entries
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                rapko_apk::EntryKind::File | rapko_apk::EntryKind::Symlink(_)
            )
        })
        .count();
    assert_eq!(
        with_sha1, files,
        "{name}: every file and symlink carries its SHA-1"
    );
}

#[test]
fn alpine_3_19_every_checksum_datahash_and_file_sha1() {
    let checked = check_repository("alpine-3.19/main/x86_64", "keys/alpine");
    assert_eq!(checked, 100, "all 100 packages of the boot repository");
}

#[test]
fn the_other_repositories_check_out_too() {
    let counts: BTreeMap<&str, usize> = [
        ("alpine-3.19-upstream/main/x86_64", "keys/alpine"),
        ("alpine-3.19-upstream/community/x86_64", "keys/alpine"),
        ("alpine-3.7/main/aarch64", "keys/alpine"),
        ("glibc-distro/main/x86_64", "glibc-distro/keys"),
        ("small/melange-rsa256/x86_64", "small/melange-rsa256"),
        ("small/private-rsa-sha1/aarch64", "small/private-rsa-sha1"),
    ]
    .into_iter()
    .map(|(repo, keys)| (repo, check_repository(repo, keys)))
    .collect();
    assert_eq!(
        counts["alpine-3.19-upstream/main/x86_64"]
            + counts["alpine-3.19-upstream/community/x86_64"],
        82
    );
    assert_eq!(counts["alpine-3.7/main/aarch64"], 55);
    assert_eq!(
        counts["glibc-distro/main/x86_64"], 26,
        "27 records; glibc-iconv has no file"
    );
    assert_eq!(counts["small/melange-rsa256/x86_64"], 4);
    assert_eq!(counts["small/private-rsa-sha1/aarch64"], 2);
}

#[test]
fn real_wolfi_packages_verify() {
    let keyring = keyring("keys/wolfi");
    for path in crate::common::files_under("wolfi/real-wolfi-signed", |n| n.ends_with(".apk")) {
        let bytes = read(&path);
        let pkg = ApkPackage::parse(&bytes).expect("parses");
        let key = pkg
            .verify_signature(&bytes, &keyring)
            .unwrap_or_else(|e| panic!("{}: {e}", short(&path)));
        assert_eq!(key, "wolfi-signing.rsa.pub");
        pkg.verify_datahash(&bytes, true)
            .unwrap_or_else(|e| panic!("{}: {e}", short(&path)));
        entries_of(&bytes);
    }
}

#[test]
fn tampered_wolfi_packages_are_refused_on_signature_and_datahash() {
    let keyring = keyring("keys/wolfi");
    let packages = crate::common::files_under("wolfi/bad-signature", |n| n.ends_with(".apk"));
    assert_eq!(packages.len(), 2);
    for path in packages {
        let bytes = read(&path);
        let pkg = ApkPackage::parse(&bytes).expect("the head still parses");
        let sig = pkg
            .verify_signature(&bytes, &keyring)
            .expect_err("signature refused");
        assert!(
            matches!(sig, SignatureError::Invalid { .. }),
            "{}: {sig}",
            short(&path)
        );
        assert!(sig.to_string().contains("does not verify"), "{sig}");
        let hash = pkg
            .verify_datahash(&bytes, true)
            .expect_err("datahash refused");
        let text = hash.to_string();
        assert!(
            text.contains("datahash") && text.contains("expected"),
            "{}: {text}",
            short(&path)
        );
    }
}

#[test]
fn the_unsigned_wolfi_package_is_reported_unsigned() {
    let bytes = read(&rapko_test::fixture("wolfi/unsigned/perl-json-4.11-r0.apk"));
    let pkg = ApkPackage::parse(&bytes).expect("parses");
    assert!(pkg.signature.is_none());
    let err = pkg
        .verify_signature(&bytes, &keyring("keys/wolfi"))
        .expect_err("unsigned refused");
    assert_eq!(err, SignatureError::Unsigned);
    assert!(err.to_string().contains("not signed"));
}

#[test]
fn a_package_signed_by_an_unknown_key_names_the_key() {
    let bytes = read(&rapko_test::fixture(
        "wolfi/melange-local-signed/hello-wolfi-2.12.1-r1.apk",
    ));
    let pkg = ApkPackage::parse(&bytes).expect("parses");
    let signer = pkg.signature.as_ref().expect("signed").key_name.clone();
    let err = pkg
        .verify_signature(&bytes, &keyring("keys/wolfi"))
        .expect_err("unknown key refused");
    assert!(
        matches!(&err, SignatureError::UnknownKey { signers, .. } if signers.as_slice() == std::slice::from_ref(&signer)),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&signer) && text.contains("wolfi-signing.rsa.pub"),
        "{text}"
    );
}

/// The test signing key, from rapko-test's committed key pair.
pub fn test_signer() -> Signer {
    let path = rapko_test::test_key_dir().join("rapko-test.rsa");
    Signer::from_pem("rapko-test.rsa", &read(&path)).expect("test key loads")
}

#[test]
fn index_write_read_round_trip_signed_with_the_test_key() {
    let (original, _) =
        ApkIndex::read(&read(&index_path("alpine-3.19/main/x86_64")), Trust::Ignore)
            .expect("reads");
    let signer = test_signer();
    assert_eq!(signer.key_name, rapko_test::TEST_KEY_NAME);
    let bytes = original.write(Some(&signer)).expect("writes");
    let keyring = test_keyring();
    let (back, by) = ApkIndex::read(&bytes, Trust::Keyring(&keyring)).expect("verifies");
    assert_eq!(by.as_deref(), Some(rapko_test::TEST_KEY_NAME));
    assert_eq!(back.packages, original.packages);
    assert_eq!(back.description, original.description);
    // The same bytes with the Alpine keys: refused, naming our key.
    let err = ApkIndex::read(&bytes, Trust::Keyring(&keyring_alpine())).expect_err("wrong keys");
    assert!(err.to_string().contains(rapko_test::TEST_KEY_NAME), "{err}");
    // Writing is deterministic apart from the signature (RSA PKCS#1 v1.5 is too).
    assert_eq!(original.write(Some(&signer)).expect("writes again"), bytes);
}

fn keyring_alpine() -> Keyring {
    keyring("keys/alpine")
}

#[test]
fn an_index_changed_after_signing_is_refused() {
    let (original, _) = ApkIndex::read(
        &read(&index_path("small/melange-rsa256/x86_64")),
        Trust::Ignore,
    )
    .expect("reads");
    let mut bytes = original.write(Some(&test_signer())).expect("writes");
    let last = bytes.len() - 10;
    bytes[last] ^= 0x01; // inside the gzip trailer of the content member
    let err =
        ApkIndex::read(&bytes, Trust::Keyring(&test_keyring())).expect_err("tampered refused");
    assert!(
        err.to_string().contains("does not verify") || err.to_string().contains("gzip"),
        "{err}"
    );
}
