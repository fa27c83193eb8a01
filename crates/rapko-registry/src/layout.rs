//! What to push, read from an OCI image layout directory (or any directory with
//! `blobs/sha256/…`, such as a rapko-oci `BlobStore`).
//!
//! The image is found by tag, digest or descriptor, then walked: an index's manifests,
//! each manifest's config and layers. Manifests and indexes are read whole and their
//! digests checked, because their exact bytes are what gets pushed; layers and configs
//! are only checked for presence and size (the registry checks their digests as they
//! arrive). The walk lists manifests children first, so pushing them in order never
//! names a manifest the registry does not have yet.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use rapko_oci::media::{self, annotations};
use rapko_oci::{Descriptor, Digest, ImageIndex, ImageManifest};

use crate::error::{Error, Result};

/// Nested indexes deeper than this are refused (real images use one or two levels).
const MAX_DEPTH: usize = 8;

/// Which image of a layout to push.
// Made once per push: boxing the descriptor would only make callers write Box::new.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    /// This manifest or index (as the build returned it); `index.json` is not read, so
    /// a bare blob store works too.
    Descriptor(Descriptor),
    /// The `index.json` entry with this `org.opencontainers.image.ref.name`.
    Tag(String),
    /// The manifest or index with this digest.
    Digest(Digest),
    /// The one image of `index.json` that no other entry contains (a layout holding one
    /// multi-arch image lists the index and its per-arch manifests; the index is it).
    Sole,
}

/// A blob to upload: where its bytes are.
#[derive(Debug, Clone)]
pub(crate) struct Blob {
    pub digest: Digest,
    pub size: u64,
    pub source: BlobSource,
}

/// Blobs from the layout are read from their files; made-up ones (SBOMs, the empty
/// config) are in memory.
#[derive(Debug, Clone)]
pub(crate) enum BlobSource {
    File(PathBuf),
    Memory(Bytes),
}

impl Blob {
    pub(crate) fn in_memory(bytes: Bytes) -> Self {
        Self {
            digest: Digest::of(&bytes),
            size: bytes.len() as u64,
            source: BlobSource::Memory(bytes),
        }
    }

    /// `len` bytes from `offset`.
    pub(crate) async fn read(&self, offset: u64, len: usize) -> Result<Bytes> {
        match &self.source {
            BlobSource::Memory(bytes) => {
                let start = usize::try_from(offset)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len());
                let end = start.saturating_add(len).min(bytes.len());
                Ok(bytes.slice(start..end))
            }
            BlobSource::File(path) => read_range(path, offset, len).await,
        }
    }
}

async fn read_range(path: &Path, offset: u64, len: usize) -> Result<Bytes> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let read_err = |source| Error::LayoutRead {
        path: path.to_owned(),
        source,
    };
    let mut file = tokio::fs::File::open(path).await.map_err(read_err)?;
    file.seek(std::io::SeekFrom::Start(offset))
        .await
        .map_err(read_err)?;
    let mut buf = vec![0u8; len];
    file.read_exact(&mut buf).await.map_err(read_err)?;
    Ok(Bytes::from(buf))
}

/// A manifest or index to push, with its exact bytes.
#[derive(Debug, Clone)]
pub(crate) struct Manifest {
    pub descriptor: Descriptor,
    pub bytes: Bytes,
}

/// Everything one image consists of.
#[derive(Debug, Clone)]
pub(crate) struct Graph {
    pub root: Descriptor,
    /// Configs and layers, each once.
    pub blobs: Vec<Blob>,
    /// Manifests and indexes, children first, the root last.
    pub manifests: Vec<Manifest>,
}

impl Graph {
    /// The manifest or index `digest` of this image.
    pub(crate) fn manifest(&self, digest: &Digest) -> Option<&Manifest> {
        self.manifests
            .iter()
            .find(|m| m.descriptor.digest == *digest)
    }
}

/// An image layout directory.
#[derive(Debug)]
pub(crate) struct Layout {
    dir: PathBuf,
}

