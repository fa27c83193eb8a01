//! Synthetic `.apk` packages laid out byte for byte the way abuild lays out Alpine's:
//!
//! 1. signature member (optional): gzip of a tar holding one `.SIGN.RSA.<key>` or
//!    `.SIGN.RSA256.<key>` entry, the RSA PKCS#1 v1.5 signature of the compressed control
//!    member; old-GNU header, no user names, no end-of-archive blocks;
//! 2. control member: gzip of a PAX tar holding `.PKGINFO` then the scripts, no
//!    end-of-archive blocks; `.PKGINFO` ends with `datahash`, the hex SHA-256 of member 3;
//! 3. data member: gzip of a PAX tar of the files, with end-of-archive blocks, padded to
//!    GNU tar's 10 KiB record.
//!
//! Every entry of members 2 and 3 has its own PAX header named `<dir>/PaxHeaders/<base>`
//! carrying `ctime=0` and `atime=0`; data entries for regular files and symlinks also carry
//! `APK-TOOLS.checksum.SHA1` (SHA-1 of the content, or of the link target for symlinks;
//! directories and hard links carry none), and regular files repeat that digest in binary
//! in the `linkname` field (`\0\0\0APK2`, u16 LE 64 = NID_sha1, u16 LE 20, digest), which is
//! what abuild-tar writes and apk-tools still reads when the PAX record is missing.

use std::borrow::Cow;
use std::ops::Range;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha1::{Digest, Sha1};
use sha2::Sha256;

use crate::entry::{Entry, EntryKind, arrange};
use crate::keys::{SignatureKind, TEST_KEY_NAME};
use crate::member::{SignatureSpec, gzip, signature_member};
use crate::tarw::{Header, Magic, RECORD, TarWriter, pax_record};

/// The builddate (and entry mtime) used when none is set: fixed so builds are reproducible.
pub const DEFAULT_BUILDDATE: u64 = 1_700_000_000;

/// The package metadata that ends up in `.PKGINFO` and in index records. Empty strings and
/// empty lists are left out of both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageMeta {
    pub name: String,
    pub version: String,
    /// `.PKGINFO` arch; `noarch` becomes the repository's arch in an index.
    pub arch: String,
    pub description: String,
    pub license: String,
    /// Defaults to the package name.
    pub origin: String,
    pub maintainer: String,
    pub url: String,
    pub builddate: u64,
    pub commit: String,
    pub depends: Vec<String>,
    pub provides: Vec<String>,
    pub install_if: Vec<String>,
    pub replaces: Vec<String>,
    pub triggers: Vec<String>,
    pub provider_priority: Option<u64>,
    pub replaces_priority: Option<u64>,
    /// `.PKGINFO` `size` and index `I:`: by default the sum of the regular files' sizes.
    pub installed_size: u64,
}

/// A deliberate defect, for tests that readers refuse bad packages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The data member is swapped after signing: the first regular file's content differs,
    /// while `.PKGINFO`'s datahash and the file's PAX checksum still describe the original.
    /// The signature and the index `C:` stay valid; the datahash check must catch it.
    TamperData,
    /// `.PKGINFO` declares a datahash that is not the data member's (properly signed).
    WrongDatahash,
    /// The first regular file's `APK-TOOLS.checksum.SHA1` is wrong, while datahash and
    /// signature are right: only a per-file check catches it.
    WrongFileChecksum,
    /// The file is cut in the middle of the data member (the index still gives the full size).
    Truncated,
    /// One bit of the RSA signature is flipped.
    BadSignature,
}

/// Builds one synthetic package. Starts as a signed (RSA/SHA-1, test key), `x86_64`,
/// empty package; see [`crate`] docs for an example.
#[derive(Clone, Debug)]
pub struct ApkBuilder {
    meta: PackageMeta,
    installed_size: Option<u64>,
    entries: Vec<Entry>,
    scripts: Vec<(String, Vec<u8>)>,
    extra_pkginfo: Vec<(String, String)>,
    signature: SignatureKind,
    key_name: String,
    faults: Vec<Fault>,
    level: u32,
    sorted: bool,
    auto_dirs: bool,
}

