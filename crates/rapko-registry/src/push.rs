//! Pushing one image (a manifest, or an index and its manifests) from an image layout to
//! one or more destinations, with SBOMs attached.
//!
//! Order matters for what a reader of the registry can see mid-push:
//! 1. per repository, every blob (configs, layers, SBOMs, the `{}` config), in
//!    parallel up to `Options::parallelism`;
//! 2. per repository, the manifests by digest, children first (per-arch manifests, then
//!    the index), then the SBOM artifact manifests by digest;
//! 3. after every repository has everything: the SBOM fallback tags, then the
//!    destinations' tags.
//!
//! So a tag is only ever written once the image it names is complete in every
//! destination; a push that fails leaves old tags where they were. Every step checks
//! first (`HEAD`), so a re-run after a failure only does what is missing, and pushing
//! the same image again uploads nothing. When several destinations share a registry,
//! blobs already pushed to the first are mounted into the others instead of uploaded
//! again.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use futures_util::TryStreamExt as _;
use rapko_oci::Descriptor;

use crate::challenge::Scopes;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::layout::{Blob, Graph, Layout, Root};
use crate::options::Options;
use crate::reference::Reference;
use crate::repo::{Repo, Stats};
use crate::sbom::{self, Attachment, Sbom};

/// What to push, and where.
#[derive(Debug, Clone)]
pub struct PushRequest {
    /// The OCI image layout directory (or blob store directory) holding the image.
    pub layout: PathBuf,
    /// Which image of the layout.
    pub root: Root,
    /// Destinations, e.g. `registry.example/team/app:v1`. Each gets the image; those with
    /// a tag get the tag. One without tag is pushed by digest only; one with a digest
    /// must name the image's digest.
    pub destinations: Vec<Reference>,
    /// SBOMs to attach to the image's manifests or index.
    pub sboms: Vec<Sbom>,
    /// Other repositories of the destinations' registries that may already hold some of
    /// the blobs (a base image, a previous release): mounted instead of uploaded.
    pub mount_from: Vec<String>,
}

impl PushRequest {
    /// Pushes `root` of `layout` to `destinations`, no SBOMs, no mounts.
    pub fn new(layout: impl Into<PathBuf>, root: Root, destinations: Vec<Reference>) -> Self {
        Self {
            layout: layout.into(),
            root,
            destinations,
            sboms: Vec::new(),
            mount_from: Vec::new(),
        }
    }
}

/// A destination and the digest reference it resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedReference {
    /// The destination as requested (`registry/repo:tag`).
    pub requested: Reference,
    /// `registry/repo@sha256:…`.
    pub pinned: Reference,
}

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushReport {
    /// The pushed manifest or index.
    pub root: Descriptor,
    /// One per destination, in order.
    pub references: Vec<PushedReference>,
    /// The SBOM artifact manifests attached.
    pub sboms: Vec<Descriptor>,
    /// Blobs uploaded (summed over destinations).
    pub blobs_uploaded: usize,
    /// Blobs mounted from another repository.
    pub blobs_mounted: usize,
    /// Blobs the registry had already.
    pub blobs_skipped: usize,
    /// Bytes of blob data sent (retried bytes included).
    pub bytes_uploaded: u64,
    /// Manifests and tags written.
    pub manifests_pushed: usize,
    /// Manifests and tags that were already right.
    pub manifests_skipped: usize,
}

impl PushReport {
    /// The `registry/repo@sha256:…` references, each once, in destination order: the
    /// lines of an `--image-refs` file.
    pub fn image_refs(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in &self.references {
            let line = r.pinned.to_string();
            if !out.contains(&line) {
                out.push(line);
            }
        }
        out
    }
}

/// Pushes `request` (see the module documentation for the order of things).
pub async fn push(request: &PushRequest, options: &Options) -> Result<PushReport> {
    let graph = Layout::new(&request.layout).graph(&request.root)?;
    check_destinations(request, &graph)?;
    let attachments = sbom::attach(&request.sboms, &graph)?;
    let client = Client::new(options.clone())?;
    let stats = Stats::default();
    let repos = group_by_repository(&request.destinations);
    let mut done: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (registry, repository) in repos.keys() {
        let mut mount_from = request.mount_from.clone();
        mount_from.extend(done.get(registry).into_iter().flatten().cloned());
        let repo = open_repo(&client, &stats, registry, repository, &mount_from)?;
        push_content(&repo, &graph, &attachments, &mount_from).await?;
        done.entry(registry.clone())
            .or_default()
            .push(repository.clone());
    }
    for ((registry, repository), destinations) in &repos {
        let repo = open_repo(&client, &stats, registry, repository, &[])?;
        write_tags(&repo, &graph, &attachments, destinations).await?;
    }
    Ok(report(request, &graph, &attachments, &stats))
}

