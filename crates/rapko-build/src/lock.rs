//! Lockfiles in apko's `apko.lock.json` layout (version `v1`): the exact packages of every
//! architecture with their URLs, checksums and byte ranges, so `rapko build --lockfile`
//! installs the same bytes without resolving.

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::error::{BuildError, Result};

pub const LOCK_VERSION: &str = "v1";

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lockfile {
    pub version: String,
    pub config: LockConfig,
    pub contents: LockContents,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockConfig {
    pub name: String,
    /// `sha256-<base64>` of the config file's bytes.
    pub checksum: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockContents {
    pub keyring: Vec<LockKey>,
    pub build_repositories: Vec<LockRepository>,
    pub runtime_repositories: Vec<LockRepository>,
    pub repositories: Vec<LockRepository>,
    pub packages: Vec<LockPackage>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockKey {
    pub name: String,
    pub url: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockRepository {
    pub name: String,
    pub url: String,
    pub architecture: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockPackage {
    pub name: String,
    pub url: String,
    pub version: String,
    pub architecture: String,
    pub signature: LockRange,
    pub control: LockRange,
    pub data: LockRange,
    /// The index's `C:` value (`Q1…`).
    pub checksum: String,
}

/// A byte range of the `.apk` (`bytes=FIRST-LAST`, inclusive) and its checksum.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockRange {
    pub range: String,
    pub checksum: String,
}

impl LockRange {
    pub fn of(bytes: &[u8], range: std::ops::Range<usize>, algorithm: &str) -> LockRange {
        if range.is_empty() {
            return LockRange::default();
        }
        let part = bytes.get(range.clone()).unwrap_or_default();
        let digest = match algorithm {
            "sha1" => sha1::Sha1::digest(part).to_vec(),
            _ => sha2::Sha256::digest(part).to_vec(),
        };
        LockRange {
            range: format!("bytes={}-{}", range.start, range.end - 1),
            checksum: format!(
                "{algorithm}-{}",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ),
        }
    }
}

/// `sha256-<base64>` of a file's bytes, as apko writes the config checksum.
pub fn config_checksum(bytes: &[u8]) -> String {
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
    )
}

impl Lockfile {
    pub fn read(path: &std::path::Path) -> Result<Lockfile> {
        let lock_err = |message: String| BuildError::Lock {
            path: path.display().to_string(),
            message,
        };
        let bytes = std::fs::read(path).map_err(|e| lock_err(format!("cannot read it: {e}")))?;
        let lock: Lockfile =
            serde_json::from_slice(&bytes).map_err(|e| lock_err(format!("not a lockfile: {e}")))?;
        if lock.version != LOCK_VERSION {
            return Err(lock_err(format!(
                "version {:?} is not supported (expected {LOCK_VERSION})",
                lock.version
            )));
        }
        for p in &lock.contents.packages {
            rapko_apk::package_info::check_package_name(&p.name)
                .and_then(|()| rapko_apk::package_info::check_package_version(&p.version))
                .map_err(lock_err)?;
        }
        Ok(lock)
    }

    /// Pretty JSON with a final newline, stable field order.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// Resolves every architecture and records the exact packages, fetching them (through the
/// cache) to record their byte ranges and checksums.
pub fn lock(
    config: &rapko_config::ImageConfiguration,
    config_name: &str,
    config_bytes: &[u8],
    options: &crate::BuildOptions,
) -> Result<Lockfile> {
    let fetcher = rapko_repo::Fetcher::new(options.fetch.clone())?;
    let keyring = crate::plan::load_keyring(&fetcher, config)?;
    let plans = crate::plan_all(&fetcher, config, &keyring, options)?;
    let mut contents = LockContents {
        keyring: config
            .contents
            .keyring
            .iter()
            .map(|k| LockKey {
                name: k.rsplit('/').next().unwrap_or(k).to_owned(),
                url: rapko_repo::redact_url(k),
            })
            .collect(),
        build_repositories: Vec::new(),
        runtime_repositories: Vec::new(),
        repositories: Vec::new(),
        packages: Vec::new(),
    };
    for plan in &plans {
        let arch = plan.repos.arch.apk_name();
        for index in &plan.repos.indexes {
            contents.repositories.push(LockRepository {
                name: format!("{}/{arch}", index.spec.location_display()),
                url: rapko_repo::redact_url(&index.url),
                architecture: arch.to_owned(),
            });
        }
        let wanted: Vec<_> = plan
            .packages
            .iter()
            .map(|c| (&plan.repos.indexes[c.repository], &c.info))
            .collect();
        for (fetched, chosen) in fetcher.fetch_packages(&wanted)?.iter().zip(&plan.packages) {
            let p = &fetched.parsed;
            let bytes = &fetched.bytes;
            contents.packages.push(LockPackage {
                name: chosen.info.name.clone(),
                url: plan.package_url(chosen),
                version: chosen.info.version.clone(),
                architecture: arch.to_owned(),
                signature: LockRange::of(bytes, 0..p.control.start, "sha1"),
                control: LockRange::of(bytes, p.control.clone(), "sha1"),
                data: LockRange::of(bytes, p.data.clone(), "sha256"),
                checksum: p.control_checksum.to_q1(),
            });
        }
    }
    Ok(Lockfile {
        version: LOCK_VERSION.to_owned(),
        config: LockConfig {
            name: config_name.to_owned(),
            checksum: config_checksum(config_bytes),
        },
        contents,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock_with(name: &str, version: &str) -> std::path::PathBuf {
        let lock = Lockfile {
            version: LOCK_VERSION.to_owned(),
            contents: LockContents {
                packages: vec![LockPackage {
                    name: name.to_owned(),
                    version: version.to_owned(),
                    ..LockPackage::default()
                }],
                ..LockContents::default()
            },
            ..Lockfile::default()
        };
        let dir = tempfile::tempdir().expect("tempdir").keep();
        let path = dir.join("apko.lock.json");
        std::fs::write(&path, lock.to_json()).expect("write lock");
        path
    }

    #[test]
    fn unsafe_package_names_in_a_lockfile_are_refused() {
        for (name, version) in [("../../x", "1-r0"), ("a/b", "1-r0"), ("x", "1/../../y")] {
            let path = lock_with(name, version);
            let err = Lockfile::read(&path).expect_err("unsafe lockfile refused");
            let text = err.to_string();
            assert!(
                text.contains("unsafe") && text.contains(&path.display().to_string()),
                "{text}"
            );
        }
        assert!(Lockfile::read(&lock_with("busybox", "1.36.1-r15")).is_ok());
    }
}
