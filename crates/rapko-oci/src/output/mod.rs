//! The outputs of a build: an OCI image layout directory, and one tarball that is both an
//! OCI image layout and a `docker load` archive.
//!
//! Both start from a [`BlobStore`] holding everything the build produced and a list of
//! [`TaggedImage`]s (a root manifest or index plus names). The walk from each root (the
//! "plan") finds every blob to include, checks each is present with the right size, and
//! decides the names:
//!
//! * `index.json` gets one entry per name pointing at the root, annotated with
//!   `org.opencontainers.image.ref.name` = the tag (what `oci:DIR:TAG`, `umoci --image
//!   DIR:TAG` and `skopeo` look up) and `io.containerd.image.name` = the full name (what
//!   containerd and podman name an imported image after).
//! * When the root is an index, each platform's manifest also gets entries tagged
//!   `TAG-<arch>` (`TAG-arm_v7` when two manifests share an architecture), so single-arch
//!   tools like `umoci unpack` can pick one, and `manifest.json` (the `docker load` view)
//!   lists every platform image under `name:TAG-<arch>`, as apko does. With more than
//!   one entry in `index.json`, loaders that try the OCI view first without a name fall
//!   back to `manifest.json` and load every platform.
//! * When the root is a single manifest, `manifest.json` uses the names as given.
//!
//! `manifest.json` spells names in full (`docker.io/library/alpine:3.19`): Docker shows
//! that as `alpine:3.19` either way, and podman would otherwise file short names under
//! `localhost/` when it loads `manifest.json` but under `docker.io/library/` when it
//! loads the same image through `index.json`.

mod layout;
mod tarball;

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::PathBuf;

use serde::Serialize;

use crate::descriptor::Descriptor;
use crate::digest::Digest;
use crate::manifest::{ImageIndex, ImageManifest};
use crate::media::{self, annotations};
use crate::name::{ImageName, NameError};
use crate::store::{BlobStore, StoreError};

pub use layout::write_layout_dir;
pub use tarball::{TarballOptions, write_tarball};

/// Errors writing an output.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// Nothing to write.
    #[error("no images to write; build at least one image before writing the output")]
    NoImages,
    /// Reading from the blob store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A referenced blob is not in the store.
    #[error(
        "blob {digest} ({what}) is not in the blob store at {root}; store every layer, config and manifest before writing the output"
    )]
    MissingBlob {
        /// The blob.
        digest: Digest,
        /// What refers to it.
        what: String,
        /// The store.
        root: PathBuf,
    },
    /// A stored blob's size differs from its descriptor.
    #[error(
        "blob {digest} at {path} is {actual} bytes but its descriptor says {expected}; the store is corrupt or the descriptor is stale"
    )]
    SizeMismatch {
        /// The blob.
        digest: Digest,
        /// Its path.
        path: PathBuf,
        /// The descriptor's size.
        expected: u64,
        /// The file's size.
        actual: u64,
    },
    /// A root (or an index entry) is neither an image manifest nor an index.
    #[error("{digest} has media type {media_type:?}; expected an image manifest or image index")]
    NotAnImage {
        /// The blob.
        digest: Digest,
        /// Its media type.
        media_type: String,
    },
    /// An index entry has no platform, so it cannot get a per-arch tag.
    #[error(
        "manifest {manifest} in index {index} has no platform; set the descriptor's platform when adding it to the index"
    )]
    NoPlatform {
        /// The manifest.
        manifest: Digest,
        /// The index.
        index: Digest,
    },
    /// Two manifests of one index have the same platform.
    #[error(
        "index {index} lists two images for platform {platform}; each platform may appear once"
    )]
    DuplicatePlatform {
        /// The index.
        index: Digest,
        /// The platform, as `os/arch[/variant]`.
        platform: String,
    },
    /// One tag was given to two different images (an image layout's `index.json` finds
    /// images by tag alone, whatever the repository).
    #[error(
        "the tag {name:?} is given to two different images ({first} and {second}); give each image its own tag"
    )]
    DuplicateName {
        /// The name.
        name: String,
        /// One image.
        first: Digest,
        /// The other.
        second: Digest,
    },
    /// A per-arch tag would be invalid.
    #[error(transparent)]
    Name(#[from] NameError),
    /// Writing the output failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// An existing `index.json` in the destination cannot be read.
    #[error(
        "existing {path} is not a valid image index ({source}); remove it or write to an empty directory"
    )]
    ExistingIndex {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
}

/// An image in a [`BlobStore`] and the names to give it in an output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedImage {
    /// An image manifest, or an image index of per-platform manifests.
    pub root: Descriptor,
    /// Names such as `alpine:3.19`; may be empty (the image is then only reachable by
    /// digest, and absent from `manifest.json`).
    pub names: Vec<ImageName>,
}

