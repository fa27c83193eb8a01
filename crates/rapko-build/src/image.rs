//! The second half of a build: fetch and verify the planned packages, build the root
//! filesystem, write its layers into the blob store (compressed and hashed while streaming),
//! and describe the image with a config and a manifest.

use std::collections::BTreeMap;
use std::sync::Arc;

use rapko_apk::PackageInfo;
use rapko_config::{Arch, ImageConfiguration};
use rapko_fs::{Node, PackageToInstall, Rootfs, RootfsOptions, Tree};
use rapko_oci::{
    BlobStore, ContainerConfig, Descriptor, EmptyObject, GzipOptions, History, ImageConfig,
    ImageManifest, LayerInfo, Platform, rfc3339_utc,
};
use rapko_repo::Fetcher;

use crate::cache::{self, CachedImage, CachedLayer, ImageCache, PackageExtras};
use crate::error::{BuildError, Result};
use crate::layering::{LayerGroup, group_layers};
use crate::plan::Plan;

/// One architecture's finished image.
#[derive(Debug)]
pub struct ArchImage {
    pub arch: Arch,
    /// The manifest, with its platform set.
    pub manifest: Descriptor,
    pub config: Descriptor,
    pub layers: Vec<LayerInfo>,
    /// The installed packages in install order, as their indexes describe them.
    pub packages: Vec<PackageInfo>,
    /// Repository URL of each installed package, by position.
    pub package_urls: Vec<String>,
    /// Dependency edges between installed packages (positions).
    pub depends_on: Vec<Vec<usize>>,
    /// `/etc/os-release` of the image, if any.
    pub os_release: Option<String>,
    /// Per package: what only its file tells (datahash, its own SBOMs).
    pub extras: Vec<PackageExtras>,
    /// The repository each package came from, as configured (no arch, no credentials).
    pub repository_urls: Vec<String>,
    /// True when the layers came from the cache of finished work.
    pub reused: bool,
}

/// Everything an architecture's image build needs besides the plan.
pub struct ImageInputs<'a> {
    pub config: &'a ImageConfiguration,
    pub fetcher: &'a Fetcher,
    pub store: &'a BlobStore,
    pub keys: Vec<(String, String)>,
    pub build_time: u64,
    pub gzip: GzipOptions,
    /// Finished layers from earlier builds (none: always build).
    pub cache: Option<&'a ImageCache>,
    /// Told when each step starts.
    pub reporter: Option<&'a dyn crate::Reporter>,
}

impl ImageInputs<'_> {
    fn report(&self, arch: Arch, phase: crate::Phase) {
        if let Some(r) = self.reporter {
            r.phase(arch, phase);
        }
    }
}

/// Builds (or takes from the cache) one architecture's layers, then writes its config and
/// manifest.
pub fn build_arch_image(plan: &Plan, inputs: &ImageInputs<'_>) -> Result<ArchImage> {
    let arch = plan.repos.arch;
    let key = cache::image_key(
        plan,
        inputs.config,
        &inputs.keys,
        inputs.build_time,
        inputs.gzip,
    );
    let cached = inputs.cache.and_then(|c| c.load(&key, inputs.store));
    let reused = cached.is_some();
    let layers = match cached {
        Some(layers) => {
            tracing::info!("{arch}: layers reused from the cache ({key})");
            layers
        }
        None => {
            let layers = build_layers(plan, inputs)?;
            if let Some(cache) = inputs.cache {
                cache.save(&key, &layers, inputs.store);
            }
            layers
        }
    };
    let infos: Vec<LayerInfo> = layers.layers.iter().map(CachedLayer::info).collect();
    let descriptions: Vec<&str> = layers
        .layers
        .iter()
        .map(|l| l.description.as_str())
        .collect();
    let config = image_config(
        inputs.config,
        arch,
        &infos,
        &descriptions,
        inputs.build_time,
    )?;
    let config_desc = inputs.store.put_config(&config)?;
    let mut manifest = ImageManifest::new(
        config_desc.clone(),
        infos.iter().map(LayerInfo::descriptor).collect(),
    );
    manifest.annotations = annotations(inputs.config, inputs.build_time);
    let manifest_desc = inputs
        .store
        .put_manifest(&manifest)?
        .with_platform(platform(arch));
    Ok(ArchImage {
        arch,
        manifest: manifest_desc,
        config: config_desc,
        layers: infos,
        packages: plan.packages.iter().map(|c| c.info.clone()).collect(),
        package_urls: plan.packages.iter().map(|c| plan.package_url(c)).collect(),
        depends_on: plan.packages.iter().map(|c| c.depends_on.clone()).collect(),
        os_release: layers.os_release,
        extras: layers.packages,
        repository_urls: plan
            .packages
            .iter()
            .map(|c| {
                rapko_repo::redact_url(&plan.repos.indexes[c.repository].spec.location_display())
            })
            .collect(),
        reused,
    })
}