/// Generates a chained setter for a string field of [`PackageMeta`].
macro_rules! string_setter {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub fn $name(mut self, value: &str) -> Self {
            value.clone_into(&mut self.meta.$name);
            self
        }
    };
}

/// Generates a chained setter that appends to a list field of [`PackageMeta`].
macro_rules! list_setter {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub fn $name<I, S>(mut self, items: I) -> Self
        where
            I: IntoIterator<Item = S>,
            S: Into<String>,
        {
            self.meta.$name.extend(items.into_iter().map(Into::into));
            self
        }
    };
}

impl ApkBuilder {
    /// A package named `name` at `version` (e.g. `1.2-r0`).
    pub fn new(name: &str, version: &str) -> Self {
        Self {
            meta: PackageMeta {
                name: name.to_owned(),
                version: version.to_owned(),
                arch: "x86_64".to_owned(),
                description: format!("synthetic test package {name}"),
                license: "MIT".to_owned(),
                origin: String::new(),
                maintainer: String::new(),
                url: String::new(),
                builddate: DEFAULT_BUILDDATE,
                commit: String::new(),
                depends: Vec::new(),
                provides: Vec::new(),
                install_if: Vec::new(),
                replaces: Vec::new(),
                triggers: Vec::new(),
                provider_priority: None,
                replaces_priority: None,
                installed_size: 0,
            },
            installed_size: None,
            entries: Vec::new(),
            scripts: Vec::new(),
            extra_pkginfo: Vec::new(),
            signature: SignatureKind::RsaSha1,
            key_name: TEST_KEY_NAME.to_owned(),
            faults: Vec::new(),
            level: 9,
            sorted: true,
            auto_dirs: true,
        }
    }

    string_setter!(
        /// `.PKGINFO` `arch` (default `x86_64`; `noarch` is allowed).
        arch
    );
    string_setter!(
        /// `pkgdesc` / `T:`.
        description
    );
    string_setter!(
        /// `license` / `L:` (default `MIT`).
        license
    );
    string_setter!(
        /// `origin` / `o:` (default: the package name).
        origin
    );
    string_setter!(
        /// `maintainer` / `m:`.
        maintainer
    );
    string_setter!(
        /// `url` / `U:`.
        url
    );
    string_setter!(
        /// `commit` / `c:`.
        commit
    );
    list_setter!(
        /// Appends dependency atoms (`depend =` / `D:`), e.g. `so:libc.musl-x86_64.so.1`,
        /// `foo>=1.2`, `!bar`.
        depends
    );
    list_setter!(
        /// Appends provided names (`provides =` / `p:`), e.g. `cmd:foo=1.0-r0`.
        provides
    );
    list_setter!(
        /// Appends `install_if` atoms (one `install_if =` line / `i:`).
        install_if
    );
    list_setter!(
        /// Appends `replaces` names (`replaces =` / `r:`).
        replaces
    );
    list_setter!(
        /// Appends trigger paths (one `triggers =` line; not in indexes).
        triggers
    );

    /// `builddate` / `t:`, also the default mtime of every entry.
    pub fn builddate(mut self, secs: u64) -> Self {
        self.meta.builddate = secs;
        self
    }

    /// `provider_priority` / `k:`.
    pub fn provider_priority(mut self, p: u64) -> Self {
        self.meta.provider_priority = Some(p);
        self
    }

    /// `replaces_priority` / `q:`.
    pub fn replaces_priority(mut self, p: u64) -> Self {
        self.meta.replaces_priority = Some(p);
        self
    }

    /// Overrides the installed size (`size` / `I:`) computed from the files.
    pub fn installed_size(mut self, bytes: u64) -> Self {
        self.installed_size = Some(bytes);
        self
    }

