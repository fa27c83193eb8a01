//! Synthetic `APKINDEX.tar.gz` files and repository directories.
//!
//! An index is an optional signature member (as in packages, but signing the compressed
//! bytes of everything after it) followed by ONE gzip member holding a complete tar
//! (with end-of-archive blocks) of `DESCRIPTION` and `APKINDEX`, old-GNU headers owned by
//! root, as apk-tools' `apk index` writes it.

use std::path::{Path, PathBuf};

use crate::apk::{BuiltApk, DEFAULT_BUILDDATE};
use crate::keys::{SignatureKind, TEST_KEY_NAME};
use crate::member::{SignatureSpec, gzip, signature_member};
use crate::tarw::{Header, Magic, TarWriter};

/// A deliberate defect in an index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexFault {
    /// One bit of the RSA signature is flipped.
    BadSignature,
    /// After signing, a record for a package `tampered-evil` is appended to `APKINDEX`:
    /// the signature no longer covers the bytes.
    TamperAfterSigning,
    /// The file is cut in the middle of the index member.
    Truncated,
}

/// Builds an `APKINDEX.tar.gz`. Signed with the test key (RSA/SHA-1) unless told otherwise.
#[derive(Clone, Debug)]
pub struct IndexBuilder {
    description: String,
    arch: Option<String>,
    records: Vec<String>,
    signature: SignatureKind,
    key_name: String,
    faults: Vec<IndexFault>,
    mtime: u64,
    level: u32,
}

impl Default for IndexBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl IndexBuilder {
    /// An empty, signed index.
    pub fn new() -> Self {
        Self {
            description: "rapko-test synthetic repository".to_owned(),
            arch: None,
            records: Vec::new(),
            signature: SignatureKind::RsaSha1,
            key_name: TEST_KEY_NAME.to_owned(),
            faults: Vec::new(),
            mtime: DEFAULT_BUILDDATE,
            level: 9,
        }
    }

    /// The `DESCRIPTION` entry's content.
    pub fn description(mut self, text: &str) -> Self {
        text.clone_into(&mut self.description);
        self
    }

    /// The repository arch: `noarch` packages added AFTER this call are listed with it in
    /// `A:` (apk's index does that; `.PKGINFO` keeps `noarch`).
    pub fn arch(mut self, arch: &str) -> Self {
        self.arch = Some(arch.to_owned());
        self
    }

    /// Chooses how the index is signed (default [`SignatureKind::RsaSha1`]).
    pub fn signature(mut self, kind: SignatureKind) -> Self {
        self.signature = kind;
        self
    }

    /// Names a different key in the signature entry (the test key still signs).
    pub fn key_name(mut self, name: &str) -> Self {
        name.clone_into(&mut self.key_name);
        self
    }

    /// Adds a deliberate defect.
    pub fn fault(mut self, fault: IndexFault) -> Self {
        self.faults.push(fault);
        self
    }

    /// The mtime of the tar entries (default [`DEFAULT_BUILDDATE`]).
    pub fn mtime(mut self, secs: u64) -> Self {
        self.mtime = secs;
        self
    }

    /// Gzip level (default 9).
    pub fn compression(mut self, level: u32) -> Self {
        assert!(level <= 9, "gzip level {level} is not in 0..=9");
        self.level = level;
        self
    }

    /// Lists a package. Only its metadata is kept, so the package bytes may be dropped
    /// afterwards (useful for very large sets).
    pub fn package(mut self, apk: &BuiltApk) -> Self {
        self.records.push(apk.index_record(self.arch.as_deref()));
        self
    }

    /// Lists several packages.
    pub fn packages<'a>(mut self, apks: impl IntoIterator<Item = &'a BuiltApk>) -> Self {
        for apk in apks {
            self = self.package(apk);
        }
        self
    }

    /// Adds a hand-written record (lines `X:value`, no trailing blank line), for index
    /// entries without a package file or with odd fields.
    pub fn raw_record(mut self, record: &str) -> Self {
        self.records.push(record.trim_end_matches('\n').to_owned());
        self
    }

    /// The `APKINDEX` text: records each followed by a blank line.
    pub fn apkindex_text(&self) -> String {
        self.records.iter().map(|r| format!("{r}\n\n")).collect()
    }

    /// The index member: one gzip stream of a complete tar.
    fn index_member(&self, apkindex: &str) -> Vec<u8> {
        let mut tar = TarWriter::default();
        for (name, content) in [
            ("DESCRIPTION", self.description.as_bytes()),
            ("APKINDEX", apkindex.as_bytes()),
        ] {
            tar.entry(
                &Header {
                    name: name.as_bytes(),
                    mode: 0o644,
                    uid: 0,
                    gid: 0,
                    size: content.len() as u64,
                    mtime: self.mtime,
                    typeflag: b'0',
                    linkname: b"",
                    uname: "root",
                    gname: "root",
                    magic: Magic::Gnu,
                },
                content,
            );
        }
        tar.finish();
        gzip(&tar.buf, self.level)
    }

    /// The `APKINDEX.tar.gz` bytes.
    pub fn build(&self) -> Vec<u8> {
        let text = self.apkindex_text();
        let member = self.index_member(&text);
        let signature = signature_member(
            &SignatureSpec {
                kind: self.signature,
                key_name: &self.key_name,
                mtime: self.mtime,
                level: self.level,
                corrupt: self.faults.contains(&IndexFault::BadSignature),
            },
            &member,
        );
        let member = if self.faults.contains(&IndexFault::TamperAfterSigning) {
            let evil = "C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\nP:tampered-evil\nV:6.6.6-r0\n\
                        A:x86_64\nS:1\nI:1\nT:added after signing\n\n";
            self.index_member(&format!("{text}{evil}"))
        } else {
            member
        };
        let mut bytes = signature.unwrap_or_default();
        let start = bytes.len();
        bytes.extend_from_slice(&member);
        if self.faults.contains(&IndexFault::Truncated) {
            bytes.truncate(start + member.len() / 2);
        }
        bytes
    }
}

