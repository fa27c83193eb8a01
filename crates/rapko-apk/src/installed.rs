//! The installed database in `lib/apk/db/`, byte for byte as apk-tools 2.14 writes it:
//! `installed` (one record per package), `scripts.tar` (the install scripts) and `triggers`.
//!
//! An `installed` record is the package's index record (`C: P: V: A: S: I: T: U: L: o: m: t:
//! c: k: D: p: i:`), then `r:` (replaces), `q:` (replaces_priority), `s:` (repository tag) and
//! `f:` (flags), then for each directory the package owns `F:path` with `M:uid:gid:mode` when
//! it is not root:root 0755, and for each file in it `R:name`, `a:uid:gid:mode` when not
//! root:root 0644 (symlinks are 0777, so they always have one) and `Z:Q1<base64 SHA-1>`. An
//! ACL may end with `:Q1<base64 SHA-1>` of the file's extended attributes. A blank line ends
//! each record.
//!
//! `scripts.tar` holds one old-GNU tar entry per script, named
//! `<name>-<version>.Q1<base64 control checksum>.<script>` (e.g. `post-install`), mode 0755,
//! owned by root, ending with two zero blocks; the entries' times depend on the apk version
//! ([`ScriptTimes`]). `triggers` has one line per package with triggers:
//! `Q1<control checksum> /dir /dir…`.
//!
//! The order of records is the caller's. apk-tools 2.14.0 and 2.14.10, run on the fixtures
//! (see the crate's `apk_tools` tests), wrote `installed` sorted by package name and
//! `scripts.tar` and `triggers` in install order; [`write_installed`] reproduces how they
//! misplace the `r:` lines of packages that own no directory.
//!
//! This module knows the file formats and apk's per-package bookkeeping
//! ([`InstalledPackage::add_entry`]); what happens between packages (file conflicts,
//! `replaces`) is the installer's business.

use std::fmt::Write as _;

use base64::Engine as _;
use sha1::{Digest, Sha1};

use crate::error::{Error, Result};
use crate::index::{set_index_field, write_index_record};
use crate::package::{ApkPackage, DataEntry, EntryKind};
use crate::package_info::{ControlChecksum, PackageInfo};

/// Owner and permissions of a directory or file, as apk records them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Acl {
    /// Permission bits including setuid/setgid/sticky (`mode & 07777`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// SHA-1 over the extended attributes (see [`xattr_digest`]), when there are any.
    pub xattr_sha1: Option<[u8; 20]>,
}

impl Acl {
    /// What a directory is unless told otherwise: root:root 0755 (no `M:` line).
    pub const DEFAULT_DIR: Acl = Acl::new(0o755, 0, 0);
    /// What a file is unless told otherwise: root:root 0644 (no `a:` line).
    pub const DEFAULT_FILE: Acl = Acl::new(0o644, 0, 0);

    pub const fn new(mode: u32, uid: u32, gid: u32) -> Acl {
        Acl {
            mode: mode & 0o7777,
            uid,
            gid,
            xattr_sha1: None,
        }
    }

    /// The ACL apk records for a data entry: its mode, owner and extended attributes.
    pub fn of_entry(entry: &DataEntry) -> Acl {
        Acl {
            xattr_sha1: xattr_digest(&entry.xattrs),
            ..Acl::new(entry.mode, entry.uid, entry.gid)
        }
    }
}

/// apk's digest of a file's extended attributes: SHA-1 over each attribute, sorted by name,
/// as big-endian u32 length + name, then u32 length + value. `None` when there are none.
pub fn xattr_digest(xattrs: &[(String, Vec<u8>)]) -> Option<[u8; 20]> {
    if xattrs.is_empty() {
        return None;
    }
    let mut sorted: Vec<&(String, Vec<u8>)> = xattrs.iter().collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut hasher = Sha1::new();
    for (name, value) in sorted {
        for part in [name.as_bytes(), value.as_slice()] {
            // Attribute names and values are far below 4 GiB; saturate rather than wrap.
            let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
            hasher.update(len.to_be_bytes());
            hasher.update(part);
        }
    }
    Some(hasher.finalize().into())
}

/// A file (or symlink, device, …) a package installed, within its directory.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct InstalledFile {
    /// The name within the directory (no `/`).
    pub name: String,
    pub acl: Acl,
    /// SHA-1 of the content (of the target, for a symlink): `Z:`.
    pub checksum: Option<[u8; 20]>,
}

/// A directory a package owns, with the files it put there.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct InstalledDir {
    /// Relative to the root, no leading or trailing `/`; empty for the root itself.
    pub path: String,
    pub acl: Acl,
    pub files: Vec<InstalledFile>,
}

/// The `f:` flags apk keeps on an installed package.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct InstalledFlags {
    /// `f`: some files could not be installed.
    pub broken_files: bool,
    /// `s`: a script failed.
    pub broken_script: bool,
    /// `x`: extended attributes could not be set.
    pub broken_xattr: bool,
    /// `S`: file checksums are SHA-256 truncated to 160 bits (apk 3 packages).
    pub sha256_160: bool,
}

impl InstalledFlags {
    fn any(self) -> bool {
        self.broken_files || self.broken_script || self.broken_xattr || self.sha256_160
    }
}