    /// Adds a raw `key = value` line to `.PKGINFO` (before `datahash`).
    pub fn pkginfo_line(mut self, key: &str, value: &str) -> Self {
        self.extra_pkginfo.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Adds a regular file, mode 0644, owned by root.
    pub fn file(self, path: &str, content: impl Into<Vec<u8>>) -> Self {
        self.entry(Entry::file(path, content))
    }

    /// Adds a regular file with mode 0755.
    pub fn executable(self, path: &str, content: impl Into<Vec<u8>>) -> Self {
        self.entry(Entry::file(path, content).mode(0o755))
    }

    /// Adds a directory (parents of every entry are added anyway unless
    /// [`ApkBuilder::no_auto_dirs`]; list one explicitly to set its mode or owner).
    pub fn dir(self, path: &str) -> Self {
        self.entry(Entry::dir(path))
    }

    /// Adds a symbolic link `path -> target`.
    pub fn symlink(self, path: &str, target: &str) -> Self {
        self.entry(Entry::symlink(path, target))
    }

    /// Adds a hard link `path` to the earlier regular file `target`.
    pub fn hardlink(self, path: &str, target: &str) -> Self {
        self.entry(Entry::hardlink(path, target))
    }

    /// Adds any entry, e.g. `Entry::file("usr/bin/su", b"..").mode(0o4755).owner(0, 0)`.
    pub fn entry(mut self, entry: Entry) -> Self {
        self.entries.push(entry);
        self
    }

    /// Adds a control script such as `.pre-install`, `.post-install`, `.trigger` (the
    /// leading dot may be omitted). Written with mode 0755 after `.PKGINFO`, sorted by name.
    pub fn script(mut self, name: &str, content: impl Into<Vec<u8>>) -> Self {
        let name = if name.starts_with('.') {
            name.to_owned()
        } else {
            format!(".{name}")
        };
        self.scripts.push((name, content.into()));
        self
    }

    /// Chooses how the package is signed (default [`SignatureKind::RsaSha1`]).
    pub fn signature(mut self, kind: SignatureKind) -> Self {
        self.signature = kind;
        self
    }

    /// Names a different key in the signature entry (the test key still signs), e.g. to
    /// test "signed by a key not in the keyring".
    pub fn key_name(mut self, name: &str) -> Self {
        name.clone_into(&mut self.key_name);
        self
    }

    /// Adds a deliberate defect; several may be combined.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }

    /// Gzip level for all members (default 9, like abuild's `gzip -9`).
    pub fn compression(mut self, level: u32) -> Self {
        assert!(level <= 9, "gzip level {level} is not in 0..=9");
        self.level = level;
        self
    }

    /// Keeps entries in the order they were added instead of sorting by path.
    pub fn keep_order(mut self) -> Self {
        self.sorted = false;
        self
    }

    /// Does not add missing parent directories.
    pub fn no_auto_dirs(mut self) -> Self {
        self.auto_dirs = false;
        self
    }

    fn has(&self, fault: Fault) -> bool {
        self.faults.contains(&fault)
    }

    /// The metadata with defaults resolved.
    fn final_meta(&self, entries: &[Entry]) -> PackageMeta {
        let mut meta = self.meta.clone();
        if meta.origin.is_empty() {
            meta.origin.clone_from(&meta.name);
        }
        meta.installed_size = self.installed_size.unwrap_or_else(|| {
            entries
                .iter()
                .map(|e| match &e.kind {
                    EntryKind::File(c) => c.len() as u64,
                    _ => 0,
                })
                .sum()
        });
        meta
    }

    /// Assembles the package.
    pub fn build(&self) -> BuiltApk {
        let entries = arrange(&self.entries, self.sorted, self.auto_dirs);
        let meta = self.final_meta(&entries);
        let wrong_sum = self.has(Fault::WrongFileChecksum);

        let data = gzip(
            &data_tar(&entries, meta.builddate, wrong_sum, false),
            self.level,
        );
        let datahash: [u8; 32] = if self.has(Fault::WrongDatahash) {
            Sha256::digest(b"rapko-test: not the data member").into()
        } else {
            Sha256::digest(&data).into()
        };
        let pkginfo = pkginfo_text(&meta, &self.extra_pkginfo, &datahash);
        let control = gzip(
            &control_tar(&pkginfo, &self.scripts, meta.builddate),
            self.level,
        );
        let control_sha1: [u8; 20] = Sha1::digest(&control).into();
        let signature = signature_member(
            &SignatureSpec {
                kind: self.signature,
                key_name: &self.key_name,
                mtime: meta.builddate,
                level: self.level,
                corrupt: self.has(Fault::BadSignature),
            },
            &control,
        );
        // Tampering happens after everything above was computed from the honest data.
        let data = if self.has(Fault::TamperData) {
            gzip(
                &data_tar(&entries, meta.builddate, wrong_sum, true),
                self.level,
            )
        } else {
            data
        };
        BuiltApk::assemble(
            signature,
            control,
            data,
            Parts {
                control_sha1,
                datahash,
                pkginfo,
                meta,
                truncate: self.has(Fault::Truncated),
            },
        )
    }
}

/// What [`BuiltApk::assemble`] needs besides the three members.
struct Parts {
    control_sha1: [u8; 20],
    datahash: [u8; 32],
    pkginfo: String,
    meta: PackageMeta,
    truncate: bool,
}

/// A finished package and what an index or a test needs to know about it.
#[derive(Clone, Debug)]
pub struct BuiltApk {
    /// The `.apk` file.
    pub bytes: Vec<u8>,
    /// SHA-1 of the compressed control member: the index `C:` checksum.
    pub control_sha1: [u8; 20],
    /// The datahash declared in `.PKGINFO` (differs from the data member's real SHA-256
    /// only with [`Fault::WrongDatahash`] or [`Fault::TamperData`]).
    pub datahash: [u8; 32],
    /// The `.PKGINFO` text.
    pub pkginfo: String,
    pub meta: PackageMeta,
    /// Byte ranges of the members in `bytes` (before any truncation).
    pub signature_range: Option<Range<usize>>,
    pub control_range: Range<usize>,
    pub data_range: Range<usize>,
    /// The size an index gives for this file (`S:`): the full length even when truncated.
    pub indexed_size: u64,
}

impl BuiltApk {
    fn assemble(signature: Option<Vec<u8>>, control: Vec<u8>, data: Vec<u8>, parts: Parts) -> Self {
        let sig_len = signature.as_ref().map_or(0, Vec::len);
        let mut bytes = Vec::with_capacity(sig_len + control.len() + data.len());
        if let Some(s) = &signature {
            bytes.extend_from_slice(s);
        }
        let signature_range = signature.map(|_| 0..sig_len);
        let control_range = bytes.len()..bytes.len() + control.len();
        bytes.extend_from_slice(&control);
        let data_range = bytes.len()..bytes.len() + data.len();
        bytes.extend_from_slice(&data);
        let indexed_size = bytes.len() as u64;
        if parts.truncate {
            bytes.truncate(data_range.start + data.len() / 2);
        }
        Self {
            bytes,
            control_sha1: parts.control_sha1,
            datahash: parts.datahash,
            pkginfo: parts.pkginfo,
            meta: parts.meta,
            signature_range,
            control_range,
            data_range,
            indexed_size,
        }
    }