impl Layout {
    pub(crate) fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_owned(),
        }
    }

    /// Finds `root` and walks it.
    pub(crate) fn graph(&self, root: &Root) -> Result<Graph> {
        let root = self.resolve(root)?;
        let mut walk = Walk {
            layout: self,
            blobs: BTreeMap::new(),
            manifests: Vec::new(),
            seen: BTreeSet::new(),
        };
        walk.visit(&root, 0)?;
        Ok(Graph {
            root,
            blobs: walk.blobs.into_values().collect(),
            manifests: walk.manifests,
        })
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.dir
            .join("blobs")
            .join(digest.algorithm())
            .join(digest.hex())
    }

    fn resolve(&self, root: &Root) -> Result<Descriptor> {
        match root {
            Root::Descriptor(d) => Ok(plain(d)),
            Root::Tag(tag) => self.find(&format!("tagged {tag:?}"), |d| {
                d.annotations.get(annotations::REF_NAME) == Some(tag)
            }),
            Root::Digest(digest) => match self.find(&digest.to_string(), |d| d.digest == *digest) {
                Ok(d) => Ok(d),
                // Not listed in index.json (or no index.json): sniff the blob itself.
                Err(_) => self.sniff(digest),
            },
            Root::Sole => self.sole(),
        }
    }

    /// The one `index.json` entry matching `wanted` (several entries of one digest are
    /// one image with several names).
    fn find(&self, wanted: &str, matches: impl Fn(&Descriptor) -> bool) -> Result<Descriptor> {
        let index = self.index()?;
        let found: BTreeMap<Digest, &Descriptor> = index
            .manifests
            .iter()
            .filter(|d| matches(d))
            .map(|d| (d.digest, d))
            .collect();
        match found.values().next() {
            Some(d) if found.len() == 1 => Ok(plain(d)),
            _ => Err(self.not_found(wanted, &index)),
        }
    }

    /// The entry of `index.json` that no other entry's index lists.
    fn sole(&self) -> Result<Descriptor> {
        let index = self.index()?;
        let mut children = BTreeSet::new();
        for d in index
            .manifests
            .iter()
            .filter(|d| media::is_index(&d.media_type))
        {
            let bytes = self.read_verified(d)?;
            let nested: ImageIndex = self.parse(d, &bytes, "image index")?;
            children.extend(nested.manifests.iter().map(|m| m.digest));
        }
        let tops: BTreeMap<Digest, &Descriptor> = index
            .manifests
            .iter()
            .filter(|d| !children.contains(&d.digest))
            .map(|d| (d.digest, d))
            .collect();
        match tops.values().next() {
            Some(d) if tops.len() == 1 => Ok(plain(d)),
            _ => Err(self.not_found("as the single top-level image", &index)),
        }
    }

    /// A descriptor for a blob not listed in `index.json`, from its `mediaType` field.
    fn sniff(&self, digest: &Digest) -> Result<Descriptor> {
        let path = self.blob_path(digest);
        let bytes = fs::read(&path).map_err(|source| Error::LayoutRead {
            path: path.clone(),
            source,
        })?;
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Sniff {
            media_type: Option<String>,
            manifests: Option<serde_json::Value>,
        }
        let sniffed: Sniff =
            serde_json::from_slice(&bytes).map_err(|source| Error::LayoutJson {
                path,
                what: "image manifest or index",
                source,
            })?;
        let media_type = sniffed.media_type.unwrap_or_else(|| {
            let kind = if sniffed.manifests.is_some() {
                media::OCI_INDEX
            } else {
                media::OCI_MANIFEST
            };
            kind.to_owned()
        });
        Ok(Descriptor::new(
            media_type,
            Digest::of(&bytes),
            bytes.len() as u64,
        ))
    }

    fn index(&self) -> Result<ImageIndex> {
        let path = self.dir.join("index.json");
        let bytes = fs::read(&path).map_err(|source| Error::LayoutRead {
            path: path.clone(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|source| Error::LayoutJson {
            path,
            what: "image index",
            source,
        })
    }

    fn not_found(&self, wanted: &str, index: &ImageIndex) -> Error {
        let mut available: Vec<String> = index
            .manifests
            .iter()
            .map(|d| match d.annotations.get(annotations::REF_NAME) {
                Some(tag) => format!("{tag:?}"),
                None => d.digest.to_string(),
            })
            .collect();
        available.dedup();
        Error::RootNotFound {
            layout: self.dir.clone(),
            wanted: wanted.to_owned(),
            available: if available.is_empty() {
                "nothing".into()
            } else {
                available.join(", ")
            },
        }
    }

    /// A manifest's bytes, checked against its descriptor.
    fn read_verified(&self, d: &Descriptor) -> Result<Bytes> {
        let path = self.blob_path(&d.digest);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::BlobMissing {
                    layout: self.dir.clone(),
                    digest: d.digest,
                    what: format!("a {}", d.media_type),
                });
            }
            Err(source) => return Err(Error::LayoutRead { path, source }),
        };
        let actual = Digest::of(&bytes);
        if actual != d.digest || bytes.len() as u64 != d.size {
            return Err(Error::BlobMismatch {
                digest: d.digest,
                path,
                detail: format!(
                    "{} bytes with digest {actual}, descriptor says {} bytes",
                    bytes.len(),
                    d.size
                ),
            });
        }
        Ok(Bytes::from(bytes))
    }

    fn parse<T: serde::de::DeserializeOwned>(
        &self,
        d: &Descriptor,
        bytes: &[u8],
        what: &'static str,
    ) -> Result<T> {
        serde_json::from_slice(bytes).map_err(|source| Error::LayoutJson {
            path: self.blob_path(&d.digest),
            what,
            source,
        })
    }
}

