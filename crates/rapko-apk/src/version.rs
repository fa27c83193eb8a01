//! apk version strings: validity, ordering and the comparison operators of dependency atoms.
//!
//! The rules are apk-tools' (`src/version.c`): a version is `digits(.digits)*`, an optional
//! letter, any number of `_suffix[digits]` (`alpha`, `beta`, `pre`, `rc` sort before the
//! release; `cvs`, `svn`, `git`, `hg`, `p` after), an optional `~hash`, and an optional `-rN`.

use std::cmp::Ordering;
use std::fmt;

/// Compares two version strings the way apk-tools does. Invalid versions still compare
/// (apk falls back to comparing the remaining text), so this never fails.
pub fn compare(a: &str, b: &str) -> Ordering {
    todo!("{a} {b}")
}

/// True when `v` is a well-formed apk version.
pub fn is_valid(v: &str) -> bool {
    todo!("{v}")
}

/// The comparison operator of a version constraint, as a set of allowed results of
/// `compare(candidate, constraint_version)`, like apk-tools' `APK_VERSION_*` mask.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct VersionOp(u8);

impl VersionOp {
    pub const LESS: VersionOp = VersionOp(1);
    pub const EQUAL: VersionOp = VersionOp(2);
    pub const GREATER: VersionOp = VersionOp(4);
    /// Fuzzy: `~` matches versions whose leading components equal the constraint's.
    pub const FUZZY: VersionOp = VersionOp(8);
    /// The constraint is negated (`!~` and conflicts).
    pub const CONFLICT: VersionOp = VersionOp(16);

    /// Parses `<`, `<=`, `=`, `>=`, `>`, `~`, `=~`, `<~`, `>~`, `!~`.
    pub fn parse(s: &str) -> Option<VersionOp> {
        todo!("{s}")
    }

    /// True when `candidate` satisfies `candidate OP version`.
    pub fn matches(self, candidate: &str, version: &str) -> bool {
        todo!("{candidate} {version}")
    }
}

impl fmt::Display for VersionOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!("{f:?}")
    }
}
