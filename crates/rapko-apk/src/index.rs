//! `APKINDEX.tar.gz`: the signed list of a repository's packages.
//!
//! Layout: an optional signature member (a tar with one or more `.SIGN.RSA*.<key>` entries),
//! then a member holding `DESCRIPTION` and `APKINDEX`. The signatures cover the raw compressed
//! bytes after the signature member; any one valid signature from a trusted key is enough.
//! `APKINDEX` is a text of records separated by blank lines, one `X:value` line per field.

use std::fmt::Write as _;
use std::io::Write;

use base64::Engine;

use crate::dependency::{ParseLenient, parse_list_lenient};
use crate::error::{Error, Result};
use crate::gz::{TarSlice, inflate_last_member, inflate_member, tar_slices};
use crate::keyring::{Keyring, Signature, SignatureAlgorithm, Signer};
use crate::package_info::{
    ControlChecksum, PackageInfo, check_package_name, check_package_version,
};
use crate::pkginfo::{join, parse_number};

/// The most an index may inflate to. The full Alpine community index is 7.6 MB.
pub const MAX_INDEX_SIZE: u64 = 512 << 20;

/// A parsed repository index.
#[derive(Clone, Debug, Default)]
pub struct ApkIndex {
    /// The `DESCRIPTION` entry (e.g. `v3.19.1-12-g…`), if present.
    pub description: Option<String>,
    pub packages: Vec<PackageInfo>,
    /// The signatures found, whether or not they were checked.
    pub signatures: Vec<Signature>,
}

/// How to treat signatures when reading an index.
#[derive(Clone, Copy, Debug)]
pub enum Trust<'a> {
    /// Require one valid signature from a key in this keyring.
    Keyring(&'a Keyring),
    /// Do not check (`--ignore-signatures`).
    Ignore,
}

impl ApkIndex {
    /// Reads an `APKINDEX.tar.gz`. With [`Trust::Keyring`] an unsigned index or one with no
    /// valid signature is refused; the name of the key that verified it is returned.
    pub fn read(bytes: &[u8], trust: Trust<'_>) -> Result<(ApkIndex, Option<String>)> {
        let (first, end) = inflate_member(bytes, 0, MAX_INDEX_SIZE, "index")?;
        let first_files = tar_slices(&first)?;
        let is_signature_member = !first_files.is_empty()
            && first_files
                .iter()
                .all(|f| SignatureAlgorithm::from_entry_name(&f.name).is_some());
        let content;
        let (signatures, files) = if is_signature_member {
            (content, _) = inflate_last_member(bytes, end, MAX_INDEX_SIZE, "index")?;
            (signatures_of(&first_files), tar_slices(&content)?)
        } else {
            // Signature entries inside the content member cover nothing we can check.
            (Vec::new(), first_files)
        };
        let verified_by = match trust {
            Trust::Ignore => None,
            Trust::Keyring(keyring) => {
                let signed = if is_signature_member {
                    &bytes[end..]
                } else {
                    &[][..]
                };
                Some(keyring.verify_any(&signatures, signed)?.to_owned())
            }
        };
        let mut index = ApkIndex {
            signatures,
            ..ApkIndex::default()
        };
        let mut found_index = false;
        for file in files {
            match file.name.as_str() {
                "DESCRIPTION" => {
                    index.description =
                        Some(String::from_utf8_lossy(file.content).trim().to_owned())
                }
                "APKINDEX" => {
                    let text = std::str::from_utf8(file.content)
                        .map_err(|e| Error::Tar(format!("APKINDEX is not UTF-8: {e}")))?;
                    index.packages = parse_index_text(text)?;
                    found_index = true;
                }
                _ => {}
            }
        }
        if !found_index {
            return Err(Error::Missing("APKINDEX entry in the index archive"));
        }
        Ok((index, verified_by))
    }