impl TaggedImage {
    /// `root` with `names`.
    pub fn new(root: Descriptor, names: Vec<ImageName>) -> Self {
        Self { root, names }
    }
}

/// One entry of a docker-load `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
struct DockerEntry {
    /// The image's manifest, to merge the tags of an image reached twice.
    #[serde(skip)]
    manifest: Digest,
    config: String,
    repo_tags: Vec<String>,
    layers: Vec<String>,
}

/// Everything an output needs, resolved and checked.
#[derive(Debug, Default)]
struct Plan {
    /// Every blob to include.
    blobs: BTreeSet<Digest>,
    /// Sizes, to check the store and to write tar headers.
    sizes: BTreeMap<Digest, u64>,
    /// The `manifests` of `index.json`, in output order.
    index_entries: Vec<Descriptor>,
    /// `manifest.json`.
    docker: Vec<DockerEntry>,
}

/// An image manifest found under a root.
struct PlatformImage {
    manifest: Descriptor,
    parsed: ImageManifest,
}

/// The path of a blob inside a layout (and in `manifest.json`).
fn blob_path(digest: &Digest) -> String {
    format!("blobs/{}/{}", digest.algorithm(), digest.hex())
}

impl Plan {
    fn build(store: &BlobStore, images: &[TaggedImage]) -> Result<Self, OutputError> {
        if images.is_empty() {
            return Err(OutputError::NoImages);
        }
        let mut plan = Self::default();
        let mut tags: BTreeMap<String, Digest> = BTreeMap::new();
        for image in images {
            let found = plan.walk(store, &image.root, "root image")?;
            if media::is_index(&image.root.media_type) {
                plan.add_index_root(image, &found, &mut tags)?;
            } else {
                let repo_tags: Vec<String> =
                    image.names.iter().map(ImageName::normalized).collect();
                for p in &found {
                    plan.add_docker(p, repo_tags.clone());
                }
                plan.add_named(&image.root, &image.names, &mut tags)?;
            }
        }
        Ok(plan)
    }

    /// Entries for an index root: the index under each name, and each platform manifest
    /// under each name with a `-<arch>` suffix.
    fn add_index_root(
        &mut self,
        image: &TaggedImage,
        found: &[PlatformImage],
        tags: &mut BTreeMap<String, Digest>,
    ) -> Result<(), OutputError> {
        self.add_named(&image.root, &image.names, tags)?;
        let suffixes = arch_suffixes(&image.root, found)?;
        for (p, suffix) in found.iter().zip(suffixes) {
            let names = image
                .names
                .iter()
                .map(|n| n.with_tag_suffix(&format!("-{suffix}")))
                .collect::<Result<Vec<_>, _>>()?;
            self.add_docker(p, names.iter().map(ImageName::normalized).collect());
            self.add_named(&p.manifest, &names, tags)?;
        }
        Ok(())
    }

    /// Adds `descriptor` to `index.json` once per name. `index.json` is looked up by tag
    /// alone (`oci:DIR:TAG`), so `tags` maps each tag to the one image it may name.
    fn add_named(
        &mut self,
        descriptor: &Descriptor,
        names: &[ImageName],
        tags: &mut BTreeMap<String, Digest>,
    ) -> Result<(), OutputError> {
        for name in names {
            match tags.get(name.tag()) {
                // Another repository with the same tag and image: one entry serves both.
                Some(d) if *d == descriptor.digest => continue,
                Some(d) => {
                    return Err(OutputError::DuplicateName {
                        name: name.tag().to_owned(),
                        first: *d,
                        second: descriptor.digest,
                    });
                }
                None => {
                    tags.insert(name.tag().to_owned(), descriptor.digest);
                }
            }
            let mut entry = descriptor.clone();
            entry
                .annotations
                .insert(annotations::REF_NAME.to_owned(), name.tag().to_owned());
            entry.annotations.insert(
                annotations::CONTAINERD_IMAGE_NAME.to_owned(),
                name.normalized(),
            );
            self.index_entries.push(entry);
        }
        if names.is_empty()
            && !self
                .index_entries
                .iter()
                .any(|e| e.digest == descriptor.digest)
        {
            self.index_entries.push(descriptor.clone());
        }
        Ok(())
    }

    /// Adds (or extends the tags of) a `manifest.json` entry for an image.
    fn add_docker(&mut self, p: &PlatformImage, tags: Vec<String>) {
        let manifest = p.manifest.digest;
        if let Some(existing) = self.docker.iter_mut().find(|e| e.manifest == manifest) {
            for t in tags {
                if !existing.repo_tags.contains(&t) {
                    existing.repo_tags.push(t);
                }
            }
            return;
        }
        self.docker.push(DockerEntry {
            manifest,
            config: blob_path(&p.parsed.config.digest),
            repo_tags: tags,
            layers: p
                .parsed
                .layers
                .iter()
                .map(|l| blob_path(&l.digest))
                .collect(),
        });
    }

