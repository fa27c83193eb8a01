//! The packages of every repository, indexed once so that a resolution only looks things up.
//!
//! Every package gets a dense id (its position over all repositories, in order), every name
//! (package names, provided names, names used by `install_if`) a dense name id. For each
//! name we keep the list of its providers — a package always provides its own name, with
//! its version — and the packages whose `install_if` mentions it. The tables are flat
//! vectors with offsets, filled by a counting sort, so building them for the 23 000
//! packages of Alpine main + community costs a few milliseconds and no per-name
//! allocation. Strings are borrowed from the repositories, never copied.

use ahash::AHashMap;
use rapko_apk::{Dependency, PackageInfo};

/// One repository's packages, as read from its `APKINDEX`, with the tag it is pinned
/// under (`@edge` in `/etc/apk/repositories`, `@local https://…` in apko's config).
///
/// Packages of a tagged repository are chosen only when the world asks for them with that
/// tag (`foo@edge`), or when a package so asked for needs them (apk's pinning).
#[derive(Clone, Debug, Default)]
pub struct Repository {
    /// `None` for an ordinary repository, `Some("edge")` for one pinned as `@edge`.
    pub tag: Option<String>,
    /// The packages, in index order (the order breaks the last ties, as in apk).
    pub packages: Vec<PackageInfo>,
}

impl Repository {
    /// An ordinary (untagged) repository.
    pub fn new(packages: Vec<PackageInfo>) -> Repository {
        Repository {
            tag: None,
            packages,
        }
    }

    /// A repository pinned under `tag` (without the `@`).
    pub fn tagged(tag: impl Into<String>, packages: Vec<PackageInfo>) -> Repository {
        Repository {
            tag: Some(tag.into()),
            packages,
        }
    }
}

/// Dense id of a package over all repositories.
pub(crate) type PkgId = u32;
/// Dense id of a name (package or provided).
pub(crate) type NameId = u32;

/// A name as some package provides it: the package and the version it provides the name
/// at (`None` for an unversioned provide such as `p:/bin/sh`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Provider<'a> {
    pub pkg: PkgId,
    pub version: Option<&'a str>,
}

/// A name a package provides, with the provided version.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Provided<'a> {
    pub name: NameId,
    pub version: Option<&'a str>,
}

/// What the resolver needs of one package.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pkg<'a> {
    pub info: &'a PackageInfo,
    pub repo: u32,
    pub index: u32,
    pub name: NameId,
    /// Range of this package's entries in [`Universe::provided`]; the first entry is the
    /// package's own name at its own version.
    provided: (u32, u32),
}

/// Items grouped by a dense key, stored in one vector.
#[derive(Debug, Default)]
struct Grouped<T> {
    items: Vec<T>,
    starts: Vec<u32>,
}

impl<T: Copy> Grouped<T> {
    /// Groups `(key, item)` pairs by key, keeping the order of items within a key.
    fn build(keys: usize, pairs: &[(u32, T)]) -> Grouped<T> {
        let mut starts = vec![0u32; keys + 1];
        for (key, _) in pairs {
            starts[*key as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut next = starts.clone();
        let Some(&(_, filler)) = pairs.first() else {
            return Grouped {
                items: Vec::new(),
                starts,
            };
        };
        let mut items = vec![filler; pairs.len()];
        for (key, item) in pairs {
            let at = &mut next[*key as usize];
            items[*at as usize] = *item;
            *at += 1;
        }
        Grouped { items, starts }
    }

    fn get(&self, key: u32) -> &[T] {
        let key = key as usize;
        match (self.starts.get(key), self.starts.get(key + 1)) {
            (Some(&a), Some(&b)) => self.items.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// All packages of all repositories, indexed by name.
#[derive(Debug)]
pub(crate) struct Universe<'a> {
    pub repos: &'a [Repository],
    pub pkgs: Vec<Pkg<'a>>,
    names: Vec<&'a str>,
    ids: AHashMap<&'a str, NameId>,
    provided: Vec<Provided<'a>>,
    providers: Grouped<Provider<'a>>,
    install_if_users: Grouped<PkgId>,
}

impl<'a> Universe<'a> {
    pub fn new(repos: &'a [Repository]) -> Universe<'a> {
        let total: usize = repos.iter().map(|r| r.packages.len()).sum();
        // Alpine has about two names (own and provided) per package, and a few more
        // from install_if; sized so the table never grows.
        let mut names: Vec<&'a str> = Vec::with_capacity(total * 3);
        let mut ids: AHashMap<&'a str, NameId> = AHashMap::with_capacity(total * 3);
        let mut intern = |s: &'a str| -> NameId {
            *ids.entry(s).or_insert_with(|| {
                names.push(s);
                (names.len() - 1) as NameId
            })
        };
        let mut pkgs = Vec::with_capacity(total);
        let mut provided = Vec::with_capacity(total * 3);
        let mut iif_pairs = Vec::new();
        for (repo_index, repo) in repos.iter().enumerate() {
            for (index, info) in repo.packages.iter().enumerate() {
                let id = pkgs.len() as PkgId;
                let name = intern(&info.name);
                let start = provided.len() as u32;
                provided.push(Provided {
                    name,
                    version: Some(info.version.as_str()),
                });
                for p in &info.provides {
                    let name = intern(&p.name);
                    provided.push(Provided {
                        name,
                        version: p.version.as_deref(),
                    });
                }
                for atom in &info.install_if {
                    iif_pairs.push((intern(&atom.name), id));
                }
                pkgs.push(Pkg {
                    info,
                    repo: repo_index as u32,
                    index: index as u32,
                    name,
                    provided: (start, provided.len() as u32),
                });
            }
        }
        let mut provider_pairs = Vec::with_capacity(provided.len());
        for (id, pkg) in pkgs.iter().enumerate() {
            for p in &provided[pkg.provided.0 as usize..pkg.provided.1 as usize] {
                let provider = Provider {
                    pkg: id as PkgId,
                    version: p.version,
                };
                provider_pairs.push((p.name, provider));
            }
        }
        let providers = Grouped::build(names.len(), &provider_pairs);
        let install_if_users = Grouped::build(names.len(), &iif_pairs);
        Universe {
            repos,
            pkgs,
            names,
            ids,
            provided,
            providers,
            install_if_users,
        }
    }

    /// The id of the package at `index` in repository `repo`.
    pub fn id_of(&self, repo: usize, index: usize) -> Option<PkgId> {
        let before: usize = self
            .repos
            .get(..repo)?
            .iter()
            .map(|r| r.packages.len())
            .sum();
        let len = self.repos.get(repo)?.packages.len();
        (index < len).then_some((before + index) as PkgId)
    }

    pub fn pkg(&self, id: PkgId) -> &Pkg<'a> {
        &self.pkgs[id as usize]
    }

    pub fn name_count(&self) -> usize {
        self.names.len()
    }

    /// The text of a name id (empty for an id this universe never gave out).
    pub fn name(&self, id: NameId) -> &'a str {
        self.names.get(id as usize).copied().unwrap_or("")
    }

    pub fn lookup(&self, name: &str) -> Option<NameId> {
        self.ids.get(name).copied()
    }

    /// All names, for suggestions.
    pub fn names(&self) -> &[&'a str] {
        &self.names
    }

    /// Every provider of `name`, in repository and index order.
    pub fn providers(&self, name: NameId) -> &[Provider<'a>] {
        self.providers.get(name)
    }

    /// The packages whose `install_if` mentions `name`.
    pub fn install_if_users(&self, name: NameId) -> &[PkgId] {
        self.install_if_users.get(name)
    }

    /// The names `pkg` provides, its own name first.
    pub fn provided(&self, pkg: PkgId) -> &[Provided<'a>] {
        let (a, b) = self.pkg(pkg).provided;
        &self.provided[a as usize..b as usize]
    }

    /// The version at which `pkg` provides `name`: `None` when it does not provide it,
    /// `Some(None)` for an unversioned provide.
    pub fn provides(&self, pkg: PkgId, name: NameId) -> Option<Option<&'a str>> {
        self.provided(pkg)
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.version)
    }

