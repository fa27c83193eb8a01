//! The only module that knows resolvo: apk's dependency rules as a resolvo problem.
//!
//! resolvo (a CDCL SAT solver) thinks in *names*, each with candidate *solvables*, of
//! which at most one is chosen, and *version sets* that select some candidates of one
//! name. apk thinks in packages that provide several names. The mapping:
//!
//! - a resolvo name is an apk package name (`P:`), its candidates the packages of that
//!   name that pinning allows (the others are listed as excluded, with the reason, so an
//!   explanation can say why they were not used); a hold becomes `locked`, a world atom
//!   `foo@tag` makes the tagged package `favored`;
//! - a dependency `so:libssl.so.3` becomes a *union* of version sets, one per package name
//!   that provides it, ordered by [`crate::prefer`]; each set selects the packages of that
//!   name that provide the name at a matching version;
//! - a conflict `!foo<2` becomes a *constrains* on every package name providing `foo`:
//!   if chosen, it must not provide `foo` at a version below 2;
//! - apk lets a name be provided by several installed packages only when none of them
//!   gives it a version (`p:/bin/sh`); a package providing a name with a version (its own
//!   name, `so:` and `cmd:` names) therefore constrains every other package name that
//!   provides the same name;
//! - the world's atoms are the root requirements and constraints; `install_if` packages
//!   are soft requirements, added by [`crate::resolve`] after each solve.
//!
//! resolvo tries the candidates of each requirement in the order given, so the
//! preferences of [`crate::prefer`] decide whenever the rules leave a choice, and its
//! conflict learning backtracks out of a choice that only fails later.

use std::cell::RefCell;
use std::fmt::Display;

use ahash::AHashMap;
use rapko_apk::Dependency;
use resolvo::conflict::{ConflictCause, ConflictEdge, ConflictNode};
use resolvo::{
    Candidates, Condition, ConditionId, ConditionalRequirement, Dependencies, DependencyProvider,
    Interner, KnownDependencies, NameId as RName, Problem, Requirement, SolvableId, Solver,
    SolverCache, StringId, UnsolvableOrCancelled, VersionSetId, VersionSetUnionId,
};

use crate::explain::Fact;
use crate::policy::Policy;
use crate::prefer::{self, Offer};
use crate::universe::{NameId, PkgId, Universe, provide_matches};

/// A version set: which candidates of one package name qualify.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Set<'s> {
    /// Candidates of `pkg_name` that provide `target` in a way that satisfies `atom`.
    Provides {
        pkg_name: NameId,
        target: NameId,
        atom: &'s Dependency,
    },
    /// Candidates of `pkg_name` that do not provide what the conflict `atom` forbids.
    Avoids {
        pkg_name: NameId,
        target: NameId,
        atom: &'s Dependency,
    },
    /// Candidates of `pkg_name` that can be installed beside a package providing `name`
    /// (with a version when `versioned`).
    Beside {
        pkg_name: NameId,
        name: NameId,
        versioned: bool,
    },
}

impl Set<'_> {
    fn pkg_name(&self) -> NameId {
        match *self {
            Set::Provides { pkg_name, .. }
            | Set::Avoids { pkg_name, .. }
            | Set::Beside { pkg_name, .. } => pkg_name,
        }
    }
}

/// Values interned to dense ids, looked up both ways.
#[derive(Debug)]
struct Interned<T> {
    items: Vec<T>,
    ids: AHashMap<T, u32>,
}

impl<T> Default for Interned<T> {
    fn default() -> Self {
        Interned {
            items: Vec::new(),
            ids: AHashMap::new(),
        }
    }
}

impl<T: Clone + Eq + std::hash::Hash> Interned<T> {
    fn intern(&mut self, item: T) -> u32 {
        if let Some(&id) = self.ids.get(&item) {
            return id;
        }
        let id = self.items.len() as u32;
        self.items.push(item.clone());
        self.ids.insert(item, id);
        id
    }
}

