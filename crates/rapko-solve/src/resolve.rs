//! The resolver: a world and repositories to the ordered set of packages to install.
//!
//! A resolution checks the world's names first (unknown names get suggestions, impossible
//! constraints list the versions there are), solves the dependency rules with
//! [`crate::sat`], then adds `install_if` packages as a fix-point: every package whose
//! `install_if` conditions hold in the chosen set (and that pinning allows, and whose name
//! is not there yet) is offered to the solver as a soft requirement, which it takes when
//! it fits beside everything already chosen — apk skips such a package when it cannot be
//! installed (`alpine-base !ssl_client` works), and so does rapko. New packages may
//! trigger more; the loop ends when a round adds nothing new, at most once per package.
//!
//! Two checks follow, each re-solving when it finds something: pinned packages must be
//! reached through the packages chosen (see [`crate::policy`]), and no chosen package
//! may be replaceable by a higher version of its name with everything still valid (the
//! referee's test, [`crate::check`]); a CDCL search can settle below that when two
//! providers of a name rank equal, and holding the upgrade lifts it. Both are no-ops for
//! ordinary worlds.

use ahash::{AHashMap, AHashSet};
use rapko_apk::{Dependency, PackageInfo, version};

use crate::check;
use crate::error::ResolveError;
use crate::explain;
use crate::order;
use crate::policy::Policy;
use crate::prefer::{self, Offer};
use crate::sat::Sat;
use crate::suggest;
use crate::universe::{NameId, PkgId, Repository, Universe, provide_matches};

/// At most this many rounds of climbing to higher versions (see `resolve_held`).
const MAX_UPGRADE_ROUNDS: usize = 8;

/// Resolves worlds against a fixed set of repositories. Build it once (it indexes every
/// package by name, a few milliseconds for all of Alpine) and resolve as often as needed;
/// it borrows the repositories and never copies a package.
#[derive(Debug)]
pub struct Resolver<'a> {
    u: Universe<'a>,
}

/// Why a package is in a resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// It satisfies an atom of the world.
    World,
    /// Another chosen package depends on it.
    Dependency,
    /// It joined through `install_if`.
    InstallIf,
}

/// A dependency and the chosen packages that satisfy it (positions in
/// [`Resolution::packages`]; several only for a name provided without versions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link<D> {
    pub dependency: D,
    pub satisfied_by: Vec<usize>,
}

/// One chosen package.
#[derive(Clone, Debug)]
pub struct ResolvedPackage<'a> {
    /// The package, as its repository's index has it (`replaces`, `origin`… included).
    pub info: &'a PackageInfo,
    /// The position of its repository in the list given to [`Resolver::new`].
    pub repository: usize,
    /// Its position in that repository's `packages`.
    pub index: usize,
    pub reason: Reason,
    /// Each dependency of `info.depends` but conflicts, in order, with what satisfied it.
    pub depends: Vec<Link<&'a Dependency>>,
}

/// The packages to install, dependencies before dependents.
#[derive(Clone, Debug)]
pub struct Resolution<'a> {
    /// In installation order: the order apk-tools would install them in (world atoms
    /// sorted by name, each package after its dependencies, `install_if` packages right
    /// after the last package they wait for; a dependency cycle is entered where the
    /// walk first meets it).
    pub packages: Vec<ResolvedPackage<'a>>,
    /// Each atom of the world but conflicts, with the packages that satisfy it.
    pub world: Vec<Link<Dependency>>,
}

impl<'a> Resolution<'a> {
    /// The chosen package called `name`, if any.
    pub fn get(&self, name: &str) -> Option<&ResolvedPackage<'a>> {
        self.packages.iter().find(|p| p.info.name == name)
    }

    /// `name-version` of every package, in installation order.
    pub fn name_versions(&self) -> Vec<String> {
        self.packages
            .iter()
            .map(|p| p.info.name_version())
            .collect()
    }

    /// `(repository, index)` of every package, in installation order.
    pub fn positions(&self) -> Vec<(usize, usize)> {
        self.packages
            .iter()
            .map(|p| (p.repository, p.index))
            .collect()
    }
}

impl<'a> Resolver<'a> {
    /// Indexes `repos`. Their order matters: on a tie, the package of the repository listed
    /// first wins, as in apk.
    pub fn new(repos: &'a [Repository]) -> Resolver<'a> {
        Resolver {
            u: Universe::new(repos),
        }
    }

    /// The repositories this resolver was built from.
    pub fn repositories(&self) -> &'a [Repository] {
        self.u.repos
    }

