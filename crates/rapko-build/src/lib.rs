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
        // Cached layers skip fetching, so no package signature would be checked.
        cache: (!options.fetch.strict_signatures).then_some(&cache),
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

/// The latest build time an image config can carry: 9999-12-31T23:59:59Z. Later dates have
/// five-digit years, which RFC 3339 (and so umoci, containerd, Go's time package) cannot read.
pub const MAX_BUILD_TIME: u64 = 253_402_300_799;

/// Refuses a build time past [`MAX_BUILD_TIME`]; `what` names where it came from.
pub fn check_build_time(secs: u64, what: &str) -> Result<u64> {
    if secs > MAX_BUILD_TIME {
        return Err(BuildError::Other(format!(
            "{what} is {secs} seconds, after 9999-12-31T23:59:59Z ({MAX_BUILD_TIME}): image \
             configs write RFC 3339 dates, which have four-digit years; give an earlier date"
        )));
    }
    Ok(secs)
}

/// Seconds since the epoch, or an RFC 3339 UTC date (`2024-01-02T03:04:05Z`): the forms
/// `--build-date` takes and `created` fields hold. Dates that do not exist (`2024-02-30`),
/// dates before 1970 and after 9999 are refused, each saying so.
pub fn parse_build_date(text: &str) -> Result<u64> {
    let what = format!("the build date {text:?}");
    if let Ok(secs) = text.parse::<u64>() {
        return check_build_time(secs, &what);
    }
    let other = |m: String| BuildError::Other(format!("{what}: {m}"));
    let bad = || other("is not seconds since the epoch nor YYYY-MM-DDTHH:MM:SSZ".to_owned());
    let before_epoch =
        || other("is before 1970-01-01T00:00:00Z; image times are seconds since then".to_owned());
    if text
        .strip_prefix('-')
        .is_some_and(|d| d.parse::<u64>().is_ok())
    {
        return Err(before_epoch());
    }
    let t = text.strip_suffix('Z').ok_or_else(bad)?;
    let (date, time) = t.split_once('T').ok_or_else(bad)?;
    let num = |s: &str| {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 6 {
            return Err(bad());
        }
        s.parse::<i64>().map_err(|_| bad())
    };
    let d: Vec<&str> = date.split('-').collect();
    let tm: Vec<&str> = time.split(':').collect();
    let ([y, m, dd], [hh, mm, ss]) = (d.as_slice(), tm.as_slice()) else {
        return Err(bad());
    };
    let (y, m, dd, hh, mm, ss) = (num(y)?, num(m)?, num(dd)?, num(hh)?, num(mm)?, num(ss)?);
    if !(1..=12).contains(&m) || dd < 1 || dd > days_in_month(y, m) {
        return Err(other(format!("there is no day {dd} in month {m} of {y}")));
    }
    if hh > 23 || mm > 59 || ss > 59 {
        return Err(other(format!(
            "{hh:02}:{mm:02}:{ss:02} is not a time of day"
        )));
    }
    if y < 1970 {
        return Err(before_epoch());
    }
    if y > 9999 {
        return Err(other(
            "is after the year 9999: image configs write RFC 3339 dates, which have \
             four-digit years; give an earlier date"
                .to_owned(),
        ));
    }
    let secs = days_from_civil(y, m, dd) * 86_400 + hh * 3600 + mm * 60 + ss;
    u64::try_from(secs).map_err(|_| before_epoch())
}

fn days_in_month(y: i64, m: i64) -> i64 {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse_build_date(text).expect_err(text).to_string()
    }

    #[test]
    fn dates_that_do_not_exist_are_refused() {
        assert!(err("2024-02-30T00:00:00Z").contains("no day 30 in month 2"));
        assert!(err("2023-02-29T00:00:00Z").contains("no day 29"));
        assert!(err("2024-13-01T00:00:00Z").contains("month 13"));
        assert!(err("2024-01-01T24:00:00Z").contains("not a time of day"));
        assert_eq!(
            parse_build_date("2024-02-29T00:00:00Z").unwrap(),
            1_709_164_800
        );
    }

    #[test]
    fn years_past_9999_are_refused_in_both_forms() {
        assert!(err("10000-01-01T00:00:00Z").contains("after the year 9999"));
        assert!(err("253402300800").contains("9999-12-31T23:59:59Z"));
        assert_eq!(
            parse_build_date("9999-12-31T23:59:59Z").unwrap(),
            MAX_BUILD_TIME
        );
    }

    #[test]
    fn dates_before_1970_say_so() {
        assert!(err("1969-12-31T23:59:59Z").contains("before 1970"));
        assert!(err("-1").contains("before 1970"));
        assert!(err("yesterday").contains("YYYY-MM-DDTHH:MM:SSZ"));
    }
}
