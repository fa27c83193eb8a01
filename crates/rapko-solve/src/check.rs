//! The referee: checks a set of chosen packages against the repositories and the world,
//! without using the solver.
//!
//! It is deliberately a second, plain implementation of apk's rules over
//! [`PackageInfo`] (its own name index, no resolvo), so that it can catch the solver's
//! mistakes, and it takes any chosen set, so it can also judge another tool's answer. It
//! checks that:
//!
//! - every world atom holds (something provides it; nothing it forbids is there);
//! - every dependency of every chosen package is satisfied by a chosen package, and no
//!   chosen package's conflict matches another chosen package;
//! - no two chosen packages share a name, or provide one name when either gives it a
//!   version (apk's "same name provided");
//! - a package from a tagged repository is there only when the world asked for it with
//!   that tag, through the chosen dependencies of such a package, or as an `install_if`
//!   package of pinned ones;
//! - every package is needed: reachable from the world through the dependency edges, or an
//!   `install_if` package whose conditions hold on packages already needed (and what it
//!   needs);
//! - no `install_if` package is missing that could simply be added: conditions hold, and
//!   its dependencies are already satisfied without a conflict;
//! - the highest versions win: no chosen package could be swapped for a higher version of
//!   the same name with the set staying valid (a local check; a better answer that needs
//!   several packages changed at once is not looked for).

use std::collections::{HashMap, HashSet};
use std::fmt;

use rapko_apk::{Dependency, PackageInfo, version};

use crate::resolve::Resolution;
use crate::universe::{Repository, provide_matches};

/// One broken rule, naming the packages (`name-version`) and atoms involved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// A world atom nothing chosen satisfies.
    WorldUnsatisfied { atom: String },
    /// A chosen package the world forbids.
    WorldConflict { atom: String, package: String },
    /// A dependency of a chosen package that nothing chosen satisfies.
    MissingDependency { package: String, dependency: String },
    /// A chosen package's conflict matches another chosen package.
    Conflict {
        package: String,
        conflict: String,
        with: String,
    },
    /// Two chosen packages with one name.
    DuplicateName { name: String, packages: Vec<String> },
    /// Several chosen packages provide one name, at least one with a version.
    SameProvide { name: String, packages: Vec<String> },
    /// A package from a tagged repository that pinning does not allow.
    NotAllowed { package: String, tag: String },
    /// A package nothing needs.
    Unneeded { package: String },
    /// An `install_if` package whose conditions hold and that would fit as it is.
    MissingInstallIf { package: String },
    /// A chosen package that a higher version could replace.
    NotHighest { package: String, better: String },
    /// A position that is not in the repositories.
    NoSuchPackage { repository: usize, index: usize },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::WorldUnsatisfied { atom } => write!(f, "nothing chosen satisfies {atom}"),
            Violation::WorldConflict { atom, package } => {
                write!(f, "{package} is chosen but the world forbids it ({atom})")
            }
            Violation::MissingDependency {
                package,
                dependency,
            } => write!(
                f,
                "{package} needs {dependency}, which nothing chosen satisfies"
            ),
            Violation::Conflict {
                package,
                conflict,
                with,
            } => write!(
                f,
                "{package} forbids {with} ({conflict}), but both are chosen"
            ),
            Violation::DuplicateName { name, packages } => {
                write!(f, "{} are all chosen for {name}", packages.join(", "))
            }
            Violation::SameProvide { name, packages } => write!(
                f,
                "{} all provide {name}, with a version, and are all chosen",
                packages.join(", ")
            ),
            Violation::NotAllowed { package, tag } => write!(
                f,
                "{package} comes from the repository tagged @{tag}, which nothing asked for"
            ),
            Violation::Unneeded { package } => {
                write!(f, "{package} is chosen but nothing needs it")
            }
            Violation::MissingInstallIf { package } => write!(
                f,
                "{package} should have joined through install_if: its conditions hold and it fits"
            ),
            Violation::NotHighest { package, better } => {
                write!(f, "{package} is chosen where {better} would also fit")
            }
            Violation::NoSuchPackage { repository, index } => {
                write!(f, "there is no package {index} in repository {repository}")
            }
        }
    }
}

