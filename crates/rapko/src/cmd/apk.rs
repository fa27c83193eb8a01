//! `rapko apk …`: inspect, compare, index and verify packages without building anything.

use clap::Subcommand;

#[derive(Subcommand)]
pub enum ApkCommand {
    /// Compare two versions: prints <, = or >
    Vercmp { a: String, b: String },
}

pub fn run(command: &ApkCommand) -> anyhow::Result<()> {
    match command {
        ApkCommand::Vercmp { a, b } => vercmp(a, b),
    }
}

fn vercmp(a: &str, b: &str) -> anyhow::Result<()> {
    for v in [a, b] {
        anyhow::ensure!(rapko_apk::version::is_valid(v), "invalid version {v:?}");
    }
    let sign = match rapko_apk::version::compare(a, b) {
        std::cmp::Ordering::Less => "<",
        std::cmp::Ordering::Equal => "=",
        std::cmp::Ordering::Greater => ">",
    };
    println!("{sign}");
    Ok(())
}
