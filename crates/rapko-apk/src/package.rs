//! `.apk` packages: splitting the gzip members, the control checksum (`Q1`), signatures, the
//! data hash and the data entries with their per-file SHA-1.
//!
//! Opening a package inflates only the signature and control members (a few KiB); the data
//! member is inflated once, by [`ApkPackage::data_entries`], when the files are wanted.

use std::io::Read;
use std::ops::Range;

use flate2::bufread::GzDecoder;
use sha1::{Digest, Sha1};
use sha2::Sha256;

use crate::error::{Error, Result};
use crate::gz::{TarFile, inflate_member, tar_files};
use crate::keyring::{Keyring, Signature, SignatureAlgorithm, SignatureError};
use crate::package_info::{ControlChecksum, PackageInfo};
use crate::pkginfo::parse_pkginfo;

const MAX_CONTROL_SIZE: u64 = 16 << 20;

/// The parsed head of a package; the package bytes themselves stay with the caller.
#[derive(Clone, Debug)]
pub struct ApkPackage {
    pub info: PackageInfo,
    pub signature: Option<Signature>,
    /// Byte range of the control member within the package.
    pub control: Range<usize>,
    /// Byte range of the data member (to the end of the file).
    pub data: Range<usize>,
    /// SHA-1 of the compressed control member: what the index's `C:` must equal.
    pub control_checksum: ControlChecksum,
    /// Install scripts and triggers from the control member (`.post-install`, `.trigger`, …).
    pub scripts: Vec<TarFile>,
}

impl ApkPackage {
    /// Splits and parses a package held in memory.
    pub fn parse(bytes: &[u8]) -> Result<ApkPackage> {
        let (first, first_end) = inflate_member(bytes, 0, MAX_CONTROL_SIZE, "first member")?;
        let first_files = tar_files(&first)?;
        let signature = first_files.iter().find_map(|f| {
            let (algorithm, key) = SignatureAlgorithm::from_entry_name(&f.name)?;
            Some(Signature {
                algorithm,
                key_name: key.to_owned(),
                bytes: f.content.clone(),
            })
        });
        let (control, control_files) = if signature.is_some() {
            let (tar, end) = inflate_member(bytes, first_end, MAX_CONTROL_SIZE, "control member")?;
            (first_end..end, tar_files(&tar)?)
        } else {
            (0..first_end, first_files)
        };
        if control.end >= bytes.len() {
            return Err(Error::Truncated(
                "no data member after the control member".to_owned(),
            ));
        }
        let mut info = None;
        let mut scripts = Vec::new();
        for file in control_files {
            if file.name == ".PKGINFO" {
                let text = String::from_utf8_lossy(&file.content);
                info = Some(parse_pkginfo(&text)?);
            } else if file.name.starts_with('.') {
                scripts.push(file);
            }
        }
        let info = info.ok_or(Error::Missing(".PKGINFO in the control member"))?;
        let control_checksum = ControlChecksum(Sha1::digest(&bytes[control.clone()]).into());
        Ok(ApkPackage {
            info,
            signature,
            data: control.end..bytes.len(),
            control,
            control_checksum,
            scripts,
        })
    }

    /// Checks the package signature over the control member. Returns the key that verified it.
    pub fn verify_signature<'k>(
        &self,
        bytes: &[u8],
        keyring: &'k Keyring,
    ) -> Result<&'k str, SignatureError> {
        let sig = self.signature.as_ref().ok_or(SignatureError::Unsigned)?;
        let control = bytes.get(self.control.clone()).unwrap_or_default();
        keyring.verify(sig, control)
    }

    /// Checks the control checksum against an index's `C:` value.
    pub fn verify_checksum(&self, expected: &ControlChecksum) -> Result<()> {
        if &self.control_checksum != expected {
            return Err(Error::ChecksumMismatch {
                what: "control member (index C:)".to_owned(),
                expected: expected.to_q1(),
                actual: self.control_checksum.to_q1(),
            });
        }
        Ok(())
    }

    /// Checks `.PKGINFO`'s `datahash` against the compressed data member. A package without a
    /// datahash (very old abuild) passes only when `require` is false.
    pub fn verify_datahash(&self, bytes: &[u8], require: bool) -> Result<()> {
        let Some(expected) = &self.info.datahash else {
            return if require {
                Err(Error::Missing("datahash in .PKGINFO"))
            } else {
                Ok(())
            };
        };
        let actual: [u8; 32] =
            Sha256::digest(bytes.get(self.data.clone()).unwrap_or_default()).into();
        if &actual != expected {
            return Err(Error::ChecksumMismatch {
                what: "data member (datahash)".to_owned(),
                expected: hex::encode(expected),
                actual: hex::encode(actual),
            });
        }
        Ok(())
    }

    /// Inflates the data member once and visits each entry in archive order, checking each
    /// file's `APK-TOOLS.checksum.SHA1` against its content.
    pub fn data_entries(
        &self,
        bytes: &[u8],
        mut visit: impl FnMut(DataEntry) -> Result<()>,
    ) -> Result<()> {
        let data = bytes.get(self.data.clone()).unwrap_or_default();
        read_data_tar(GzDecoder::new(data), data.len() as u64, &mut visit)
    }
}