/// Checks the packages of `resolution` against `repos` and `world`.
pub fn verify_resolution(
    repos: &[Repository],
    world: &[Dependency],
    resolution: &Resolution<'_>,
) -> Vec<Violation> {
    verify(repos, world, &resolution.positions())
}

/// Checks the packages at `chosen` (`(repository, index)` positions in `repos`) against the
/// repositories and `world`. An empty list means no rule is broken.
pub fn verify(
    repos: &[Repository],
    world: &[Dependency],
    chosen: &[(usize, usize)],
) -> Vec<Violation> {
    let mut violations = Vec::new();
    let mut set: Vec<Member<'_>> = Vec::new();
    for &(repository, index) in chosen {
        match repos.get(repository).and_then(|r| r.packages.get(index)) {
            Some(info) => set.push(Member {
                info,
                tag: repos.get(repository).and_then(|r| r.tag.as_deref()),
            }),
            None => violations.push(Violation::NoSuchPackage { repository, index }),
        }
    }
    let referee = Referee::new(set);
    referee.world(world, &mut violations);
    referee.dependencies(&mut violations);
    referee.names(&mut violations);
    referee.pinning(world, &mut violations);
    referee.needed(world, &mut violations);
    referee.install_if(repos, world, &mut violations);
    referee.highest(repos, world, &mut violations);
    violations
}

/// For each package at `chosen` that a higher version of its name could replace with
/// every rule still holding, `(its position, the better version's position)`. The
/// resolver uses it to climb out of the rare local optimum its search can leave.
pub(crate) fn upgrades(
    repos: &[Repository],
    world: &[Dependency],
    chosen: &[(usize, usize)],
) -> Vec<((usize, usize), (usize, usize))> {
    let (positions, set): (Vec<(usize, usize)>, Vec<Member<'_>>) = chosen
        .iter()
        .filter_map(|&(r, i)| {
            let repo = repos.get(r)?;
            let member = Member {
                info: repo.packages.get(i)?,
                tag: repo.tag.as_deref(),
            };
            Some(((r, i), member))
        })
        .unzip();
    let referee = Referee::new(set);
    referee
        .better_versions(repos, world)
        .into_iter()
        .filter_map(|(i, _, at)| Some((*positions.get(i)?, at)))
        .collect()
}

#[derive(Clone, Copy)]
struct Member<'a> {
    info: &'a PackageInfo,
    tag: Option<&'a str>,
}

/// The chosen set with its own index of provided names.
struct Referee<'a> {
    set: Vec<Member<'a>>,
    /// name → (member, provided version), the member's own name included.
    provides: HashMap<&'a str, Vec<(usize, Option<&'a str>)>>,
}

fn provided_names(info: &PackageInfo) -> impl Iterator<Item = (&str, Option<&str>)> {
    std::iter::once((info.name.as_str(), Some(info.version.as_str()))).chain(
        info.provides
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_deref())),
    )
}

fn provides_atom(info: &PackageInfo, atom: &Dependency) -> bool {
    provided_names(info).any(|(n, v)| n == atom.name && provide_matches(atom, v))
}

impl<'a> Referee<'a> {
    fn new(set: Vec<Member<'a>>) -> Referee<'a> {
        let mut provides: HashMap<&'a str, Vec<(usize, Option<&'a str>)>> = HashMap::new();
        for (i, m) in set.iter().enumerate() {
            for (name, v) in provided_names(m.info) {
                provides.entry(name).or_default().push((i, v));
            }
        }
        Referee { set, provides }
    }

    fn label(&self, i: usize) -> String {
        self.set
            .get(i)
            .map(|m| m.info.name_version())
            .unwrap_or_default()
    }