    /// Resolves `world` (apko's `contents.packages`, apk's `/etc/apk/world`): the packages
    /// to install, with the highest versions that fit together, or why there are none.
    pub fn resolve(&self, world: &[Dependency]) -> Result<Resolution<'a>, ResolveError> {
        self.resolve_held(world, &[])
    }

    /// [`Resolver::resolve`] with package names held at versions (`(name, version)`).
    pub(crate) fn resolve_held(
        &self,
        world: &[Dependency],
        holds: &[(String, String)],
    ) -> Result<Resolution<'a>, ResolveError> {
        self.check_world(world)?;
        let mut locks: Vec<PkgId> = Vec::new();
        let mut chosen = self.resolve_pinned(world, holds, &locks)?;
        // The search settles on the highest versions it meets first; in rare cases (two
        // providers of a name nobody prefers) another choice would have allowed a higher
        // version. Lock each such upgrade and solve again, while that still works.
        for _ in 0..MAX_UPGRADE_ROUNDS {
            let upgrades = self.upgrades(world, &chosen, holds, &locks);
            if upgrades.is_empty() {
                break;
            }
            locks.extend(upgrades.iter().copied());
            // Keep the new answer only if it did climb.
            match self.resolve_pinned(world, holds, &locks) {
                Ok(better) if upgrades.iter().all(|p| better.contains(p)) => chosen = better,
                _ => break,
            }
        }
        Ok(self.resolution(world, &chosen))
    }

    /// Solves with `holds`, keeping apk's pinning rule on the packages chosen.
    fn resolve_pinned(
        &self,
        world: &[Dependency],
        holds: &[(String, String)],
        locks: &[PkgId],
    ) -> Result<Vec<PkgId>, ResolveError> {
        let mut policy = Policy::new(&self.u, world, holds)?;
        for &pkg in locks {
            policy.lock(&self.u, pkg);
        }
        loop {
            let chosen = self.solve(world, &policy)?;
            // Keep apk's pinning rule on the packages actually chosen (see `policy`).
            let stray = policy.unpinned(&self.u, world, &chosen);
            if stray.is_empty() {
                return Ok(chosen);
            }
            policy.revoke(&stray);
        }
    }

    /// The higher versions that could replace chosen packages (judged by the referee,
    /// [`crate::check`]), for names not held already; empty at once when no chosen name
    /// has a higher version anywhere, which is nearly always.
    fn upgrades(
        &self,
        world: &[Dependency],
        chosen: &[PkgId],
        holds: &[(String, String)],
        locks: &[PkgId],
    ) -> Vec<PkgId> {
        let u = &self.u;
        let has_higher = chosen.iter().any(|&c| {
            let pkg = u.pkg(c);
            u.providers(pkg.name).iter().any(|p| {
                let other = u.pkg(p.pkg);
                other.name == pkg.name
                    && version::compare(&other.info.version, &pkg.info.version).is_gt()
            })
        });
        if !has_higher {
            return Vec::new();
        }
        let positions: Vec<(usize, usize)> = chosen
            .iter()
            .map(|&c| (u.pkg(c).repo as usize, u.pkg(c).index as usize))
            .collect();
        check::upgrades(u.repos, world, &positions)
            .into_iter()
            .filter_map(|(_, (r, i))| {
                let id = u.id_of(r, i)?;
                let name = u.pkg(id).name;
                let held = holds.iter().any(|(n, _)| *n == u.pkg(id).info.name)
                    || locks.iter().any(|&l| u.pkg(l).name == name);
                (!held).then_some(id)
            })
            .collect()
    }

    /// Fails early, with a precise message, on world atoms nothing could satisfy.
    fn check_world(&self, world: &[Dependency]) -> Result<(), ResolveError> {
        for atom in world.iter().filter(|a| !a.conflict) {
            let providers = match self.u.lookup(&atom.name) {
                Some(id) => self.u.providers(id),
                None => &[],
            };
            if providers.is_empty() {
                return Err(ResolveError::UnknownPackage {
                    name: atom.name.clone(),
                    suggestions: suggest::close_names(self.u.names(), &atom.name),
                });
            }
            if !providers.iter().any(|p| provide_matches(atom, p.version)) {
                return Err(ResolveError::NoMatchingVersion {
                    atom: atom.to_string(),
                    name: atom.name.clone(),
                    available: providers.iter().map(|p| self.u.label(p.pkg)).collect(),
                });
            }
        }
        Ok(())
    }

    /// Solves, then adds `install_if` packages until none joins.
    fn solve(&self, world: &[Dependency], policy: &Policy<'_>) -> Result<Vec<PkgId>, ResolveError> {
        let mut sat = Sat::new(&self.u, policy);
        let mut soft: Vec<PkgId> = Vec::new();
        let mut tried: AHashSet<PkgId> = AHashSet::new();
        loop {
            let chosen = sat
                .solve(world, &soft)
                .map_err(|facts| ResolveError::Unsatisfiable {
                    world: world_text(world),
                    reasons: explain::render(&self.u, policy, &facts),
                })?;
            let broken = self.sharing_a_name(&chosen, &soft);
            if !broken.is_empty() {
                // resolvo holds a soft requirement to one package per name only when the
                // name was asked for before it; a soft package that ends up beside another
                // version of itself is dropped (it stays tried) and the round re-solved.
                soft.retain(|p| !broken.contains(p));
                continue;
            }
            let joining = self.triggered(policy, &chosen, &tried);
            if joining.is_empty() {
                return Ok(chosen);
            }
            tracing::debug!(
                joining = ?joining.iter().map(|&p| self.u.label(p)).collect::<Vec<_>>(),
                "install_if round"
            );
            tried.extend(joining.iter().copied());
            soft.extend(joining);
        }
    }

    /// The packages of `soft` that share their name with another chosen package.
    fn sharing_a_name(&self, chosen: &[PkgId], soft: &[PkgId]) -> Vec<PkgId> {
        let mut count: AHashMap<NameId, usize> = AHashMap::new();
        for &p in chosen {
            *count.entry(self.u.pkg(p).name).or_default() += 1;
        }
        let shared = |p: &PkgId| count.get(&self.u.pkg(*p).name).is_some_and(|&n| n > 1);
        soft.iter()
            .copied()
            .filter(|p| chosen.contains(p) && shared(p))
            .collect()
    }

    /// The `install_if` packages whose conditions hold in `chosen`, not tried before, one
    /// per name (the best by [`crate::prefer`]), sorted by name.
    fn triggered(
        &self,
        policy: &Policy<'_>,
        chosen: &[PkgId],
        tried: &AHashSet<PkgId>,
    ) -> Vec<PkgId> {
        let u = &self.u;
        let provided = Provided::new(u, chosen);
        let chosen_names: AHashSet<NameId> = chosen.iter().map(|&p| u.pkg(p).name).collect();
        let mut best: AHashMap<NameId, PkgId> = AHashMap::new();
        for &c in chosen {
            for p in u.provided(c) {
                for &x in u.install_if_users(p.name) {
                    let pkg = u.pkg(x);
                    let held_elsewhere = policy.held_out(u, x);
                    if tried.contains(&x)
                        || chosen_names.contains(&pkg.name)
                        || !policy.allowed(u, x)
                        || held_elsewhere
                        || !pkg.info.install_if.iter().all(|a| provided.satisfies(u, a))
                    {
                        continue;
                    }
                    let offer = |pkg: PkgId| Offer {
                        pkg,
                        version: Some(u.pkg(pkg).info.version.as_str()),
                    };
                    let allowed = |p: PkgId| policy.allowed(u, p);
                    let ctx = prefer::Context {
                        allowed: &allowed,
                        preferred_tag: None,
                    };
                    best.entry(pkg.name)
                        .and_modify(|b| {
                            if prefer::compare(u, &ctx, offer(x), offer(*b)).is_lt() {
                                *b = x;
                            }
                        })
                        .or_insert(x);
                }
            }
        }
        let mut joining: Vec<PkgId> = best.into_values().collect();
        joining.sort_by(|a, b| u.pkg(*a).info.name.cmp(&u.pkg(*b).info.name));
        joining
    }

    /// Orders the chosen packages and links each dependency to what satisfies it.
    fn resolution(&self, world: &[Dependency], chosen: &[PkgId]) -> Resolution<'a> {
        let u = &self.u;
        let provided = Provided::new(u, chosen);
        let order = order::install_order(u, world, chosen, &provided);
        let position: AHashMap<PkgId, usize> =
            order.iter().enumerate().map(|(i, &p)| (p, i)).collect();
        let satisfiers = |atom: &Dependency| -> Vec<usize> {
            let mut found: Vec<usize> = provided
                .matching(u, atom)
                .filter_map(|p| position.get(&p).copied())
                .collect();
            found.sort_unstable();
            found.dedup();
            found
        };
        let world_links: Vec<Link<Dependency>> = world
            .iter()
            .filter(|a| !a.conflict)
            .map(|a| Link {
                dependency: a.clone(),
                satisfied_by: satisfiers(a),
            })
            .collect();
        let mut packages: Vec<ResolvedPackage<'a>> = order
            .iter()
            .map(|&id| {
                let pkg = self.u.pkg(id);
                let info: &'a PackageInfo = pkg.info;
                ResolvedPackage {
                    info,
                    repository: pkg.repo as usize,
                    index: pkg.index as usize,
                    reason: Reason::InstallIf,
                    depends: info
                        .depends
                        .iter()
                        .filter(|d| !d.conflict)
                        .map(|d| Link {
                            dependency: d,
                            satisfied_by: satisfiers(d),
                        })
                        .collect(),
                }
            })
            .collect();
        let needed: AHashSet<usize> = packages
            .iter()
            .flat_map(|p| {
                p.depends
                    .iter()
                    .flat_map(|l| l.satisfied_by.iter().copied())
            })
            .collect();
        let wanted: AHashSet<usize> = world_links
            .iter()
            .flat_map(|l| l.satisfied_by.iter().copied())
            .collect();
        for (i, p) in packages.iter_mut().enumerate() {
            p.reason = if wanted.contains(&i) {
                Reason::World
            } else if needed.contains(&i) {
                Reason::Dependency
            } else {
                Reason::InstallIf
            };
        }
        Resolution {
            packages,
            world: world_links,
        }
    }
}