/// What kind of file system object a data entry is.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum EntryKind {
    File,
    Directory,
    Symlink(String),
    /// A hard link to an earlier entry of the same package (path relative to the root).
    Hardlink(String),
    CharDevice {
        major: u32,
        minor: u32,
    },
    BlockDevice {
        major: u32,
        minor: u32,
    },
    Fifo,
}

/// One entry of a package's data member.
#[derive(Clone, Debug)]
pub struct DataEntry {
    /// Path relative to the root, without leading `/` or `./`, never containing `..`.
    pub path: String,
    pub kind: EntryKind,
    /// Permission bits including setuid/setgid/sticky.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: u64,
    /// Regular file content (empty for other kinds).
    pub content: Vec<u8>,
    /// The PAX `APK-TOOLS.checksum.SHA1`, already checked against the content.
    pub sha1: Option<[u8; 20]>,
    /// Extended attributes (PAX `SCHILY.xattr.*`), sorted by name.
    pub xattrs: Xattrs,
}

/// The largest single file we accept from a package: apk-tools has no such limit, but a
/// header claiming more than the compressed member can possibly inflate to is garbage.
const MAX_FILE_SIZE: u64 = 4 << 30;

fn read_data_tar(
    reader: impl Read,
    compressed_len: u64,
    visit: &mut impl FnMut(DataEntry) -> Result<()>,
) -> Result<()> {
    // Deflate inflates at most ~1032:1.
    let size_limit = MAX_FILE_SIZE.min(compressed_len.saturating_mul(1032).saturating_add(1 << 20));
    let mut archive = tar::Archive::new(reader);
    let tar_err = |e: std::io::Error| Error::Tar(e.to_string());
    for entry in archive.entries().map_err(tar_err)? {
        let mut entry = entry.map_err(tar_err)?;
        let raw_path = utf8_name("file name", &entry.path_bytes())?;
        let path = normalize_path(&raw_path)?;
        let header = entry.header();
        let mode = header.mode().map_err(tar_err)? & 0o7777;
        let uid = u32::try_from(header.uid().map_err(tar_err)?).unwrap_or(u32::MAX);
        let gid = u32::try_from(header.gid().map_err(tar_err)?).unwrap_or(u32::MAX);
        let mtime = header.mtime().map_err(tar_err)?;
        let size = header.size().map_err(tar_err)?;
        let link = || -> Result<String> {
            let target = entry_link(header)?;
            Ok(target)
        };
        let kind = match header.entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => EntryKind::File,
            tar::EntryType::Directory => EntryKind::Directory,
            tar::EntryType::Symlink => EntryKind::Symlink(link()?),
            tar::EntryType::Link => EntryKind::Hardlink(normalize_path(&link()?)?),
            tar::EntryType::Char => EntryKind::CharDevice {
                major: header.device_major().map_err(tar_err)?.unwrap_or(0),
                minor: header.device_minor().map_err(tar_err)?.unwrap_or(0),
            },
            tar::EntryType::Block => EntryKind::BlockDevice {
                major: header.device_major().map_err(tar_err)?.unwrap_or(0),
                minor: header.device_minor().map_err(tar_err)?.unwrap_or(0),
            },
            tar::EntryType::Fifo => EntryKind::Fifo,
            // PAX/GNU extension headers are consumed by the tar crate; anything else is
            // something apk does not install either.
            _ => continue,
        };
        let (sha1, xattrs) = pax_records(&mut entry)?;
        let mut content = Vec::new();
        if kind == EntryKind::File {
            if size > size_limit {
                return Err(Error::TooLarge {
                    what: format!("file {path}"),
                    actual: size,
                    limit: size_limit,
                });
            }
            content.reserve_exact(size as usize);
            entry
                .read_to_end(&mut content)
                .map_err(|e| Error::Truncated(format!("{path}: {e}")))?;
            if content.len() as u64 != size {
                return Err(Error::Truncated(format!(
                    "{path}: header says {size} bytes, archive holds {}",
                    content.len()
                )));
            }
        }
        check_file_sha1(&path, &kind, &content, sha1.as_ref())?;
        visit(DataEntry {
            path,
            kind,
            mode,
            uid,
            gid,
            mtime,
            content,
            sha1,
            xattrs,
        })?;
    }
    // The archive ends before the gzip trailer: read the rest (padding, CRC) so a cut or
    // corrupt member is an error here too, as apk-tools does.
    std::io::copy(&mut archive.into_inner(), &mut std::io::sink())
        .map_err(|e| Error::Truncated(format!("data member after the last entry: {e}")))?;
    Ok(())
}