/// Destinations grouped by (registry, repository), in a stable order.
fn group_by_repository(destinations: &[Reference]) -> BTreeMap<(String, String), Vec<&Reference>> {
    let mut map: BTreeMap<(String, String), Vec<&Reference>> = BTreeMap::new();
    for d in destinations {
        map.entry((d.registry().to_owned(), d.repository().to_owned()))
            .or_default()
            .push(d);
    }
    map
}

fn check_destinations(request: &PushRequest, graph: &Graph) -> Result<()> {
    if request.destinations.is_empty() {
        return Err(Error::NoTargets);
    }
    for d in &request.destinations {
        if let Some(wanted) = d.digest().filter(|w| **w != graph.root.digest) {
            return Err(Error::TargetDigest {
                reference: d.to_string(),
                wanted: *wanted,
                actual: graph.root.digest,
            });
        }
    }
    Ok(())
}

fn open_repo<'a>(
    client: &'a Client,
    stats: &'a Stats,
    registry: &str,
    repository: &str,
    mount_from: &[String],
) -> Result<Repo<'a>> {
    Ok(Repo {
        client,
        registry: client.registry(registry)?,
        name: repository.to_owned(),
        scopes: Scopes::push(repository, mount_from),
        stats,
    })
}

/// Steps 1 and 2: blobs, then manifests by digest.
async fn push_content(
    repo: &Repo<'_>,
    graph: &Graph,
    attachments: &[Attachment],
    mount_from: &[String],
) -> Result<()> {
    let blobs = all_blobs(graph, attachments);
    let parallelism = repo.client.options().parallelism.max(1);
    futures_util::stream::iter(blobs.iter().map(Ok))
        .try_for_each_concurrent(parallelism, |blob| async move {
            repo.push_blob(blob, mount_from).await.map(|_| ())
        })
        .await?;
    for manifest in graph
        .manifests
        .iter()
        .chain(attachments.iter().map(|a| &a.manifest))
    {
        repo.put_manifest(&manifest.descriptor.digest.to_string(), manifest)
            .await?;
    }
    Ok(())
}

/// Every blob of the image and its SBOMs, each once.
fn all_blobs(graph: &Graph, attachments: &[Attachment]) -> Vec<Blob> {
    let mut blobs: BTreeMap<_, Blob> = graph.blobs.iter().map(|b| (b.digest, b.clone())).collect();
    for a in attachments {
        blobs.entry(a.blob.digest).or_insert_with(|| a.blob.clone());
    }
    if !attachments.is_empty() {
        let empty = sbom::empty_blob();
        blobs.entry(empty.digest).or_insert(empty);
    }
    // Largest first: the long uploads start early and the small ones fill the gaps.
    let mut list: Vec<Blob> = blobs.into_values().collect();
    list.sort_by(|a, b| b.size.cmp(&a.size).then(a.digest.cmp(&b.digest)));
    list
}

/// Step 3: SBOM fallback tags, then the destinations' tags.
async fn write_tags(
    repo: &Repo<'_>,
    graph: &Graph,
    attachments: &[Attachment],
    destinations: &[&Reference],
) -> Result<()> {
    for a in attachments {
        if let Some(tag) = &a.fallback_tag {
            repo.put_manifest(tag, &a.manifest).await?;
        }
    }
    let root = graph
        .manifest(&graph.root.digest)
        .ok_or_else(|| Error::Setup {
            reason: format!("the walk of {} lost its root", graph.root.digest),
        })?;
    for tag in destinations.iter().filter_map(|d| d.tag()) {
        repo.put_manifest(tag, root).await?;
    }
    Ok(())
}

fn report(
    request: &PushRequest,
    graph: &Graph,
    attachments: &[Attachment],
    stats: &Stats,
) -> PushReport {
    let references = request
        .destinations
        .iter()
        .map(|d| PushedReference {
            requested: d.clone(),
            pinned: d.with_digest(graph.root.digest),
        })
        .collect();
    PushReport {
        root: graph.root.clone(),
        references,
        sboms: attachments
            .iter()
            .map(|a| a.manifest.descriptor.clone())
            .collect(),
        blobs_uploaded: stats.blobs_uploaded.load(Ordering::Relaxed),
        blobs_mounted: stats.blobs_mounted.load(Ordering::Relaxed),
        blobs_skipped: stats.blobs_skipped.load(Ordering::Relaxed),
        bytes_uploaded: stats.bytes_uploaded.load(Ordering::Relaxed),
        manifests_pushed: stats.manifests_pushed.load(Ordering::Relaxed),
        manifests_skipped: stats.manifests_skipped.load(Ordering::Relaxed),
    }
}