/// The resolvo dependency provider over a [`Universe`].
struct Adapter<'s> {
    u: &'s Universe<'s>,
    policy: &'s Policy<'s>,
    sets: RefCell<Interned<Set<'s>>>,
    unions: RefCell<Interned<Vec<VersionSetId>>>,
    strings: RefCell<Interned<String>>,
    /// Names used by dependencies that no package provides, numbered after the
    /// universe's names.
    missing: RefCell<Interned<&'s str>>,
}

impl<'s> Adapter<'s> {
    fn set(&self, set: Set<'s>) -> VersionSetId {
        VersionSetId(self.sets.borrow_mut().intern(set))
    }

    fn set_def(&self, id: VersionSetId) -> Option<Set<'s>> {
        self.sets.borrow().items.get(id.0 as usize).copied()
    }

    fn string(&self, s: String) -> StringId {
        StringId(self.strings.borrow_mut().intern(s))
    }

    /// The name id of `name`, giving names no package provides ids after the universe's.
    fn name_id(&self, name: &'s str) -> NameId {
        match self.u.lookup(name) {
            Some(id) => id,
            None => self.u.name_count() as NameId + self.missing.borrow_mut().intern(name),
        }
    }

    fn name_text(&self, id: NameId) -> String {
        match (id as usize).checked_sub(self.u.name_count()) {
            None => self.u.name(id).to_owned(),
            Some(i) => self
                .missing
                .borrow()
                .items
                .get(i)
                .map(|s| s.to_string())
                .unwrap_or_default(),
        }
    }

    fn compare(&self, a: Offer<'_>, b: Offer<'_>, tag: Option<&str>) -> std::cmp::Ordering {
        let allowed = |p: PkgId| self.policy.allowed(self.u, p);
        let ctx = prefer::Context {
            allowed: &allowed,
            preferred_tag: tag,
        };
        prefer::compare(self.u, &ctx, a, b)
    }

    /// The requirement for a (non-conflict) atom: one version set per package name that
    /// can satisfy it, best first.
    fn requirement(&self, atom: &'s Dependency, tag: Option<&str>) -> Requirement {
        let target = self.name_id(&atom.name);
        let mut best: Vec<Offer<'s>> = Vec::new();
        for p in self.u.providers(target) {
            if !provide_matches(atom, p.version) {
                continue;
            }
            let offer = Offer {
                pkg: p.pkg,
                version: p.version,
            };
            let name = self.u.pkg(p.pkg).name;
            match best.iter_mut().find(|o| self.u.pkg(o.pkg).name == name) {
                Some(o) => {
                    if self.compare(offer, *o, tag).is_lt() {
                        *o = offer;
                    }
                }
                None => best.push(offer),
            }
        }
        best.sort_by(|a, b| self.compare(*a, *b, tag));
        let mut sets: Vec<VersionSetId> = best
            .iter()
            .map(|o| {
                let pkg_name = self.u.pkg(o.pkg).name;
                self.set(Set::Provides {
                    pkg_name,
                    target,
                    atom,
                })
            })
            .collect();
        match sets.len() {
            // Nothing matches: a set with no candidates, which resolvo reports as an
            // unresolved dependency.
            0 => self
                .set(Set::Provides {
                    pkg_name: target,
                    target,
                    atom,
                })
                .into(),
            1 => sets.remove(0).into(),
            _ => VersionSetUnionId(self.unions.borrow_mut().intern(sets)).into(),
        }
    }

    /// Applies the policy's lock, hold or world tag for `name` to its candidates: a lock
    /// or a hold becomes resolvo's `locked` (nothing at a held version: every candidate
    /// excluded, with the reason), a tag `favored`.
    fn lock_or_favor(&self, name: NameId, result: &mut Candidates<SolvableId>) {
        let best_where = |keep: &dyn Fn(PkgId) -> bool| {
            let pkgs = result
                .candidates
                .iter()
                .map(|&s| pkg_of(s))
                .filter(|&p| keep(p));
            pkgs.map(|pkg| Offer {
                pkg,
                version: Some(self.u.pkg(pkg).info.version.as_str()),
            })
            .min_by(|a, b| self.compare(*a, *b, None))
            .map(|o| solvable(o.pkg))
        };
        if let Some(pkg) = self.policy.locked(name) {
            let lock = solvable(pkg);
            result.locked = result.candidates.contains(&lock).then_some(lock);
        } else if let Some(version) = self.policy.hold(name) {
            result.locked = best_where(&|p| self.u.pkg(p).info.version == version);
            if result.locked.is_none() {
                let reason = self.string(format!("not at version {version}, where it is held"));
                let all = std::mem::take(&mut result.candidates);
                result.excluded.extend(all.into_iter().map(|s| (s, reason)));
            }
        } else if let Some(tag) = self.policy.world_tag(name) {
            result.favored = best_where(&|p| self.u.tag(p) == Some(tag));
        }
    }

    /// The constraints for a conflict atom, skipping the package's own name (resolvo
    /// already allows one package per name).
    fn avoid(&self, atom: &'s Dependency, own: Option<NameId>, out: &mut Vec<VersionSetId>) {
        let Some(target) = self.u.lookup(&atom.name) else {
            return;
        };
        let mut names: Vec<NameId> = self
            .u
            .providers(target)
            .iter()
            .filter(|p| provide_matches(atom, p.version))
            .map(|p| self.u.pkg(p.pkg).name)
            .filter(|&n| Some(n) != own)
            .collect();
        names.sort_unstable();
        names.dedup();
        for pkg_name in names {
            out.push(self.set(Set::Avoids {
                pkg_name,
                target,
                atom,
            }));
        }
    }

    /// apk's "same name provided" rule: a name provided with a version by `pkg` cannot
    /// also be provided by another installed package, and the reverse.
    fn exclusive_provides(&self, pkg: PkgId, out: &mut Vec<VersionSetId>) {
        let own = self.u.pkg(pkg).name;
        let mut seen: Vec<(NameId, NameId)> = Vec::new();
        for provided in self.u.provided(pkg) {
            for other in self.u.providers(provided.name) {
                let other_name = self.u.pkg(other.pkg).name;
                let clash = provided.version.is_some() || other.version.is_some();
                if other_name == own || !clash || seen.contains(&(provided.name, other_name)) {
                    continue;
                }
                seen.push((provided.name, other_name));
                out.push(self.set(Set::Beside {
                    pkg_name: other_name,
                    name: provided.name,
                    versioned: provided.version.is_some(),
                }));
            }
        }
    }

    /// The atoms in the order resolvo should decide them: atoms naming a package first,
    /// then provided names. resolvo decides requirements in the order given, and a
    /// package named outright pins its name's version first; deciding a provided name
    /// first could settle that package at a lower version through a provider that
    /// happens to carry the name (`virt` provided by an old `c` while `c` itself is
    /// also required).
    fn decision_order(&self, atoms: &'s [Dependency]) -> Vec<&'s Dependency> {
        let names_a_package = |atom: &Dependency| {
            self.u.lookup(&atom.name).is_some_and(|n| {
                self.u
                    .providers(n)
                    .iter()
                    .any(|p| self.u.pkg(p.pkg).name == n)
            })
        };
        let (mut ordered, provided): (Vec<_>, Vec<_>) =
            atoms.iter().partition(|a| names_a_package(a));
        ordered.extend(provided);
        ordered
    }

    fn in_set(&self, set: Set<'_>, pkg: PkgId) -> bool {
        match set {
            Set::Provides { target, atom, .. } => self
                .u
                .provides(pkg, target)
                .is_some_and(|v| provide_matches(atom, v)),
            Set::Avoids { target, atom, .. } => !self
                .u
                .provides(pkg, target)
                .is_some_and(|v| provide_matches(atom, v)),
            Set::Beside {
                name, versioned, ..
            } => match self.u.provides(pkg, name) {
                None => true,
                Some(version) => !versioned && version.is_none(),
            },
        }
    }
}

