//! OCI and Docker image formats for rapko: the JSON types (descriptor, manifest, index,
//! image config) with deterministic serialization, content digests, a parallel gzip
//! layer writer that hashes as it streams, a content-addressed blob store, and the two
//! outputs of a build: an OCI image layout directory and a single tarball that is both
//! an OCI layout and a `docker load` archive.
//!
//! It knows nothing of APK packages or of how a root filesystem is made: it is given an
//! uncompressed tar stream and image metadata. Pushing to a registry comes later, behind
//! a feature, so this half stays free of networking.

// Tests unwrap freely: a panic there is a test failure with a backtrace, which is the point.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod config;
pub mod descriptor;
pub mod digest;
pub mod gzip;
pub mod manifest;
pub mod media;
pub mod name;
pub mod output;
pub mod store;

pub use config::{ContainerConfig, EmptyObject, History, ImageConfig, RootFs, rfc3339_utc};
pub use descriptor::{Descriptor, Platform, to_json_blob};
pub use digest::{Digest, DigestError, Hasher, HashingReader, HashingWriter, digest_reader};
pub use gzip::{GzipError, GzipOptions, LayerInfo, LayerWriter, gzip_bytes};
pub use manifest::{ImageIndex, ImageManifest};
pub use name::{ImageName, NameError};
pub use output::{OutputError, TaggedImage, TarballOptions, write_layout_dir, write_tarball};
pub use store::{BlobStore, BlobWriter, StoreError, StoreLayerWriter};
