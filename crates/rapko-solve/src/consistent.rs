//! One world for several architectures, with the same versions everywhere (apko's
//! `--consistent-versions`, the default for multi-arch images).
//!
//! Each architecture is resolved on its own first. Where a package name ends up at
//! different versions, it is held at the highest version that every architecture that
//! chose it has and that is not above any of their choices (so each can still satisfy
//! it), and all architectures are resolved again; this repeats until the versions agree.
//! Each round holds at least one more name, so it ends. When a package has no common
//! version, or holding it leaves an architecture without a solution, the error names the
//! package and each architecture's version.

use std::collections::BTreeMap;

use rapko_apk::{Dependency, version};

use crate::error::ResolveError;
use crate::resolve::{Resolution, Resolver};

/// Resolves `world` for every `(architecture, resolver)` so that every package name chosen
/// on several architectures has one version. Returns the resolutions in the given order.
pub fn resolve_consistent<'a>(
    arches: &[(&str, &Resolver<'a>)],
    world: &[Dependency],
) -> Result<Vec<Resolution<'a>>, ResolveError> {
    let mut holds: Vec<(String, String)> = Vec::new();
    // The names held by the last round, with the versions that made them differ.
    let mut last_round: Vec<(String, Vec<(String, String)>)> = Vec::new();
    loop {
        let mut results = Vec::with_capacity(arches.len());
        for (arch, resolver) in arches {
            match resolver.resolve_held(world, &holds) {
                Ok(r) => results.push(r),
                Err(e) => {
                    return Err(match last_round.first() {
                        // A hold broke this architecture: that name cannot agree.
                        Some((name, per_arch)) => inconsistent(name, per_arch),
                        None => ResolveError::Arch {
                            arch: (*arch).to_owned(),
                            source: Box::new(e),
                        },
                    });
                }
            }
        }
        let chosen = chosen_versions(arches, &results);
        let differing: Vec<(&String, &Vec<(String, String)>)> = chosen
            .iter()
            .filter(|(_, per_arch)| per_arch.iter().any(|(_, v)| *v != per_arch[0].1))
            .collect();
        if differing.is_empty() {
            return Ok(results);
        }
        last_round.clear();
        for (name, per_arch) in differing {
            let already = holds.iter().any(|(n, _)| n == name);
            match common_version(arches, name, per_arch) {
                Some(v) if !already => holds.push((name.clone(), v)),
                _ => return Err(inconsistent(name, per_arch)),
            }
            last_round.push((name.clone(), per_arch.clone()));
        }
    }
}

/// For each package name, the `(arch, version)` of every architecture that chose it.
fn chosen_versions(
    arches: &[(&str, &Resolver<'_>)],
    results: &[Resolution<'_>],
) -> BTreeMap<String, Vec<(String, String)>> {
    let mut chosen: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for ((arch, _), resolution) in arches.iter().zip(results) {
        for p in &resolution.packages {
            chosen
                .entry(p.info.name.clone())
                .or_default()
                .push(((*arch).to_owned(), p.info.version.clone()));
        }
    }
    chosen
}

/// The highest version of `name` present in the repositories of every architecture in
/// `per_arch` and not above any version they chose.
fn common_version(
    arches: &[(&str, &Resolver<'_>)],
    name: &str,
    per_arch: &[(String, String)],
) -> Option<String> {
    let lowest_chosen = per_arch
        .iter()
        .map(|(_, v)| v.as_str())
        .min_by(|a, b| version::compare(a, b))?;
    let available = |arch: &str| -> Vec<&str> {
        arches
            .iter()
            .filter(|(a, _)| *a == arch)
            .flat_map(|(_, r)| r.repositories())
            .flat_map(|repo| &repo.packages)
            .filter(|p| p.name == name)
            .map(|p| p.version.as_str())
            .collect()
    };
    let mut common: Vec<&str> = available(&per_arch[0].0);
    for (arch, _) in &per_arch[1..] {
        let here = available(arch);
        common.retain(|v| here.contains(v));
    }
    common
        .into_iter()
        .filter(|v| version::compare(v, lowest_chosen).is_le())
        .max_by(|a, b| version::compare(a, b))
        .map(str::to_owned)
}

fn inconsistent(name: &str, per_arch: &[(String, String)]) -> ResolveError {
    ResolveError::InconsistentVersions {
        name: name.to_owned(),
        versions: per_arch.to_vec(),
    }
}
