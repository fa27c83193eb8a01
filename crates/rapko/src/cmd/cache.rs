//! `rapko cache info|clean`: what the package cache holds, and emptying it. The cache is
//! content-addressed and verified on every read, so cleaning it is never needed for
//! correctness: only to take the disk space back.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use rapko_repo::CacheInfo;

#[derive(Subcommand, Debug)]
pub enum CacheCommand {
    /// Show where the cache is and what it holds
    Info {
        #[command(flatten)]
        dir: CacheDirArg,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Remove every cached package, index and key
    Clean {
        #[command(flatten)]
        dir: CacheDirArg,
    },
}

#[derive(Args, Debug)]
pub struct CacheDirArg {
    /// The cache directory (default: the user's cache dir + rapko)
    #[arg(long, env = "RAPKO_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
}

impl CacheDirArg {
    fn resolve(&self) -> PathBuf {
        self.cache_dir
            .clone()
            .unwrap_or_else(rapko_repo::default_cache_dir)
    }
}

pub fn run(command: &CacheCommand) -> anyhow::Result<()> {
    match command {
        CacheCommand::Info { dir, json } => info(&dir.resolve(), *json),
        CacheCommand::Clean { dir } => clean(&dir.resolve()),
    }
}

fn info(dir: &Path, json: bool) -> anyhow::Result<()> {
    let info = rapko_repo::cache_info(dir)
        .with_context(|| format!("cannot read the cache at {}", dir.display()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&to_json(&info))?);
    } else {
        println!("cache:    {}", info.dir.display());
        println!("packages: {}", info.packages);
        println!("indexes:  {}", info.indexes);
        println!("keys:     {}", info.keys);
        println!("size:     {} ({} bytes)", human_size(info.size), info.size);
    }
    Ok(())
}

fn clean(dir: &Path) -> anyhow::Result<()> {
    let removed = rapko_repo::cache_clean(dir)
        .with_context(|| format!("cannot clean the cache at {}", dir.display()))?;
    println!(
        "removed {} entries ({}) from {}",
        removed.entries,
        human_size(removed.size),
        removed.dir.display()
    );
    Ok(())
}

fn to_json(info: &CacheInfo) -> serde_json::Value {
    serde_json::json!({
        "dir": info.dir.display().to_string(),
        "size": info.size,
        "entries": info.entries,
        "packages": info.packages,
        "indexes": info.indexes,
        "keys": info.keys,
    })
}

/// Bytes in the largest unit that keeps the number at least 1, one decimal.
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(999), "999 B");
        assert_eq!(human_size(3_612_345), "3.6 MB");
        assert_eq!(human_size(2_000_000_000), "2.0 GB");
    }

    #[test]
    fn json_names_every_count() {
        let info = CacheInfo {
            dir: PathBuf::from("/c"),
            size: 10,
            entries: 3,
            packages: 2,
            indexes: 1,
            keys: 0,
        };
        let json = to_json(&info);
        assert_eq!(json["entries"], 3);
        assert_eq!(json["packages"], 2);
        assert_eq!(json["dir"], "/c");
    }

    #[test]
    fn info_and_clean_on_a_directory() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("packages")).expect("mkdir");
        std::fs::write(dir.path().join("packages/0a.apk"), b"12345").expect("write");
        info(dir.path(), false).expect("info");
        clean(dir.path()).expect("clean");
        assert_eq!(rapko_repo::cache_info(dir.path()).expect("info").entries, 0);
    }
}
