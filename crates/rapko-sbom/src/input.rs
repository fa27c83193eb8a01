//! What the builder hands in: plain data about one built image (or index), with nothing
//! to look up. Every field is what the build already knows; see [`crate`] for how it is
//! written out.

use rapko_apk::{InstalledPackage, PackageInfo};

/// The program that wrote the SBOM (`rapko` and its version).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Tool {
    /// rapko itself, with this crate's version.
    pub fn rapko() -> Tool {
        Tool {
            name: "rapko".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// One compressed layer of the image, as its manifest lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layer {
    /// `sha256:…` of the compressed blob.
    pub digest: String,
    /// Size of the compressed blob in bytes.
    pub size: u64,
}

/// A file found in a package under `var/lib/db/sbom/`, as the package shipped it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmbeddedSbom {
    /// The path in the image (`var/lib/db/sbom/hello-2.12-r0.spdx.json`); only paths ending
    /// in `.spdx.json` are read, others are ignored.
    pub path: String,
    pub content: Vec<u8>,
}

/// One installed APK package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SbomPackage {
    /// The index record the package was installed from (name, version, index arch, `L:`,
    /// `C:`, …; `datahash` when the `.PKGINFO` was read).
    pub info: PackageInfo,
    /// The repository it came from, as configured (`https://dl-cdn.alpinelinux.org/alpine/v3.19/main`,
    /// without the arch). The download location is `<repository>/<arch>/<name>-<version>.apk`.
    pub repository_url: String,
    /// The package's own SBOMs (`var/lib/db/sbom/*.spdx.json`), merged under its entry.
    pub embedded_sboms: Vec<EmbeddedSbom>,
}

impl SbomPackage {
    /// A package with no embedded SBOM.
    pub fn new(info: PackageInfo, repository_url: impl Into<String>) -> SbomPackage {
        SbomPackage {
            info,
            repository_url: repository_url.into(),
            embedded_sboms: Vec::new(),
        }
    }
}

/// Everything the SBOMs of one single-arch image say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageSbomInput {
    /// The image's repository as tagged (`ghcr.io/org/app`, or `app` for a local name).
    pub image_name: String,
    /// The manifest digest, `sha256:…`: names the SBOM (namespace, serial number).
    pub image_digest: String,
    /// The config blob's digest, `sha256:…`.
    pub config_digest: String,
    pub layers: Vec<Layer>,
    /// The APK arch (`x86_64`, `aarch64`, `armv7`).
    pub arch: String,
    /// The OCI platform architecture (`amd64`, `arm64`, `arm`) and variant (`v7`).
    pub oci_arch: String,
    pub oci_variant: Option<String>,
    /// The text of the image's `/etc/os-release` (or `usr/lib/os-release`), if it has one.
    pub os_release: Option<String>,
    /// The installed packages, in any order (the SBOM sorts them).
    pub packages: Vec<SbomPackage>,
    /// Resolved dependency edges `(from, to)`: indices into `packages`, meaning
    /// `packages[from]` depends on `packages[to]`. Order and duplicates do not matter.
    pub dependencies: Vec<(usize, usize)>,
    /// The build date (SOURCE_DATE_EPOCH or the config's), unix seconds: the `created` time.
    pub build_time: u64,
    pub tool: Tool,
}

/// One platform image of a multi-arch index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexImage {
    /// The image manifest's digest, `sha256:…`.
    pub digest: String,
    /// The APK arch (`x86_64`).
    pub arch: String,
    /// The OCI architecture and variant (`amd64`, `arm` + `v7`).
    pub oci_arch: String,
    pub oci_variant: Option<String>,
}

/// Everything the index SBOM of a multi-arch build says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexSbomInput {
    pub image_name: String,
    /// The index's digest, `sha256:…`.
    pub index_digest: String,
    pub images: Vec<IndexImage>,
    pub build_time: u64,
    pub tool: Tool,
}

/// The SBOMs a package installed (`var/lib/db/sbom/*.spdx.json`, relative to the root), from
/// its installed-database record: the files a builder or `rapko sbom` reads from the root
/// filesystem and passes as [`SbomPackage::embedded_sboms`].
pub fn embedded_sbom_paths(pkg: &InstalledPackage) -> Vec<String> {
    pkg.file_paths()
        .filter(|p| p.starts_with("var/lib/db/sbom/") && crate::embedded::is_spdx_path(p))
        .collect()
}

/// Dependency edges found by matching each package's `depends` against the other packages'
/// names and provides (with version constraints). A fallback for callers without resolver
/// edges; conflicts (`!name`) are not edges.
pub fn dependency_edges(packages: &[&PackageInfo]) -> Vec<(usize, usize)> {
    let mut edges = Vec::new();
    for (from, pkg) in packages.iter().enumerate() {
        for dep in pkg.depends.iter().filter(|d| !d.conflict) {
            for (to, other) in packages.iter().enumerate() {
                if to != from && satisfies(other, dep) {
                    edges.push((from, to));
                }
            }
        }
    }
    edges.sort_unstable();
    edges.dedup();
    edges
}

fn satisfies(pkg: &PackageInfo, dep: &rapko_apk::Dependency) -> bool {
    let version_ok = |version: Option<&str>| match (&dep.constraint, version) {
        (None, _) => true,
        (Some(c), Some(v)) => c.matches(v),
        (Some(_), None) => false,
    };
    (pkg.name == dep.name && version_ok(Some(&pkg.version)))
        || pkg
            .provides
            .iter()
            .any(|p| p.name == dep.name && version_ok(p.version.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapko_apk::{Dependency, Provide};

    fn info(name: &str, depends: &[&str], provides: &[&str]) -> PackageInfo {
        PackageInfo {
            name: name.into(),
            version: "1.0-r0".into(),
            depends: depends
                .iter()
                .map(|d| d.parse::<Dependency>().unwrap())
                .collect(),
            provides: provides
                .iter()
                .map(|p| p.parse::<Provide>().unwrap())
                .collect(),
            ..PackageInfo::default()
        }
    }

    #[test]
    fn embedded_sbom_paths_from_the_installed_database() {
        let db = "C:Q1AYNx2pLOAHRYZQgv3nM8TNtvRWY=\nP:hello\nV:2.12-r0\nA:x86_64\n\
                  F:usr/bin\nR:hello\nF:var/lib/db/sbom\nR:hello-2.12-r0.spdx.json\nR:hello.json\n\n";
        let installed = rapko_apk::installed::parse_installed(db).unwrap();
        assert_eq!(
            embedded_sbom_paths(&installed[0]),
            vec!["var/lib/db/sbom/hello-2.12-r0.spdx.json".to_owned()]
        );
    }

    #[test]
    fn edges_by_name_provides_and_version() {
        let a = info("a", &["b", "so:libc.so=1", "!d", "c>2"], &[]);
        let b = info("b", &["a"], &["so:libc.so=1"]);
        let c = info("c", &[], &[]);
        let edges = dependency_edges(&[&a, &b, &c]);
        // a→b (name and provide, once), b→a; c is 1.0-r0, so `c>2` is no edge.
        assert_eq!(edges, vec![(0, 1), (1, 0)]);
    }
}
