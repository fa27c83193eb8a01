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
    /// Tools for people who run apk repositories
    #[command(subcommand)]
    Apk(cmd::apk::ApkCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    let result = match &cli.command {
        Command::Apk(c) => cmd::apk::run(c),
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
    let ansi = std::env::var_os("NO_COLOR").is_none() && std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .without_time()
        .init();
}
