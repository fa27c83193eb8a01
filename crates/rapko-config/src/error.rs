//! The one error type of this crate.
//!
//! Every message is one lowercase line that names the file, key or value at
//! fault and, where the fix is not obvious, says what to do. Problems found
//! while reading YAML carry `FILE:LINE:COLUMN`; problems found after merging
//! (validation) are wrapped in [`ConfigError::InFile`] naming the top config.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Everything that can be wrong with an apko configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read (the I/O error is the `source`).
    #[error("cannot read config {}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    /// The YAML is malformed or a value has the wrong type.
    #[error("{}: {message}", position(file, *line, *column))]
    Yaml {
        file: PathBuf,
        /// 1-based; 0 when the parser did not say.
        line: u64,
        /// 1-based; 0 when the parser did not say.
        column: u64,
        message: String,
    },

    /// A key that apko does not know (apko rejects these too).
    #[error(
        "{}: unknown key \"{key}\" in {section} (expected one of {})",
        position(file, *line, *column),
        expected.join(", ")
    )]
    UnknownKey {
        file: PathBuf,
        line: u64,
        column: u64,
        key: String,
        /// Where the key was found: `contents`, `accounts.users`, `the top level`...
        section: &'static str,
        expected: Vec<&'static str>,
    },

    /// The document has no content at all.
    #[error("{}: the config is empty; write at least `contents: {{packages: [...]}}`", file.display())]
    Empty { file: PathBuf },

    /// `include` names a file that does not exist.
    #[error(
        "{}: include \"{include}\" not found (looked for {}); fix the path, relative to the including file",
        file.display(),
        list_paths(tried)
    )]
    IncludeNotFound {
        /// The including file.
        file: PathBuf,
        /// The include as written.
        include: String,
        tried: Vec<PathBuf>,
    },

    /// `include` names something that exists but is not a file (a directory, say).
    #[error(
        "{}: include \"{include}\" is {what} ({}), not a config file; name a YAML file",
        file.display(),
        found.display()
    )]
    IncludeNotAFile {
        file: PathBuf,
        include: String,
        found: PathBuf,
        what: &'static str,
    },

    /// Files include each other in a loop.
    #[error("include cycle: {}; remove one of these includes", chain_text(chain))]
    IncludeCycle { chain: Vec<PathBuf> },

    /// A validation problem, found after includes were merged, in the config rooted at `file`.
    #[error("{}: {error}", file.display())]
    InFile {
        file: PathBuf,
        error: Box<ConfigError>,
    },

    #[error("accounts.users[{index}] has no username; add `username: NAME` to it")]
    UserWithoutName { index: usize },

    #[error(
        "user \"{user}\" has uid 0, which apko refuses; give it a non-zero uid (65532 is the usual nonroot) and write `run-as: 0` to run as root"
    )]
    UserUidZero { user: String },

    #[error(
        "user \"{user}\" is defined twice in accounts.users (perhaps once in an included file); keep one"
    )]
    DuplicateUserName { user: String },

    #[error("users \"{first}\" and \"{second}\" both have uid {uid}; give each user its own uid")]
    DuplicateUid {
        uid: u32,
        first: String,
        second: String,
    },

    #[error("accounts.groups[{index}] has no groupname; add `groupname: NAME` to it")]
    GroupWithoutName { index: usize },

    #[error(
        "group \"{group}\" is defined twice in accounts.groups (perhaps once in an included file); keep one"
    )]
    DuplicateGroupName { group: String },

    #[error("groups \"{first}\" and \"{second}\" both have gid {gid}; give each group its own gid")]
    DuplicateGid {
        gid: u32,
        first: String,
        second: String,
    },

    #[error(
        "accounts.run-as \"{run_as}\" names no user of accounts.users ({}); add the user or give a numeric uid",
        known_list(users)
    )]
    UnknownRunAs { run_as: String, users: Vec<String> },

    #[error(
        "accounts.run-as \"{run_as}\" names no group of accounts.groups ({}); add the group or give a numeric gid",
        known_list(groups)
    )]
    UnknownRunAsGroup { run_as: String, groups: Vec<String> },

    #[error(
        "entrypoint.type is service-bundle but entrypoint.services is empty; add `services: {{NAME: COMMAND}}`"
    )]
    ServiceBundleWithoutServices,

    #[error(
        "entrypoint.services is set but entrypoint.type is not service-bundle; add `type: service-bundle`"
    )]
    ServicesWithoutServiceBundle,

    #[error("entrypoint.services.{name} has an empty command; give the command the service runs")]
    EmptyService { name: String },

    #[error(
        "entrypoint.services name \"{name}\" is not usable as a directory name under /sv; use letters, digits, '.', '_' or '-'"
    )]
    BadServiceName { name: String },

    #[error("entrypoint has both command and shell-fragment; keep one")]
    CommandAndShellFragment,

    #[error("{key} \"{value}\" cannot be split into arguments: {problem}")]
    BadCommandLine {
        /// `entrypoint.command` or `cmd`.
        key: &'static str,
        value: String,
        problem: &'static str,
    },

    #[error("paths[{index}] has no path; add `path: /some/path` to it")]
    PathWithoutPath { index: usize },

    #[error("paths entry {path} is a {kind} but has no source; add `source: TARGET`")]
    PathWithoutSource { path: String, kind: &'static str },

    #[error(
        "layering.budget must be at least 1 (the number of extra layers); remove `layering` to build a single layer"
    )]
    LayeringBudgetZero,

    #[error("certificates.additional[{index}] has no name; add `name: NAME` to it")]
    CertificateWithoutName { index: usize },

    #[error(
        "certificates.additional name \"{name}\" is invalid: use letters, digits, '_', '-' and '.', not starting with '.'"
    )]
    BadCertificateName { name: String },

    #[error(
        "certificates.additional \"{name}\" has no content; paste the PEM certificate under `content: |`"
    )]
    CertificateWithoutContent { name: String },

    #[error("certificates.additional \"{name}\" is defined twice; keep one")]
    DuplicateCertificate { name: String },

    #[error("contents.packages[{index}] is empty; remove it or name a package")]
    EmptyPackage { index: usize },

    #[error(
        "environment variable name \"{name}\" is invalid: it must be non-empty and must not contain '='"
    )]
    BadEnvironmentName { name: String },

    #[error("annotations has an empty key; give every annotation a name")]
    EmptyAnnotationKey,

    #[error(
        "unknown architecture \"{value}\" (expected one of {}, all or host)",
        crate::arch::KNOWN_NAMES.join(", ")
    )]
    UnknownArch { value: String },

    #[error("annotation \"{value}\" must be KEY=VALUE (or KEY:VALUE)")]
    BadAnnotation { value: String },

    #[error(
        "build option \"{name}\" is not defined under `options` ({}); check the name",
        known_list(known)
    )]
    UnknownBuildOption { name: String, known: Vec<String> },
}