fn solvable(pkg: PkgId) -> SolvableId {
    SolvableId::from_raw(pkg)
}

fn pkg_of(s: SolvableId) -> PkgId {
    s.into_raw()
}

fn rname(name: NameId) -> RName {
    RName::from_raw(name)
}

impl Interner for Adapter<'_> {
    type NameId = RName;
    type SolvableId = SolvableId;

    fn display_solvable(&self, s: SolvableId) -> impl Display + '_ {
        self.u.label(pkg_of(s))
    }

    fn display_name(&self, name: RName) -> impl Display + '_ {
        self.name_text(name.into_raw())
    }

    fn display_version_set(&self, vs: VersionSetId) -> impl Display + '_ {
        match self.set_def(vs) {
            Some(Set::Provides { atom, .. }) => format!("providing {atom}"),
            Some(Set::Avoids { atom, .. }) => format!("allowed beside !{}", AtomText(atom)),
            Some(Set::Beside { name, .. }) => {
                format!("not providing {}", self.name_text(name))
            }
            None => String::new(),
        }
    }

    fn display_string(&self, id: StringId) -> impl Display + '_ {
        self.strings
            .borrow()
            .items
            .get(id.0 as usize)
            .cloned()
            .unwrap_or_default()
    }

    fn version_set_name(&self, vs: VersionSetId) -> RName {
        rname(self.set_def(vs).map_or(0, |s| s.pkg_name()))
    }

    fn solvable_name(&self, s: SolvableId) -> RName {
        rname(self.u.pkg(pkg_of(s)).name)
    }

    fn version_sets_in_union(&self, id: VersionSetUnionId) -> impl Iterator<Item = VersionSetId> {
        let unions = self.unions.borrow();
        unions
            .items
            .get(id.0 as usize)
            .cloned()
            .unwrap_or_default()
            .into_iter()
    }

    fn resolve_condition(&self, _: ConditionId) -> Condition {
        // No requirement of ours is conditional; resolvo never asks.
        Condition::Requirement(VersionSetId(0))
    }
}

