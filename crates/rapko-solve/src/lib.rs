//! The resolver: a world (the packages asked for) and repository indexes to the ordered
//! set of packages to install, with an explanation a person can act on when there is none.
//!
//! It follows apk-tools' rules — names and provides (`so:`, `cmd:`, `pc:`, versioned and
//! unversioned), constraints `= > < >= <= ~`, conflicts `!name`, `provider_priority`,
//! `install_if`, pinned repositories (`name@tag`), one package per name and per versioned
//! provided name — and apk's preferences when several answers exist (see [`prefer`] for the
//! tie-breaking rules). Unlike apk's greedy solver it uses resolvo, a CDCL SAT solver, so a
//! world that a first choice gets wrong still resolves when any answer exists.
//!
//! It does not fetch, verify or install anything, and knows nothing of files: it works on
//! [`rapko_apk::PackageInfo`]s already read from indexes.
//!
//! # API
//!
//! - [`Repository`]`{ tag, packages }`: one index's packages, `tag` for a pinned one.
//! - [`Resolver::new`]`(&repos)` indexes every name once (a few ms for Alpine main +
//!   community), borrowing the packages; [`Resolver::resolve`]`(&world)` returns a
//!   [`Resolution`] or a [`ResolveError`].
//! - [`Resolution::packages`] lists the chosen packages in installation order, each a
//!   [`ResolvedPackage`] with its repository index and position, its `&PackageInfo`
//!   (`replaces` and all), why it is there ([`Reason`]) and, per dependency, which chosen
//!   packages satisfy it ([`Link`]) — the edges for an SBOM's `DEPENDS_ON`;
//!   [`Resolution::world`] does the same for the world's atoms.
//! - [`to_dot`] renders the dependency graph for Graphviz.
//! - [`resolve_consistent`] resolves one world for several architectures with the same
//!   versions everywhere, or names the package that cannot agree.
//! - [`check::verify`] is the referee: it judges any chosen set against the repositories
//!   and the world, independently of the solver, and lists each [`check::Violation`].
//!
//! Errors name packages and versions and say what to do: an unknown name comes with close
//! names (`unknown package "pyhton3"; did you mean python3?`), an impossible world with the
//! chain of requirements that clash, from the world down
//! (`network-extras-2.0-r0 needs vlan, provided only by vlan-2.3-r1, which
//! ifupdown-ng-0.12.1-r4 forbids (!vlan)`).
//!
//! ```
//! use rapko_apk::{Dependency, parse_index_text};
//! use rapko_solve::{Repository, Resolver};
//!
//! let index = "P:hello\nV:1.0-r0\nD:so:libc.musl-x86_64.so.1\n\n\
//!              P:musl\nV:1.2.4-r2\np:so:libc.musl-x86_64.so.1=1\n";
//! let repos = [Repository::new(parse_index_text(index)?)];
//! let resolver = Resolver::new(&repos);
//! let world: Vec<Dependency> = vec!["hello".parse()?];
//! let resolution = resolver.resolve(&world)?;
//! assert_eq!(resolution.name_versions(), ["musl-1.2.4-r2", "hello-1.0-r0"]);
//! assert!(rapko_solve::check::verify_resolution(&repos, &world, &resolution).is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod check;
mod consistent;
mod dot;
mod error;
mod explain;
mod order;
mod policy;
pub mod prefer;
mod resolve;
mod sat;
mod suggest;
#[cfg(test)]
mod testutil;
mod universe;

pub use consistent::resolve_consistent;
pub use dot::to_dot;
pub use error::ResolveError;
pub use resolve::{Link, Reason, Resolution, ResolvedPackage, Resolver};
pub use universe::Repository;
