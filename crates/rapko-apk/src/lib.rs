//! The APK package formats, exactly as apk-tools reads and writes them: version strings and
//! their ordering, dependency atoms, `.PKGINFO`, `APKINDEX.tar.gz` (read, verify, write, sign),
//! `.apk` packages (gzip member splitting, control checksum, data hash, signatures, data
//! entries with per-file SHA-1) and the installed database (`lib/apk/db/installed`).
//!
//! This crate does no network and no async: everything works over byte slices and `Write`,
//! and every error names what was wrong so callers only add the file or URL.

pub mod dependency;
mod error;
pub mod gz;
pub mod index;
pub mod installed;
pub mod keyring;
pub mod package;
pub mod package_info;
pub mod pkginfo;
pub mod version;

pub use dependency::{Dependency, DependencyError, Provide, VersionConstraint};
pub use error::{Error, Result};
pub use index::{ApkIndex, Trust, parse_index_text};
pub use installed::{Acl, InstalledDir, InstalledFile, InstalledPackage, Script, ScriptKind};
pub use keyring::{Keyring, Signature, SignatureAlgorithm, SignatureError, Signer};
pub use package::{ApkPackage, DataEntry, EntryKind};
pub use package_info::{ControlChecksum, PackageInfo};
pub use pkginfo::{parse_pkginfo, write_pkginfo};
pub use version::VersionOp;
