//! Helpers shared by the test modules: finding fixture files and loading keyrings.

use std::path::{Path, PathBuf};

use rapko_apk::{ApkPackage, DataEntry, Keyring};

/// Every file under `rel` (a fixtures-relative directory) whose name satisfies `keep`,
/// sorted so failures are reproducible.
pub fn files_under(rel: &str, keep: impl Fn(&str) -> bool + Copy) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(&rapko_test::fixture(rel), &mut out, keep);
    out.sort();
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, keep: impl Fn(&str) -> bool + Copy) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            walk(&path, out, keep);
        } else if path.file_name().and_then(|n| n.to_str()).is_some_and(keep) {
            out.push(path);
        }
    }
}

/// Every `.apk` in the fixtures.
pub fn all_packages() -> Vec<PathBuf> {
    files_under(".", |n| n.ends_with(".apk"))
}

/// Every `APKINDEX.tar.gz` in the fixtures.
pub fn all_indexes() -> Vec<PathBuf> {
    files_under(".", |n| n == "APKINDEX.tar.gz")
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A keyring of every key file in a fixtures-relative directory.
pub fn keyring(rel: &str) -> Keyring {
    let mut keyring = Keyring::new();
    let dir = rapko_test::fixture(rel);
    keyring
        .add_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot load keys from {}: {e}", dir.display()));
    assert!(!keyring.is_empty(), "no keys in {rel}");
    keyring
}

/// A keyring holding only rapko-test's committed public key.
pub fn test_keyring() -> Keyring {
    let mut keyring = Keyring::new();
    keyring
        .add(
            rapko_test::TEST_KEY_NAME,
            rapko_test::test_public_key_pem().as_bytes(),
        )
        .expect("test key loads");
    keyring
}

/// Parses a package and collects its data entries (checking every per-file SHA-1).
pub fn entries_of(bytes: &[u8]) -> (ApkPackage, Vec<DataEntry>) {
    let pkg = ApkPackage::parse(bytes).expect("package parses");
    let mut entries = Vec::new();
    pkg.data_entries(bytes, |e| {
        entries.push(e);
        Ok(())
    })
    .expect("data entries read");
    (pkg, entries)
}

/// A short name for a fixture path in messages.
pub fn short(path: &Path) -> String {
    let root = rapko_test::fixtures();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}
