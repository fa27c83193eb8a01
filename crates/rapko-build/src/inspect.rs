//! Reading back an image rapko built (an OCI image layout, or the tarball form unpacked into
//! one): its manifests, configs, and the few files an SBOM needs — the apk database,
//! `/etc/os-release`, `/etc/apk/repositories` and packages' own SBOMs — so `rapko sbom` can
//! describe an image whose build inputs are gone.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use rapko_apk::installed::parse_installed;
use rapko_config::Arch;
use rapko_oci::{BlobStore, Descriptor, ImageConfig, ImageIndex, ImageManifest, LayerInfo};

use crate::Build;
use crate::cache::PackageExtras;
use crate::error::{BuildError, Result};
use crate::image::ArchImage;

const WANTED_DIRS: [&str; 1] = ["var/lib/db/sbom/"];
const WANTED_FILES: [&str; 4] = [
    "lib/apk/db/installed",
    "etc/os-release",
    "usr/lib/os-release",
    "etc/apk/repositories",
];

/// Opens the image layout in `dir` as a [`Build`] (the image named `name`, or the only one).
pub fn open_layout(dir: &Path, name: Option<&str>) -> Result<Build> {
    let err = |message: String| BuildError::Other(format!("{}: {message}", dir.display()));
    let index_path = dir.join("index.json");
    let text =
        std::fs::read(&index_path).map_err(|e| err(format!("not an OCI image layout ({e})")))?;
    let index: ImageIndex =
        serde_json::from_slice(&text).map_err(|e| err(format!("bad index.json: {e}")))?;
    let root = pick_root(&index, name).ok_or_else(|| match name {
        Some(n) => err(format!("no image named {n:?} in index.json")),
        None => err("index.json lists no image; name one with --name".to_owned()),
    })?;
    let store = BlobStore::open(dir)?;
    let manifests = if rapko_oci::media::is_index(&root.media_type) {
        let index: ImageIndex = store.read_json(&root.digest, "image index")?;
        index.manifests
    } else {
        vec![root.clone()]
    };
    let mut images = Vec::new();
    let mut build_time = 0;
    for manifest in manifests {
        let (image, created) = read_image(&store, &manifest).map_err(|e| err(e.to_string()))?;
        build_time = build_time.max(created);
        images.push(image);
    }
    Ok(Build {
        store,
        images,
        root,
        build_time,
    })
}

/// The entry of `index.json` named `name` (by ref name or full image name), else the first.
fn pick_root(index: &ImageIndex, name: Option<&str>) -> Option<Descriptor> {
    let named = |d: &&Descriptor| {
        name.is_none_or(|n| {
            d.annotations
                .values()
                .any(|v| v == n || v.rsplit(':').next() == Some(n))
        })
    };
    index.manifests.iter().find(named).cloned()
}

fn read_image(store: &BlobStore, manifest_desc: &Descriptor) -> Result<(ArchImage, u64)> {
    let manifest: ImageManifest = store.read_json(&manifest_desc.digest, "image manifest")?;
    let config: ImageConfig = store.read_json(&manifest.config.digest, "image config")?;
    let arch = Arch::ALL
        .into_iter()
        .find(|a| {
            a.oci_architecture() == config.architecture
                && a.oci_variant() == config.variant.as_deref()
        })
        .ok_or_else(|| {
            BuildError::Other(format!("unknown architecture {}", config.architecture))
        })?;
    let files = read_files(store, &manifest.layers)?;
    let installed = match files.get("lib/apk/db/installed") {
        Some(text) => parse_installed(&String::from_utf8_lossy(text))
            .map_err(|e| BuildError::Other(format!("the image's apk database: {e}")))?,
        None => {
            return Err(BuildError::Other(
                "the image has no apk database (lib/apk/db/installed)".to_owned(),
            ));
        }
    };
    // The apk database does not say which repository a package came from: with one
    // repository, that one; with several, unknown (naming the first would attribute every
    // package, and its download location, to it).
    let repositories: Vec<String> = files
        .get("etc/apk/repositories")
        .map(|t| {
            String::from_utf8_lossy(t)
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let repository = match repositories.as_slice() {
        [one] => one.clone(),
        _ => String::new(),
    };
    let extras = installed
        .iter()
        .map(|p| PackageExtras {
            datahash: p.info.datahash.map(hex::encode),
            embedded_sboms: p
                .file_paths()
                .filter_map(|path| {
                    files
                        .get(&path)
                        .map(|c| (format!("/{path}"), String::from_utf8_lossy(c).into_owned()))
                })
                .collect(),
        })
        .collect();
    let os_release = files
        .get("etc/os-release")
        .or_else(|| files.get("usr/lib/os-release"))
        .map(|b| String::from_utf8_lossy(b).into_owned());
    let created = config
        .created
        .as_deref()
        .and_then(|c| crate::parse_build_date(c).ok())
        .unwrap_or(0);
    let layers = manifest
        .layers
        .iter()
        .zip(&config.rootfs.diff_ids)
        .map(|(l, diff_id)| LayerInfo {
            diff_id: *diff_id,
            digest: l.digest,
            size: l.size,
            uncompressed_size: 0,
        })
        .collect();
    let count = installed.len();
    let image = ArchImage {
        arch,
        manifest: manifest_desc.clone(),
        config: manifest.config.clone(),
        layers,
        packages: installed.into_iter().map(|p| p.info).collect(),
        package_urls: vec![String::new(); count],
        depends_on: vec![Vec::new(); count],
        os_release,
        extras,
        repository_urls: vec![repository; count],
        reused: false,
    };
    Ok((image, created))
}

/// The wanted files of an image, the top-most layer winning.
fn read_files(store: &BlobStore, layers: &[Descriptor]) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    for layer in layers {
        let blob = store.open_blob(&layer.digest)?;
        let mut archive = tar::Archive::new(flate2::read::MultiGzDecoder::new(
            std::io::BufReader::new(blob),
        ));
        for entry in archive.entries()? {
            let mut entry = entry?;
            let path = entry
                .path()?
                .to_string_lossy()
                .trim_start_matches("./")
                .to_owned();
            let wanted = WANTED_FILES.contains(&path.as_str())
                || WANTED_DIRS
                    .iter()
                    .any(|d| path.starts_with(d) && path.ends_with(".spdx.json"));
            if !wanted {
                continue;
            }
            if entry.header().entry_type().is_symlink() {
                // Alpine's /etc/os-release points at ../usr/lib/os-release: keep looking.
                continue;
            }
            let mut content = Vec::new();
            entry.by_ref().take(64 << 20).read_to_end(&mut content)?;
            files.insert(path, content);
        }
    }
    Ok(files)
}