    /// The members satisfying `atom` (ignoring whether it is a conflict).
    fn matching(&self, atom: &Dependency) -> Vec<usize> {
        self.provides
            .get(atom.name.as_str())
            .map(|list| {
                let hits = list.iter().filter(|(_, v)| provide_matches(atom, *v));
                hits.map(|(i, _)| *i).collect()
            })
            .unwrap_or_default()
    }

    fn world(&self, world: &[Dependency], out: &mut Vec<Violation>) {
        for atom in world {
            let hits = self.matching(atom);
            if atom.conflict {
                out.extend(hits.into_iter().map(|i| Violation::WorldConflict {
                    atom: atom.to_string(),
                    package: self.label(i),
                }));
            } else if hits.is_empty() {
                out.push(Violation::WorldUnsatisfied {
                    atom: atom.to_string(),
                });
            }
        }
    }

    fn dependencies(&self, out: &mut Vec<Violation>) {
        for (i, m) in self.set.iter().enumerate() {
            for dep in &m.info.depends {
                let hits = self.matching(dep);
                if dep.conflict {
                    for j in hits.into_iter().filter(|&j| j != i) {
                        out.push(Violation::Conflict {
                            package: self.label(i),
                            conflict: dep.to_string(),
                            with: self.label(j),
                        });
                    }
                } else if hits.is_empty() {
                    out.push(Violation::MissingDependency {
                        package: self.label(i),
                        dependency: dep.to_string(),
                    });
                }
            }
        }
    }

    fn names(&self, out: &mut Vec<Violation>) {
        let mut names: Vec<&&str> = self.provides.keys().collect();
        names.sort();
        for name in names {
            let Some(list) = self.provides.get(*name) else {
                continue;
            };
            let mut members: Vec<usize> = list.iter().map(|(i, _)| *i).collect();
            members.sort_unstable();
            members.dedup();
            if members.len() < 2 {
                continue;
            }
            let mut packages: Vec<String> = members.iter().map(|&i| self.label(i)).collect();
            packages.sort();
            let same_name = members
                .iter()
                .filter(|&&i| self.set[i].info.name == **name)
                .count();
            if same_name > 1 {
                out.push(Violation::DuplicateName {
                    name: name.to_string(),
                    packages,
                });
            } else if list.iter().any(|(_, v)| v.is_some()) {
                out.push(Violation::SameProvide {
                    name: name.to_string(),
                    packages,
                });
            }
        }
    }

    /// Members reachable from `roots` through dependency edges.
    fn reach(&self, roots: Vec<usize>, reached: &mut [bool]) {
        let mut queue = roots;
        while let Some(i) = queue.pop() {
            match reached.get_mut(i) {
                Some(r) if !*r => *r = true,
                _ => continue,
            }
            let deps = self.set[i].info.depends.iter().filter(|d| !d.conflict);
            queue.extend(deps.flat_map(|d| self.matching(d)));
        }
    }

    /// Members whose `install_if` conditions all hold.
    fn triggered(&self, i: usize) -> bool {
        let info = self.set[i].info;
        !info.install_if.is_empty()
            && info
                .install_if
                .iter()
                .all(|a| self.matching(a).is_empty() == a.conflict)
    }

    fn pinning(&self, world: &[Dependency], out: &mut Vec<Violation>) {
        let mut tags: Vec<&str> = self.set.iter().filter_map(|m| m.tag).collect();
        tags.sort_unstable();
        tags.dedup();
        for tag in tags {
            let roots = world
                .iter()
                .filter(|a| !a.conflict && a.tag.as_deref() == Some(tag))
                .flat_map(|a| self.matching(a))
                .collect();
            let mut pinned = vec![false; self.set.len()];
            self.reach(roots, &mut pinned);
            // install_if packages triggered by pinned packages inherit the pin.
            for i in 0..self.set.len() {
                if !pinned[i] && self.triggered(i) {
                    let by_pinned = self.set[i]
                        .info
                        .install_if
                        .iter()
                        .any(|a| !a.conflict && self.matching(a).iter().any(|&j| pinned[j]));
                    if by_pinned {
                        self.reach(vec![i], &mut pinned);
                    }
                }
            }
            for (i, m) in self.set.iter().enumerate() {
                if m.tag == Some(tag) && !pinned[i] {
                    out.push(Violation::NotAllowed {
                        package: self.label(i),
                        tag: tag.to_owned(),
                    });
                }
            }
        }
    }