impl ConfigError {
    /// Wraps a validation error with the path of the config it was found in.
    pub(crate) fn in_file(self, file: &Path) -> Self {
        match self {
            // These already say which file they are about.
            e @ (Self::Read { .. }
            | Self::Yaml { .. }
            | Self::UnknownKey { .. }
            | Self::Empty { .. }
            | Self::IncludeNotFound { .. }
            | Self::IncludeNotAFile { .. }
            | Self::IncludeCycle { .. }
            | Self::InFile { .. }) => e,
            other => Self::InFile {
                file: file.to_path_buf(),
                error: Box::new(other),
            },
        }
    }
}

fn position(file: &Path, line: u64, column: u64) -> String {
    if line == 0 {
        file.display().to_string()
    } else {
        format!("{}:{line}:{column}", file.display())
    }
}

fn list_paths(paths: &[PathBuf]) -> String {
    let mut out = String::new();
    for (i, p) in paths.iter().enumerate() {
        if i > 0 {
            out.push_str(" and ");
        }
        let _ = write!(out, "{}", p.display());
    }
    out
}

fn chain_text(chain: &[PathBuf]) -> String {
    let names: Vec<String> = chain.iter().map(|p| p.display().to_string()).collect();
    names.join(" includes ")
}

fn known_list(names: &[String]) -> String {
    if names.is_empty() {
        "none defined".to_string()
    } else {
        format!("known: {}", names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_error_without_position_names_only_the_file() {
        let e = ConfigError::Yaml {
            file: "a.yaml".into(),
            line: 0,
            column: 0,
            message: "bad".into(),
        };
        assert_eq!(e.to_string(), "a.yaml: bad");
    }

    #[test]
    fn in_file_wraps_validation_errors_once() {
        let e = ConfigError::LayeringBudgetZero.in_file(Path::new("x.yaml"));
        let again = e.in_file(Path::new("y.yaml"));
        assert!(again.to_string().starts_with("x.yaml: layering.budget"));
    }

    #[test]
    fn cycle_lists_the_chain() {
        let e = ConfigError::IncludeCycle {
            chain: vec!["a.yaml".into(), "b.yaml".into(), "a.yaml".into()],
        };
        assert_eq!(
            e.to_string(),
            "include cycle: a.yaml includes b.yaml includes a.yaml; remove one of these includes"
        );
    }
}