/// An install script kind, in the order apk keeps (and writes) them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum ScriptKind {
    PreInstall,
    PostInstall,
    PreDeinstall,
    PostDeinstall,
    PreUpgrade,
    PostUpgrade,
    Trigger,
}

impl ScriptKind {
    pub const ALL: [ScriptKind; 7] = [
        ScriptKind::PreInstall,
        ScriptKind::PostInstall,
        ScriptKind::PreDeinstall,
        ScriptKind::PostDeinstall,
        ScriptKind::PreUpgrade,
        ScriptKind::PostUpgrade,
        ScriptKind::Trigger,
    ];

    /// apk's name: `post-install`, `trigger`, …
    pub fn name(self) -> &'static str {
        match self {
            ScriptKind::PreInstall => "pre-install",
            ScriptKind::PostInstall => "post-install",
            ScriptKind::PreDeinstall => "pre-deinstall",
            ScriptKind::PostDeinstall => "post-deinstall",
            ScriptKind::PreUpgrade => "pre-upgrade",
            ScriptKind::PostUpgrade => "post-upgrade",
            ScriptKind::Trigger => "trigger",
        }
    }

    pub fn from_name(name: &str) -> Option<ScriptKind> {
        ScriptKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The kind of a control member entry such as `.post-install`; `None` for other entries.
    pub fn from_control_entry(entry_name: &str) -> Option<ScriptKind> {
        entry_name.strip_prefix('.').and_then(ScriptKind::from_name)
    }
}

/// One install script of an installed package.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Script {
    pub kind: ScriptKind,
    pub content: Vec<u8>,
}

/// Everything the installed database says about one package.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct InstalledPackage {
    /// Index metadata, plus `replaces`, `replaces_priority` and `triggers` (kept in the
    /// `triggers` file, not in `installed`). `checksum` is required to write the record.
    pub info: PackageInfo,
    /// `s:`: the repository tag the package was pinned to (`@edge` is written `edge`).
    pub repository_tag: Option<String>,
    pub flags: InstalledFlags,
    /// Owned directories in apk's order (the order they were first seen in the data member).
    pub dirs: Vec<InstalledDir>,
    /// Scripts (kept in `scripts.tar`), at most one of each kind.
    pub scripts: Vec<Script>,
}

impl InstalledPackage {
    pub fn new(info: PackageInfo) -> InstalledPackage {
        InstalledPackage {
            info,
            repository_tag: None,
            flags: InstalledFlags::default(),
            dirs: Vec::new(),
            scripts: Vec::new(),
        }
    }

    /// The record apk keeps for a package installed from a repository: the index record
    /// (whose `A:` and `S:` are the repository's), plus what only `.PKGINFO` and the control
    /// member carry: `replaces`, `replaces_priority`, `triggers` and the scripts. Add the
    /// files with [`InstalledPackage::add_entry`].
    pub fn from_package(index_record: PackageInfo, package: &ApkPackage) -> InstalledPackage {
        let mut info = index_record;
        info.replaces.clone_from(&package.info.replaces);
        info.replaces_priority = package.info.replaces_priority;
        info.triggers.clone_from(&package.info.triggers);
        let mut installed = InstalledPackage::new(info);
        installed.add_control_scripts(
            package
                .scripts
                .iter()
                .map(|f| (f.name.as_str(), f.content.as_slice())),
        );
        installed
    }

    /// Records one data entry the way apk 2.14 does while installing, called in archive
    /// order: a directory entry adds (or updates) an owned directory; any other entry is
    /// added to its directory's files. Like apk, entries whose path starts with `.` and
    /// files named `.keep_*` are skipped, and a file whose directory had no entry earlier in
    /// the archive, or a hard link to a file not seen yet, sets `broken_files` and is left
    /// out. A hard link records the checksum of its target.
    pub fn add_entry(&mut self, entry: &DataEntry) {
        if entry.path.starts_with('.') {
            return;
        }
        let acl = Acl::of_entry(entry);
        if entry.kind == EntryKind::Directory {
            let index = self.dir_index_or_add(&entry.path);
            self.dirs[index].acl = acl;
            return;
        }
        let (dir, name) = entry.path.rsplit_once('/').unwrap_or(("", &entry.path));
        if name.len() > 6 && name.starts_with(".keep_") {
            return;
        }
        let index = match self.dir_index(dir) {
            Some(index) => index,
            None if dir.is_empty() => self.dir_index_or_add(""),
            None => {
                self.flags.broken_files = true;
                return;
            }
        };
        let checksum = match &entry.kind {
            EntryKind::Hardlink(target) => match self.file(target) {
                Some(file) => file.checksum,
                None => {
                    self.flags.broken_files = true;
                    return;
                }
            },
            _ => entry.sha1,
        };
        self.dirs[index].files.push(InstalledFile {
            name: name.to_owned(),
            acl,
            checksum,
        });
    }