    /// Package name.
    pub fn name(&self) -> &str {
        &self.meta.name
    }

    /// Package version.
    pub fn version(&self) -> &str {
        &self.meta.version
    }

    /// `<name>-<version>.apk`, the file name apk clients fetch.
    pub fn file_name(&self) -> String {
        format!("{}-{}.apk", self.meta.name, self.meta.version)
    }

    /// The index checksum: `Q1` + base64 of [`BuiltApk::control_sha1`].
    pub fn q1_checksum(&self) -> String {
        format!(
            "Q1{}",
            base64::engine::general_purpose::STANDARD.encode(self.control_sha1)
        )
    }

    /// Hex of the declared datahash, as written in `.PKGINFO`.
    pub fn datahash_hex(&self) -> String {
        hex::encode(self.datahash)
    }

    /// The compressed signature member, if signed.
    pub fn signature_member(&self) -> Option<&[u8]> {
        self.signature_range.clone().map(|r| self.slice(r))
    }

    /// The compressed control member.
    pub fn control_member(&self) -> &[u8] {
        self.slice(self.control_range.clone())
    }

    /// The compressed data member (cut short when truncated).
    pub fn data_member(&self) -> &[u8] {
        self.slice(self.data_range.clone())
    }

    fn slice(&self, r: Range<usize>) -> &[u8] {
        let end = r.end.min(self.bytes.len());
        &self.bytes[r.start.min(end)..end]
    }

