//! What one resolution may choose beyond the dependency rules: repository pinning and
//! version holds.
//!
//! Pinning follows apk: a package from a repository tagged `@t` is allowed only when the
//! world asks for it as `name@t`, or when such a package needs it, directly or through
//! other packages (apk passes the pin down the dependency edges; `install_if` packages
//! triggered by pinned packages inherit it too). apk passes the pin along the edges of the
//! packages it actually selects; this computes the closure over every provider of every
//! dependency of the pinned packages, a superset, which the solver's preference for
//! untagged repositories keeps from mattering in practice.
//!
//! Holds pin a package name to one version; `resolve_consistent` uses them to make every
//! architecture agree. Locks pin a name to one package; the resolver uses them to climb
//! to a higher version its first answer missed.

use ahash::{AHashMap, AHashSet};
use rapko_apk::Dependency;

use crate::error::ResolveError;
use crate::resolve::Provided;
use crate::universe::{NameId, PkgId, Universe, provide_matches};

#[derive(Debug, Default)]
pub(crate) struct Policy<'a> {
    /// Packages of tagged repositories that pinning allows.
    pinned: AHashSet<PkgId>,
    /// Package names asked for with a tag in the world, and that tag.
    world_tags: AHashMap<NameId, &'a str>,
    /// Package names held at one version.
    holds: AHashMap<NameId, &'a str>,
    /// Package names locked to one package.
    locks: AHashMap<NameId, PkgId>,
}

impl<'a> Policy<'a> {
    /// The policy for `world`, with `holds` as `(package name, version)`.
    pub fn new(
        u: &Universe<'a>,
        world: &'a [Dependency],
        holds: &'a [(String, String)],
    ) -> Result<Policy<'a>, ResolveError> {
        let mut policy = Policy::default();
        for atom in world.iter().filter(|a| !a.conflict) {
            let Some(tag) = atom.tag.as_deref() else {
                continue;
            };
            if !u.repos.iter().any(|r| r.tag.as_deref() == Some(tag)) {
                return Err(unknown_tag(u, atom, tag));
            }
            if let Some(name) = u.lookup(&atom.name) {
                policy.world_tags.entry(name).or_insert(tag);
                policy.pin_closure(u, atom, name, tag);
            }
        }
        for (name, version) in holds {
            if let Some(id) = u.lookup(name) {
                policy.holds.insert(id, version.as_str());
            }
        }
        Ok(policy)
    }

    /// Takes back the permission to choose `pkgs`.
    pub fn revoke(&mut self, pkgs: &[PkgId]) {
        for p in pkgs {
            self.pinned.remove(p);
        }
    }

    /// The chosen packages from tagged repositories that the pin does not reach through
    /// the chosen packages: from the world's atoms with that tag, along dependencies, and
    /// to `install_if` packages triggered by a reached package.
    pub fn unpinned(&self, u: &Universe<'_>, world: &[Dependency], chosen: &[PkgId]) -> Vec<PkgId> {
        let provided = Provided::new(u, chosen);
        let mut tags: Vec<&str> = chosen.iter().filter_map(|&p| u.tag(p)).collect();
        tags.sort_unstable();
        tags.dedup();
        let mut stray = Vec::new();
        for tag in tags {
            let mut reached: AHashSet<PkgId> = AHashSet::new();
            let mut queue: Vec<PkgId> = world
                .iter()
                .filter(|a| !a.conflict && a.tag.as_deref() == Some(tag))
                .flat_map(|a| provided.matching(u, a).collect::<Vec<_>>())
                .collect();
            loop {
                while let Some(pkg) = queue.pop() {
                    if reached.insert(pkg) {
                        for dep in u.pkg(pkg).info.depends.iter().filter(|d| !d.conflict) {
                            queue.extend(provided.matching(u, dep));
                        }
                    }
                }
                queue = chosen
                    .iter()
                    .copied()
                    .filter(|p| {
                        !reached.contains(p) && self.triggered_by(u, &provided, *p, &reached)
                    })
                    .collect();
                if queue.is_empty() {
                    break;
                }
            }
            stray.extend(
                chosen
                    .iter()
                    .filter(|&&p| u.tag(p) == Some(tag) && !reached.contains(&p)),
            );
        }
        stray
    }

    /// True when `pkg` is an `install_if` package one of whose conditions a reached
    /// package satisfies.
    fn triggered_by(
        &self,
        u: &Universe<'_>,
        provided: &Provided<'_>,
        pkg: PkgId,
        reached: &AHashSet<PkgId>,
    ) -> bool {
        let iif = &u.pkg(pkg).info.install_if;
        iif.iter().all(|a| provided.satisfies(u, a))
            && iif
                .iter()
                .any(|a| !a.conflict && provided.matching(u, a).any(|p| reached.contains(&p)))
    }

    /// True when pinning lets the solver choose `pkg`.
    pub fn allowed(&self, u: &Universe<'_>, pkg: PkgId) -> bool {
        u.tag(pkg).is_none() || self.pinned.contains(&pkg)
    }

    /// The tag the world asked `name` with, if any.
    pub fn world_tag(&self, name: NameId) -> Option<&'a str> {
        self.world_tags.get(&name).copied()
    }

    /// Locks the name of `pkg` to `pkg`.
    pub fn lock(&mut self, u: &Universe<'_>, pkg: PkgId) {
        self.locks.insert(u.pkg(pkg).name, pkg);
    }

    /// The package `name` is locked to, if any.
    pub fn locked(&self, name: NameId) -> Option<PkgId> {
        self.locks.get(&name).copied()
    }

    /// True when a hold or a lock on its name rules `pkg` out.
    pub fn held_out(&self, u: &Universe<'_>, pkg: PkgId) -> bool {
        let p = u.pkg(pkg);
        self.hold(p.name).is_some_and(|v| v != p.info.version)
            || self.locked(p.name).is_some_and(|l| l != pkg)
    }

    /// The version `name` is held at, if any.
    pub fn hold(&self, name: NameId) -> Option<&'a str> {
        self.holds.get(&name).copied()
    }

    /// Marks as allowed every package of a repository tagged `tag` reachable from the
    /// providers of `atom` through dependencies and `install_if`.
    fn pin_closure(&mut self, u: &Universe<'_>, atom: &Dependency, name: NameId, tag: &str) {
        let mut seen: AHashSet<PkgId> = AHashSet::new();
        let mut queue: Vec<PkgId> = u
            .providers(name)
            .iter()
            .filter(|p| provide_matches(atom, p.version))
            .map(|p| p.pkg)
            .collect();
        while let Some(pkg) = queue.pop() {
            if !seen.insert(pkg) {
                continue;
            }
            if u.tag(pkg) == Some(tag) {
                self.pinned.insert(pkg);
            }
            for dep in u.pkg(pkg).info.depends.iter().filter(|d| !d.conflict) {
                let Some(dep_name) = u.lookup(&dep.name) else {
                    continue;
                };
                let next = u.providers(dep_name).iter();
                queue.extend(
                    next.filter(|p| provide_matches(dep, p.version))
                        .map(|p| p.pkg),
                );
            }
            for provided in u.provided(pkg) {
                queue.extend(u.install_if_users(provided.name).iter().copied());
            }
        }
    }
}

