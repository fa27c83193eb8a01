//! Push OCI images, indexes and SBOM artifacts to registries over the Distribution API
//! (the push half of `rapko publish`), and log in to registries the way docker does.
//!
//! The input is an OCI image layout directory as rapko-oci writes it (or any
//! `blobs/sha256/…` directory plus the root descriptor). [`push`] uploads what the
//! registry lacks (HEAD first; cross-repository mounts; chunked uploads for big blobs;
//! bounded parallelism; retries that resume or restart upload sessions), pushes our exact
//! manifest bytes so digests stay ours, attaches SBOMs as OCI artifacts with the
//! `sha256-<hex>.sbom` tag fallback, and writes tags last. Credentials come from the
//! docker config (`auths`, credential helpers); Basic and Bearer-token registries work.
//! [`blocking`] offers the same without async for the CLI.
//!
//! It does not pull images, delete anything, or speak the docker schema 1 format, and it
//! never prints or logs a password or token.
//!
//! ```no_run
//! use rapko_registry::{Options, PushRequest, Root, Sbom, blocking};
//! # fn build() -> (rapko_oci::BlobStore, rapko_oci::Descriptor, Vec<u8>) { unimplemented!() }
//! // After a build: its blob store, the root (index or manifest), an SBOM of the root.
//! let (store, root, spdx) = build();
//! let mut request = PushRequest::new(
//!     store.root(),
//!     Root::Descriptor(root.clone()),
//!     vec!["registry.example/team/app:1.0".parse()?, "registry.example/team/app:latest".parse()?],
//! );
//! request.sboms.push(Sbom::spdx(root.digest, spdx));
//! let report = blocking::push(&request, &Options::default())?;
//! for line in report.image_refs() {
//!     println!("{line}"); // registry.example/team/app@sha256:…
//! }
//! # Ok::<(), rapko_registry::Error>(())
//! ```

// Tests unwrap freely: a panic there is a test failure with a backtrace, which is the point.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod blocking;
mod challenge;
mod client;
mod credentials;
mod error;
mod layout;
mod login;
mod options;
mod push;
mod reference;
mod repo;
mod sbom;
mod upload;

pub use credentials::{Credentials, DockerConfig, StoredIn};
pub use error::{Error, Result};
pub use layout::Root;
pub use login::{check_credentials, logout, store_credentials};
pub use options::{Auth, Options, RetryPolicy, Timeouts};
pub use push::{PushReport, PushRequest, PushedReference, push};
pub use reference::{DOCKER_HUB, Reference, normalize_registry};
pub use sbom::{CYCLONEDX_JSON, SPDX_JSON, Sbom, fallback_tag};
