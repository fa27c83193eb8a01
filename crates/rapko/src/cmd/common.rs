//! Arguments shared by the commands that read a config and its repositories, and the
//! translation of those arguments into the libraries' options.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use rapko_build::{BuildOptions, Lockfile};
use rapko_config::{ImageConfiguration, Overrides};
use rapko_repo::FetchOptions;

use crate::cmd::progress::TerminalProgress;

#[derive(clap::Args, Clone, Debug, Default)]
pub struct ConfigArgs {
    /// The image configuration (apko YAML)
    pub config: PathBuf,
    /// Architectures to build, comma separated (x86_64, aarch64, armv7, … or amd64, arm64); overrides `archs`
    #[arg(long, value_delimiter = ',')]
    pub arch: Vec<String>,
    /// Extra packages to install
    #[arg(short = 'p', long = "package-append")]
    pub package_append: Vec<String>,
    /// Extra repositories to use
    #[arg(short = 'r', long = "repository-append")]
    pub repository_append: Vec<String>,
    /// Extra keys to trust (files or URLs)
    #[arg(short = 'k', long = "keyring-append")]
    pub keyring_append: Vec<String>,
    /// Extra annotations, KEY=VALUE
    #[arg(long = "annotations")]
    pub annotations: Vec<String>,
    /// Require the same version of every package on every architecture (apko's behaviour);
    /// fails naming the package that differs when impossible
    #[arg(long)]
    pub consistent_versions: bool,
}

#[derive(clap::Args, Clone, Debug, Default)]
pub struct FetchArgs {
    /// Use only the cache; fail naming what is missing
    #[arg(long)]
    pub offline: bool,
    /// The cache directory (default: the user's cache dir + rapko)
    #[arg(long, env = "RAPKO_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Accept indexes without a trusted signature (dangerous)
    #[arg(long)]
    pub ignore_signatures: bool,
    /// No progress display
    #[arg(short, long)]
    pub quiet: bool,
}

/// The flags of the commands that build an image (`build`, `publish`).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct BuildFlags {
    /// The build time (seconds or YYYY-MM-DDTHH:MM:SSZ); SOURCE_DATE_EPOCH wins; default:
    /// the newest package build date
    #[arg(long)]
    pub build_date: Option<String>,
    /// Install exactly the packages of this lockfile (from `rapko lock`) without resolving
    #[arg(long)]
    pub lockfile: Option<PathBuf>,
    /// Refuse a package whose own signature is not from a key of the keyring (by default
    /// it is accepted with a warning, since the signed index vouches for its checksum)
    #[arg(long)]
    pub strict_signatures: bool,
}

impl BuildFlags {
    /// The build options these flags, the config flags and the fetch flags ask for, with a
    /// progress display on a terminal.
    pub fn options(&self, config: &ConfigArgs, fetch: &FetchArgs) -> anyhow::Result<BuildOptions> {
        let progress = fetch.progress();
        Ok(BuildOptions {
            consistent_versions: config.consistent_versions,
            fetch: FetchOptions {
                strict_signatures: self.strict_signatures,
                ..fetch.options(progress.clone())
            },
            build_time: build_time(self.build_date.as_deref())?,
            lockfile: self
                .lockfile
                .as_ref()
                .map(|p| Ok::<_, anyhow::Error>((p.clone(), Lockfile::read(p)?)))
                .transpose()?,
            reporter: progress.map(|p| p as Arc<dyn rapko_build::Reporter>),
            ..BuildOptions::default()
        })
    }
}

impl ConfigArgs {
    /// Loads the config, its keyring and plans every architecture (resolving, or reading
    /// `lockfile`), for the commands that show what a build would install.
    pub fn plan(
        &self,
        fetch: &FetchArgs,
    ) -> anyhow::Result<(ImageConfiguration, Vec<rapko_build::Plan>)> {
        let config = self.load()?;
        let options = BuildOptions {
            consistent_versions: self.consistent_versions,
            fetch: fetch.options(None),
            ..BuildOptions::default()
        };
        let fetcher = rapko_repo::Fetcher::new(options.fetch.clone())?;
        let keyring = rapko_build::plan::load_keyring(&fetcher, &config)?;
        let plans = rapko_build::plan_all(&fetcher, &config, &keyring, &options)?;
        Ok((config, plans))
    }

    /// Loads the config (includes, defaults, validation) and applies the flags.
    pub fn load(&self) -> anyhow::Result<ImageConfiguration> {
        let mut config = rapko_config::load(&self.config)?;
        let mut overrides = Overrides {
            packages_append: self.package_append.clone(),
            repositories_append: self.repository_append.clone(),
            keyring_append: self.keyring_append.clone(),
            ..Overrides::default()
        };
        if !self.arch.is_empty() {
            overrides.archs = rapko_config::arch::parse_list(&self.arch)?;
        }
        for a in &self.annotations {
            let (k, v) = Overrides::parse_annotation(a)?;
            overrides.annotations.insert(k, v);
        }
        config
            .apply(&overrides)
            .with_context(|| format!("applying command-line flags to {}", self.config.display()))?;
        Ok(config)
    }
}

impl FetchArgs {
    pub fn options(&self, progress: Option<Arc<TerminalProgress>>) -> FetchOptions {
        FetchOptions {
            cache_dir: self.cache_dir.clone(),
            offline: self.offline,
            ignore_signatures: self.ignore_signatures,
            http_auth: std::env::var("HTTP_AUTH").ok(),
            progress: progress.map(|p| p as Arc<dyn rapko_repo::Progress>),
            ..FetchOptions::default()
        }
    }

    /// A progress display when stderr is a terminal and --quiet is not given.
    pub fn progress(&self) -> Option<Arc<TerminalProgress>> {
        (!self.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .then(|| Arc::new(TerminalProgress::new()))
    }
}

/// The build time: `SOURCE_DATE_EPOCH`, else `--build-date` (RFC 3339 or seconds), else
/// `None` (the newest package build date).
pub fn build_time(build_date: Option<&str>) -> anyhow::Result<Option<u64>> {
    if let Ok(epoch) = std::env::var("SOURCE_DATE_EPOCH")
        && !epoch.is_empty()
    {
        let secs = epoch
            .trim()
            .parse()
            .with_context(|| format!("SOURCE_DATE_EPOCH={epoch:?} is not a number of seconds"))?;
        return Ok(Some(rapko_build::check_build_time(
            secs,
            &format!("SOURCE_DATE_EPOCH={epoch:?}"),
        )?));
    }
    build_date.map(parse_date).transpose()
}

fn parse_date(text: &str) -> anyhow::Result<u64> {
    rapko_build::parse_build_date(text).context("--build-date")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_as_seconds_or_rfc3339() {
        assert_eq!(parse_date("1700000000").unwrap(), 1_700_000_000);
        assert_eq!(parse_date("2023-11-14T22:13:20Z").unwrap(), 1_700_000_000);
        assert_eq!(parse_date("1970-01-01T00:00:00Z").unwrap(), 0);
        assert!(parse_date("yesterday").is_err());
    }
}