/// An atom without its `!`, for messages about conflicts.
struct AtomText<'d>(&'d Dependency);

impl Display for AtomText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.0.to_string();
        f.write_str(text.strip_prefix('!').unwrap_or(&text))
    }
}

impl DependencyProvider for Adapter<'_> {
    async fn filter_candidates(
        &self,
        candidates: &[SolvableId],
        vs: VersionSetId,
        inverse: bool,
    ) -> Vec<SolvableId> {
        let Some(set) = self.set_def(vs) else {
            return Vec::new();
        };
        candidates
            .iter()
            .copied()
            .filter(|&s| self.in_set(set, pkg_of(s)) != inverse)
            .collect()
    }

    async fn get_candidates(&self, name: RName) -> Option<Candidates<SolvableId>> {
        let name = name.into_raw();
        if name as usize >= self.u.name_count() {
            return None;
        }
        let mut result = Candidates::default();
        for p in self.u.providers(name) {
            let pkg = self.u.pkg(p.pkg);
            if pkg.name != name {
                continue;
            }
            if self.policy.allowed(self.u, p.pkg) {
                result.candidates.push(solvable(p.pkg));
            } else {
                let tag = self.u.tag(p.pkg).unwrap_or_default();
                let reason = format!(
                    "from the repository tagged @{tag}, which only a world atom such as \
                     {}@{tag} allows",
                    pkg.info.name
                );
                result.excluded.push((solvable(p.pkg), self.string(reason)));
            }
        }
        self.lock_or_favor(name, &mut result);
        Some(result)
    }

    /// Sorts the candidates of one package name for every requirement alike, preferring
    /// untagged repositories; a world atom's tag is honoured through `favored`.
    async fn sort_candidates(&self, _: &SolverCache<Self>, solvables: &mut [SolvableId]) {
        let offer = |s: &SolvableId| {
            let pkg = pkg_of(*s);
            Offer {
                pkg,
                version: Some(self.u.pkg(pkg).info.version.as_str()),
            }
        };
        solvables.sort_by(|a, b| self.compare(offer(a), offer(b), None));
    }

    async fn get_dependencies(&self, s: SolvableId) -> Dependencies {
        let pkg = pkg_of(s);
        let p = self.u.pkg(pkg);
        let mut known = KnownDependencies::default();
        for atom in self.decision_order(&p.info.depends) {
            if atom.conflict {
                self.avoid(atom, Some(p.name), &mut known.constrains);
            } else {
                let requirement = self.requirement(atom, None);
                known
                    .requirements
                    .push(ConditionalRequirement::from(requirement));
            }
        }
        self.exclusive_provides(pkg, &mut known.constrains);
        Dependencies::Known(known)
    }
}

