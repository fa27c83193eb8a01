//! Installation order: dependencies before dependents, the way apk-tools orders its
//! changeset.
//!
//! apk walks the world atoms sorted by name; for each name it takes the package holding
//! it, walks that package's dependencies in their listed order, then records the
//! package, then looks at the `install_if` packages waiting on any name it provides and
//! walks each whose conditions are all settled and true. A name is walked once: in a
//! dependency cycle (Alpine has `busybox-binsh` ⇄ `busybox`… through `/bin/sh`) the
//! package met first is recorded after the rest of the cycle, which is deterministic
//! because the walk is. The walk here is iterative, so a long dependency chain cannot
//! exhaust the stack. Chosen packages the walk does not reach (none, in practice) follow
//! in name order.

use ahash::AHashSet;
use rapko_apk::Dependency;

use crate::resolve::Provided;
use crate::universe::{NameId, PkgId, Universe};

/// The order to install `chosen` in.
pub(crate) fn install_order(
    u: &Universe<'_>,
    world: &[Dependency],
    chosen: &[PkgId],
    provided: &Provided<'_>,
) -> Vec<PkgId> {
    let mut walk = Walk {
        u,
        provided,
        processed: AHashSet::new(),
        recorded: AHashSet::new(),
        order: Vec::with_capacity(chosen.len()),
    };
    let mut atoms: Vec<&Dependency> = world.iter().collect();
    atoms.sort_by(|a, b| a.name.cmp(&b.name));
    for atom in atoms {
        if let Some(name) = u.lookup(&atom.name) {
            walk.walk_name(name);
        }
    }
    let mut rest: Vec<PkgId> = chosen
        .iter()
        .copied()
        .filter(|p| !walk.recorded.contains(p))
        .collect();
    rest.sort_by(|a, b| u.pkg(*a).info.name.cmp(&u.pkg(*b).info.name));
    for pkg in rest {
        if !walk.recorded.contains(&pkg) {
            walk.processed.remove(&u.pkg(pkg).name);
            walk.walk_name(u.pkg(pkg).name);
        }
    }
    walk.order
}

/// Where the walk is in one package.
enum Frame {
    /// Walking the package's dependencies; `next` is the next one to look at.
    Depends { pkg: PkgId, next: usize },
    /// The package is recorded; looking at `install_if` packages waiting on its
    /// `provided`-th name, from the `user`-th.
    InstallIf {
        pkg: PkgId,
        provided: usize,
        user: usize,
    },
}

struct Walk<'w, 'a> {
    u: &'w Universe<'a>,
    provided: &'w Provided<'a>,
    /// Names already walked (apk's `changeset_processed`).
    processed: AHashSet<NameId>,
    /// Packages already in the order or on the way (apk's `in_changeset`).
    recorded: AHashSet<PkgId>,
    order: Vec<PkgId>,
}

impl Walk<'_, '_> {
    fn walk_name(&mut self, name: NameId) {
        let Some(pkg) = self.enter(name) else {
            return;
        };
        let mut stack = vec![Frame::Depends { pkg, next: 0 }];
        while let Some(frame) = stack.last_mut() {
            match frame {
                Frame::Depends { pkg, next } => {
                    let pkg = *pkg;
                    let depends = &self.u.pkg(pkg).info.depends;
                    match depends.get(*next) {
                        Some(dep) => {
                            *next += 1;
                            let entered = self.u.lookup(&dep.name).and_then(|n| self.enter(n));
                            if let Some(dep_pkg) = entered {
                                stack.push(Frame::Depends {
                                    pkg: dep_pkg,
                                    next: 0,
                                });
                            }
                        }
                        None => {
                            self.order.push(pkg);
                            *frame = Frame::InstallIf {
                                pkg,
                                provided: 0,
                                user: 0,
                            };
                        }
                    }
                }
                Frame::InstallIf {
                    pkg,
                    provided,
                    user,
                } => {
                    let names = self.u.provided(*pkg);
                    let Some(name) = names.get(*provided).map(|p| p.name) else {
                        stack.pop();
                        continue;
                    };
                    let users = self.u.install_if_users(name);
                    let Some(&waiting) = users.get(*user) else {
                        *provided += 1;
                        *user = 0;
                        continue;
                    };
                    *user += 1;
                    let waiting_name = self.u.pkg(waiting).name;
                    if self.install_if_ready(waiting_name)
                        && let Some(next) = self.enter(waiting_name)
                    {
                        stack.push(Frame::Depends { pkg: next, next: 0 });
                    }
                }
            }
        }
    }