    /// Adds the install scripts found in a package's control member (`.post-install`, …),
    /// ignoring entries that are not scripts.
    pub fn add_control_scripts<'a>(
        &mut self,
        entries: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) {
        for (name, content) in entries {
            if let Some(kind) = ScriptKind::from_control_entry(name) {
                self.set_script(kind, content.to_vec());
            }
        }
    }

    /// Sets the script of one kind, replacing any earlier one, keeping apk's kind order.
    pub fn set_script(&mut self, kind: ScriptKind, content: Vec<u8>) {
        self.scripts.retain(|s| s.kind != kind);
        self.scripts.push(Script { kind, content });
        self.scripts.sort_by_key(|s| s.kind);
    }

    /// The owned directory at `path` (relative, no trailing `/`).
    pub fn dir(&self, path: &str) -> Option<&InstalledDir> {
        self.dir_index(path).map(|i| &self.dirs[i])
    }

    /// The file at `path` (relative to the root).
    pub fn file(&self, path: &str) -> Option<&InstalledFile> {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        self.dir(dir)?.files.iter().rev().find(|f| f.name == name)
    }

    /// Every file path the package installed, in database order.
    pub fn file_paths(&self) -> impl Iterator<Item = String> + '_ {
        self.dirs.iter().flat_map(|d| {
            d.files.iter().map(move |f| {
                if d.path.is_empty() {
                    f.name.clone()
                } else {
                    format!("{}/{}", d.path, f.name)
                }
            })
        })
    }

    fn dir_index(&self, path: &str) -> Option<usize> {
        let path = path.trim_end_matches('/');
        self.dirs.iter().position(|d| d.path == path)
    }

    fn dir_index_or_add(&mut self, path: &str) -> usize {
        if let Some(index) = self.dir_index(path) {
            return index;
        }
        self.dirs.push(InstalledDir {
            path: path.trim_end_matches('/').to_owned(),
            acl: Acl::DEFAULT_DIR,
            files: Vec::new(),
        });
        self.dirs.len() - 1
    }
}

// ---------------------------------------------------------------------------------------
// installed
// ---------------------------------------------------------------------------------------

/// Writes the `installed` file: each package's record followed by a blank line.
///
/// Reproduces a quirk of apk-tools 2.14 (2.14.0 and 2.14.10 alike, checked by running both):
/// the `r:`, `q:`, `s:` and `f:` lines of a package that owns no directory (a meta package
/// such as `alpine-base`) are not written in its own record but held back and written in
/// the next record that owns a directory, before that record's own such lines; after the
/// last such record they are lost. So with Alpine 3.19, `alpine-base`'s
/// `r:alpine-baselayout` ends up in `alpine-baselayout`'s record, and that is what apk itself
/// reads back.
pub fn write_installed<'a>(
    packages: impl IntoIterator<Item = &'a InstalledPackage>,
) -> Result<String> {
    let mut out = String::new();
    let mut held_back = String::new();
    for pkg in packages {
        check_record(pkg)?;
        write_index_record(&pkg.info, &mut out);
        write_installed_extras(pkg, &mut held_back);
        if !pkg.dirs.is_empty() {
            out.push_str(&held_back);
            held_back.clear();
            write_installed_dirs(pkg, &mut out);
        }
        out.push('\n');
    }
    Ok(out)
}

/// The lines after the index record: replaces, replaces priority, repository tag, flags.
fn write_installed_extras(pkg: &InstalledPackage, out: &mut String) {
    let info = &pkg.info;
    if !info.replaces.is_empty() {
        line(out, 'r', &crate::pkginfo::join(&info.replaces));
    }
    if let Some(q) = info.replaces_priority.filter(|q| *q != 0) {
        line(out, 'q', &q);
    }
    if let Some(tag) = &pkg.repository_tag {
        line(out, 's', tag);
    }
    if pkg.flags.any() {
        line(out, 'f', &flag_letters(pkg.flags));
    }
}

fn write_installed_dirs(pkg: &InstalledPackage, out: &mut String) {
    for dir in &pkg.dirs {
        line(out, 'F', &dir.path);
        if dir.acl != Acl::DEFAULT_DIR {
            line(out, 'M', &AclText(&dir.acl));
        }
        for file in &dir.files {
            line(out, 'R', &file.name);
            if file.acl != Acl::DEFAULT_FILE {
                line(out, 'a', &AclText(&file.acl));
            }
            if let Some(sum) = &file.checksum {
                line(out, 'Z', &Q1(sum));
            }
        }
    }
}

fn line(out: &mut String, key: char, value: &dyn std::fmt::Display) {
    let _ = writeln!(out, "{key}:{value}");
}

/// Refuses a package without a control checksum (apk cannot load such a record) and values
/// that contain a newline (they would corrupt the file).
fn check_record(pkg: &InstalledPackage) -> Result<()> {
    let info = &pkg.info;
    let what = || format!("installed record for {}", info.name_version());
    if info.checksum.is_none() {
        return Err(Error::Missing(
            "control checksum (C:) of an installed package",
        ));
    }
    let fields = [
        ("P", info.name.as_str()),
        ("V", &info.version),
        ("A", &info.arch),
        ("T", &info.description),
        ("U", &info.url),
        ("L", &info.license),
        ("o", info.origin.as_deref().unwrap_or_default()),
        ("m", info.maintainer.as_deref().unwrap_or_default()),
        ("c", info.commit.as_deref().unwrap_or_default()),
        ("s", pkg.repository_tag.as_deref().unwrap_or_default()),
    ];
    let paths = pkg.dirs.iter().flat_map(|d| {
        std::iter::once(("F", d.path.as_str()))
            .chain(d.files.iter().map(|f| ("R", f.name.as_str())))
    });
    for (key, value) in fields.into_iter().chain(paths) {
        if value.contains('\n') {
            return Err(Error::Line {
                line: 0,
                message: format!("{}: {key}: value {value:?} contains a newline", what()),
            });
        }
    }
    if info.name.is_empty() || info.version.is_empty() {
        return Err(Error::Missing("name or version of an installed package"));
    }
    Ok(())
}