impl BuiltApk {
    /// This package's `APKINDEX` record in apk-tools' field order (`C P V A S I T U L o m t
    /// c k D p i`, then `r q`, which apk-tools 2 leaves out of indexes but go-apk reads),
    /// without the trailing blank line. `repo_arch` replaces `noarch` in `A:`.
    pub fn index_record(&self, repo_arch: Option<&str>) -> String {
        let m = &self.meta;
        let arch = match repo_arch {
            Some(a) if m.arch == "noarch" => a,
            _ => &m.arch,
        };
        let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
        let fields: [(char, String); 19] = [
            ('C', self.q1_checksum()),
            ('P', m.name.clone()),
            ('V', m.version.clone()),
            ('A', arch.to_owned()),
            ('S', self.indexed_size.to_string()),
            ('I', m.installed_size.to_string()),
            ('T', m.description.clone()),
            ('U', m.url.clone()),
            ('L', m.license.clone()),
            ('o', m.origin.clone()),
            ('m', m.maintainer.clone()),
            ('t', m.builddate.to_string()),
            ('c', m.commit.clone()),
            ('k', opt(m.provider_priority)),
            ('D', m.depends.join(" ")),
            ('p', m.provides.join(" ")),
            ('i', m.install_if.join(" ")),
            ('r', m.replaces.join(" ")),
            ('q', opt(m.replaces_priority)),
        ];
        fields
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}:{v}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Lays out a repository the way apk clients expect: `<dir>/<arch>/APKINDEX.tar.gz`
/// (signed with the test key, RSA/SHA-1) beside every `<name>-<version>.apk`. Returns
/// `<dir>/<arch>`. `dir` is what a config names as the repository.
pub fn write_repo(dir: &Path, arch: &str, apks: &[BuiltApk]) -> PathBuf {
    write_repo_with(dir, arch, apks, IndexBuilder::new())
}

/// Like [`write_repo`] with an index configured by the caller (signature, faults,
/// description, extra raw records); `apks` are added to it with `arch` as the repository arch.
pub fn write_repo_with(dir: &Path, arch: &str, apks: &[BuiltApk], index: IndexBuilder) -> PathBuf {
    let arch_dir = dir.join(arch);
    std::fs::create_dir_all(&arch_dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", arch_dir.display()));
    for apk in apks {
        apk.write_to(&arch_dir);
    }
    let index = index.arch(arch).packages(apks).build();
    let path = arch_dir.join("APKINDEX.tar.gz");
    std::fs::write(&path, index).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    arch_dir
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apk::ApkBuilder;

    #[test]
    fn record_fields_in_apk_order() {
        let apk = ApkBuilder::new("foo", "1.0-r0")
            .arch("noarch")
            .url("https://example.invalid")
            .depends(["bar", "baz>=2"])
            .provides(["cmd:foo=1.0-r0"])
            .install_if(["bar", "qux"])
            .replaces(["old"])
            .provider_priority(5)
            .replaces_priority(7)
            .commit("abc")
            .maintainer("M <m@example.invalid>")
            .build();
        let rec = apk.index_record(Some("aarch64"));
        let keys: String = rec.lines().map(|l| &l[..1]).collect();
        assert_eq!(keys, "CPVASITULomtckDpirq");
        assert!(rec.contains("\nA:aarch64\n"));
        assert!(rec.contains("\nD:bar baz>=2\n"));
        assert!(rec.starts_with(&format!("C:{}\n", apk.q1_checksum())));
        assert!(rec.contains(&format!("\nS:{}\n", apk.bytes.len())));
    }

    #[test]
    fn noarch_kept_without_repo_arch() {
        let apk = ApkBuilder::new("foo", "1").arch("noarch").build();
        assert!(apk.index_record(None).contains("\nA:noarch\n"));
    }

    #[test]
    fn text_has_blank_line_after_each_record() {
        let idx = IndexBuilder::new()
            .raw_record("P:a\nV:1\n")
            .raw_record("P:b\nV:2");
        assert_eq!(idx.apkindex_text(), "P:a\nV:1\n\nP:b\nV:2\n\n");
    }
}
