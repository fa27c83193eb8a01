//! The crate's one error type. Every message names the registry, repository, digest or
//! file involved and, where the user can do something about it, says what. No message
//! ever contains a password or a token.

use std::io;
use std::path::PathBuf;

use rapko_oci::Digest;

/// Everything that can go wrong reading a layout, talking to a registry or handling
/// credentials.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An image reference does not follow the `registry/repository[:tag][@digest]` grammar.
    #[error("invalid image reference {reference:?}: {reason}")]
    InvalidReference {
        /// The text given.
        reference: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A file of the image layout cannot be read.
    #[error(
        "cannot read {path}: {source}; check that the image layout directory exists and is readable"
    )]
    LayoutRead {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },

    /// A JSON file of the image layout does not parse.
    #[error("{path} is not a valid {what}: {source}; rebuild the image")]
    LayoutJson {
        /// The file.
        path: PathBuf,
        /// What it should be ("image index", "image manifest").
        what: &'static str,
        /// The parse error.
        source: serde_json::Error,
    },

    /// The image to push cannot be found in the layout's `index.json`.
    #[error(
        "the image layout {layout} has no image {wanted} (it has: {available}); name one of these or pass the root descriptor"
    )]
    RootNotFound {
        /// The layout directory.
        layout: PathBuf,
        /// What was asked for (a tag, a digest, or "single top-level image").
        wanted: String,
        /// What the layout has.
        available: String,
    },

    /// A blob the image needs is not in the layout.
    #[error(
        "blob {digest} ({what}) is missing from the image layout {layout}; rebuild the image or write the layout again"
    )]
    BlobMissing {
        /// The layout directory.
        layout: PathBuf,
        /// The blob.
        digest: Digest,
        /// What refers to it.
        what: String,
    },

    /// A blob's size or digest differs from its descriptor.
    #[error(
        "blob {digest} at {path} does not match its descriptor ({detail}); the layout is corrupt, rebuild the image"
    )]
    BlobMismatch {
        /// The blob.
        digest: Digest,
        /// Its file.
        path: PathBuf,
        /// Expected and actual values.
        detail: String,
    },

    /// A root or index entry is neither an image manifest nor an index.
    #[error(
        "{digest} has media type {media_type:?}; only image manifests and image indexes can be pushed"
    )]
    NotAnImage {
        /// The blob.
        digest: Digest,
        /// Its media type.
        media_type: String,
    },

    /// The push request names no destination.
    #[error("nothing to push to: give at least one destination such as registry.example/app:tag")]
    NoTargets,

    /// A destination's digest is not the image's.
    #[error(
        "destination {reference} asks for digest {wanted}, but the image to push is {actual}; drop the @digest or push the matching image"
    )]
    TargetDigest {
        /// The destination as given.
        reference: String,
        /// Its digest.
        wanted: Digest,
        /// The root's digest.
        actual: Digest,
    },

    /// An SBOM's subject is not part of the pushed image.
    #[error(
        "an SBOM ({media_type}) is attached to {subject}, which is not a manifest or index of the image being pushed; attach SBOMs to the image's own manifests"
    )]
    SbomSubject {
        /// The subject digest given.
        subject: Digest,
        /// The SBOM's media type.
        media_type: String,
    },

    /// The registry could not be reached (refused, reset, timed out), even after retries.
    #[error(
        "cannot reach registry {registry} ({action}) after {attempts} attempt(s): {reason}; check that the registry is running and the address is right"
    )]
    Network {
        /// The registry host.
        registry: String,
        /// What was being done, with the URL.
        action: String,
        /// Tries made.
        attempts: u32,
        /// The transport error.
        reason: String,
    },

    /// The registry answered with an error status.
    #[error("registry {registry} answered HTTP {status} to {action}{detail}")]
    Status {
        /// The registry host.
        registry: String,
        /// What was being done.
        action: String,
        /// The HTTP status.
        status: u16,
        /// The registry's error codes and messages, with a leading `: ` (or empty).
        detail: String,
    },

    /// The registry wants credentials and we have none.
    #[error(
        "registry {registry} requires authentication for {scope}{detail}; run `rapko login {registry}` or add credentials for it to the docker config.json"
    )]
    AuthRequired {
        /// The registry host.
        registry: String,
        /// The repository (or "the registry" for a login check).
        scope: String,
        /// The registry's message, with a leading `: ` (or empty).
        detail: String,
    },

    /// The registry rejected the credentials we sent.
    #[error(
        "registry {registry} rejected the credentials of user {username:?} for {scope}{detail}; check the user name and password and run `rapko login {registry}` again"
    )]
    AuthRejected {
        /// The registry host.
        registry: String,
        /// The user name sent (never the password).
        username: String,
        /// The repository (or "the registry").
        scope: String,
        /// The registry's message, with a leading `: ` (or empty).
        detail: String,
    },

    /// The credentials are valid but may not do what was asked (HTTP 403).
    #[error(
        "registry {registry} denied {action}{detail}; check that the account may push to this repository"
    )]
    Denied {
        /// The registry host.
        registry: String,
        /// What was being done.
        action: String,
        /// The registry's message, with a leading `: ` (or empty).
        detail: String,
    },

    /// The token server did not give a usable token.
    #[error("cannot get a bearer token for registry {registry} from {realm}: {reason}")]
    Token {
        /// The registry host.
        registry: String,
        /// The token endpoint.
        realm: String,
        /// What went wrong.
        reason: String,
    },

    /// The registry's `WWW-Authenticate` header is not one rapko understands.
    #[error(
        "registry {registry} asks for authentication rapko does not support ({challenge:?}); only Basic and Bearer are supported"
    )]
    Challenge {
        /// The registry host.
        registry: String,
        /// The header (it carries no secret).
        challenge: String,
    },

    /// The registry answered in a way the protocol does not allow.
    #[error("registry {registry} answered {action} unexpectedly: {reason}")]
    Protocol {
        /// The registry host.
        registry: String,
        /// What was being done.
        action: String,
        /// What was wrong.
        reason: String,
    },

    /// The registry stored a manifest under a different digest than ours.
    #[error(
        "registry {registry} stored {reference} as {actual}, but rapko pushed {expected}; the registry rewrote the manifest, so references by digest would not match"
    )]
    DigestMismatch {
        /// The registry host.
        registry: String,
        /// `repository:tag` or `repository@digest`.
        reference: String,
        /// Our digest.
        expected: Digest,
        /// What the registry reported.
        actual: String,
    },

    /// The docker config file cannot be read or parsed.
    #[error(
        "cannot use docker config {path}: {reason}; fix the file or point DOCKER_CONFIG at another directory"
    )]
    DockerConfig {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },

    /// The docker config file cannot be written.
    #[error("cannot write docker config {path}: {source}; check that its directory is writable")]
    DockerConfigWrite {
        /// The file (or directory).
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },

    /// No docker config location is known (no `DOCKER_CONFIG`, no home directory).
    #[error(
        "cannot find the docker config: DOCKER_CONFIG is not set and there is no home directory; set DOCKER_CONFIG to a directory"
    )]
    NoDockerConfig,

    /// A `docker-credential-<helper>` program failed.
    #[error(
        "credential helper docker-credential-{helper} failed for {registry}: {reason}; check that it is installed, on PATH, and unlocked"
    )]
    CredentialHelper {
        /// The helper's name (the part after `docker-credential-`).
        helper: String,
        /// The registry.
        registry: String,
        /// What went wrong (never the secret).
        reason: String,
    },

    /// The HTTP client or async runtime could not be set up.
    #[error("cannot set up the registry client: {reason}")]
    Setup {
        /// What failed.
        reason: String,
    },
}

impl Error {
    /// True when trying again may help: transport failures, 5xx, 408 and 429.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Network { .. } => true,
            Error::Status { status, .. } => matches!(status, 408 | 429 | 500..=599),
            _ => false,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