fn flag_letters(flags: InstalledFlags) -> String {
    [
        (flags.broken_files, 'f'),
        (flags.broken_script, 's'),
        (flags.broken_xattr, 'x'),
        (flags.sha256_160, 'S'),
    ]
    .into_iter()
    .filter_map(|(set, letter)| set.then_some(letter))
    .collect()
}

/// `Q1<base64>` of a 20-byte digest.
struct Q1<'a>(&'a [u8; 20]);

impl std::fmt::Display for Q1<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Q1{}",
            base64::engine::general_purpose::STANDARD.encode(self.0)
        )
    }
}

/// `uid:gid:mode` (mode in octal, no leading zeros) and `:Q1…` of the xattrs, if any.
struct AclText<'a>(&'a Acl);

impl std::fmt::Display for AclText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let acl = self.0;
        write!(f, "{}:{}:{:o}", acl.uid, acl.gid, acl.mode)?;
        if let Some(x) = &acl.xattr_sha1 {
            write!(f, ":{}", Q1(x))?;
        }
        Ok(())
    }
}

/// Parses an `installed` file. Like apk, a field it does not know is an error (the file was
/// written by a newer apk), as is a file line before its directory line. Scripts and
/// triggers live in their own files: see [`attach_scripts`] and [`attach_triggers`].
pub fn parse_installed(text: &str) -> Result<Vec<InstalledPackage>> {
    let mut reader = InstalledReader::default();
    for (index, line) in text.split('\n').enumerate() {
        reader.line(line).map_err(|message| Error::Line {
            line: index + 1,
            message,
        })?;
    }
    reader.end().map_err(|message| Error::Line {
        line: text.split('\n').count(),
        message,
    })?;
    Ok(reader.packages)
}

/// The state of [`parse_installed`] between lines.
#[derive(Default)]
struct InstalledReader {
    packages: Vec<InstalledPackage>,
    current: Option<InstalledPackage>,
    /// The directory of the last `F:` in the current record.
    dir: Option<usize>,
    /// Whether an `R:` followed that `F:` (`a:` and `Z:` describe the last one).
    has_file: bool,
}

impl InstalledReader {
    fn line(&mut self, line: &str) -> Result<(), String> {
        if line.is_empty() {
            return self.end();
        }
        let bytes = line.as_bytes();
        if bytes.len() < 2 || bytes[1] != b':' {
            return Err(format!("expected `X:value`, got {:?}", shorten(line)));
        }
        let value = &line[2..];
        let pkg = self
            .current
            .get_or_insert_with(|| InstalledPackage::new(PackageInfo::default()));
        match bytes[0] {
            b'F' => {
                if pkg.info.name.is_empty() {
                    return Err("F: before the package name (P:)".to_owned());
                }
                // A directory listed again collects further files in place, as in apk.
                self.dir = Some(pkg.dir_index_or_add(value));
                self.has_file = false;
            }
            b'M' => {
                let dir = current_dir(pkg, self.dir).ok_or("M: before any F: directory")?;
                dir.acl = parse_acl(value).map_err(|e| format!("M: {e}"))?;
            }
            b'R' => {
                let dir = current_dir(pkg, self.dir).ok_or("R: before any F: directory")?;
                dir.files.push(InstalledFile {
                    name: value.to_owned(),
                    acl: Acl::DEFAULT_FILE,
                    checksum: None,
                });
                self.has_file = true;
            }
            b'a' => {
                let file =
                    current_file(pkg, self.dir, self.has_file).ok_or("a: before any R: file")?;
                file.acl = parse_acl(value).map_err(|e| format!("a: {e}"))?;
            }
            b'Z' => {
                let file =
                    current_file(pkg, self.dir, self.has_file).ok_or("Z: before any R: file")?;
                file.checksum = Some(parse_q1(value).map_err(|e| format!("Z: {e}"))?);
            }
            b'r' => {
                // apk appends each r: line (a record can get several, see write_installed).
                let mut parsed = PackageInfo::default();
                set_index_field(&mut parsed, b'r', value)?;
                pkg.info.replaces.extend(parsed.replaces);
            }
            b's' => pkg.repository_tag = Some(value.to_owned()),
            b'f' => pkg.flags = parse_flags(value)?,
            key @ (b'C' | b'P' | b'V' | b'A' | b'T' | b'U' | b'L' | b'o' | b'm' | b'c' | b't'
            | b'S' | b'I' | b'k' | b'q' | b'D' | b'p' | b'i') => {
                set_index_field(&mut pkg.info, key, value)?;
            }
            other => {
                return Err(format!(
                    "unknown field {:?}: written by a newer apk?",
                    char::from(other)
                ));
            }
        }
        Ok(())
    }

    /// Ends the current record (at a blank line or the end of the text).
    fn end(&mut self) -> Result<(), String> {
        self.has_file = false;
        self.dir = None;
        let Some(pkg) = self.current.take() else {
            return Ok(());
        };
        if pkg.info.name.is_empty() || pkg.info.version.is_empty() {
            return Err("record without P: (name) or V: (version)".to_owned());
        }
        if pkg.info.checksum.is_none() {
            return Err(format!(
                "record for {} without C: (checksum)",
                pkg.info.name_version()
            ));
        }
        self.packages.push(pkg);
        Ok(())
    }
}