    /// Writes the package as `<dir>/<name>-<version>.apk` and returns that path.
    pub fn write_to(&self, dir: &Path) -> PathBuf {
        let path = dir.join(self.file_name());
        std::fs::write(&path, &self.bytes)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }
}

/// `.PKGINFO` in abuild's field order.
fn pkginfo_text(meta: &PackageMeta, extra: &[(String, String)], datahash: &[u8; 32]) -> String {
    let mut lines: Vec<(&str, String)> = vec![
        ("pkgname", meta.name.clone()),
        ("pkgver", meta.version.clone()),
        ("pkgdesc", meta.description.clone()),
        ("url", meta.url.clone()),
        ("builddate", meta.builddate.to_string()),
        ("size", meta.installed_size.to_string()),
        ("arch", meta.arch.clone()),
        ("origin", meta.origin.clone()),
        ("commit", meta.commit.clone()),
        ("maintainer", meta.maintainer.clone()),
        ("license", meta.license.clone()),
    ];
    lines.extend(meta.replaces.iter().map(|r| ("replaces", r.clone())));
    let priority = |p: Option<u64>| p.map(|p| p.to_string()).unwrap_or_default();
    lines.push(("provider_priority", priority(meta.provider_priority)));
    lines.push(("replaces_priority", priority(meta.replaces_priority)));
    lines.push(("install_if", meta.install_if.join(" ")));
    lines.push(("triggers", meta.triggers.join(" ")));
    lines.extend(meta.provides.iter().map(|p| ("provides", p.clone())));
    lines.extend(meta.depends.iter().map(|d| ("depend", d.clone())));
    lines.extend(extra.iter().map(|(k, v)| (k.as_str(), v.clone())));
    lines.push(("datahash", hex::encode(datahash)));

    let mut text = String::from("# Generated by rapko-test (synthetic test package)\n");
    for (key, value) in lines.iter().filter(|(_, v)| !v.is_empty()) {
        text.push_str(&format!("{key} = {value}\n"));
    }
    text
}

/// One tar entry with its PAX header, as abuild writes them.
struct Item<'a> {
    /// Logical path, no trailing slash.
    path: &'a str,
    /// The name's bytes when they differ from `path` (not UTF-8).
    raw_name: Option<&'a [u8]>,
    typeflag: u8,
    mode: u32,
    uid: u64,
    gid: u64,
    uname: &'a str,
    gname: &'a str,
    mtime: u64,
    /// Symlink or hard-link target.
    link: Option<&'a str>,
    content: &'a [u8],
    /// SHA-1 recorded for the entry (PAX record; also binary in `linkname` for files).
    checksum: Option<[u8; 20]>,
}

/// GNU tar's `%d/PaxHeaders/%f` name for the PAX header of `path`.
fn pax_header_name(path: &str) -> String {
    match path.rsplit_once('/') {
        Some((dir, base)) if !dir.is_empty() => format!("{dir}/PaxHeaders/{base}"),
        Some((_, base)) => format!("./PaxHeaders/{base}"),
        None => format!("./PaxHeaders/{path}"),
    }
}

