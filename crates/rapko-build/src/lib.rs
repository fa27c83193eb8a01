//! Orchestration: from a configuration to images. For each architecture (concurrently) the
//! pipeline loads the signed indexes, resolves the world (or takes a lockfile's packages),
//! fetches and verifies the packages, builds the root filesystem in memory and writes its
//! layers, config and manifest into a blob store; a multi-arch build adds an image index.
//! Writing the store out (OCI layout, docker-loadable tarball, registry) is the caller's
//! choice.
//!
//! Every step is a plain function over plain data (see [`plan`] and [`image`]); this crate
//! adds the order, the concurrency and the choice of build time.

pub mod cache;
pub mod error;
pub mod image;
pub mod inspect;
pub mod layering;
pub mod lock;
pub mod plan;
pub mod sbom;

use std::path::PathBuf;
use std::sync::Arc;

use rapko_config::{Arch, ImageConfiguration};
use rapko_oci::{BlobStore, Descriptor, GzipOptions, ImageIndex};
use rapko_repo::{FetchOptions, Fetcher};

pub use error::{BuildError, Result};
pub use image::ArchImage;
pub use lock::Lockfile;
pub use plan::{Chosen, Plan};

/// The steps a build reports, per architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Resolve,
    Fetch,
    Install,
    Write,
    Done,
}

/// Receives progress; the CLI draws it on a terminal. Must be cheap and thread-safe.
pub trait Reporter: Send + Sync {
    fn phase(&self, arch: Arch, phase: Phase);
}

/// How to build, beyond the configuration.
#[derive(Clone, Default)]
pub struct BuildOptions {
    pub fetch: FetchOptions,
    /// The build time in seconds since the epoch (`SOURCE_DATE_EPOCH` or `--build-date`);
    /// `None`: the newest build date of the installed packages.
    pub build_time: Option<u64>,
    /// Install exactly this lockfile's packages instead of resolving.
    pub lockfile: Option<(PathBuf, Lockfile)>,
    /// Require the same version of every package on every architecture.
    pub consistent_versions: bool,
    pub gzip: GzipOptions,
    pub reporter: Option<Arc<dyn Reporter>>,
    /// Where the blob store's temporary directory goes (next to the output, so the final
    /// rename never crosses file systems).
    pub work_dir: Option<PathBuf>,
}

/// A finished build: blobs in a store, one image per architecture, and the root to tag.
#[derive(Debug)]
pub struct Build {
    pub store: BlobStore,
    pub images: Vec<ArchImage>,
    /// The image index for multi-arch builds, else the single image's manifest.
    pub root: Descriptor,
    pub build_time: u64,
}

/// Builds the images of `config` for its architectures.
pub fn build(config: &ImageConfiguration, options: &BuildOptions) -> Result<Build> {
    let fetcher = Fetcher::new(FetchOptions {
        release_bytes: true,
        ..options.fetch.clone()
    })?;
    let keyring = plan::load_keyring(&fetcher, config)?;
    let plans = plan_all(&fetcher, config, &keyring, options)?;
    let build_time = options
        .build_time
        .unwrap_or_else(|| newest_build_time(&plans));
    let store = match &options.work_dir {
        Some(dir) => BlobStore::temporary_in(dir)?,
        None => BlobStore::temporary()?,
    };
    let cache = cache::ImageCache::new(fetcher.cache_dir());
    let inputs = image::ImageInputs {
        config,
        fetcher: &fetcher,
        store: &store,
        keys: keyring_files(&keyring),
        build_time,
        gzip: options.gzip,
        cache: Some(&cache),
        reporter: options.reporter.as_deref(),
    };
    let images = on_threads(&plans, |plan| {
        let image = image::build_arch_image(plan, &inputs)?;
        report(options, plan.repos.arch, Phase::Done);
        Ok(image)
    })?;
    let root = match images.as_slice() {
        [single] => single.manifest.clone(),
        _ => {
            let mut index = ImageIndex::new(images.iter().map(|i| i.manifest.clone()).collect());
            index.annotations = image::annotations(config, build_time);
            store.put_index(&index)?
        }
    };
    Ok(Build {
        store,
        images,
        root,
        build_time,
    })
}