/// The walk's state.
struct Walk<'a> {
    layout: &'a Layout,
    blobs: BTreeMap<Digest, Blob>,
    manifests: Vec<Manifest>,
    seen: BTreeSet<Digest>,
}

impl Walk<'_> {
    fn visit(&mut self, d: &Descriptor, depth: usize) -> Result<()> {
        if !self.seen.insert(d.digest) {
            return Ok(());
        }
        let bytes = self.layout.read_verified(d)?;
        if media::is_index(&d.media_type) && depth < MAX_DEPTH {
            let index: ImageIndex = self.layout.parse(d, &bytes, "image index")?;
            for child in &index.manifests {
                self.visit(child, depth + 1)?;
            }
        } else if media::is_manifest(&d.media_type) {
            let manifest: ImageManifest = self.layout.parse(d, &bytes, "image manifest")?;
            self.add_blob(
                &manifest.config,
                &format!("config of manifest {}", d.digest),
            )?;
            for layer in &manifest.layers {
                self.add_blob(layer, &format!("layer of manifest {}", d.digest))?;
            }
        } else {
            return Err(Error::NotAnImage {
                digest: d.digest,
                media_type: d.media_type.clone(),
            });
        }
        self.manifests.push(Manifest {
            descriptor: plain(d),
            bytes,
        });
        Ok(())
    }

    /// Adds a config or layer after checking it is there with the right size. A missing
    /// foreign layer (one with `urls`) is skipped: it is fetched from those URLs, not
    /// from the registry.
    fn add_blob(&mut self, d: &Descriptor, what: &str) -> Result<()> {
        let path = self.layout.blob_path(&d.digest);
        let size = match fs::metadata(&path) {
            Ok(m) => m.len(),
            Err(_) if !d.urls.is_empty() => return Ok(()),
            Err(_) => {
                return Err(Error::BlobMissing {
                    layout: self.layout.dir.clone(),
                    digest: d.digest,
                    what: what.to_owned(),
                });
            }
        };
        if size != d.size {
            return Err(Error::BlobMismatch {
                digest: d.digest,
                path,
                detail: format!("the file has {size} bytes, the descriptor says {}", d.size),
            });
        }
        self.blobs.insert(
            d.digest,
            Blob {
                digest: d.digest,
                size,
                source: BlobSource::File(path),
            },
        );
        Ok(())
    }
}