/// abuild-tar's binary digest in `linkname`, read at `linkname[3]` by apk-tools:
/// `"APK2"`, u16 LE NID (64 = SHA-1), u16 LE length, digest.
fn apk2_linkname(digest: &[u8; 20]) -> Vec<u8> {
    let mut v = vec![0u8; 3];
    v.extend_from_slice(b"APK2");
    v.extend_from_slice(&64u16.to_le_bytes());
    v.extend_from_slice(&20u16.to_le_bytes());
    v.extend_from_slice(digest);
    v
}

fn write_item(tar: &mut TarWriter, it: &Item<'_>) {
    let mut name = it.raw_name.unwrap_or(it.path.as_bytes()).to_vec();
    if it.typeflag == b'5' {
        name.push(b'/');
    }
    let mut pax = pax_record("ctime", b"0");
    pax.extend(pax_record("atime", b"0"));
    if name.len() > 100 {
        pax.extend(pax_record("path", &name));
    }
    let linkname = match (it.link, it.checksum) {
        (Some(target), _) => {
            if target.len() > 100 {
                pax.extend(pax_record("linkpath", target.as_bytes()));
            }
            target.as_bytes().to_vec()
        }
        (None, Some(digest)) => apk2_linkname(&digest),
        (None, None) => Vec::new(),
    };
    if let Some(digest) = it.checksum {
        pax.extend(pax_record(
            "APK-TOOLS.checksum.SHA1",
            hex::encode(digest).as_bytes(),
        ));
    }
    let pax_name = pax_header_name(it.path);
    tar.entry(
        &Header {
            name: pax_name.as_bytes(),
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: pax.len() as u64,
            mtime: it.mtime,
            typeflag: b'x',
            linkname: b"",
            uname: "",
            gname: "",
            magic: Magic::Posix,
        },
        &pax,
    );
    tar.entry(
        &Header {
            name: &name,
            mode: it.mode,
            uid: it.uid,
            gid: it.gid,
            size: it.content.len() as u64,
            mtime: it.mtime,
            typeflag: it.typeflag,
            linkname: &linkname,
            uname: it.uname,
            gname: it.gname,
            magic: Magic::Posix,
        },
        it.content,
    );
}

/// The uncompressed data tar. `wrong_sum` records a wrong checksum for the first regular
/// file; `tamper` changes that file's content but keeps its original checksum.
fn data_tar(entries: &[Entry], builddate: u64, wrong_sum: bool, tamper: bool) -> Vec<u8> {
    let mut tar = TarWriter::default();
    let mut first_file = true;
    for e in entries {
        let target_mode = match &e.kind {
            EntryKind::Hardlink(t) => entries
                .iter()
                .find(|x| &x.path == t)
                .map(|x| x.effective_mode(None)),
            _ => None,
        };
        let mut content: Cow<'_, [u8]> = Cow::Borrowed(&[]);
        let (typeflag, link, checksum) = match &e.kind {
            EntryKind::File(c) => {
                let mut digest: [u8; 20] = Sha1::digest(c).into();
                content = Cow::Borrowed(c);
                if first_file {
                    first_file = false;
                    if wrong_sum {
                        digest = Sha1::digest(b"rapko-test: wrong checksum").into();
                    }
                    if tamper {
                        content = Cow::Owned(tampered(c));
                    }
                }
                (b'0', None, Some(digest))
            }
            EntryKind::Dir => (b'5', None, None),
            EntryKind::Symlink(t) => (b'2', Some(t.as_str()), Some(Sha1::digest(t).into())),
            EntryKind::Hardlink(t) => (b'1', Some(t.as_str()), None),
        };
        write_item(
            &mut tar,
            &Item {
                path: &e.path,
                raw_name: e.raw_name.as_deref(),
                typeflag,
                mode: e.effective_mode(target_mode),
                uid: e.uid.into(),
                gid: e.gid.into(),
                uname: e.uname(),
                gname: e.gname(),
                mtime: e.mtime.unwrap_or(builddate),
                link,
                content: &content,
                checksum,
            },
        );
    }
    assert!(
        !tamper || !first_file,
        "Fault::TamperData needs at least one regular file in the package"
    );
    tar.finish();
    tar.pad_to(RECORD);
    tar.buf
}