    /// Writes an `APKINDEX.tar.gz`, signed with `signer` when given (what `apk index` followed
    /// by `abuild-sign` produce). Deterministic: entries have mtime 0 and root ownership.
    pub fn write(&self, signer: Option<&Signer>) -> Result<Vec<u8>> {
        let mut text = String::new();
        for pkg in &self.packages {
            write_index_record(pkg, &mut text);
            text.push('\n');
        }
        let mut entries: Vec<(&str, &[u8])> = Vec::new();
        if let Some(d) = &self.description {
            entries.push(("DESCRIPTION", d.as_bytes()));
        }
        entries.push(("APKINDEX", text.as_bytes()));
        let content = gzip(&tar_bytes(&entries, true)?)?;
        let mut out = Vec::new();
        if let Some(signer) = signer {
            let sig = signer.sign(&content)?;
            let name = format!("{}{}", sig.algorithm.entry_prefix(), sig.key_name);
            out.extend(gzip(&tar_bytes(&[(&name, &sig.bytes)], false)?)?);
        }
        out.extend(content);
        Ok(out)
    }
}

fn signatures_of(files: &[TarSlice<'_>]) -> Vec<Signature> {
    files
        .iter()
        .filter_map(|f| {
            let (algorithm, key) = SignatureAlgorithm::from_entry_name(&f.name)?;
            Some(Signature {
                algorithm,
                key_name: key.to_owned(),
                bytes: f.content.to_vec(),
            })
        })
        .collect()
}

/// A tar stream of regular files (mode 0644, root, mtime 0); with `end` the two zero blocks
/// that close an archive (apk's leading members go without them).
pub(crate) fn tar_bytes(entries: &[(&str, &[u8])], end: bool) -> Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.mode(tar::HeaderMode::Deterministic);
    for (name, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, name, *data)?;
    }
    let mut bytes = builder.into_inner()?;
    if !end {
        bytes.truncate(bytes.len().saturating_sub(1024));
    }
    Ok(bytes)
}

pub(crate) fn gzip(data: &[u8]) -> Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(9));
    enc.write_all(data)?;
    Ok(enc.finish()?)
}

/// Parses the text of an `APKINDEX` (or any list of index-style records).
pub fn parse_index_text(text: &str) -> Result<Vec<PackageInfo>> {
    // Records average 400-450 bytes in Alpine's indexes: reserve once rather than grow (and
    // copy) the list a dozen times; the unused rest is given back at the end.
    let mut packages = Vec::with_capacity(text.len() / 300);
    let mut current = PackageInfo::default();
    let mut started = false;
    for (index, line) in text.split('\n').enumerate() {
        if line.is_empty() {
            if started {
                packages.push(finish_record(current, index)?);
                current = PackageInfo::default();
                started = false;
            }
            continue;
        }
        let bytes = line.as_bytes();
        if bytes.len() < 2 || bytes[1] != b':' {
            return Err(Error::Line {
                line: index + 1,
                message: format!("expected `X:value`, got {:?}", truncate(line)),
            });
        }
        started = true;
        set_index_field(&mut current, bytes[0], &line[2..]).map_err(|message| Error::Line {
            line: index + 1,
            message,
        })?;
    }
    if started {
        packages.push(finish_record(current, text.split('\n').count())?);
    }
    packages.shrink_to_fit();
    Ok(packages)
}

/// A message quoting input (an atom can be megabytes long) cut to 200 characters.
pub(crate) fn shorten(mut message: String) -> String {
    if let Some((i, _)) = message.char_indices().nth(200) {
        message.truncate(i);
        message.push('…');
    }
    message
}

/// The first 80 characters, for quoting input in messages.
pub(crate) fn truncate(line: &str) -> &str {
    match line.char_indices().nth(80) {
        Some((i, _)) => &line[..i],
        None => line,
    }
}

fn finish_record(pkg: PackageInfo, line: usize) -> Result<PackageInfo> {
    if pkg.name.is_empty() || pkg.version.is_empty() {
        return Err(Error::Line {
            line,
            message: "record without P: (name) or V: (version)".to_owned(),
        });
    }
    let invalid = |message: String| Error::Line {
        line,
        message: format!("package {}: {message}", truncate(&pkg.name)),
    };
    check_package_name(&pkg.name).map_err(invalid)?;
    check_package_version(&pkg.version).map_err(invalid)?;
    Ok(pkg)
}

