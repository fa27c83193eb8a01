//! Hostile input found by testing (issue #19): names and versions a signed index may not
//! carry, because rapko makes file names from them.

use rapko_apk::{ApkIndex, Trust};
use rapko_test::{ApkBuilder, IndexBuilder};

use crate::common::test_keyring;

/// A signed index holding one good package and `record`.
fn read_with(record: &str) -> Result<ApkIndex, String> {
    let good = ApkBuilder::new("good", "1.0-r0").build();
    let bytes = IndexBuilder::new()
        .arch("x86_64")
        .package(&good)
        .raw_record(record)
        .build();
    let keyring = test_keyring();
    ApkIndex::read(&bytes, Trust::Keyring(&keyring))
        .map(|(index, _)| index)
        .map_err(|e| e.to_string())
}

const C: &str = "C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=";

#[test]
fn a_name_with_a_slash_or_dotdot_is_refused() {
    for name in ["../../x", "a/b", "..", "x..y"] {
        let err = read_with(&format!("{C}\nP:{name}\nV:1.0-r0\nA:x86_64\nS:1\nI:1"))
            .expect_err("unsafe name refused");
        assert!(
            err.contains("unsafe") && err.contains(name),
            "{name}: {err}"
        );
    }
}

#[test]
fn a_name_with_nul_is_refused() {
    let err =
        read_with(&format!("{C}\nP:x\0y\nV:1.0-r0\nA:x86_64\nS:1\nI:1")).expect_err("NUL refused");
    assert!(err.contains("unsafe"), "{err}");
}

#[test]
fn a_version_that_escapes_is_refused_naming_the_package() {
    let err = read_with(&format!("{C}\nP:x\nV:1/../../y\nA:x86_64\nS:1\nI:1"))
        .expect_err("unsafe version refused");
    assert!(err.contains("package x") && err.contains("unsafe"), "{err}");
}

#[test]
fn ordinary_names_still_read() {
    let index = read_with(&format!("{C}\nP:py3.12-pip\nV:24.0-r1\nA:x86_64\nS:1\nI:1"))
        .expect("ordinary names are fine");
    assert_eq!(index.packages.len(), 2);
}
