//! Which provider to try first: apk-tools' `compare_providers`, for a fresh install.
//!
//! When several packages can satisfy a name, the solver tries them best first. The order,
//! from apk-tools 2.14's `compare_providers` and `select_package` (the rules about installed
//! packages, `--latest` and `--available` do not apply to an image built from nothing):
//!
//! 1. packages that pinning allows (see [`crate::Repository::tag`]) before the others;
//! 2. providers apk would pick on its own before those it will not: an unversioned provide
//!    (`p:/bin/sh`) is picked automatically only when its package declares a
//!    `provider_priority` (apk then refuses the world and asks for a choice; rapko, like
//!    apko, takes the first of them instead);
//! 3. packages from the preferred repositories: untagged ones, or for a world atom
//!    `foo@edge` the `@edge` one;
//! 4. the highest version of the requested name (the provided version for a provide; an
//!    unversioned provide ranks below any version);
//! 5. between versions of the same package, the highest package version;
//! 6. the highest `provider_priority`;
//! 7. the repository listed first;
//! 8. the package listed first in its index.
//!
//! Every step is a total order on plain data, so the result never depends on hashing or
//! on the order the solver asks in.

use std::cmp::Ordering;

use rapko_apk::version;

use crate::universe::{PkgId, Universe};

/// One way to satisfy a requested name: the package, and the version at which it
/// provides that name (`None` for an unversioned provide).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Offer<'a> {
    pub pkg: PkgId,
    pub version: Option<&'a str>,
}

/// What the comparison needs to know beyond the packages themselves.
pub(crate) struct Context<'c> {
    /// Whether pinning allows a package (rule 1).
    pub allowed: &'c dyn Fn(PkgId) -> bool,
    /// The repository tag whose packages are preferred (rule 3); `None` for untagged.
    pub preferred_tag: Option<&'c str>,
}

/// Orders two offers for the same name: `Less` when `a` should be tried first.
pub(crate) fn compare(u: &Universe<'_>, ctx: &Context<'_>, a: Offer<'_>, b: Offer<'_>) -> Ordering {
    let (pa, pb) = (u.pkg(a.pkg), u.pkg(b.pkg));
    let priority = |p: &crate::universe::Pkg<'_>| p.info.provider_priority.unwrap_or(0);
    let auto = |o: &Offer<'_>, p: &crate::universe::Pkg<'_>| o.version.is_some() || priority(p) > 0;
    let preferred = |id: PkgId| u.tag(id) == ctx.preferred_tag;
    (ctx.allowed)(b.pkg)
        .cmp(&(ctx.allowed)(a.pkg))
        .then_with(|| auto(&b, pb).cmp(&auto(&a, pa)))
        .then_with(|| preferred(b.pkg).cmp(&preferred(a.pkg)))
        .then_with(|| compare_versions(b.version, a.version))
        .then_with(|| {
            if pa.name == pb.name {
                version::compare(&pb.info.version, &pa.info.version)
            } else {
                Ordering::Equal
            }
        })
        .then_with(|| priority(pb).cmp(&priority(pa)))
        .then_with(|| pa.repo.cmp(&pb.repo))
        .then_with(|| a.pkg.cmp(&b.pkg))
}

/// Versions with "no version" below every version.
fn compare_versions(a: Option<&str>, b: Option<&str>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => version::compare(a, b),
        (a, b) => a.is_some().cmp(&b.is_some()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Repository;
    use crate::testutil::index;

    fn order(repos: &[Repository], name: &str, preferred_tag: Option<&str>) -> Vec<String> {
        let u = Universe::new(repos);
        let Some(id) = u.lookup(name) else {
            panic!("{name} unknown")
        };
        let allowed = |p: PkgId| u.tag(p).is_none() || u.tag(p) == preferred_tag;
        let ctx = Context {
            allowed: &allowed,
            preferred_tag,
        };
        let mut offers: Vec<Offer<'_>> = u
            .providers(id)
            .iter()
            .map(|p| Offer {
                pkg: p.pkg,
                version: p.version,
            })
            .collect();
        offers.sort_by(|a, b| compare(&u, &ctx, *a, *b));
        offers.iter().map(|o| u.label(o.pkg)).collect()
    }

    #[test]
    fn highest_version_of_the_same_package_first() {
        let repos = [Repository::new(index(
            "P:foo V:1.2-r0
             P:foo V:1.10-r0
             P:foo V:1.2-r1",
        ))];
        assert_eq!(
            order(&repos, "foo", None),
            ["foo-1.10-r0", "foo-1.2-r1", "foo-1.2-r0"]
        );
    }

    #[test]
    fn provided_version_beats_provider_priority() {
        // Alpine 3.19: jack provides so:libjack.so.0=0.999.0, pipewire-jack =0.3.1000
        // (0.999 > 0.3.1000: 999 > 3); a priority does not outweigh the version.
        let repos = [Repository::new(index(
            "P:pipewire-jack V:1.0-r0 p:so:libjack.so.0=0.3.1000 k:50
             P:jack V:1.9-r0 p:so:libjack.so.0=0.999.0",
        ))];
        assert_eq!(
            order(&repos, "so:libjack.so.0", None),
            ["jack-1.9-r0", "pipewire-jack-1.0-r0"]
        );
    }

    #[test]
    fn priority_decides_between_unversioned_provides() {
        let repos = [Repository::new(index(
            "P:yash-binsh V:2 p:/bin/sh k:50
             P:busybox-binsh V:1 p:/bin/sh k:100
             P:oksh-binsh V:9 p:/bin/sh
             P:dash-binsh V:1 p:/bin/sh k:60",
        ))];
        assert_eq!(
            order(&repos, "/bin/sh", None),
            [
                "busybox-binsh-1",
                "dash-binsh-1",
                "yash-binsh-2",
                "oksh-binsh-9"
            ]
        );
    }

    #[test]
    fn the_real_package_beats_an_unversioned_provide_of_its_name() {
        let repos = [Repository::new(index(
            "P:openresty V:1.21 p:nginx k:1
             P:nginx V:1.24.0-r16 k:100",
        ))];
        assert_eq!(
            order(&repos, "nginx", None),
            ["nginx-1.24.0-r16", "openresty-1.21"]
        );
    }

    #[test]
    fn same_versions_fall_back_to_priority_then_repository_then_index_order() {
        let repos = [
            Repository::new(index(
                "P:openssh-client-krb5 V:9.6-r0 p:openssh-client=9.6-r0 k:1
                 P:b V:1 p:x=1
                 P:a V:1 p:x=1",
            )),
            Repository::new(index(
                "P:openssh-client-default V:9.6-r0 p:openssh-client=9.6-r0 k:2
                 P:c V:1 p:x=1",
            )),
        ];
        assert_eq!(
            order(&repos, "openssh-client", None),
            [
                "openssh-client-default-9.6-r0",
                "openssh-client-krb5-9.6-r0"
            ]
        );
        assert_eq!(order(&repos, "x", None), ["b-1", "a-1", "c-1"]);
    }

    #[test]
    fn pinning_prefers_its_repository_over_a_higher_version() {
        let repos = [
            Repository::new(index("P:foo V:2")),
            Repository::tagged("old", index("P:foo V:1")),
            Repository::tagged("edge", index("P:foo V:3")),
        ];
        // Untagged first; edge's higher version is not even allowed.
        assert_eq!(order(&repos, "foo", None), ["foo-2", "foo-3", "foo-1"]);
        // Asked as foo@old: old's version first, then the main one.
        assert_eq!(
            order(&repos, "foo", Some("old")),
            ["foo-1", "foo-2", "foo-3"]
        );
    }
}