fn current_dir(pkg: &mut InstalledPackage, dir: Option<usize>) -> Option<&mut InstalledDir> {
    pkg.dirs.get_mut(dir?)
}

fn current_file(
    pkg: &mut InstalledPackage,
    dir: Option<usize>,
    has_file: bool,
) -> Option<&mut InstalledFile> {
    if !has_file {
        return None;
    }
    current_dir(pkg, dir)?.files.last_mut()
}

fn parse_acl(value: &str) -> Result<Acl, String> {
    let mut parts = value.splitn(4, ':');
    let mut number = |what: &str, radix: u32| -> Result<u32, String> {
        let text = parts.next().unwrap_or_default();
        u32::from_str_radix(text, radix).map_err(|_| {
            format!(
                "{what} {:?} in {:?} is not a number",
                shorten(text),
                shorten(value)
            )
        })
    };
    let uid = number("uid", 10)?;
    let gid = number("gid", 10)?;
    let mode = number("mode", 8)?;
    if mode > 0o7777 {
        return Err(format!(
            "mode {mode:o} in {:?} has more than permission bits",
            shorten(value)
        ));
    }
    let xattr_sha1 = parts.next().map(parse_q1).transpose()?;
    Ok(Acl {
        xattr_sha1,
        ..Acl::new(mode, uid, gid)
    })
}

/// `Q1<base64 of 20 bytes>`.
fn parse_q1(value: &str) -> Result<[u8; 20], String> {
    let bad = || format!("{:?} is not Q1<base64 SHA-1>", shorten(value));
    let b64 = value.strip_prefix("Q1").ok_or_else(bad)?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| bad())?;
    raw.try_into().map_err(|_| bad())
}

fn parse_flags(value: &str) -> Result<InstalledFlags, String> {
    let mut flags = InstalledFlags::default();
    for letter in value.chars() {
        match letter {
            'f' => flags.broken_files = true,
            's' => flags.broken_script = true,
            'x' => flags.broken_xattr = true,
            'S' => flags.sha256_160 = true,
            other => return Err(format!("f: unknown flag {other:?}")),
        }
    }
    Ok(flags)
}

fn shorten(text: &str) -> &str {
    match text.char_indices().nth(80) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

// ---------------------------------------------------------------------------------------
// triggers
// ---------------------------------------------------------------------------------------

/// Writes the `triggers` file: `Q1<checksum> /dir /dir…` for each package with triggers.
pub fn write_triggers<'a>(
    packages: impl IntoIterator<Item = &'a InstalledPackage>,
) -> Result<String> {
    let mut out = String::new();
    for pkg in packages {
        if pkg.info.triggers.is_empty() {
            continue;
        }
        let checksum = pkg.info.checksum.ok_or(Error::Missing(
            "control checksum (C:) of a package with triggers",
        ))?;
        out.push_str(&checksum.to_q1());
        for trigger in &pkg.info.triggers {
            if trigger.is_empty() || trigger.contains(char::is_whitespace) {
                return Err(Error::Line {
                    line: 0,
                    message: format!(
                        "trigger {trigger:?} of {} is empty or contains whitespace",
                        pkg.info.name_version()
                    ),
                });
            }
            out.push(' ');
            out.push_str(trigger);
        }
        out.push('\n');
    }
    Ok(out)
}

/// Parses a `triggers` file into (package checksum, trigger directories).
pub fn parse_triggers(text: &str) -> Result<Vec<(ControlChecksum, Vec<String>)>> {
    let mut out = Vec::new();
    for (index, line) in text.split('\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let (sum, rest) = line.split_once(' ').unwrap_or((line, ""));
        let checksum = parse_q1(sum).map_err(|message| Error::Line {
            line: index + 1,
            message,
        })?;
        let dirs = rest
            .split(' ')
            .filter(|d| !d.is_empty())
            .map(str::to_owned)
            .collect();
        out.push((ControlChecksum(checksum), dirs));
    }
    Ok(out)
}

/// Gives each package the triggers listed for its checksum (apk ignores unknown checksums).
pub fn attach_triggers(
    packages: &mut [InstalledPackage],
    triggers: Vec<(ControlChecksum, Vec<String>)>,
) {
    for (checksum, dirs) in triggers {
        if let Some(pkg) = packages
            .iter_mut()
            .find(|p| p.info.checksum == Some(checksum))
        {
            pkg.info.triggers = dirs;
        }
    }
}

// ---------------------------------------------------------------------------------------
// scripts.tar
// ---------------------------------------------------------------------------------------

/// One entry of `scripts.tar`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ScriptEntry {
    /// `name-version` of the package (apk does not separate them here).
    pub name_version: String,
    pub checksum: ControlChecksum,
    pub kind: ScriptKind,
    pub content: Vec<u8>,
}

impl ScriptEntry {
    /// The tar entry name: `<name>-<version>.Q1<checksum>.<kind>`.
    pub fn file_name(&self) -> String {
        format!(
            "{}.{}.{}",
            self.name_version,
            self.checksum.to_q1(),
            self.kind.name()
        )
    }
}