/// resolvo's conflict graph as plain vectors (its petgraph types stay in resolvo).
struct GraphView {
    nodes: Vec<ConflictNode<SolvableId>>,
    /// Per node, its outgoing edges as `(target, edge)`, in the graph's order.
    out: Vec<Vec<(usize, ConflictEdge<SolvableId>)>>,
}

impl GraphView {
    fn new(graph: &resolvo::conflict::ConflictGraph<SolvableId>) -> GraphView {
        let nodes: Vec<ConflictNode<SolvableId>> =
            graph.graph.raw_nodes().iter().map(|n| n.weight).collect();
        let mut out = vec![Vec::new(); nodes.len()];
        for e in graph.graph.raw_edges() {
            if let Some(list) = out.get_mut(e.source().index()) {
                list.push((e.target().index(), e.weight));
            }
        }
        GraphView { nodes, out }
    }

    fn out(&self, node: usize) -> &[(usize, ConflictEdge<SolvableId>)] {
        self.out.get(node).map(Vec::as_slice).unwrap_or(&[])
    }

    fn solvable(&self, node: usize) -> Option<SolvableId> {
        match self.nodes.get(node) {
            Some(ConflictNode::Solvable(s)) => Some(*s),
            _ => None,
        }
    }

    /// The nodes reachable from `root`, breadth first, so an explanation reads from the
    /// world down.
    fn breadth_first(&self, root: usize) -> Vec<usize> {
        let mut order = vec![root];
        let mut seen = vec![false; self.nodes.len()];
        if let Some(s) = seen.get_mut(root) {
            *s = true;
        }
        let mut next = 0;
        while let Some(&node) = order.get(next) {
            next += 1;
            for &(target, _) in self.out(node) {
                if let Some(s) = seen.get_mut(target)
                    && !*s
                {
                    *s = true;
                    order.push(target);
                }
            }
        }
        order
    }
}

/// A solver over one universe and policy; keeps what it learnt about packages between
/// solves (the `install_if` rounds re-solve with more soft requirements).
pub(crate) struct Sat<'s> {
    solver: Solver<Adapter<'s>>,
}

