//! Dependency atoms (`name`, `name>=1.2`, `!name`, `name@tag`, `so:libc.so.1`) and provides.

use std::fmt;
use std::str::FromStr;

use crate::version::VersionOp;

/// A version constraint on a name: `op` applied against `version`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct VersionConstraint {
    pub op: VersionOp,
    pub version: String,
}

impl VersionConstraint {
    /// True when `candidate` satisfies this constraint.
    pub fn matches(&self, candidate: &str) -> bool {
        self.op.matches(candidate, &self.version)
    }
}

/// One dependency atom as it appears in `depend =`, `D:`, `i:`, `r:`, `/etc/apk/world` and
/// apko's `contents.packages`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Dependency {
    /// The name, with its `so:`/`cmd:`/`pc:` prefix if any.
    pub name: String,
    pub constraint: Option<VersionConstraint>,
    /// `!name`: the name must not be installed (with the constraint, if any).
    pub conflict: bool,
    /// `name@tag`: only packages from the repository tagged `tag`.
    pub tag: Option<String>,
}

/// A name a package provides: `so:libc.musl-x86_64.so.1=1`, `cmd:sh`, or unversioned `foo`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Provide {
    pub name: String,
    pub version: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DependencyError {
    #[error("empty dependency")]
    Empty,
    #[error("invalid dependency {atom:?}: {reason}")]
    Invalid { atom: String, reason: String },
}

impl FromStr for Dependency {
    type Err = DependencyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        todo!("{s}")
    }
}

impl fmt::Display for Dependency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!("{f:?}")
    }
}

impl FromStr for Provide {
    type Err = DependencyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        todo!("{s}")
    }
}

impl fmt::Display for Provide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!("{f:?}")
    }
}

/// Parses a whitespace-separated list of atoms (the `D:`, `p:`, `i:` and `r:` fields).
pub fn parse_list<T: FromStr>(s: &str) -> Result<Vec<T>, T::Err> {
    s.split_ascii_whitespace().map(str::parse).collect()
}
