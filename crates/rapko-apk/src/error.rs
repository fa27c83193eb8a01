//! The error type of the format library. Every variant carries what was being read (an entry
//! name, a field, a key) so that callers only add the file or URL.

use crate::dependency::DependencyError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not a gzip stream at byte {offset}: {source}")]
    Gzip {
        offset: usize,
        #[source]
        source: std::io::Error,
    },
    #[error("truncated: {0}")]
    Truncated(String),
    #[error("bad tar archive: {0}")]
    Tar(String),
    #[error("missing {0}")]
    Missing(&'static str),
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
    #[error("field {field}: {source}")]
    Dependency {
        field: &'static str,
        #[source]
        source: DependencyError,
    },
    #[error("{what} is {actual} bytes, over the limit of {limit} bytes")]
    TooLarge {
        what: String,
        actual: u64,
        limit: u64,
    },
    #[error("{what} checksum mismatch: expected {expected}, got {actual}")]
    ChecksumMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("bad key {name}: {reason}")]
    BadKey { name: String, reason: String },
    #[error("{0}")]
    Signature(#[from] crate::keyring::SignatureError),
    #[error("unsafe path {path:?}: {reason}")]
    UnsafePath { path: String, reason: &'static str },
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
