//! The one error type of the crate. Every variant names the repository URL (credentials
//! already removed), file or package it concerns; [`Error::hint`] says what the user can do.

use std::path::PathBuf;

/// Something went wrong reading a repository, a key or the cache.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid repository {spec:?}: {reason}")]
    BadRepository { spec: String, reason: String },

    #[error("invalid HTTP_AUTH: {reason} (expected basic:HOST:USER:PASSWORD)")]
    BadAuth { reason: String },

    #[error("cannot set up the HTTP client: {reason}")]
    Setup { reason: String },

    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot write to the cache at {path}")]
    CacheWrite {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot fetch {url} (tried {attempts} times): {reason}")]
    Network {
        url: String,
        attempts: u32,
        reason: String,
    },

    #[error("{url} did not answer within {seconds:.1} s (tried {attempts} times)")]
    Timeout {
        url: String,
        seconds: f64,
        attempts: u32,
    },

    #[error(
        "{url} stopped sending after {got} bytes: no data for {seconds:.1} s (tried {attempts} times)"
    )]
    Stalled {
        url: String,
        got: u64,
        seconds: f64,
        attempts: u32,
    },

    #[error("{url} did not finish within {seconds:.1} s in all (tried {attempts} times)")]
    Deadline {
        url: String,
        seconds: f64,
        attempts: u32,
    },

    #[error("{url} sent more than the {expected} bytes its index announces (S:); refused")]
    Oversized { url: String, expected: u64 },

    #[error("{url} answered {status}{}", if *.attempts > 1 { format!(" (tried {} times)", .attempts) } else { String::new() })]
    Status {
        url: String,
        status: u16,
        attempts: u32,
    },

    #[error("{url} requires authentication (HTTP {status})")]
    Unauthorized { url: String, status: u16 },

    #[error("{url} asked to retry after {seconds} s, longer than the {limit} s we wait")]
    RetryTooLate {
        url: String,
        seconds: u64,
        limit: u64,
    },

    #[error("{what} at {url} is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        what: &'static str,
        url: String,
        size: u64,
        limit: u64,
    },

    #[error("package {package} is listed in the index but not found at {url}")]
    PackageNotFound { package: String, url: String },

    #[error(
        "package {package} is listed in the index with version {version:?}, which is not a valid \
         apk version ({reason}), and {url} does not exist"
    )]
    InvalidVersion {
        package: String,
        version: String,
        reason: String,
        url: String,
    },

    #[error(
        "the cache directory {} exists and is not a directory; point --cache-dir (or \
         RAPKO_CACHE_DIR) at a directory, or remove the file",
        path.display()
    )]
    CacheNotADirectory { path: PathBuf },

    #[error("{what} not found at {url}")]
    NotFound { what: &'static str, url: String },

    #[error("cannot verify APKINDEX for {url}")]
    Index {
        url: String,
        #[source]
        source: Box<rapko_apk::Error>,
    },

    #[error("package {package} from {url} was refused")]
    Refused {
        package: String,
        url: String,
        #[source]
        source: Box<rapko_apk::Error>,
    },

    #[error("package {package} has no Q1 checksum (C:) in its index, so it cannot be verified")]
    NoChecksum { package: String },

    #[error("bad key {name} from {url}")]
    BadKey {
        name: String,
        url: String,
        #[source]
        source: Box<rapko_apk::Error>,
    },

    #[error("offline: {what} for {url} is not in the cache at {cache}")]
    Offline {
        what: String,
        url: String,
        cache: PathBuf,
    },

    #[error("{} of {total} packages could not be fetched: {}", .errors.len(), summarize(.errors))]
    Packages { total: usize, errors: Vec<Error> },
}

/// One line per failed package, cause included, so the list is useful on its own.
fn summarize(errors: &[Error]) -> String {
    errors
        .iter()
        .map(|e| {
            let mut line = e.to_string();
            let mut cause = std::error::Error::source(e);
            while let Some(c) = cause {
                line.push_str(": ");
                line.push_str(&c.to_string());
                cause = c.source();
            }
            line
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// What the user can do about it, when there is something.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            Error::Index { source, .. } => match source.as_ref() {
                rapko_apk::Error::Signature(rapko_apk::SignatureError::Invalid { .. }) => {
                    "the index may have been tampered with or corrupted in transit; \
                     retry, or check the repository's mirror"
                }
                rapko_apk::Error::Signature(_) => {
                    "add the key with --keyring-append or contents.keyring \
                     (or, at your own risk, --ignore-signatures)"
                }
                _ => "check that the URL points at an apk repository",
            },
            Error::Refused { .. } => {
                "the package does not match its signed index: the mirror may be out of date or \
                 tampered with; nothing was cached, retry or use another mirror"
            }
            Error::Unauthorized { .. } => {
                "set HTTP_AUTH=basic:HOST:USER:PASSWORD or put user:password@ in the repository URL"
            }
            Error::Offline { .. } => "run once without --offline to fill the cache",
            Error::Oversized { .. } => {
                "the server sends something other than the package the signed index lists: \
                 the mirror is broken or hostile; use another one"
            }
            Error::Timeout { .. }
            | Error::Network { .. }
            | Error::Stalled { .. }
            | Error::Deadline { .. } => {
                "check the network and the repository URL, or use --offline with a filled cache"
            }
            Error::PackageNotFound { .. } => {
                "the index lists a package the repository does not have: refresh the mirror or \
                 pin another version"
            }
            Error::InvalidVersion { .. } => {
                "the repository's index is corrupt or was edited by hand: regenerate it (apk \
                 index / melange index) or use another mirror"
            }
            Error::NotFound { .. } => "check the repository path or URL and the architecture",
            Error::NoChecksum { .. } => "use a repository index with Q1 checksums (apk-tools 2)",
            Error::TooLarge { .. } => {
                "raise the size limit in the fetch options if this is expected"
            }
            Error::Packages { errors, .. } => return errors.first().and_then(Error::hint),
            _ => return None,
        };
        Some(hint.to_owned())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