    /// Members the world needs through dependencies alone (`install_if` aside).
    fn needed_by_world(&self, world: &[Dependency]) -> Vec<bool> {
        let mut reached = vec![false; self.set.len()];
        let roots = world
            .iter()
            .filter(|a| !a.conflict)
            .flat_map(|a| self.matching(a))
            .collect();
        self.reach(roots, &mut reached);
        reached
    }

    /// True when member `i`'s `install_if` conditions hold on the `reached` members alone
    /// (a conflict condition: on the whole set), so that packages cannot bring each other
    /// in through `install_if` in a circle.
    fn triggered_by_reached(&self, i: usize, reached: &[bool]) -> bool {
        let info = self.set[i].info;
        !info.install_if.is_empty()
            && info.install_if.iter().all(|a| {
                let hits = self.matching(a);
                if a.conflict {
                    hits.is_empty()
                } else {
                    hits.iter()
                        .any(|&j| reached.get(j).copied().unwrap_or(false))
                }
            })
    }

    fn needed(&self, world: &[Dependency], out: &mut Vec<Violation>) {
        let mut reached = self.needed_by_world(world);
        loop {
            let joining: Vec<usize> = (0..self.set.len())
                .filter(|&i| !reached[i] && self.triggered_by_reached(i, &reached))
                .collect();
            if joining.is_empty() {
                break;
            }
            self.reach(joining, &mut reached);
        }
        for (i, r) in reached.iter().enumerate() {
            if !r {
                out.push(Violation::Unneeded {
                    package: self.label(i),
                });
            }
        }
    }

    /// True when `info` could join the set as it is: dependencies already satisfied
    /// (ignoring `except`), no conflict either way, no clash of provided names.
    fn fits(&self, info: &PackageInfo, except: Option<usize>) -> bool {
        let others = |atom: &Dependency| -> Vec<usize> {
            self.matching(atom)
                .into_iter()
                .filter(|&j| Some(j) != except)
                .collect()
        };
        let deps_ok = info.depends.iter().all(|d| {
            let hits = others(d);
            let self_hit = provides_atom(info, d);
            if d.conflict {
                hits.is_empty()
            } else {
                !hits.is_empty() || self_hit
            }
        });
        let not_forbidden = self.set.iter().enumerate().all(|(j, m)| {
            Some(j) == except
                || m.info
                    .depends
                    .iter()
                    .all(|d| !d.conflict || !provides_atom(info, d))
        });
        let no_clash = provided_names(info).all(|(name, v)| {
            self.provides.get(name).is_none_or(|list| {
                list.iter().all(|(j, w)| {
                    Some(*j) == except
                        || (self.set[*j].info.name != info.name && v.is_none() && w.is_none())
                })
            })
        });
        deps_ok && not_forbidden && no_clash
    }

    fn install_if(&self, repos: &[Repository], world: &[Dependency], out: &mut Vec<Violation>) {
        let chosen_names: HashSet<&str> = self.set.iter().map(|m| m.info.name.as_str()).collect();
        let mut reported: HashSet<&str> = HashSet::new();
        for repo in repos.iter().filter(|r| r.tag.is_none()) {
            for info in repo.packages.iter().filter(|p| !p.install_if.is_empty()) {
                if chosen_names.contains(info.name.as_str())
                    || reported.contains(info.name.as_str())
                {
                    continue;
                }
                let holds = info
                    .install_if
                    .iter()
                    .all(|a| self.matching(a).is_empty() == a.conflict);
                let forbidden = world.iter().any(|a| a.conflict && provides_atom(info, a));
                if holds && !forbidden && self.fits(info, None) {
                    reported.insert(&info.name);
                    out.push(Violation::MissingInstallIf {
                        package: info.name_version(),
                    });
                }
            }
        }
    }

