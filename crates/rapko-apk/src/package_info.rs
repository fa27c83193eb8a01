//! The metadata of one package, as found in an APKINDEX record, a `.PKGINFO` file or an
//! installed-database record.

use crate::dependency::{Dependency, Provide};

/// SHA-1 of a package's compressed control member: the `C:` field, written `Q1<base64>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct ControlChecksum(pub [u8; 20]);

/// Everything apk knows about a package before installing it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PackageInfo {
    /// `P:` / `pkgname`
    pub name: String,
    /// `V:` / `pkgver`
    pub version: String,
    /// `A:` / `arch` (an index says the repository's arch for noarch packages)
    pub arch: String,
    /// `T:` / `pkgdesc`
    pub description: String,
    /// `U:` / `url`
    pub url: String,
    /// `L:` / `license`
    pub license: String,
    /// `o:` / `origin`
    pub origin: Option<String>,
    /// `m:` / `maintainer`
    pub maintainer: Option<String>,
    /// `t:` / `builddate`, seconds since the epoch
    pub build_time: Option<u64>,
    /// `c:` / `commit`
    pub commit: Option<String>,
    /// `I:` / `size`: the installed size in bytes
    pub installed_size: u64,
    /// `S:`: the size of the .apk file (index only; 0 when unknown)
    pub file_size: u64,
    /// `C:`: SHA-1 of the control member (index and installed db only)
    pub checksum: Option<ControlChecksum>,
    /// `D:` / `depend` (conflicts are `!name` atoms here)
    pub depends: Vec<Dependency>,
    /// `p:` / `provides`
    pub provides: Vec<Provide>,
    /// `i:` / `install_if`
    pub install_if: Vec<Dependency>,
    /// `r:` / `replaces`
    pub replaces: Vec<Dependency>,
    /// `q:` / `replaces_priority`
    pub replaces_priority: Option<u32>,
    /// `k:` / `provider_priority`
    pub provider_priority: Option<u32>,
    /// `triggers` (`.PKGINFO` and installed db only): directories whose change runs the trigger
    pub triggers: Vec<String>,
    /// `datahash` (`.PKGINFO` only): SHA-256 of the compressed data member
    pub datahash: Option<[u8; 32]>,
}

impl PackageInfo {
    /// `name-version`, the way apk names a package in messages and file names.
    pub fn name_version(&self) -> String {
        format!("{}-{}", self.name, self.version)
    }
}

/// Checks a package name read from outside (an index, a lockfile, the installed database):
/// rapko makes file names from it (`<name>-<version>.apk` in the repository directory, the
/// cache), so a `/`, a `..` or a NUL could reach files outside those directories.
pub fn check_package_name(name: &str) -> Result<(), String> {
    check_file_part("package name", name)
}

/// Checks a version read from outside, for the same reason. Only what makes it unsafe as
/// part of a file name: real indexes hold versions apk calls invalid (`0.99f7-r2`).
pub fn check_package_version(version: &str) -> Result<(), String> {
    check_file_part("version", version)
}

fn check_file_part(what: &str, value: &str) -> Result<(), String> {
    let bad =
        value.is_empty() || value.contains('/') || value.contains('\0') || value.contains("..");
    if bad {
        return Err(format!(
            "{what} {value:?} is unsafe: it must be non-empty and contain no `/`, `..` or NUL \
             (it becomes part of a file name); the index or lockfile is corrupt or hostile"
        ));
    }
    Ok(())
}