/// Fetches, installs and compresses: the work the cache saves.
fn build_layers(plan: &Plan, inputs: &ImageInputs<'_>) -> Result<CachedImage> {
    let arch = plan.repos.arch;
    let started = std::time::Instant::now();
    let rootfs = build_rootfs(plan, inputs)?;
    inputs.report(arch, crate::Phase::Write);
    tracing::info!(
        "{arch}: root filesystem with {} entries in {:?}",
        rootfs.tree.len(),
        started.elapsed()
    );
    let groups = group_layers(&rootfs, inputs.config.layering.as_ref());
    let started = std::time::Instant::now();
    let infos = write_layers(&rootfs.tree, &groups, inputs)?;
    tracing::info!(
        "{arch}: {} layer(s) written in {:?}",
        infos.len(),
        started.elapsed()
    );
    Ok(CachedImage {
        layers: infos
            .iter()
            .zip(&groups)
            .map(|(info, group)| CachedLayer {
                digest: info.digest,
                diff_id: info.diff_id,
                size: info.size,
                uncompressed_size: info.uncompressed_size,
                description: group.description.clone(),
            })
            .collect(),
        os_release: read_file(&rootfs.tree, "etc/os-release")
            .or_else(|| read_file(&rootfs.tree, "usr/lib/os-release"))
            .map(|b| String::from_utf8_lossy(&b).into_owned()),
        packages: package_extras(&rootfs),
    })
}

/// Fetches the planned packages and builds the root filesystem in memory.
pub fn build_rootfs(plan: &Plan, inputs: &ImageInputs<'_>) -> Result<Rootfs> {
    let arch = plan.repos.arch;
    let started = std::time::Instant::now();
    inputs.report(arch, crate::Phase::Fetch);
    let packages = fetch(plan, inputs.fetcher)?;
    inputs.report(arch, crate::Phase::Install);
    tracing::info!(
        "{arch}: {} packages fetched and verified in {:?}",
        packages.len(),
        started.elapsed()
    );
    rapko_fs::build_rootfs(
        &packages,
        &RootfsOptions {
            config: inputs.config,
            arch: arch.apk_name(),
            keys: inputs.keys.clone(),
            runtime_repositories: inputs.config.runtime_repositories(),
            build_time: inputs.build_time,
        },
    )
    .map_err(|source| BuildError::Rootfs {
        arch: arch.to_string(),
        source: Box::new(source),
    })
}

/// Fetches every planned package (in parallel, each verified against its index record).
fn fetch(plan: &Plan, fetcher: &Fetcher) -> Result<Vec<PackageToInstall>> {
    let wanted: Vec<_> = plan
        .packages
        .iter()
        .map(|c| (&plan.repos.indexes[c.repository], &c.info))
        .collect();
    let fetched = fetcher.fetch_packages(&wanted)?;
    for (f, chosen) in fetched.iter().zip(&plan.packages) {
        if let Some(locked) = &chosen.locked {
            check_locked(f, locked)?;
        }
    }
    Ok(fetched
        .into_iter()
        .zip(&plan.packages)
        .map(|(f, chosen)| PackageToInstall {
            info: f.info,
            package: f.parsed,
            bytes: Arc::from(f.bytes),
            path: f.path,
            repository_tag: plan.repos.indexes[chosen.repository].spec.tag.clone(),
        })
        .collect())
}

/// A lockfile pins the control and data checksums too: a package whose members differ from
/// the lock (a repository that re-published a version) is refused.
fn check_locked(
    fetched: &rapko_repo::FetchedPackage,
    locked: &crate::lock::LockPackage,
) -> Result<()> {
    use base64::Engine;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let control = format!("sha1-{}", b64(&fetched.parsed.control_checksum.0));
    let data = fetched
        .parsed
        .info
        .datahash
        .map(|h| format!("sha256-{}", b64(&h)))
        .unwrap_or_default();
    for (what, expected, actual) in [
        ("control", &locked.control.checksum, &control),
        ("data", &locked.data.checksum, &data),
    ] {
        if !expected.is_empty() && expected != actual {
            return Err(BuildError::LockMismatch(format!(
                "{}-{}: the {what} section has checksum {actual}, the lock says {expected}",
                locked.name, locked.version
            )));
        }
    }
    Ok(())
}

