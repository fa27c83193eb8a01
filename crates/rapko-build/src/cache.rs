//! Reusing finished work: an architecture's layers are a pure function of what went into
//! them — the exact packages (by control checksum), the parts of the config that shape the
//! file tree, the keys, the build time, the compression settings and this rapko binary. We
//! key them by a SHA-256 of all that and keep them in the cache directory, so rebuilding
//! with nothing changed skips fetching, installing and compressing: the layers are linked
//! into the new image as they are.
//!
//! Entries live in `<cache>/images/<key>.json` (layer digests and what the SBOM needs) with
//! the blobs in `<cache>/blobs/sha256/`. A missing or unreadable entry is a miss, never an
//! error: the build just does the work.

use std::path::{Path, PathBuf};

use rapko_apk::PackageInfo;
use rapko_config::ImageConfiguration;
use rapko_oci::{BlobStore, Digest, GzipOptions, LayerInfo};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::plan::Plan;

/// A cached image build of one architecture.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CachedImage {
    pub layers: Vec<CachedLayer>,
    pub os_release: Option<String>,
    /// What the SBOM needs of each package that only the package file tells, by position
    /// in the plan.
    pub packages: Vec<PackageExtras>,
}

/// The SBOM facts of one installed package that its index record lacks.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PackageExtras {
    /// `.PKGINFO`'s `datahash` (hex SHA-256 of the data member).
    pub datahash: Option<String>,
    /// The package's own SBOM files under `/var/lib/db/sbom/`: (path, content).
    pub embedded_sboms: Vec<(String, String)>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CachedLayer {
    pub digest: Digest,
    pub diff_id: Digest,
    pub size: u64,
    pub uncompressed_size: u64,
    pub description: String,
}

impl CachedLayer {
    pub fn info(&self) -> LayerInfo {
        LayerInfo {
            diff_id: self.diff_id,
            digest: self.digest,
            size: self.size,
            uncompressed_size: self.uncompressed_size,
        }
    }
}

/// The parts of a config that decide the file tree and its layers.
#[derive(Serialize)]
struct TreeInputs<'a> {
    contents: &'a rapko_config::Contents,
    accounts: &'a rapko_config::Accounts,
    paths: &'a [rapko_config::PathMutation],
    entrypoint: &'a rapko_config::Entrypoint,
    layering: &'a Option<rapko_config::Layering>,
    runtime_repositories: Vec<String>,
}

/// The cache key of an architecture's layers.
pub fn image_key(
    plan: &Plan,
    config: &ImageConfiguration,
    keys: &[(String, String)],
    build_time: u64,
    gzip: GzipOptions,
) -> String {
    let mut h = sha2::Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    field(b"rapko-image-cache-v2");
    field(binary_identity().as_bytes());
    field(plan.repos.arch.apk_name().as_bytes());
    field(&build_time.to_le_bytes());
    field(format!("{}/{}", gzip.level, gzip.block_size).as_bytes());
    let inputs = TreeInputs {
        contents: &config.contents,
        accounts: &config.accounts,
        paths: &config.paths,
        entrypoint: &config.entrypoint,
        layering: &config.layering,
        runtime_repositories: config.runtime_repositories(),
    };
    field(
        serde_json::to_string(&inputs)
            .unwrap_or_default()
            .as_bytes(),
    );
    for (name, pem) in keys {
        field(name.as_bytes());
        field(pem.as_bytes());
    }
    for chosen in &plan.packages {
        field(package_identity(&chosen.info).as_bytes());
        field(
            plan.repos.indexes[chosen.repository]
                .spec
                .tag
                .as_deref()
                .unwrap_or("")
                .as_bytes(),
        );
    }
    hex::encode(h.finalize())
}

fn package_identity(info: &PackageInfo) -> String {
    let checksum = info.checksum.map(|c| c.to_q1()).unwrap_or_default();
    format!("{}-{} {checksum}", info.name, info.version)
}

/// Which rapko made the layers: a rebuilt binary may lay files out differently, so its
/// size and modification time are part of the key (cheap, and exact enough).
fn binary_identity() -> String {
    let meta = std::env::current_exe().and_then(std::fs::metadata);
    let stamp = meta
        .as_ref()
        .ok()
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let size = meta.map_or(0, |m| m.len());
    format!("{} {size} {stamp}", env!("CARGO_PKG_VERSION"))
}

/// The layer cache under a cache directory.
pub struct ImageCache {
    dir: PathBuf,
    blobs: Option<BlobStore>,
}

impl ImageCache {
    pub fn new(cache_dir: &Path) -> ImageCache {
        ImageCache {
            dir: cache_dir.join("images"),
            blobs: BlobStore::open(&cache_dir.join("blobs")).ok(),
        }
    }

    /// The cached image for `key`, with its layers linked into `store`; `None` on a miss.
    pub fn load(&self, key: &str, store: &BlobStore) -> Option<CachedImage> {
        let blobs = self.blobs.as_ref()?;
        let text = std::fs::read(self.dir.join(format!("{key}.json"))).ok()?;
        let cached: CachedImage = serde_json::from_slice(&text).ok()?;
        for layer in &cached.layers {
            let from = blobs.blob_path(&layer.digest);
            if std::fs::metadata(&from).ok()?.len() != layer.size {
                return None;
            }
            link_or_copy(&from, &store.blob_path(&layer.digest)).ok()?;
        }
        Some(cached)
    }

    /// Keeps an image's layers for next time. Failing to cache never fails the build.
    pub fn save(&self, key: &str, image: &CachedImage, store: &BlobStore) {
        let Some(blobs) = self.blobs.as_ref() else {
            return;
        };
        let result = (|| -> std::io::Result<()> {
            for layer in &image.layers {
                link_or_copy(
                    &store.blob_path(&layer.digest),
                    &blobs.blob_path(&layer.digest),
                )?;
            }
            std::fs::create_dir_all(&self.dir)?;
            let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
            std::io::Write::write_all(&mut tmp, &serde_json::to_vec(image).unwrap_or_default())?;
            tmp.persist(self.dir.join(format!("{key}.json")))
                .map_err(|e| e.error)?;
            Ok(())
        })();
        if let Err(e) = result {
            tracing::debug!("could not cache the layers in {}: {e}", self.dir.display());
        }
    }
}

/// Hard-links `from` to `to` (same file system, no copy), else copies; an existing `to`
/// is already the same blob.
fn link_or_copy(from: &Path, to: &Path) -> std::io::Result<()> {
    if to.exists() {
        return Ok(());
    }
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    if std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    let dir = to.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::copy(&mut std::fs::File::open(from)?, &mut tmp)?;
    tmp.persist(to).map_err(|e| e.error)?;
    Ok(())
}
