//! The first half of a build, shared by `build`, `show-packages`, `lock` and `dot`: load the
//! keyring and the repositories' indexes for one architecture and resolve the world (or
//! take the packages of a lockfile) into the ordered list of packages to install.

use std::str::FromStr;

use rapko_apk::{Dependency, Keyring, PackageInfo};
use rapko_config::{Arch, ImageConfiguration};
use rapko_repo::{Fetcher, LoadedIndex, RepoSpec};
use rapko_solve::{Repository, Resolver};

use crate::error::{BuildError, Result};
use crate::lock::Lockfile;

/// The indexes of one architecture, with their packages moved into solver repositories
/// (indexes are big: they are never copied).
pub struct ArchRepos {
    pub arch: Arch,
    /// Index metadata (URL, spec) by repository position; `index.packages` is empty here.
    pub indexes: Vec<LoadedIndex>,
    /// The packages of each index, for the resolver.
    pub repos: Vec<Repository>,
}

/// One package chosen for installation.
#[derive(Clone, Debug)]
pub struct Chosen {
    /// Position in [`ArchRepos::repos`].
    pub repository: usize,
    pub info: PackageInfo,
    /// Positions in [`Plan::packages`] of the packages that satisfied its dependencies.
    pub depends_on: Vec<usize>,
    /// The lockfile's record of it, when building from a lock (checked after fetching).
    pub locked: Option<crate::lock::LockPackage>,
}

/// What to install for one architecture, in install order.
pub struct Plan {
    pub repos: ArchRepos,
    pub packages: Vec<Chosen>,
}

impl Plan {
    /// The URL a package is fetched from (credentials redacted).
    pub fn package_url(&self, chosen: &Chosen) -> String {
        rapko_repo::redact_url(&self.repos.indexes[chosen.repository].package_url(&chosen.info))
    }
}

/// Loads the keyring of a config.
pub fn load_keyring(fetcher: &Fetcher, config: &ImageConfiguration) -> Result<Keyring> {
    Ok(fetcher.load_keyring(&config.contents.keyring)?)
}

/// Loads every repository's index for `arch`, in parallel.
pub fn load_repos(
    fetcher: &Fetcher,
    config: &ImageConfiguration,
    arch: Arch,
    keyring: &Keyring,
) -> Result<ArchRepos> {
    let specs = config
        .build_repositories()
        .iter()
        .map(|r| RepoSpec::parse(r))
        .collect::<Result<Vec<_>, _>>()?;
    if specs.is_empty() {
        return Err(BuildError::Other(
            "contents.repositories is empty: name at least one repository".to_owned(),
        ));
    }
    let mut indexes = fetcher.load_indexes(&specs, arch.apk_name(), keyring)?;
    let repos = indexes
        .iter_mut()
        .map(|index| {
            let packages = std::mem::take(&mut index.index.packages);
            match &index.spec.tag {
                Some(tag) => Repository::tagged(tag.clone(), packages),
                None => Repository::new(packages),
            }
        })
        .collect();
    Ok(ArchRepos {
        arch,
        indexes,
        repos,
    })
}

/// Parses the config's `contents.packages` into world atoms.
pub fn world(config: &ImageConfiguration) -> Result<Vec<Dependency>> {
    config
        .contents
        .packages
        .iter()
        .map(|entry| {
            Dependency::from_str(entry).map_err(|source| BuildError::World {
                entry: entry.clone(),
                source,
            })
        })
        .collect()
}

/// Resolves the world against the loaded repositories.
pub fn resolve(repos: ArchRepos, world: &[Dependency]) -> Result<Plan> {
    let resolver = Resolver::new(&repos.repos);
    let resolution = resolver
        .resolve(world)
        .map_err(|source| BuildError::Resolve {
            arch: repos.arch.to_string(),
            source: Box::new(source),
        })?;
    let packages = chosen(&resolution);
    drop(resolution);
    Ok(Plan { repos, packages })
}

/// Resolves every architecture so that each package has the same version on all of them
/// (apko's `--consistent-versions`); the error names the package that cannot agree.
pub fn resolve_consistent(all: Vec<ArchRepos>, world: &[Dependency]) -> Result<Vec<Plan>> {
    let names: Vec<String> = all.iter().map(|r| r.arch.to_string()).collect();
    let resolvers: Vec<Resolver<'_>> = all.iter().map(|r| Resolver::new(&r.repos)).collect();
    let arches: Vec<(&str, &Resolver<'_>)> =
        names.iter().map(String::as_str).zip(&resolvers).collect();
    let resolutions =
        rapko_solve::resolve_consistent(&arches, world).map_err(|source| BuildError::Resolve {
            arch: names.join(", "),
            source: Box::new(source),
        })?;
    let packages: Vec<Vec<Chosen>> = resolutions.iter().map(chosen).collect();
    drop(resolutions);
    drop(resolvers);
    Ok(all
        .into_iter()
        .zip(packages)
        .map(|(repos, packages)| Plan { repos, packages })
        .collect())
}

fn chosen(resolution: &rapko_solve::Resolution<'_>) -> Vec<Chosen> {
    resolution
        .packages
        .iter()
        .map(|p| Chosen {
            repository: p.repository,
            info: p.info.clone(),
            depends_on: p
                .depends
                .iter()
                .flat_map(|l| l.satisfied_by.iter().copied())
                .collect(),
            locked: None,
        })
        .collect()
}

/// Takes exactly the packages of a lockfile for this architecture, in the lock's order,
/// checking each against the (verified) index: a lock whose checksum no longer matches the
/// repository is refused rather than silently changing the image.
pub fn from_lock(repos: ArchRepos, lock: &Lockfile, lock_path: &str) -> Result<Plan> {
    let arch = repos.arch.apk_name();
    let mut packages = Vec::new();
    for locked in lock
        .contents
        .packages
        .iter()
        .filter(|p| p.architecture == arch)
    {
        let found = repos.repos.iter().enumerate().find_map(|(r, repo)| {
            repo.packages
                .iter()
                .find(|p| p.name == locked.name && p.version == locked.version)
                .map(|p| (r, p))
        });
        let Some((repository, info)) = found else {
            return Err(BuildError::Lock {
                path: lock_path.to_owned(),
                message: format!(
                    "{}-{} ({arch}) is in no repository of the config",
                    locked.name, locked.version
                ),
            });
        };
        let actual = info.checksum.map(|c| c.to_q1()).unwrap_or_default();
        if actual != locked.checksum {
            return Err(BuildError::Lock {
                path: lock_path.to_owned(),
                message: format!(
                    "{}-{} ({arch}) has checksum {actual} in its repository, the lock says {}",
                    locked.name, locked.version, locked.checksum
                ),
            });
        }
        packages.push(Chosen {
            repository,
            info: info.clone(),
            depends_on: Vec::new(),
            locked: Some(locked.clone()),
        });
    }
    if packages.is_empty() {
        return Err(BuildError::Lock {
            path: lock_path.to_owned(),
            message: format!("it has no packages for {arch}"),
        });
    }
    Ok(Plan { repos, packages })
}
