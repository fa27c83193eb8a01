//! Runs the independent readers: `apkcheck.py` (Python) and `openssl dgst -verify`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tempfile::TempDir;

/// What `apkcheck.py describe` saw, with the member files it wrote.
pub struct Described {
    pub json: Value,
    pub dir: TempDir,
}

impl Described {
    /// Member `i` of the file.
    pub fn member(&self, i: usize) -> &Value {
        &self.json["members"][i]
    }

    pub fn member_count(&self) -> usize {
        self.json["members"].as_array().map_or(0, Vec::len)
    }

    /// The entries of member `i`.
    pub fn entries(&self, i: usize) -> &Vec<Value> {
        self.member(i)["entries"]
            .as_array()
            .unwrap_or_else(|| panic!("member {i} has no entries: {}", self.json))
    }

    /// The entry named `name` in member `i`.
    pub fn entry(&self, i: usize, name: &str) -> &Value {
        self.entries(i)
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("no entry {name} in member {i}: {:#}", self.member(i)))
    }

    /// Decoded content of a regular-file entry.
    pub fn content(&self, i: usize, name: &str) -> Vec<u8> {
        use base64::Engine as _;
        let b64 = self.entry(i, name)["content_b64"]
            .as_str()
            .expect("content");
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("base64")
    }

    /// Text of a regular-file entry.
    pub fn text(&self, i: usize, name: &str) -> String {
        String::from_utf8(self.content(i, name)).expect("utf-8")
    }

    /// Path of the compressed bytes of member `i`.
    pub fn member_file(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("member{i}.gz"))
    }

    /// Path of the signature found in member `i`.
    pub fn sig_file(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("member{i}.sig"))
    }
}

/// Describes a file with the Python reader; `None` (test skipped) without python3.
pub fn describe_file(path: &Path) -> Option<Described> {
    let python = rapko_test::require_tool("python3")?;
    let dir = tempfile::tempdir().expect("tempdir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/apkcheck.py");
    let out = Command::new(python)
        .arg(script)
        .arg("describe")
        .arg(path)
        .arg(dir.path())
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "apkcheck.py failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let json = serde_json::from_slice(&out.stdout).expect("apkcheck.py prints JSON");
    Some(Described { json, dir })
}

/// Describes in-memory bytes (written to a temporary file first).
pub fn describe(bytes: &[u8]) -> Option<Described> {
    let tmp = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(tmp.path(), bytes).expect("write temp file");
    describe_file(tmp.path())
}

/// `openssl dgst -<digest> -verify <test key> -signature <sig> <data>`: `Some(true)` when
/// it prints "Verified OK", `None` without openssl.
pub fn openssl_verify(digest: &str, data: &Path, sig: &Path) -> Option<bool> {
    let openssl = rapko_test::require_tool("openssl")?;
    let out = Command::new(openssl)
        .args(["dgst", &format!("-{digest}"), "-verify"])
        .arg(rapko_test::test_public_key_path())
        .arg("-signature")
        .arg(sig)
        .arg(data)
        .output()
        .expect("run openssl");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ok = out.status.success() && stdout.contains("Verified OK");
    assert!(
        ok || stdout.contains("Verification failure") || !out.status.success(),
        "unexpected openssl output: {stdout}"
    );
    Some(ok)
}

/// Hex SHA-256 of the data member as the Python reader computed it, and the datahash
/// `.PKGINFO` declares (control is member 1 of a signed package, 0 of an unsigned one).
pub fn datahashes(d: &Described, control: usize) -> (String, String) {
    let pkginfo = d.text(control, ".PKGINFO");
    let declared = pkginfo
        .lines()
        .find_map(|l| l.strip_prefix("datahash = "))
        .expect("datahash line")
        .to_owned();
    let actual = d.member(control + 1)["sha256"]
        .as_str()
        .expect("sha256")
        .to_owned();
    (actual, declared)
}
