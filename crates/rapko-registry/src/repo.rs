//! One repository of a registry, and the Distribution API calls on it that are not blob
//! uploads: does a blob exist (`HEAD /v2/<name>/blobs/<digest>`), does a manifest or tag
//! exist and what digest it has (`HEAD /v2/<name>/manifests/<ref>`), and putting a
//! manifest (`PUT /v2/<name>/manifests/<ref>` with our exact bytes, checking that the
//! registry stored it under our digest).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use rapko_oci::Digest;
use rapko_oci::media;
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, StatusCode, Url};

use crate::challenge::Scopes;
use crate::client::{Call, Client, Registry};
use crate::error::{Error, Result};
use crate::layout::Manifest;

/// The `Docker-Content-Digest` response header.
pub(crate) const CONTENT_DIGEST: &str = "docker-content-digest";

/// Every manifest media type we push, for `Accept` (without it some registries answer a
/// HEAD for an OCI index with 404 or a converted manifest).
const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

/// Counters of one push, shared by parallel uploads.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub blobs_uploaded: AtomicUsize,
    pub blobs_mounted: AtomicUsize,
    pub blobs_skipped: AtomicUsize,
    pub bytes_uploaded: AtomicU64,
    pub manifests_pushed: AtomicUsize,
    pub manifests_skipped: AtomicUsize,
}

impl Stats {
    pub(crate) fn add(counter: &AtomicUsize) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// A repository being pushed to.
#[derive(Debug)]
pub(crate) struct Repo<'a> {
    pub client: &'a Client,
    pub registry: Arc<Registry>,
    /// The repository path (`team/app`).
    pub name: String,
    /// Push here, pull from the repositories blobs may be mounted from.
    pub scopes: Scopes,
    pub stats: &'a Stats,
}

impl Repo<'_> {
    /// `<registry>/<name>`, for messages.
    pub(crate) fn display(&self) -> String {
        format!("{}/{}", self.registry.name, self.name)
    }

    /// `/v2/<name>/<rest>`.
    pub(crate) fn url(&self, rest: &str) -> Result<Url> {
        self.registry.url(&format!("v2/{}/{rest}", self.name))
    }

    pub(crate) async fn send(&self, call: &Call) -> Result<reqwest::Response> {
        self.client.send(&self.registry, &self.scopes, call).await
    }

    pub(crate) async fn unexpected(&self, action: &str, response: reqwest::Response) -> Error {
        self.client
            .unexpected(&self.registry, action, response)
            .await
    }

    /// True if the repository has blob `digest`.
    pub(crate) async fn blob_exists(&self, digest: &Digest) -> Result<bool> {
        let action = format!("check blob {digest} in {}", self.display());
        let call = Call::new(Method::HEAD, self.url(&format!("blobs/{digest}"))?, &action);
        let response = self.send(&call).await?;
        match response.status() {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(self.unexpected(&action, response).await),
        }
    }

    /// True if `reference` (a tag or digest) names manifest `digest` already.
    pub(crate) async fn manifest_is(&self, reference: &str, digest: &Digest) -> Result<bool> {
        let action = format!("check manifest {}:{reference}", self.display());
        let call = Call::new(
            Method::HEAD,
            self.url(&format!("manifests/{reference}"))?,
            &action,
        )
        .header(header::ACCEPT, ACCEPT_MANIFESTS);
        let response = self.send(&call).await?;
        match response.status() {
            StatusCode::OK => Ok(match content_digest(response.headers()) {
                Some(found) => found == digest.to_string(),
                // No digest header: only a lookup by digest is conclusive.
                None => reference == digest.to_string(),
            }),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(self.unexpected(&action, response).await),
        }
    }

    /// Puts `manifest` under `reference` unless it is there already; true if it was put.
    pub(crate) async fn put_manifest(&self, reference: &str, manifest: &Manifest) -> Result<bool> {
        let digest = manifest.descriptor.digest;
        if self.manifest_is(reference, &digest).await? {
            Stats::add(&self.stats.manifests_skipped);
            return Ok(false);
        }
        let action = format!("push manifest {}:{reference}", self.display());
        let media_type = if manifest.descriptor.media_type.is_empty() {
            media::OCI_MANIFEST
        } else {
            &manifest.descriptor.media_type
        };
        let call = Call::new(
            Method::PUT,
            self.url(&format!("manifests/{reference}"))?,
            &action,
        )
        .header(header::CONTENT_TYPE, media_type)
        .body(manifest.bytes.clone());
        let response = self.send(&call).await?;
        if response.status() != StatusCode::CREATED && !response.status().is_success() {
            return Err(self.unexpected(&action, response).await);
        }
        if let Some(stored) =
            content_digest(response.headers()).filter(|d| *d != digest.to_string())
        {
            return Err(Error::DigestMismatch {
                registry: self.registry.name.clone(),
                reference: format!("{}:{reference}", self.name),
                expected: digest,
                actual: stored,
            });
        }
        tracing::info!(repository = %self.display(), reference, %digest, "pushed manifest");
        Stats::add(&self.stats.manifests_pushed);
        Ok(true)
    }
}

/// The `Docker-Content-Digest` header, if present.
pub(crate) fn content_digest(headers: &HeaderMap) -> Option<String> {
    headers
        .get(CONTENT_DIGEST)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_owned())
}
