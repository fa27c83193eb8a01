//! The one error type of the crate. Package data never causes an error (odd licenses, URLs
//! or embedded SBOMs are mapped or skipped with a warning); only an inconsistent input
//! assembled by the caller does.

/// Why an SBOM could not be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A dependency edge names a package index that is not in `packages`.
    #[error(
        "dependency edge {from} -> {to} names a package outside the {count} packages of the input; \
         edges must be indices into ImageSbomInput::packages"
    )]
    DependencyOutOfRange {
        from: usize,
        to: usize,
        count: usize,
    },
    /// A digest is not `sha256:` followed by 64 lowercase hex digits.
    #[error(
        "{what} {digest:?} is not a sha256 digest (expected \"sha256:\" and 64 lowercase hex digits)"
    )]
    BadDigest { what: &'static str, digest: String },
    /// serde_json failed to write the document (not expected: every type is plain data).
    #[error("cannot serialize the {format} document: {source}")]
    Json {
        format: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