fn unknown_tag(u: &Universe<'_>, atom: &Dependency, tag: &str) -> ResolveError {
    let mut known: Vec<String> = u.repos.iter().filter_map(|r| r.tag.clone()).collect();
    known.sort();
    known.dedup();
    ResolveError::UnknownTag {
        atom: atom.to_string(),
        tag: tag.to_owned(),
        known,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Repository;
    use crate::testutil::{index, world};

    fn allowed_labels(repos: &[Repository], w: &str) -> Vec<String> {
        let u = Universe::new(repos);
        let w = world(w);
        let holds = [];
        let policy = Policy::new(&u, &w, &holds).unwrap_or_else(|e| panic!("{e}"));
        (0..u.pkgs.len() as PkgId)
            .filter(|&p| policy.allowed(&u, p))
            .map(|p| u.label(p))
            .collect()
    }

    #[test]
    fn tagged_packages_need_the_tag_or_a_pinned_dependent() {
        let repos = [
            Repository::new(index("P:app V:1 D:lib")),
            Repository::tagged(
                "edge",
                index(
                    "P:app V:2 D:lib>=2
                     P:lib V:2 D:helper
                     P:helper V:2
                     P:other V:2
                     P:app-doc V:2 i:app=2|docs",
                ),
            ),
        ];
        assert_eq!(allowed_labels(&repos, "app"), ["app-1"]);
        assert_eq!(
            allowed_labels(&repos, "app@edge"),
            ["app-1", "app-2", "lib-2", "helper-2", "app-doc-2"]
        );
    }

    #[test]
    fn an_unknown_tag_is_an_error_naming_the_known_ones() {
        let repos = [
            Repository::new(index("P:app V:1")),
            Repository::tagged("testing", index("P:app V:2")),
        ];
        let u = Universe::new(&repos);
        let w = world("app@edge");
        let holds = [];
        match Policy::new(&u, &w, &holds) {
            Err(ResolveError::UnknownTag { tag, known, .. }) => {
                assert_eq!((tag.as_str(), known), ("edge", vec!["testing".to_owned()]));
            }
            other => panic!("expected UnknownTag, got {other:?}"),
        }
    }
}