/// The descriptor without what an `index.json` entry adds (names, platform): what a
/// registry and a `subject` field need.
fn plain(d: &Descriptor) -> Descriptor {
    Descriptor {
        artifact_type: d.artifact_type.clone(),
        ..Descriptor::new(d.media_type.clone(), d.digest, d.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapko_oci::{BlobStore, Platform, TaggedImage, write_layout_dir};

    struct Fixture {
        _dir: tempfile::TempDir,
        layout: PathBuf,
        index: Descriptor,
        amd64: Descriptor,
    }

    fn image(store: &BlobStore, arch: &str) -> Descriptor {
        let layer = store
            .put_bytes(arch.as_bytes(), media::OCI_LAYER_GZIP)
            .unwrap();
        let config = store
            .put_bytes(
                format!("{{\"a\":\"{arch}\"}}").as_bytes(),
                media::OCI_CONFIG,
            )
            .unwrap();
        store
            .put_manifest(&ImageManifest::new(config, vec![layer]))
            .unwrap()
            .with_platform(Platform::new(arch, "linux"))
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::temporary_in(dir.path()).unwrap();
        let amd64 = image(&store, "amd64");
        let arm64 = image(&store, "arm64");
        let index = store
            .put_index(&ImageIndex::new(vec![amd64.clone(), arm64]))
            .unwrap();
        let layout = dir.path().join("layout");
        let images = [TaggedImage::new(
            index.clone(),
            vec!["app:v1".parse().unwrap()],
        )];
        write_layout_dir(&store, &images, &layout).unwrap();
        Fixture {
            _dir: dir,
            layout,
            index,
            amd64,
        }
    }

    #[test]
    fn walks_an_index_children_first() {
        let f = fixture();
        let layout = Layout::new(&f.layout);
        let graph = layout.graph(&Root::Tag("v1".into())).unwrap();
        assert_eq!(graph.root, f.index);
        assert_eq!(graph.manifests.len(), 3);
        assert_eq!(
            graph.manifests.last().unwrap().descriptor.digest,
            f.index.digest
        );
        assert_eq!(graph.blobs.len(), 4);
        // The same image found four ways.
        for root in [
            Root::Sole,
            Root::Digest(f.index.digest),
            Root::Descriptor(f.index.clone()),
        ] {
            assert_eq!(layout.graph(&root).unwrap().root.digest, f.index.digest);
        }
        // The per-arch tag written by rapko-oci finds one platform's manifest.
        let one = layout.graph(&Root::Tag("v1-amd64".into())).unwrap();
        assert_eq!(one.root.digest, f.amd64.digest);
        assert_eq!(
            one.root.platform, None,
            "platform is an index entry's, not the image's"
        );
        assert!(graph.manifest(&f.amd64.digest).is_some());
    }

    #[test]
    fn reports_what_is_missing_or_wrong() {
        let f = fixture();
        let layout = Layout::new(&f.layout);
        let err = layout
            .graph(&Root::Tag("nope".into()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"v1\"") && err.contains("nope"), "{err}");
        // Corrupt the amd64 manifest: its digest no longer matches.
        let path = layout.blob_path(&f.amd64.digest);
        fs::write(&path, b"{}").unwrap();
        let err = layout.graph(&Root::Tag("v1".into())).unwrap_err();
        assert!(matches!(err, Error::BlobMismatch { .. }), "{err}");
        fs::remove_file(&path).unwrap();
        let err = layout.graph(&Root::Tag("v1".into())).unwrap_err();
        assert!(
            matches!(err, Error::BlobMissing { digest, .. } if digest == f.amd64.digest),
            "{err}"
        );
        let err = Layout::new(Path::new("/nonexistent"))
            .graph(&Root::Sole)
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/index.json"), "{err}");
    }

    #[tokio::test]
    async fn memory_blob_ranges() {
        let blob = Blob::in_memory(Bytes::from_static(b"0123456789"));
        assert_eq!(blob.size, 10);
        assert_eq!(&blob.read(3, 4).await.unwrap()[..], b"3456");
        assert_eq!(&blob.read(8, 10).await.unwrap()[..], b"89");
        assert!(blob.read(20, 1).await.unwrap().is_empty());
    }
}
