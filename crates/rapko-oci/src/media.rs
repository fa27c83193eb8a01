//! Media types and well-known annotation keys, as constants so a typo is a compile error.
//!
//! rapko writes OCI media types. The Docker ones are here because registries, base images
//! and `docker save` tarballs use them, and readers must recognise both spellings of "an
//! image manifest" and "an index".

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index (a multi-platform image, or the top of an image layout).
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image configuration.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// Uncompressed OCI layer.
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// gzip-compressed OCI layer (what rapko writes).
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// zstd-compressed OCI layer.
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
/// The empty descriptor's media type (`{}`), used as the config of artifacts.
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";

/// Docker schema 2 image manifest.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list (Docker's multi-platform index).
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image configuration.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Docker gzip-compressed layer.
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// True for the media types of a single-platform image manifest (OCI or Docker).
pub fn is_manifest(media_type: &str) -> bool {
    media_type == OCI_MANIFEST || media_type == DOCKER_MANIFEST
}

/// True for the media types of an index / manifest list (OCI or Docker).
pub fn is_index(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_MANIFEST_LIST
}

/// Annotation keys defined by the OCI image spec (and one containerd convention).
pub mod annotations {
    /// The tag of a manifest in an image layout's `index.json` (`oci:DIR:TAG` looks it up).
    pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
    /// Full image name in a layout's `index.json`, as containerd, buildkit and podman read it.
    pub const CONTAINERD_IMAGE_NAME: &str = "io.containerd.image.name";
    /// Creation time (RFC 3339).
    pub const CREATED: &str = "org.opencontainers.image.created";
    /// Source repository URL.
    pub const SOURCE: &str = "org.opencontainers.image.source";
    /// Source revision (commit).
    pub const REVISION: &str = "org.opencontainers.image.revision";
    /// Human-readable title.
    pub const TITLE: &str = "org.opencontainers.image.title";
    /// Digest of the base image.
    pub const BASE_DIGEST: &str = "org.opencontainers.image.base.digest";
    /// Name of the base image.
    pub const BASE_NAME: &str = "org.opencontainers.image.base.name";
}