fn write_layers(
    tree: &Tree,
    groups: &[LayerGroup],
    inputs: &ImageInputs<'_>,
) -> Result<Vec<LayerInfo>> {
    let mut layers = Vec::with_capacity(groups.len());
    for group in groups {
        let writer = inputs.store.layer_writer(inputs.gzip)?;
        // A hard link must travel with its file: extractors resolve it within one layer.
        let select = |_: &str, node: &Node| {
            let owner = match &node.kind {
                rapko_fs::NodeKind::Hardlink(target) => {
                    tree.get(target).map_or(node.owner, |t| t.owner)
                }
                _ => node.owner,
            };
            group.contains(owner)
        };
        let writer = rapko_fs::layer::write_tar(tree, select, inputs.build_time, writer)?;
        layers.push(writer.finish()?);
    }
    Ok(layers)
}

fn image_config(
    config: &ImageConfiguration,
    arch: Arch,
    layers: &[LayerInfo],
    descriptions: &[&str],
    build_time: u64,
) -> Result<ImageConfig> {
    let created = rfc3339_utc(i64::try_from(build_time).unwrap_or(i64::MAX));
    let mut image = ImageConfig::new(
        arch.oci_architecture(),
        "linux",
        layers.iter().map(|l| l.diff_id).collect(),
    );
    image.created = Some(created.clone());
    image.variant = arch.oci_variant().map(str::to_owned);
    image.config = container_config(config)?;
    image.history = descriptions
        .iter()
        .map(|d| History {
            created: Some(created.clone()),
            created_by: Some(format!("rapko {}", env!("CARGO_PKG_VERSION"))),
            author: None,
            comment: Some((*d).to_owned()),
            empty_layer: false,
        })
        .collect();
    Ok(image)
}

fn container_config(config: &ImageConfiguration) -> Result<ContainerConfig> {
    let entrypoint = config.entrypoint_argv()?;
    let cmd = config.cmd_argv()?;
    let user = config.run_as()?.map(|r| r.spec);
    Ok(ContainerConfig {
        user,
        env: config.environment_list(),
        entrypoint: (!entrypoint.is_empty()).then_some(entrypoint),
        cmd: (!cmd.is_empty()).then_some(cmd),
        volumes: config
            .volumes
            .iter()
            .map(|v| (v.clone(), EmptyObject {}))
            .collect(),
        working_dir: (!config.work_dir.is_empty()).then(|| config.work_dir.clone()),
        labels: config.annotations.clone(),
        stop_signal: (!config.stop_signal.is_empty()).then(|| config.stop_signal.clone()),
        ..ContainerConfig::default()
    })
}

/// Manifest and index annotations: the config's, the creation time, and the source
/// repository and revision from `vcs-url` (`URL@REVISION`).
pub fn annotations(config: &ImageConfiguration, build_time: u64) -> BTreeMap<String, String> {
    let mut map = config.annotations.clone();
    map.insert(
        "org.opencontainers.image.created".to_owned(),
        rfc3339_utc(i64::try_from(build_time).unwrap_or(i64::MAX)),
    );
    if let Some((source, revision)) = config.vcs_source_and_revision() {
        map.insert(
            "org.opencontainers.image.source".to_owned(),
            source.to_owned(),
        );
        map.insert(
            "org.opencontainers.image.revision".to_owned(),
            revision.to_owned(),
        );
    } else if !config.vcs_url.is_empty() {
        map.insert(
            "org.opencontainers.image.source".to_owned(),
            config.vcs_url.clone(),
        );
    }
    map
}

pub fn platform(arch: Arch) -> Platform {
    let p = Platform::new(arch.oci_architecture(), "linux");
    match arch.oci_variant() {
        Some(v) => p.with_variant(v),
        None => p,
    }
}

fn read_file(tree: &Tree, path: &str) -> Option<Vec<u8>> {
    let resolved = tree.resolve(path).ok()?;
    match &tree.get(&resolved)?.kind {
        rapko_fs::NodeKind::File(c) => c.bytes().ok().map(|b| b.to_vec()),
        _ => None,
    }
}

/// Each package's datahash and the SBOM files it installed under `/var/lib/db/sbom/`.
fn package_extras(rootfs: &Rootfs) -> Vec<PackageExtras> {
    let mut extras: Vec<PackageExtras> = rootfs
        .installed
        .iter()
        .map(|p| PackageExtras {
            datahash: p.info.datahash.map(hex::encode),
            embedded_sboms: Vec::new(),
        })
        .collect();
    let sboms = rootfs
        .tree
        .iter()
        .filter(|(p, _)| p.starts_with("var/lib/db/sbom/") && p.ends_with(".spdx.json"));
    for (path, node) in sboms {
        if let (Some(owner), rapko_fs::NodeKind::File(c)) = (node.owner, &node.kind)
            && let (Some(e), Ok(bytes)) = (extras.get_mut(owner), c.bytes())
        {
            e.embedded_sboms.push((
                format!("/{path}"),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    extras
}
