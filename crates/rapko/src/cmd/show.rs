//! The commands that look without building: `show-config`, `show-packages`, `lock`, `dot`.

use std::path::PathBuf;

use anyhow::Context;
use rapko_build::BuildOptions;

use crate::cmd::common::{ConfigArgs, FetchArgs};

#[derive(clap::Args, Debug)]
pub struct ShowConfigArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
}

pub fn run_show_config(args: &ShowConfigArgs) -> anyhow::Result<()> {
    print!("{}", args.config.load()?.to_yaml());
    Ok(())
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default)]
pub enum PackageFormat {
    #[default]
    #[value(name = "name-version")]
    NameVersion,
    #[value(name = "name=version")]
    NameEqVersion,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct ShowPackagesArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub fetch: FetchArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: PackageFormat,
}

pub fn run_show_packages(args: &ShowPackagesArgs) -> anyhow::Result<()> {
    let (_, plans) = args.config.plan(&args.fetch)?;
    let multi = plans.len() > 1;
    let mut json = Vec::new();
    let mut out = String::new();
    for plan in &plans {
        let arch = plan.repos.arch.apk_name();
        for chosen in &plan.packages {
            let (name, version) = (&chosen.info.name, &chosen.info.version);
            let prefix = if multi {
                format!("{arch} ")
            } else {
                String::new()
            };
            match args.format {
                PackageFormat::NameVersion => out.push_str(&format!("{prefix}{name}-{version}\n")),
                PackageFormat::NameEqVersion => {
                    out.push_str(&format!("{prefix}{name}={version}\n"))
                }
                PackageFormat::Json => json.push(serde_json::json!({
                    "name": name,
                    "version": version,
                    "arch": arch,
                    "origin": chosen.info.origin,
                    "url": plan.package_url(chosen),
                    "checksum": chosen.info.checksum.map(|c| c.to_q1()),
                })),
            }
        }
    }
    if matches!(args.format, PackageFormat::Json) {
        out = serde_json::to_string_pretty(&json)? + "\n";
    }
    print!("{out}");
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct LockArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub fetch: FetchArgs,
    /// Where to write the lockfile (default: CONFIG with .lock.json instead of .yaml)
    #[arg(long)]
    pub output: Option<PathBuf>,
}

pub fn run_lock(args: &LockArgs) -> anyhow::Result<()> {
    let config = args.config.load()?;
    let path = &args.config.config;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let options = BuildOptions {
        consistent_versions: args.config.consistent_versions,
        fetch: args.fetch.options(args.fetch.progress()),
        ..BuildOptions::default()
    };
    let lock = rapko_build::lock::lock(&config, &name, &bytes, &options)?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| path.with_extension("lock.json"));
    let dir = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, lock.to_json().as_bytes())?;
    tmp.persist(&output)
        .with_context(|| format!("cannot write {}", output.display()))?;
    eprintln!("wrote {}", output.display());
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct DotArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub fetch: FetchArgs,
}

pub fn run_dot(args: &DotArgs) -> anyhow::Result<()> {
    let config = args.config.load()?;
    let options = BuildOptions {
        consistent_versions: args.config.consistent_versions,
        fetch: args.fetch.options(None),
        ..BuildOptions::default()
    };
    let fetcher = rapko_repo::Fetcher::new(options.fetch.clone())?;
    let keyring = rapko_build::plan::load_keyring(&fetcher, &config)?;
    let arch = *config
        .archs_or_all()
        .first()
        .context("the config names no architecture")?;
    let repos = rapko_build::plan::load_repos(&fetcher, &config, arch, &keyring)?;
    let world = rapko_build::plan::world(&config)?;
    let resolver = rapko_solve::Resolver::new(&repos.repos);
    let resolution = resolver.resolve(&world)?;
    print!("{}", rapko_solve::to_dot(&resolution));
    Ok(())
}