/// Sets one field of an index record. Shared with the installed database, which uses the
/// same letters for package metadata.
pub(crate) fn set_index_field(pkg: &mut PackageInfo, key: u8, value: &str) -> Result<(), String> {
    match key {
        b'P' => pkg.name = value.to_owned(),
        b'V' => pkg.version = value.to_owned(),
        b'A' => pkg.arch = value.to_owned(),
        b'T' => pkg.description = value.to_owned(),
        b'U' => pkg.url = value.to_owned(),
        b'L' => pkg.license = value.to_owned(),
        b'o' => pkg.origin = Some(value.to_owned()),
        b'm' => pkg.maintainer = Some(value.to_owned()),
        b'c' => pkg.commit = Some(value.to_owned()),
        b't' => pkg.build_time = Some(parse_number("t", value)?),
        b'S' => pkg.file_size = parse_number("S", value)?,
        b'I' => pkg.installed_size = parse_number("I", value)?,
        b'k' => pkg.provider_priority = Some(parse_number("k", value)?),
        b'q' => pkg.replaces_priority = Some(parse_number("q", value)?),
        b'C' => pkg.checksum = parse_checksum(value)?,
        b'D' => pkg.depends = deps("D", value)?,
        b'p' => pkg.provides = deps("p", value)?,
        b'i' => pkg.install_if = deps("i", value)?,
        b'r' => pkg.replaces = deps("r", value)?,
        _ => {}
    }
    Ok(())
}

/// Real indexes hold atoms apk calls invalid but keeps (`pc:jemalloc=5.3.0_`): read leniently.
fn deps<T: ParseLenient>(field: &str, value: &str) -> Result<Vec<T>, String> {
    parse_list_lenient(value).map_err(|e| format!("{field}: {}", shorten(e.to_string())))
}

/// `Q1<base64 SHA-1>` → checksum. Other schemes (apk 3's `Q2`) are not ours to check.
fn parse_checksum(value: &str) -> Result<Option<ControlChecksum>, String> {
    let Some(b64) = value.strip_prefix("Q1") else {
        return Ok(None);
    };
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| format!("C: {:?} is not base64", truncate(value)))?;
    let sha1: [u8; 20] = raw
        .try_into()
        .map_err(|_| format!("C: {:?} is not a SHA-1", truncate(value)))?;
    Ok(Some(ControlChecksum(sha1)))
}

impl ControlChecksum {
    /// The `Q1…` form used in indexes and the installed database.
    pub fn to_q1(&self) -> String {
        format!(
            "Q1{}",
            base64::engine::general_purpose::STANDARD.encode(self.0)
        )
    }

    pub fn from_q1(s: &str) -> Option<ControlChecksum> {
        parse_checksum(s).ok().flatten()
    }
}

/// Writes the metadata lines of one record (no trailing blank line), in apk-tools' order.
pub fn write_index_record(pkg: &PackageInfo, out: &mut String) {
    let mut field = |key: char, value: &dyn std::fmt::Display| {
        let _ = writeln!(out, "{key}:{value}");
    };
    if let Some(c) = &pkg.checksum {
        field('C', &c.to_q1());
    }
    field('P', &pkg.name);
    field('V', &pkg.version);
    field('A', &pkg.arch);
    field('S', &pkg.file_size);
    field('I', &pkg.installed_size);
    field('T', &pkg.description);
    field('U', &pkg.url);
    field('L', &pkg.license);
    if let Some(o) = &pkg.origin {
        field('o', o);
    }
    if let Some(m) = &pkg.maintainer {
        field('m', m);
    }
    if let Some(t) = pkg.build_time {
        field('t', &t);
    }
    if let Some(c) = &pkg.commit {
        field('c', c);
    }
    if let Some(k) = pkg.provider_priority {
        field('k', &k);
    }
    if !pkg.depends.is_empty() {
        field('D', &join(&pkg.depends));
    }
    if !pkg.provides.is_empty() {
        field('p', &join(&pkg.provides));
    }
    if !pkg.install_if.is_empty() {
        field('i', &join(&pkg.install_if));
    }
}