    fn highest(&self, repos: &[Repository], world: &[Dependency], out: &mut Vec<Violation>) {
        for (i, q, _) in self.better_versions(repos, world) {
            out.push(Violation::NotHighest {
                package: self.label(i),
                better: q.name_version(),
            });
        }
    }

    /// For each member a higher version of the same name (from a repository with the same
    /// tag) could replace, the member, the first such version and its position.
    fn better_versions<'r>(
        &self,
        repos: &'r [Repository],
        world: &[Dependency],
    ) -> Vec<(usize, &'r PackageInfo, (usize, usize))> {
        type Versions<'r> = Vec<(&'r PackageInfo, Option<&'r str>, (usize, usize))>;
        let mut by_name: HashMap<&str, Versions<'r>> = HashMap::new();
        let chosen_names: HashSet<&str> = self.set.iter().map(|m| m.info.name.as_str()).collect();
        for (r, repo) in repos.iter().enumerate() {
            for (index, info) in repo.packages.iter().enumerate() {
                if chosen_names.contains(info.name.as_str()) {
                    let entry = by_name.entry(info.name.as_str()).or_default();
                    entry.push((info, repo.tag.as_deref(), (r, index)));
                }
            }
        }
        let mut found = Vec::new();
        for (i, m) in self.set.iter().enumerate() {
            let Some(versions) = by_name.get(m.info.name.as_str()) else {
                continue;
            };
            // A package that nothing needs but install_if (or that only duplicates another
            // unversioned provider) can only give way to a version install_if would bring
            // in as well.
            let joins = |q: &PackageInfo| {
                self.solely_needed(i, world)
                    || (!q.install_if.is_empty()
                        && q.install_if
                            .iter()
                            .all(|a| self.matching(a).is_empty() == a.conflict))
            };
            let better = versions.iter().find(|(q, tag, _)| {
                *tag == m.tag
                    && version::compare(&q.version, &m.info.version).is_gt()
                    && joins(q)
                    && self.could_replace(i, q, world)
            });
            if let Some((q, _, at)) = better {
                found.push((i, *q, *at));
            }
        }
        found
    }

    /// True when some atom of the world or of another member is satisfied by member `i`
    /// and by no other member.
    fn solely_needed(&self, i: usize, world: &[Dependency]) -> bool {
        let others = self.set.iter().enumerate().filter(|(j, _)| *j != i);
        let atoms = world
            .iter()
            .chain(others.flat_map(|(_, m)| m.info.depends.iter()));
        atoms
            .filter(|a| !a.conflict)
            .any(|a| self.matching(a) == [i])
    }

    /// True when member `i` could be swapped for `q` with every rule still holding: the
    /// swapped set is checked again from scratch (swaps are rare: only a higher version
    /// of a chosen name is tried).
    fn could_replace(&self, i: usize, q: &PackageInfo, world: &[Dependency]) -> bool {
        let mut swapped = self.set.clone();
        let Some(slot) = swapped.get_mut(i) else {
            return false;
        };
        slot.info = q;
        let other = Referee::new(swapped);
        let mut found = Vec::new();
        other.world(world, &mut found);
        other.dependencies(&mut found);
        other.names(&mut found);
        other.needed(world, &mut found);
        found.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{index, world};

    fn positions(repos: &[Repository], labels: &[&str]) -> Vec<(usize, usize)> {
        labels
            .iter()
            .map(|l| {
                repos
                    .iter()
                    .enumerate()
                    .find_map(|(r, repo)| {
                        let i = repo.packages.iter().position(|p| p.name_version() == *l)?;
                        Some((r, i))
                    })
                    .unwrap_or_else(|| panic!("{l} not in the test repositories"))
            })
            .collect()
    }

    fn check(repos: &[Repository], w: &str, labels: &[&str]) -> Vec<String> {
        let w = world(w);
        verify(repos, &w, &positions(repos, labels))
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn repos() -> Vec<Repository> {
        vec![
            Repository::new(index(
                "P:app V:1 D:lib>=1|!old
                 P:app V:2 D:lib>=2|!old
                 P:lib V:1 p:so:lib.so=1
                 P:lib V:2 p:so:lib.so=2
                 P:lib-compat V:1 p:so:lib.so=1
                 P:old V:1
                 P:stray V:1
                 P:app-doc V:1 i:app|docs",
            )),
            Repository::tagged("edge", index("P:lib V:3")),
        ]
    }

    #[test]
    fn a_good_set_passes() {
        assert_eq!(
            check(&repos(), "app", &["app-2", "lib-2"]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn every_rule_is_checked() {
        let r = repos();
        assert_eq!(
            check(&r, "app", &["lib-2"]),
            [
                "nothing chosen satisfies app",
                "lib-2 is chosen but nothing needs it"
            ]
        );
        assert_eq!(
            check(&r, "app !lib", &["app-2", "lib-2"]),
            ["lib-2 is chosen but the world forbids it (!lib)"]
        );
        assert_eq!(
            check(&r, "app", &["app-2"]),
            ["app-2 needs lib>=2, which nothing chosen satisfies"]
        );
        let v = check(&r, "app old", &["app-2", "lib-2", "old-1"]);
        assert_eq!(v, ["app-2 forbids old-1 (!old), but both are chosen"]);
        let v = check(&r, "app", &["app-2", "lib-2", "lib-1"]);
        assert!(
            v.contains(&"lib-1, lib-2 are all chosen for lib".to_owned()),
            "{v:?}"
        );
        let v = check(&r, "app lib-compat", &["app-1", "lib-1", "lib-compat-1"]);
        assert!(
            v.iter().any(|s| s.contains("all provide so:lib.so")),
            "{v:?}"
        );
        let v = check(&r, "app", &["app-2", "lib-3"]);
        assert_eq!(
            v,
            ["lib-3 comes from the repository tagged @edge, which nothing asked for"]
        );
        assert!(check(&r, "app lib@edge", &["app-2", "lib-3"]).is_empty());
        let v = check(&r, "app", &["app-2", "lib-2", "stray-1"]);
        assert_eq!(v, ["stray-1 is chosen but nothing needs it"]);
        let v = check(&r, "app docs", &["app-2", "lib-2"]);
        assert!(
            v.contains(&"nothing chosen satisfies docs".to_owned()),
            "{v:?}"
        );
        let v = check(&r, "app", &["app-1", "lib-2"]);
        assert_eq!(v, ["app-1 is chosen where app-2 would also fit"]);
    }

    #[test]
    fn install_if_packages_are_needed_and_expected() {
        let r = vec![Repository::new(index(
            "P:app V:1
             P:docs V:1
             P:app-doc V:1 i:app|docs",
        ))];
        assert!(check(&r, "app docs", &["app-1", "docs-1", "app-doc-1"]).is_empty());
        assert_eq!(
            check(&r, "app docs", &["app-1", "docs-1"]),
            ["app-doc-1 should have joined through install_if: its conditions hold and it fits"]
        );
        assert_eq!(
            check(&r, "app", &["app-1", "app-doc-1"]),
            ["app-doc-1 is chosen but nothing needs it"]
        );
    }

    #[test]
    fn a_higher_version_that_breaks_a_dependent_is_not_required() {
        let r = vec![Repository::new(index(
            "P:app V:1 D:lib<2
             P:lib V:1
             P:lib V:2",
        ))];
        assert!(check(&r, "app", &["app-1", "lib-1"]).is_empty());
        let w = world("app");
        let v = verify(&r, &w, &[(0, 0), (7, 0)]);
        assert!(
            v.contains(&Violation::NoSuchPackage {
                repository: 7,
                index: 0
            }),
            "{v:?}"
        );
    }
}
