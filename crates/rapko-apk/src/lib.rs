//! The APK package formats, exactly as apk-tools reads and writes them: version strings and
//! their ordering, dependency atoms, `.PKGINFO`, `APKINDEX.tar.gz` (read, verify, write, sign),
//! `.apk` packages (gzip member splitting, control checksum, data hash, signatures, data
//! entries with per-file SHA-1) and the installed database (`lib/apk/db/installed`).
//!
//! This crate does no network and no async: everything works over `Read`/`Write` and byte
//! slices, and every error names what was wrong so callers can add the file or URL.

pub mod dependency;
pub mod package_info;
pub mod version;

pub use dependency::{Dependency, DependencyError, Provide, VersionConstraint};
pub use package_info::{ControlChecksum, PackageInfo};
pub use version::VersionOp;
