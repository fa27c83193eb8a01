//! OCI and Docker image formats for rapko: the JSON types (descriptor, manifest, index,
//! image config) with deterministic serialization, content digests, a parallel gzip
//! layer writer that hashes as it streams, a content-addressed blob store, and the two
//! outputs of a build: an OCI image layout directory and a single tarball that is both
//! an OCI layout and a `docker load` archive.
//!
//! It knows nothing of APK packages or of how a root filesystem is made: it is given an
//! uncompressed tar stream and image metadata. Pushing to a registry comes later, behind
//! a feature, so this half stays free of networking.
//!
//! A build uses it in three steps: per architecture, stream the root filesystem's tar
//! into a [`StoreLayerWriter`] and store the config and manifest; then store an index of
//! the manifests; then write the outputs from the store.
//!
//! ```
//! use std::io::Write;
//! use rapko_oci::*;
//!
//! let out = tempfile::tempdir()?;
//! // Beside the outputs, so the layout directory can hard-link blobs.
//! let store = BlobStore::temporary_in(out.path())?;
//!
//! let mut manifests = Vec::new();
//! let platforms = [Platform::new("amd64", "linux"), Platform::new("arm64", "linux").with_variant("v8")];
//! for platform in platforms {
//!     let mut layer = store.layer_writer(GzipOptions::default())?;
//!     tar::Builder::new(&mut layer).into_inner()?; // the rootfs tar goes here
//!     let layer = layer.finish()?;
//!
//!     let mut config = ImageConfig::for_platform(&platform, vec![layer.diff_id]);
//!     config.created = Some(rfc3339_utc(1_700_000_000));
//!     config.config.cmd = Some(vec!["/bin/sh".into()]);
//!     let config = store.put_config(&config)?;
//!
//!     let manifest = ImageManifest::new(config, vec![layer.descriptor()]);
//!     manifests.push(store.put_manifest(&manifest)?.with_platform(platform));
//! }
//! let index = store.put_index(&ImageIndex::new(manifests))?;
//!
//! let image = TaggedImage::new(index, vec!["alpine:3.19".parse()?]);
//! let tarball = out.path().join("image.tar");
//! write_tarball(&store, std::slice::from_ref(&image), &tarball, &TarballOptions::default())?;
//! write_layout_dir(&store, &[image], &out.path().join("layout"))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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
pub use digest::{Digest, DigestError, DigestHasher, HashingReader, HashingWriter, digest_reader};
pub use gzip::{GzipError, GzipOptions, LayerInfo, LayerWriter, gzip_bytes};
pub use manifest::{ImageIndex, ImageManifest};
pub use name::{ImageName, NameError};
pub use output::{OutputError, TaggedImage, TarballOptions, write_layout_dir, write_tarball};
pub use store::{BlobStore, BlobWriter, StoreError, StoreLayerWriter};