fn entry_link(header: &tar::Header) -> Result<String> {
    let name = header
        .link_name_bytes()
        .ok_or(Error::Tar("link entry without a target".to_owned()))?;
    utf8_name("link target", &name)
}

/// A name from the archive as text. Not UTF-8: refused, naming it escaped (`\xe9`), since
/// rapko's tree, layers and installed database hold names as text and renaming the file
/// (to U+FFFD, say) would silently install something the package did not ship.
fn utf8_name(what: &str, bytes: &[u8]) -> Result<String> {
    std::str::from_utf8(bytes).map(str::to_owned).map_err(|_| {
        Error::Tar(format!(
            "{what} \"{}\" is not UTF-8; rapko does not rename files, so it cannot install \
             this package",
            bytes.escape_ascii()
        ))
    })
}

/// Extended attributes as (name, value), sorted by name.
pub type Xattrs = Vec<(String, Vec<u8>)>;

fn pax_records<R: Read>(entry: &mut tar::Entry<'_, R>) -> Result<(Option<[u8; 20]>, Xattrs)> {
    let mut sha1 = None;
    let mut xattrs = Vec::new();
    let Some(exts) = entry
        .pax_extensions()
        .map_err(|e| Error::Tar(e.to_string()))?
    else {
        return Ok((None, xattrs));
    };
    for ext in exts {
        let ext = ext.map_err(|e| Error::Tar(e.to_string()))?;
        let Ok(key) = ext.key() else { continue };
        if key == "APK-TOOLS.checksum.SHA1" {
            let mut raw = [0u8; 20];
            hex::decode_to_slice(ext.value_bytes(), &mut raw).map_err(|_| {
                Error::Tar(format!(
                    "bad APK-TOOLS.checksum.SHA1 {:?}",
                    String::from_utf8_lossy(ext.value_bytes())
                ))
            })?;
            sha1 = Some(raw);
        } else if let Some(name) = key.strip_prefix("SCHILY.xattr.") {
            xattrs.push((name.to_owned(), ext.value_bytes().to_vec()));
        }
    }
    xattrs.sort();
    Ok((sha1, xattrs))
}

/// apk records the SHA-1 of a regular file's content, and of a symlink's target.
fn check_file_sha1(
    path: &str,
    kind: &EntryKind,
    content: &[u8],
    expected: Option<&[u8; 20]>,
) -> Result<()> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let actual: [u8; 20] = match kind {
        EntryKind::File => Sha1::digest(content).into(),
        EntryKind::Symlink(target) => Sha1::digest(target.as_bytes()).into(),
        _ => return Ok(()),
    };
    if &actual != expected {
        return Err(Error::ChecksumMismatch {
            what: format!("file {path}"),
            expected: hex::encode(expected),
            actual: hex::encode(actual),
        });
    }
    Ok(())
}

/// Makes an archive path relative to the root and refuses anything that could escape it,
/// absolute paths included (apk-tools ignores those as malicious).
pub fn normalize_path(raw: &str) -> Result<String> {
    let unsafe_path = |reason| Error::UnsafePath {
        path: raw.to_owned(),
        reason,
    };
    let trimmed = raw.trim_start_matches("./");
    if trimmed.starts_with('/') {
        return Err(unsafe_path("is absolute"));
    }
    let mut parts = Vec::new();
    for part in trimmed.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(unsafe_path("contains ..")),
            p if p.contains('\0') => return Err(unsafe_path("contains a NUL byte")),
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err(unsafe_path("empty path"));
    }
    Ok(parts.join("/"))
}

impl std::fmt::Display for EntryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EntryKind::File => f.write_str("file"),
            EntryKind::Directory => f.write_str("directory"),
            EntryKind::Symlink(t) => write!(f, "symlink -> {t}"),
            EntryKind::Hardlink(t) => write!(f, "hardlink -> {t}"),
            EntryKind::CharDevice { major, minor } => write!(f, "char device {major},{minor}"),
            EntryKind::BlockDevice { major, minor } => write!(f, "block device {major},{minor}"),
            EntryKind::Fifo => f.write_str("fifo"),
        }
    }
}