impl<'s> Sat<'s> {
    pub fn new(u: &'s Universe<'s>, policy: &'s Policy<'s>) -> Sat<'s> {
        let adapter = Adapter {
            u,
            policy,
            sets: RefCell::default(),
            unions: RefCell::default(),
            strings: RefCell::default(),
            missing: RefCell::default(),
        };
        Sat {
            solver: Solver::new(adapter),
        }
    }

    /// Solves `world`, then adds as many of `soft` as fit. Returns the chosen packages,
    /// sorted, or the facts that make the world unsatisfiable.
    pub fn solve(
        &mut self,
        world: &'s [Dependency],
        soft: &[PkgId],
    ) -> Result<Vec<PkgId>, Vec<Fact>> {
        let adapter = self.solver.provider();
        let mut requirements = Vec::new();
        let mut constraints = Vec::new();
        for atom in adapter.decision_order(world) {
            if atom.conflict {
                adapter.avoid(atom, None, &mut constraints);
            } else {
                let requirement = adapter.requirement(atom, atom.tag.as_deref());
                requirements.push(ConditionalRequirement::from(requirement));
            }
        }
        let problem = Problem::new()
            .requirements(requirements)
            .constraints(constraints)
            .soft_requirements(soft.iter().map(|&p| solvable(p)));
        match self.solver.solve(problem) {
            Ok(chosen) => {
                let mut chosen: Vec<PkgId> = chosen.into_iter().map(pkg_of).collect();
                chosen.sort_unstable();
                Ok(chosen)
            }
            Err(UnsolvableOrCancelled::Unsolvable(conflict)) => {
                let graph = conflict.graph(&self.solver);
                Err(self.facts(&graph))
            }
            // Nothing here cancels; say so rather than panic if resolvo ever does.
            Err(UnsolvableOrCancelled::Cancelled(_)) => Err(vec![Fact::Cancelled]),
        }
    }

    /// The statements behind resolvo's conflict graph, in breadth-first order from the
    /// world, so that an explanation reads from what was asked down to the clash.
    fn facts(&self, graph: &resolvo::conflict::ConflictGraph<SolvableId>) -> Vec<Fact> {
        let view = GraphView::new(graph);
        let mut facts = Vec::new();
        for node in view.breadth_first(graph.root_node.index()) {
            let who = view.solvable(node).map(pkg_of);
            // A requirement has one edge per candidate; gather them back together.
            let mut needs: Vec<(Requirement, Vec<PkgId>)> = Vec::new();
            for &(target, edge) in view.out(node) {
                match edge {
                    ConflictEdge::Requires(req) => {
                        let candidate = view.solvable(target).map(pkg_of);
                        match needs.iter_mut().find(|(r, _)| *r == req) {
                            Some((_, list)) => list.extend(candidate),
                            None => needs.push((req, candidate.into_iter().collect())),
                        }
                    }
                    ConflictEdge::Conflict(cause) => {
                        facts.extend(self.conflict_fact(who, target, cause, &view.nodes));
                    }
                }
            }
            for (req, candidates) in needs {
                if let Some(atom) = self.atom_of(req) {
                    facts.push(Fact::Needs {
                        who,
                        atom: atom.clone(),
                        candidates,
                    });
                }
            }
        }
        facts
    }

    fn conflict_fact(
        &self,
        source: Option<PkgId>,
        target: usize,
        cause: ConflictCause<SolvableId>,
        nodes: &[ConflictNode<SolvableId>],
    ) -> Option<Fact> {
        let adapter = self.solver.provider();
        let target_node = nodes.get(target).copied();
        let target_pkg = match target_node {
            Some(ConflictNode::Solvable(s)) => Some(pkg_of(s)),
            _ => None,
        };
        match cause {
            ConflictCause::Constrains(vs) => {
                let pkg = target_pkg?;
                match adapter.set_def(vs)? {
                    Set::Avoids { atom, .. } => Some(Fact::Forbids {
                        who: source,
                        atom: atom.clone(),
                        pkg,
                    }),
                    Set::Beside { name, .. } => Some(Fact::SameProvide {
                        a: source?,
                        b: pkg,
                        name: adapter.name_text(name),
                    }),
                    Set::Provides { .. } => None,
                }
            }
            ConflictCause::ForbidMultipleInstances => Some(Fact::SameName {
                a: source?,
                b: target_pkg?,
            }),
            ConflictCause::Locked(held) => Some(Fact::Held {
                pkg: target_pkg?,
                held: pkg_of(held),
            }),
            ConflictCause::Excluded => {
                let Some(ConflictNode::Excluded(reason)) = target_node else {
                    return None;
                };
                Some(Fact::Excluded {
                    pkg: source?,
                    reason: adapter.display_string(reason).to_string(),
                })
            }
        }
    }

    fn atom_of(&self, req: Requirement) -> Option<&'s Dependency> {
        let adapter = self.solver.provider();
        let vs = match req {
            Requirement::Single(vs) => vs,
            Requirement::Union(u) => adapter.version_sets_in_union(u).next()?,
        };
        match adapter.set_def(vs)? {
            Set::Provides { atom, .. } => Some(atom),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Repository;
    use crate::testutil::{dep, index};

    fn adapter<'s>(u: &'s Universe<'s>, policy: &'s Policy<'s>) -> Adapter<'s> {
        Adapter {
            u,
            policy,
            sets: RefCell::default(),
            unions: RefCell::default(),
            strings: RefCell::default(),
            missing: RefCell::default(),
        }
    }

    /// The package names of a requirement's version sets, in order.
    fn union_names(a: &Adapter<'_>, req: Requirement) -> Vec<String> {
        let sets: Vec<VersionSetId> = match req {
            Requirement::Single(vs) => vec![vs],
            Requirement::Union(u) => a.version_sets_in_union(u).collect(),
        };
        sets.into_iter()
            .map(|vs| a.name_text(a.version_set_name(vs).into_raw()))
            .collect()
    }

    fn repos() -> Vec<Repository> {
        vec![Repository::new(index(
            "P:busybox-binsh V:1.36 p:/bin/sh|cmd:sh=1.36 k:100
             P:dash-binsh V:0.5 p:/bin/sh k:60
             P:mksh V:59 p:cmd:sh=59
             P:app V:1 D:/bin/sh|!mksh|cmd:sh>=2",
        ))]
    }

    #[test]
    fn a_provided_name_becomes_a_union_in_preference_order() {
        let repos = repos();
        let u = Universe::new(&repos);
        let policy = Policy::default();
        let a = adapter(&u, &policy);
        let sh = dep("/bin/sh");
        assert_eq!(
            union_names(&a, a.requirement(&sh, None)),
            ["busybox-binsh", "dash-binsh"]
        );
        // A constrained atom only reaches versioned provides that match.
        let sh2 = dep("cmd:sh>=2");
        assert_eq!(union_names(&a, a.requirement(&sh2, None)), ["mksh"]);
        // Nothing provides it: one empty set, named after the atom.
        let none = dep("so:libnone.so.1");
        assert_eq!(
            union_names(&a, a.requirement(&none, None)),
            ["so:libnone.so.1"]
        );
    }

    #[test]
    fn sets_select_the_right_candidates() {
        let repos = repos();
        let u = Universe::new(&repos);
        let policy = Policy::default();
        let a = adapter(&u, &policy);
        let (busybox, dash, mksh) = (0, 1, 2);
        let Some(sh) = u.lookup("cmd:sh") else {
            panic!("cmd:sh")
        };
        let ge2 = dep("cmd:sh>=2");
        let provides = Set::Provides {
            pkg_name: u.pkg(mksh).name,
            target: sh,
            atom: &ge2,
        };
        assert!(a.in_set(provides, mksh) && !a.in_set(provides, busybox));
        let no_mksh = dep("!mksh");
        let mut avoid = Vec::new();
        a.avoid(&no_mksh, None, &mut avoid);
        assert_eq!(avoid.len(), 1);
        let Some(set) = a.set_def(avoid[0]) else {
            panic!("no set")
        };
        assert!(!a.in_set(set, mksh) && a.in_set(set, dash));
    }

    #[test]
    fn versioned_provides_are_exclusive_and_unversioned_ones_are_not() {
        let repos = repos();
        let u = Universe::new(&repos);
        let policy = Policy::default();
        let a = adapter(&u, &policy);
        let mut out = Vec::new();
        // busybox-binsh: cmd:sh=1.36 clashes with mksh; /bin/sh (unversioned on both
        // sides) does not clash with dash-binsh.
        a.exclusive_provides(0, &mut out);
        let sets: Vec<Set<'_>> = out.iter().filter_map(|&vs| a.set_def(vs)).collect();
        assert_eq!(sets.len(), 1, "{sets:?}");
        assert!(matches!(
            sets[0],
            Set::Beside {
                versioned: true,
                ..
            }
        ));
        assert!(!a.in_set(sets[0], 2) && a.in_set(sets[0], 1));
    }
}