    /// Starts walking `name`: the package holding it, unless walked before.
    fn enter(&mut self, name: NameId) -> Option<PkgId> {
        if !self.processed.insert(name) {
            return None;
        }
        let pkg = self.provided.holder(self.u, name)?;
        if !self.recorded.insert(pkg) {
            return None;
        }
        for p in self.u.provided(pkg) {
            self.processed.insert(p.name);
        }
        Some(pkg)
    }

    /// apk's `cset_check_install_by_iif`: the chosen package holding `name` has all its
    /// `install_if` conditions walked already and true.
    fn install_if_ready(&self, name: NameId) -> bool {
        if self.processed.contains(&name) {
            return false;
        }
        let Some(pkg) = self.provided.holder(self.u, name) else {
            return false;
        };
        self.u.pkg(pkg).info.install_if.iter().all(|atom| {
            let settled = atom.conflict
                || self
                    .u
                    .lookup(&atom.name)
                    .is_some_and(|n| self.processed.contains(&n));
            settled && self.provided.satisfies(self.u, atom)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Repository;
    use crate::testutil::{index, world};

    fn order_of(repos: &[Repository], w: &str, chosen: &[&str]) -> Vec<String> {
        let u = Universe::new(repos);
        let ids: Vec<PkgId> = chosen
            .iter()
            .map(|n| {
                (0..u.pkgs.len() as PkgId)
                    .find(|&p| u.label(p) == *n)
                    .unwrap_or_else(|| panic!("{n} not in the test repository"))
            })
            .collect();
        let provided = Provided::new(&u, &ids);
        let w = world(w);
        install_order(&u, &w, &ids, &provided)
            .into_iter()
            .map(|p| u.label(p))
            .collect()
    }

    #[test]
    fn dependencies_first_world_by_name_cycles_by_first_meeting() {
        let repos = [Repository::new(index(
            "P:zapp V:1 D:libz|/bin/sh
             P:libz V:1 D:so:libc.musl.so.1
             P:musl V:1 p:so:libc.musl.so.1=1
             P:busybox V:1 D:so:libc.musl.so.1
             P:busybox-binsh V:1 D:busybox p:/bin/sh
             P:aaa V:1",
        ))];
        let chosen = [
            "zapp-1",
            "libz-1",
            "musl-1",
            "busybox-1",
            "busybox-binsh-1",
            "aaa-1",
        ];
        assert_eq!(
            order_of(&repos, "zapp aaa", &chosen),
            [
                "aaa-1",
                "musl-1",
                "libz-1",
                "busybox-1",
                "busybox-binsh-1",
                "zapp-1"
            ]
        );
        // A cycle: a needs b, b needs a; entered at a, so b comes first.
        let repos = [Repository::new(index(
            "P:a V:1 D:b
             P:b V:1 D:a",
        ))];
        assert_eq!(order_of(&repos, "a", &["a-1", "b-1"]), ["b-1", "a-1"]);
        assert_eq!(order_of(&repos, "b", &["a-1", "b-1"]), ["a-1", "b-1"]);
    }

    #[test]
    fn install_if_packages_follow_their_last_condition() {
        let repos = [Repository::new(index(
            "P:busybox V:1
             P:libssl3 V:1
             P:ssl_client V:1 i:busybox|libssl3 D:libssl3
             P:alpine-base V:1 D:busybox|libssl3|zz
             P:zz V:1",
        ))];
        let chosen = [
            "busybox-1",
            "libssl3-1",
            "ssl_client-1",
            "alpine-base-1",
            "zz-1",
        ];
        assert_eq!(
            order_of(&repos, "alpine-base", &chosen),
            [
                "busybox-1",
                "libssl3-1",
                "ssl_client-1",
                "zz-1",
                "alpine-base-1"
            ]
        );
    }

    #[test]
    fn unreached_packages_come_last_in_name_order() {
        let repos = [Repository::new(index(
            "P:a V:1
             P:c V:1
             P:b V:1",
        ))];
        assert_eq!(
            order_of(&repos, "a", &["a-1", "b-1", "c-1"]),
            ["a-1", "b-1", "c-1"]
        );
    }
}