    /// The tag of the repository `pkg` comes from.
    pub fn tag(&self, pkg: PkgId) -> Option<&'a str> {
        self.repos
            .get(self.pkg(pkg).repo as usize)
            .and_then(|r| r.tag.as_deref())
    }

    /// `name-version` of a package, the way apk names it in messages.
    pub fn label(&self, pkg: PkgId) -> String {
        let info = self.pkg(pkg).info;
        format!("{}-{}", info.name, info.version)
    }
}

/// True when a provider at `version` satisfies `atom`, ignoring whether the atom is a
/// conflict: apk's rule that an unversioned provide satisfies only an atom without a
/// version constraint.
pub(crate) fn provide_matches(atom: &Dependency, version: Option<&str>) -> bool {
    match (&atom.constraint, version) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(c), Some(v)) => c.matches(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{dep, index};

    #[test]
    fn providers_include_own_name_and_provides_in_order() {
        let repos = [
            Repository::new(index(
                "P:busybox-binsh V:1.36-r0 p:/bin/sh|cmd:sh=1.36-r0
                 P:dash-binsh V:0.5-r0 p:/bin/sh",
            )),
            Repository::new(index("P:busybox-binsh V:1.37-r0")),
        ];
        let u = Universe::new(&repos);
        let Some(sh) = u.lookup("/bin/sh") else {
            panic!("no /bin/sh")
        };
        let providers: Vec<_> = u.providers(sh).iter().map(|p| (p.pkg, p.version)).collect();
        assert_eq!(providers, vec![(0, None), (1, None)]);
        let Some(bb) = u.lookup("busybox-binsh") else {
            panic!("no busybox-binsh")
        };
        let versions: Vec<_> = u.providers(bb).iter().map(|p| p.version).collect();
        assert_eq!(versions, vec![Some("1.36-r0"), Some("1.37-r0")]);
        assert_eq!(u.provides(0, sh), Some(None));
        assert_eq!(u.provides(2, sh), None);
        assert_eq!(u.label(2), "busybox-binsh-1.37-r0");
        assert_eq!(u.pkg(2).repo, 1);
        assert_eq!((u.id_of(1, 0), u.id_of(0, 1)), (Some(2), Some(1)));
        assert_eq!((u.id_of(1, 1), u.id_of(2, 0)), (None, None));
        assert!(u.lookup("nothing").is_none());
        assert!(u.providers(9999).is_empty());
    }

    #[test]
    fn install_if_users_are_indexed_by_each_condition() {
        let repos = [Repository::new(index(
            "P:busybox V:1
             P:ssl_client V:1 i:busybox=1|libssl3",
        ))];
        let u = Universe::new(&repos);
        for name in ["busybox", "libssl3"] {
            let Some(id) = u.lookup(name) else {
                panic!("no {name}")
            };
            assert_eq!(u.install_if_users(id), &[1]);
        }
    }

    #[test]
    fn unversioned_provides_satisfy_only_unconstrained_atoms() {
        assert!(provide_matches(&dep("foo"), None));
        assert!(provide_matches(&dep("foo"), Some("1")));
        assert!(!provide_matches(&dep("foo>=2"), None));
        assert!(!provide_matches(&dep("foo>=2"), Some("1")));
        assert!(provide_matches(&dep("foo>=2"), Some("2.1")));
        assert!(provide_matches(&dep("foo~2.1"), Some("2.1.5-r0")));
    }
}