/// Plans every architecture of the config, concurrently.
pub fn plan_all(
    fetcher: &Fetcher,
    config: &ImageConfiguration,
    keyring: &rapko_apk::Keyring,
    options: &BuildOptions,
) -> Result<Vec<Plan>> {
    let archs = config.archs_or_all();
    if options.consistent_versions && archs.len() > 1 && options.lockfile.is_none() {
        let repos = on_threads(&archs, |&arch| {
            report(options, arch, Phase::Resolve);
            plan::load_repos(fetcher, config, arch, keyring)
        })?;
        return plan::resolve_consistent(repos, &plan::world(config)?);
    }
    on_threads(&archs, |&arch| {
        report(options, arch, Phase::Resolve);
        let started = std::time::Instant::now();
        let plan = plan_arch(fetcher, config, arch, keyring, options)?;
        tracing::info!(
            "{arch}: {} packages planned in {:?}",
            plan.packages.len(),
            started.elapsed()
        );
        Ok(plan)
    })
}

/// The key files the image's `/etc/apk/keys` gets: (file name, PEM).
pub fn keyring_files(keyring: &rapko_apk::Keyring) -> Vec<(String, String)> {
    keyring
        .names()
        .into_iter()
        .filter_map(|name| keyring.pem(&name).map(|pem| (name, pem)))
        .collect()
}

/// Builds only the root filesystem of one architecture (for `build-minirootfs`).
pub fn build_rootfs(
    config: &ImageConfiguration,
    arch: Arch,
    options: &BuildOptions,
) -> Result<(rapko_fs::Rootfs, u64)> {
    let fetcher = Fetcher::new(options.fetch.clone())?;
    let keyring = plan::load_keyring(&fetcher, config)?;
    let plan = plan_arch(&fetcher, config, arch, &keyring, options)?;
    let build_time = options
        .build_time
        .unwrap_or_else(|| newest_build_time(std::slice::from_ref(&plan)));
    let store = BlobStore::temporary()?;
    let inputs = image::ImageInputs {
        config,
        fetcher: &fetcher,
        store: &store,
        keys: keyring_files(&keyring),
        build_time,
        gzip: options.gzip,
        cache: None,
        reporter: options.reporter.as_deref(),
    };
    Ok((image::build_rootfs(&plan, &inputs)?, build_time))
}

/// Resolves (or reads from the lockfile) what to install for one architecture.
pub fn plan_arch(
    fetcher: &Fetcher,
    config: &ImageConfiguration,
    arch: Arch,
    keyring: &rapko_apk::Keyring,
    options: &BuildOptions,
) -> Result<Plan> {
    let repos = plan::load_repos(fetcher, config, arch, keyring)?;
    match &options.lockfile {
        Some((path, lock)) => plan::from_lock(repos, lock, &path.display().to_string()),
        None => plan::resolve(repos, &plan::world(config)?),
    }
}

fn report(options: &BuildOptions, arch: Arch, phase: Phase) {
    if let Some(r) = &options.reporter {
        r.phase(arch, phase);
    }
}

/// The newest `builddate` of all planned packages: the default build time, so an image
/// rebuilt from the same packages gets the same timestamps.
pub fn newest_build_time(plans: &[Plan]) -> u64 {
    plans
        .iter()
        .flat_map(|p| p.packages.iter().filter_map(|c| c.info.build_time))
        .max()
        .unwrap_or(0)
}

/// Seconds since the epoch, or an RFC 3339 UTC date (`2024-01-02T03:04:05Z`): the forms
/// `--build-date` takes and `created` fields hold.
pub fn parse_build_date(text: &str) -> Result<u64> {
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(secs);
    }
    let bad = || {
        BuildError::Other(format!(
            "{text:?} is not seconds since the epoch nor YYYY-MM-DDTHH:MM:SSZ"
        ))
    };
    let t = text.strip_suffix('Z').ok_or_else(bad)?;
    let (date, time) = t.split_once('T').ok_or_else(bad)?;
    let num = |s: &str| s.parse::<i64>().map_err(|_| bad());
    let d: Vec<&str> = date.split('-').collect();
    let tm: Vec<&str> = time.split(':').collect();
    let ([y, m, dd], [hh, mm, ss]) = (d.as_slice(), tm.as_slice()) else {
        return Err(bad());
    };
    let secs = days_from_civil(num(y)?, num(m)?, num(dd)?) * 86_400
        + num(hh)? * 3600
        + num(mm)? * 60
        + num(ss)?;
    u64::try_from(secs).map_err(|_| bad())
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Runs `f` for each item on its own thread (one per architecture: they are few and each
/// does real work); results in the order of `items`, the first error wins.
pub fn on_threads<I: Sync, T: Send>(
    items: &[I],
    f: impl Fn(&I) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .iter()
            .map(|item| {
                let f = &f;
                s.spawn(move || f(item))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}
