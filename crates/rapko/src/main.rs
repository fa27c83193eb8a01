//! The `rapko` command line: parses arguments, sets up logging to stderr, and hands each
//! command to its module under `cmd/`. Results go to stdout, everything else to stderr.

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Build OCI container images straight from APK packages, from apko-format YAML files.
#[derive(Parser)]
#[command(name = "rapko", version, about, propagate_version = true)]
struct Cli {
    /// Log level: error, warn, info, debug or trace (also RAPKO_LOG)
    #[arg(long, global = true, env = "RAPKO_LOG", default_value = "warn")]
    log_level: String,
    /// More logging (-v info, -vv debug, -vvv trace)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build an image from a config: resolve, fetch, install, write (OCI layout or tarball)
    Build(cmd::build::BuildArgs),
    /// Build, then push the image (and its SBOMs) to registries
    Publish(cmd::publish::PublishArgs),
    /// Store registry credentials the way `docker login` does
    Login(cmd::login::LoginArgs),
    /// Forget stored registry credentials
    Logout(cmd::login::LogoutArgs),
    /// Write the root filesystem of a config as a .tar.gz
    BuildMinirootfs(cmd::build::MinirootfsArgs),
    /// Print the effective config after includes and command-line flags
    ShowConfig(cmd::show::ShowConfigArgs),
    /// Print the packages a config resolves to, in install order
    ShowPackages(cmd::show::ShowPackagesArgs),
    /// Write a lockfile (apko.lock.json layout) with the exact packages of every arch
    Lock(cmd::show::LockArgs),
    /// Print the dependency graph of a config's packages in Graphviz dot
    Dot(cmd::show::DotArgs),
    /// Tools for people who run apk repositories
    #[command(subcommand)]
    Apk(cmd::apk::ApkCommand),
    /// Write SBOMs for an image rapko built (an OCI layout or tarball)
    Sbom(cmd::sbom::SbomCommandArgs),
    /// Inspect or empty the package and layer cache
    #[command(subcommand)]
    Cache(cmd::cache::CacheCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    cmd::interrupt::install();
    let result = match &cli.command {
        Command::Build(a) => cmd::build::run(a),
        Command::BuildMinirootfs(a) => cmd::build::run_minirootfs(a),
        Command::Publish(a) => cmd::publish::run(a),
        Command::Login(a) => cmd::login::run_login(a),
        Command::Logout(a) => cmd::login::run_logout(a),
        Command::ShowConfig(a) => cmd::show::run_show_config(a),
        Command::ShowPackages(a) => cmd::show::run_show_packages(a),
        Command::Lock(a) => cmd::show::run_lock(a),
        Command::Dot(a) => cmd::show::run_dot(a),
        Command::Apk(c) => cmd::apk::run(c),
        Command::Cache(c) => cmd::cache::run(c),
        Command::Sbom(a) => cmd::sbom::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            cmd::print_error(&e);
            ExitCode::FAILURE
        }
    }
}

fn init_logging(cli: &Cli) {
    let level = match cli.verbose {
        0 => cli.log_level.as_str(),
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let ansi = std::env::var_os("NO_COLOR").is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .without_time()
        .init();
}