/// The same content with its first byte flipped (or one byte added if empty).
fn tampered(content: &[u8]) -> Vec<u8> {
    let mut v = content.to_vec();
    match v.first_mut() {
        Some(b) => *b ^= 0xff,
        None => v.push(b'!'),
    }
    v
}

/// The uncompressed control tar: `.PKGINFO` then scripts by name, no end-of-archive blocks.
fn control_tar(pkginfo: &str, scripts: &[(String, Vec<u8>)], builddate: u64) -> Vec<u8> {
    let mut tar = TarWriter::default();
    let mut items: Vec<(&str, u32, &[u8])> = vec![(".PKGINFO", 0o644, pkginfo.as_bytes())];
    let mut sorted: Vec<&(String, Vec<u8>)> = scripts.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    items.extend(
        sorted
            .iter()
            .map(|(n, c)| (n.as_str(), 0o755, c.as_slice())),
    );
    for (name, mode, content) in items {
        write_item(
            &mut tar,
            &Item {
                path: name,
                raw_name: None,
                typeflag: b'0',
                mode,
                uid: 0,
                gid: 0,
                uname: "root",
                gname: "root",
                mtime: builddate,
                link: None,
                content,
                checksum: None,
            },
        );
    }
    tar.buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_header_names_follow_gnu_tar() {
        assert_eq!(pax_header_name(".PKGINFO"), "./PaxHeaders/.PKGINFO");
        assert_eq!(pax_header_name("bin/busybox"), "bin/PaxHeaders/busybox");
        assert_eq!(
            pax_header_name("etc/busybox-paths.d"),
            "etc/PaxHeaders/busybox-paths.d"
        );
        assert_eq!(pax_header_name("/abs"), "./PaxHeaders/abs");
    }

    #[test]
    fn apk2_linkname_matches_busybox() {
        // From bin/busybox in busybox-1.36.1-r15.apk.
        let digest: [u8; 20] = hex::decode("0e617f66cd5b2d29f010cae1eab326479a3b0f1c")
            .expect("hex")
            .try_into()
            .expect("20 bytes");
        let l = apk2_linkname(&digest);
        assert_eq!(&l[..11], b"\0\0\0APK2@\0\x14\0");
        assert_eq!(&l[11..], &digest);
    }

    #[test]
    fn pkginfo_skips_empty_fields_and_ends_with_datahash() {
        let apk = ApkBuilder::new("foo", "1.0-r0")
            .depends(["bar", "so:libc.musl-x86_64.so.1"])
            .install_if(["a", "b=1"])
            .provider_priority(10)
            .build();
        let text = &apk.pkginfo;
        assert!(text.contains("pkgname = foo\npkgver = 1.0-r0\n"));
        assert!(text.contains("depend = bar\ndepend = so:libc.musl-x86_64.so.1\n"));
        assert!(text.contains("install_if = a b=1\n"));
        assert!(text.contains("provider_priority = 10\n"));
        assert!(text.contains("origin = foo\n"));
        assert!(!text.contains("url ="), "empty url is left out");
        let last = text.lines().last().expect("lines");
        assert_eq!(last, format!("datahash = {}", apk.datahash_hex()));
    }

    #[test]
    fn members_hash_as_declared() {
        let apk = ApkBuilder::new("foo", "1.0-r0").file("a", "x").build();
        assert_eq!(
            <[u8; 32]>::from(Sha256::digest(apk.data_member())),
            apk.datahash
        );
        assert_eq!(
            <[u8; 20]>::from(Sha1::digest(apk.control_member())),
            apk.control_sha1
        );
        assert_eq!(apk.indexed_size, apk.bytes.len() as u64);
        assert_eq!(apk.meta.installed_size, 1);
    }

    #[test]
    fn build_is_deterministic() {
        let b = ApkBuilder::new("foo", "1.0-r0")
            .file("a", "x")
            .symlink("b", "a");
        assert_eq!(b.build().bytes, b.build().bytes);
    }
}