/// The modification time apk gives `scripts.tar` entries.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ScriptTimes {
    /// apk-tools 2.14.10: the package's build date, or `fallback` when it has none (apk then
    /// takes `SOURCE_DATE_EPOCH`, else the current time).
    BuildDate { fallback: u64 },
    /// apk-tools 2.14.0: one time for every entry (`SOURCE_DATE_EPOCH`, else the current
    /// time).
    Fixed(u64),
}

impl ScriptTimes {
    fn of(self, info: &PackageInfo) -> u64 {
        match self {
            ScriptTimes::BuildDate { fallback } => {
                info.build_time.filter(|t| *t != 0).unwrap_or(fallback)
            }
            ScriptTimes::Fixed(time) => time,
        }
    }
}

/// Writes `scripts.tar` for `packages`: their scripts in apk's kind order, then the two
/// zero blocks. Names over 99 bytes get a GNU long-name entry (apk 2.14 would truncate them
/// and then fail to match them when reading; its reader takes long names).
pub fn write_scripts_tar<'a>(
    packages: impl IntoIterator<Item = &'a InstalledPackage>,
    times: ScriptTimes,
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for pkg in packages {
        if pkg.scripts.is_empty() {
            continue;
        }
        let checksum = pkg.info.checksum.ok_or(Error::Missing(
            "control checksum (C:) of a package with scripts",
        ))?;
        let mut scripts: Vec<&Script> = pkg.scripts.iter().collect();
        scripts.sort_by_key(|s| s.kind);
        for script in scripts {
            let entry = ScriptEntry {
                name_version: pkg.info.name_version(),
                checksum,
                kind: script.kind,
                content: Vec::new(),
            };
            let name = entry.file_name();
            append_tar_file(
                &mut out,
                name.as_bytes(),
                &script.content,
                times.of(&pkg.info),
            );
        }
    }
    out.extend_from_slice(&[0u8; 1024]);
    Ok(out)
}

/// Reads `scripts.tar`. Entries whose name does not have apk's shape are skipped, as apk
/// skips them.
pub fn read_scripts_tar(bytes: &[u8]) -> Result<Vec<ScriptEntry>> {
    let mut out = Vec::new();
    for file in crate::gz::tar_files(bytes)? {
        if let Some(entry) = script_entry(&file.name, file.content) {
            out.push(entry);
        }
    }
    Ok(out)
}

fn script_entry(name: &str, content: Vec<u8>) -> Option<ScriptEntry> {
    let (rest, kind) = name.rsplit_once('.')?;
    let kind = ScriptKind::from_name(kind)?;
    let (name_version, sum) = rest.rsplit_once('.')?;
    let checksum = ControlChecksum(parse_q1(sum).ok()?);
    Some(ScriptEntry {
        name_version: name_version.to_owned(),
        checksum,
        kind,
        content,
    })
}

/// Gives each package the scripts listed for its checksum (apk ignores unknown checksums).
pub fn attach_scripts(packages: &mut [InstalledPackage], scripts: Vec<ScriptEntry>) {
    for entry in scripts {
        if let Some(pkg) = packages
            .iter_mut()
            .find(|p| p.info.checksum == Some(entry.checksum))
        {
            pkg.set_script(entry.kind, entry.content);
        }
    }
}

/// Appends a regular file the way apk's `apk_tar_write_entry` does: old-GNU magic, root
/// owner names, mode 0755, numeric fields zero-padded octal (mode, uid, gid NUL-terminated;
/// size and mtime filling their field), checksum as six digits, NUL, space.
fn append_tar_file(out: &mut Vec<u8>, name: &[u8], content: &[u8], mtime: u64) {
    if name.len() > 99 {
        let mut long = name.to_vec();
        long.push(0);
        append_tar_header(out, b"././@LongLink", b'L', long.len() as u64, mtime);
        append_padded(out, &long);
    }
    let short = &name[..name.len().min(99)];
    append_tar_header(out, short, b'0', content.len() as u64, mtime);
    append_padded(out, content);
}

fn append_tar_header(out: &mut Vec<u8>, name: &[u8], typeflag: u8, size: u64, mtime: u64) {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name);
    put_octal(&mut header[100..108], 0o755, true);
    put_octal(&mut header[108..116], 0, true);
    put_octal(&mut header[116..124], 0, true);
    put_octal(&mut header[124..136], size, false);
    put_octal(&mut header[136..148], mtime, false);
    header[156] = typeflag;
    header[257..265].copy_from_slice(b"ustar  \0");
    header[265..269].copy_from_slice(b"root");
    header[297..301].copy_from_slice(b"root");
    header[148..156].fill(b' ');
    let sum: u64 = header.iter().map(|b| u64::from(*b)).sum();
    put_octal(&mut header[148..155], sum, true);
    out.extend_from_slice(&header);
}

/// Zero-padded octal filling `field`, the last byte a NUL when `nul`. Digits that do not
/// fit are dropped from the left, as apk's `put_octal` does.
fn put_octal(field: &mut [u8], mut value: u64, nul: bool) {
    let mut end = field.len();
    if nul {
        end -= 1;
        field[end] = 0;
    }
    for byte in field[..end].iter_mut().rev() {
        *byte = b'0' + (value % 8) as u8;
        value /= 8;
    }
}