/// The world as atoms separated by spaces, for messages.
pub(crate) fn world_text(world: &[Dependency]) -> String {
    world
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The names a set of chosen packages provides, with the provided versions.
pub(crate) struct Provided<'a> {
    by_name: AHashMap<NameId, Vec<(PkgId, Option<&'a str>)>>,
}

impl<'a> Provided<'a> {
    pub fn new(u: &Universe<'a>, chosen: &[PkgId]) -> Provided<'a> {
        let mut by_name: AHashMap<NameId, Vec<(PkgId, Option<&'a str>)>> = AHashMap::new();
        for &c in chosen {
            for p in u.provided(c) {
                by_name.entry(p.name).or_default().push((c, p.version));
            }
        }
        Provided { by_name }
    }

    /// The chosen packages that provide `atom`'s name at a matching version.
    pub fn matching<'s>(
        &'s self,
        u: &Universe<'_>,
        atom: &'s Dependency,
    ) -> impl Iterator<Item = PkgId> + 's {
        let list = u
            .lookup(&atom.name)
            .and_then(|n| self.by_name.get(&n))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        list.iter()
            .filter(move |(_, v)| provide_matches(atom, *v))
            .map(|(p, _)| *p)
    }

    /// The chosen package apk would say holds `name`: the package of that name, else the
    /// first provider.
    pub fn holder(&self, u: &Universe<'_>, name: NameId) -> Option<PkgId> {
        let list = self.by_name.get(&name)?;
        list.iter()
            .find(|(p, _)| u.pkg(*p).name == name)
            .or_else(|| list.first())
            .map(|(p, _)| *p)
    }

    /// True when the chosen set satisfies `atom`: something provides it (or, for a
    /// conflict, nothing does).
    pub fn satisfies(&self, u: &Universe<'_>, atom: &Dependency) -> bool {
        self.matching(u, atom).next().is_some() != atom.conflict
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{dep, index, world};

    #[test]
    fn provided_answers_what_the_chosen_set_satisfies() {
        let repos = [Repository::new(index(
            "P:busybox-binsh V:1 p:/bin/sh|cmd:sh=1
             P:dash-binsh V:2 p:/bin/sh
             P:openssl V:3.1",
        ))];
        let u = Universe::new(&repos);
        let provided = Provided::new(&u, &[0, 1]);
        assert!(provided.satisfies(&u, &dep("/bin/sh")));
        assert!(provided.satisfies(&u, &dep("cmd:sh>=1")));
        assert!(!provided.satisfies(&u, &dep("cmd:sh>1")));
        assert!(!provided.satisfies(&u, &dep("openssl")));
        assert!(provided.satisfies(&u, &dep("!openssl")));
        assert!(!provided.satisfies(&u, &dep("!dash-binsh")));
        assert_eq!(
            provided.matching(&u, &dep("/bin/sh")).collect::<Vec<_>>(),
            [0, 1]
        );
        let Some(sh) = u.lookup("/bin/sh") else {
            panic!("/bin/sh")
        };
        assert_eq!(provided.holder(&u, sh), Some(0));
        assert_eq!(world_text(&world("a>=1 !b c@edge")), "a>=1 !b c@edge");
    }

    #[test]
    fn install_if_candidates_are_one_per_name_and_respect_holds() {
        let repos = [Repository::new(index(
            "P:app V:1
             P:docs V:1
             P:app-doc V:2 i:app|docs
             P:app-doc V:1 i:app|docs
             P:app-x V:1 i:app|other",
        ))];
        let r = Resolver::new(&repos);
        let w = world("app docs");
        let policy = Policy::new(&r.u, &w, &[]).unwrap_or_else(|e| panic!("{e}"));
        let joining = r.triggered(&policy, &[0, 1], &AHashSet::new());
        assert_eq!(joining, [2]);
        // Once app-doc-2 was tried, the next round offers app-doc-1.
        let tried: AHashSet<PkgId> = [2].into_iter().collect();
        assert_eq!(r.triggered(&policy, &[0, 1], &tried), [3]);
        let holds = [("app-doc".to_owned(), "1".to_owned())];
        let policy = Policy::new(&r.u, &w, &holds).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.triggered(&policy, &[0, 1], &AHashSet::new()), [3]);
    }
}