    /// Records `d` and everything it references; returns the image manifests found.
    fn walk(
        &mut self,
        store: &BlobStore,
        d: &Descriptor,
        what: &str,
    ) -> Result<Vec<PlatformImage>, OutputError> {
        self.include(store, d, what)?;
        if media::is_index(&d.media_type) {
            let index: ImageIndex = store.read_json(&d.digest, "image index")?;
            let mut found = Vec::new();
            for m in &index.manifests {
                let what = format!("entry of index {}", d.digest);
                found.extend(self.walk(store, m, &what)?);
            }
            if let Some(s) = &index.subject {
                self.include(store, s, &format!("subject of index {}", d.digest))?;
            }
            return Ok(found);
        }
        if !media::is_manifest(&d.media_type) {
            return Err(OutputError::NotAnImage {
                digest: d.digest,
                media_type: d.media_type.clone(),
            });
        }
        let parsed: ImageManifest = store.read_json(&d.digest, "image manifest")?;
        self.include(
            store,
            &parsed.config,
            &format!("config of manifest {}", d.digest),
        )?;
        for l in &parsed.layers {
            self.include(store, l, &format!("layer of manifest {}", d.digest))?;
        }
        // Artifacts (an SBOM attached by `subject`, say) are copied but are not images.
        let is_image = parsed.config.media_type == media::OCI_CONFIG
            || parsed.config.media_type == media::DOCKER_CONFIG;
        Ok(if is_image {
            vec![PlatformImage {
                manifest: d.clone(),
                parsed,
            }]
        } else {
            Vec::new()
        })
    }

    /// Checks that blob `d` is in the store with the right size, and records it.
    fn include(
        &mut self,
        store: &BlobStore,
        d: &Descriptor,
        what: &str,
    ) -> Result<(), OutputError> {
        if self.blobs.contains(&d.digest) {
            return Ok(());
        }
        let path = store.blob_path(&d.digest);
        let actual = match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => m.len(),
            _ => {
                return Err(OutputError::MissingBlob {
                    digest: d.digest,
                    what: what.to_owned(),
                    root: store.root().to_owned(),
                });
            }
        };
        if actual != d.size {
            return Err(OutputError::SizeMismatch {
                digest: d.digest,
                path,
                expected: d.size,
                actual,
            });
        }
        self.blobs.insert(d.digest);
        self.sizes.insert(d.digest, d.size);
        Ok(())
    }

    /// `index.json`'s bytes: `kept` (entries of an existing index.json) then ours.
    fn index_json(&self, kept: Vec<Descriptor>) -> Result<Vec<u8>, OutputError> {
        let mut manifests = kept;
        manifests.extend(self.index_entries.iter().cloned());
        serde_json::to_vec(&ImageIndex::new(manifests)).map_err(|e| OutputError::Write {
            path: PathBuf::from("index.json"),
            source: io::Error::other(e),
        })
    }

    /// `manifest.json`'s bytes.
    fn manifest_json(&self) -> Result<Vec<u8>, OutputError> {
        serde_json::to_vec(&self.docker).map_err(|e| OutputError::Write {
            path: PathBuf::from("manifest.json"),
            source: io::Error::other(e),
        })
    }
}

/// The `-<suffix>` of each platform image of an index: the architecture, plus `_<variant>`
/// for architectures that appear more than once (`arm_v6`, `arm_v7`).
fn arch_suffixes(index: &Descriptor, found: &[PlatformImage]) -> Result<Vec<String>, OutputError> {
    let platforms = found
        .iter()
        .map(|p| {
            p.manifest.platform.clone().ok_or(OutputError::NoPlatform {
                manifest: p.manifest.digest,
                index: index.digest,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut seen = BTreeSet::new();
    for p in &platforms {
        if !seen.insert(p) {
            return Err(OutputError::DuplicatePlatform {
                index: index.digest,
                platform: p.to_string(),
            });
        }
    }
    let shared = |arch: &str| platforms.iter().filter(|p| p.architecture == arch).count() > 1;
    Ok(platforms
        .iter()
        .map(|p| match &p.variant {
            Some(v) if shared(&p.architecture) => format!("{}_{v}", p.architecture),
            _ => p.architecture.clone(),
        })
        .collect())
}

/// `{"imageLayoutVersion":"1.0.0"}`
const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

#[cfg(test)]
mod tests;