fn append_padded(out: &mut Vec<u8>, content: &[u8]) {
    out.extend_from_slice(content);
    let rem = content.len() % 512;
    if rem != 0 {
        out.resize(out.len() + 512 - rem, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q1(byte: u8) -> [u8; 20] {
        [byte; 20]
    }

    fn sample() -> InstalledPackage {
        let mut info = PackageInfo {
            name: "musl".to_owned(),
            version: "1.2.4-r4".to_owned(),
            arch: "x86_64".to_owned(),
            description: "the musl c library".to_owned(),
            url: "https://musl.libc.org/".to_owned(),
            license: "MIT".to_owned(),
            checksum: Some(ControlChecksum(q1(1))),
            replaces_priority: Some(3),
            ..PackageInfo::default()
        };
        info.triggers = vec!["/usr/lib".to_owned()];
        let mut pkg = InstalledPackage::new(info);
        pkg.dirs.push(InstalledDir {
            path: "lib".to_owned(),
            acl: Acl::DEFAULT_DIR,
            files: vec![
                InstalledFile {
                    name: "ld-musl-x86_64.so.1".to_owned(),
                    acl: Acl::new(0o755, 0, 0),
                    checksum: Some(q1(2)),
                },
                InstalledFile {
                    name: "libc.musl-x86_64.so.1".to_owned(),
                    acl: Acl::new(0o777, 0, 0),
                    checksum: Some(q1(3)),
                },
            ],
        });
        pkg.dirs.push(InstalledDir {
            path: "var/empty".to_owned(),
            acl: Acl {
                xattr_sha1: Some(q1(4)),
                ..Acl::new(0o2750, 0, 42)
            },
            files: vec![InstalledFile {
                name: "plain".to_owned(),
                acl: Acl::DEFAULT_FILE,
                checksum: None,
            }],
        });
        pkg.flags.broken_script = true;
        pkg.repository_tag = Some("edge".to_owned());
        pkg
    }

    #[test]
    fn record_lines_and_round_trip() {
        let pkg = sample();
        let text = write_installed([&pkg]).expect("writes");
        let q = |b| Q1(&q1(b)).to_string();
        let expected = format!(
            "C:{}\nP:musl\nV:1.2.4-r4\nA:x86_64\nS:0\nI:0\nT:the musl c library\nU:https://musl.libc.org/\n\
             L:MIT\nq:3\ns:edge\nf:s\nF:lib\nR:ld-musl-x86_64.so.1\na:0:0:755\nZ:{}\n\
             R:libc.musl-x86_64.so.1\na:0:0:777\nZ:{}\nF:var/empty\nM:0:42:2750:{}\nR:plain\n\n",
            q(1),
            q(2),
            q(3),
            q(4)
        );
        assert_eq!(text, expected);
        let back = parse_installed(&text).expect("parses");
        let mut want = pkg;
        want.info.triggers.clear(); // kept in the triggers file
        assert_eq!(back, vec![want]);
    }

    #[test]
    fn lines_of_a_package_without_directories_go_to_the_next_record_with_one() {
        let replaces = |atom: &str| vec![atom.parse().expect("atom")];
        let mut meta = sample();
        meta.info.name = "meta".to_owned();
        meta.info.replaces = replaces("foo");
        meta.info.replaces_priority = None;
        meta.repository_tag = None;
        meta.flags = InstalledFlags::default();
        meta.dirs.clear();
        let mut empty_too = meta.clone();
        empty_too.info.name = "meta2".to_owned();
        empty_too.info.replaces = replaces("bar");
        let mut next = meta.clone();
        next.info.name = "next".to_owned();
        next.info.replaces = replaces("own");
        next.dirs = sample().dirs;
        let text = write_installed([&meta, &empty_too, &next, &meta]).expect("writes");
        let records: Vec<&str> = text.split("\n\n").collect();
        assert!(
            !records[0].contains("r:") && !records[1].contains("r:"),
            "{text}"
        );
        assert!(
            records[2].contains("r:foo\nr:bar\nr:own\nF:lib\n"),
            "{text}"
        );
        assert!(
            !records[3].contains("r:"),
            "held-back lines after the last record are lost"
        );
    }

    #[test]
    fn refuses_records_apk_could_not_read() {
        let mut pkg = sample();
        pkg.info.checksum = None;
        assert!(write_installed([&pkg]).is_err());
        let mut pkg = sample();
        pkg.dirs[0].files[0].name = "evil\nF:etc".to_owned();
        let err = write_installed([&pkg])
            .expect_err("newline refused")
            .to_string();
        assert!(err.contains("newline"), "{err}");
    }

    #[test]
    fn reader_errors_name_the_line() {
        let cases = [
            (
                "C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\nP:a\nV:1\nR:x\n",
                "line 4",
                "before any F:",
            ),
            (
                "C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\nP:a\nV:1\nF:x\nZ:Q1\n",
                "line 5",
                "Z:",
            ),
            (
                "C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\nP:a\nV:1\nF:x\nM:0:0:99\n",
                "line 5",
                "mode",
            ),
            (
                "C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\nP:a\nV:1\nX:new\n",
                "line 4",
                "unknown field",
            ),
            ("P:a\nV:1\n\n", "line 3", "without C:"),
            (
                "C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\nP:a\nV:1\nf:q\n",
                "line 4",
                "unknown flag",
            ),
            ("garbage\n", "line 1", "expected `X:value`"),
        ];
        for (text, line, what) in cases {
            let err = parse_installed(text).expect_err(text).to_string();
            assert!(err.contains(line) && err.contains(what), "{text:?}: {err}");
        }
    }

    #[test]
    fn triggers_round_trip() {
        let pkg = sample();
        let text = write_triggers([&pkg]).expect("writes");
        assert_eq!(
            text,
            format!("{} /usr/lib\n", ControlChecksum(q1(1)).to_q1())
        );
        let parsed = parse_triggers(&text).expect("parses");
        let mut packages = vec![InstalledPackage::new(PackageInfo {
            checksum: Some(ControlChecksum(q1(1))),
            ..PackageInfo::default()
        })];
        attach_triggers(&mut packages, parsed);
        assert_eq!(packages[0].info.triggers, vec!["/usr/lib".to_owned()]);
        assert!(parse_triggers("nonsense /x\n").is_err());
    }

    #[test]
    fn scripts_tar_round_trip_and_header_layout() {
        let mut pkg = sample();
        pkg.set_script(ScriptKind::Trigger, b"#!/bin/sh\n".to_vec());
        pkg.set_script(ScriptKind::PostInstall, vec![b'x'; 600]);
        let tar = write_scripts_tar([&pkg], ScriptTimes::Fixed(1_700_000_000)).expect("writes");
        // post-install first (apk's order), 600 bytes → 2 blocks; trigger 1 block; end 2.
        assert_eq!(tar.len(), 512 * (1 + 2 + 1 + 1 + 2));
        let header = &tar[..512];
        assert!(header.starts_with(b"musl-1.2.4-r4.Q1AQEB"));
        assert_eq!(&header[100..108], b"0000755\0");
        assert_eq!(&header[124..136], b"000000001130");
        assert_eq!(&header[136..148], b"014524770400");
        assert_eq!(&header[155..157], b" 0");
        assert_eq!(&header[257..265], b"ustar  \0");
        let entries = read_scripts_tar(&tar).expect("reads");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].kind, ScriptKind::PostInstall);
        assert_eq!(entries[1].content, b"#!/bin/sh\n");
        let mut fresh = vec![InstalledPackage::new(pkg.info.clone())];
        attach_scripts(&mut fresh, entries);
        assert_eq!(fresh[0].scripts, pkg.scripts);
    }

    #[test]
    fn long_script_names_use_a_gnu_long_name() {
        let mut pkg = sample();
        pkg.info.name = "x".repeat(120);
        pkg.set_script(ScriptKind::PreInstall, b"true\n".to_vec());
        let tar =
            write_scripts_tar([&pkg], ScriptTimes::BuildDate { fallback: 1 }).expect("writes");
        let entries = read_scripts_tar(&tar).expect("reads");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].name_version, pkg.info.name_version());
    }

    fn entry(path: &str, kind: EntryKind, mode: u32, sha1: Option<[u8; 20]>) -> DataEntry {
        DataEntry {
            path: path.to_owned(),
            kind,
            mode,
            uid: 0,
            gid: 0,
            mtime: 0,
            content: Vec::new(),
            sha1,
            xattrs: Vec::new(),
        }
    }

    #[test]
    fn add_entry_follows_apk_bookkeeping() {
        let mut pkg = InstalledPackage::new(PackageInfo::default());
        pkg.add_entry(&entry("etc", EntryKind::Directory, 0o755, None));
        pkg.add_entry(&entry("etc/a", EntryKind::File, 0o644, Some(q1(7))));
        pkg.add_entry(&entry("etc/.keep_x", EntryKind::File, 0o644, None));
        pkg.add_entry(&entry("usr/b", EntryKind::File, 0o644, None));
        pkg.add_entry(&entry(
            "etc/h",
            EntryKind::Hardlink("etc/a".to_owned()),
            0o644,
            None,
        ));
        pkg.add_entry(&entry("rootfile", EntryKind::File, 0o600, None));
        pkg.add_entry(&entry("etc", EntryKind::Directory, 0o700, None));
        assert!(pkg.flags.broken_files, "usr/b has no directory entry");
        let paths: Vec<String> = pkg.file_paths().collect();
        assert_eq!(paths, ["etc/a", "etc/h", "rootfile"]);
        assert_eq!(pkg.file("etc/h").and_then(|f| f.checksum), Some(q1(7)));
        assert_eq!(pkg.dir("etc").map(|d| d.acl.mode), Some(0o700));
        assert_eq!(pkg.dirs[1].path, "");
    }

    #[test]
    fn xattr_digest_is_order_independent() {
        let a = vec![
            ("user.b".to_owned(), b"2".to_vec()),
            ("user.a".to_owned(), b"1".to_vec()),
        ];
        let mut b = a.clone();
        b.reverse();
        assert_eq!(xattr_digest(&a), xattr_digest(&b));
        assert!(xattr_digest(&a).is_some());
        assert_eq!(xattr_digest(&[]), None);
        let mut manual = Sha1::new();
        for part in [&b"user.a"[..], b"1", b"user.b", b"2"] {
            manual.update((part.len() as u32).to_be_bytes());
            manual.update(part);
        }
        assert_eq!(xattr_digest(&a), Some(manual.finalize().into()));
    }
}
