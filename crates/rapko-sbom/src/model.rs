//! The format-independent view of an image SBOM: packages sorted, ids assigned, licenses,
//! purls, checksums and locations worked out once, embedded SBOMs read, warnings collected.
//! The SPDX and CycloneDX writers only lay this out.

use std::collections::{BTreeMap, BTreeSet};

use crate::embedded::{EmbeddedDoc, is_spdx_path, read_embedded};
use crate::error::{Error, Result};
use crate::input::{ImageSbomInput, SbomPackage};
use crate::license::{LicenseResult, license_expression, sanitize_idstring};
use crate::os_release::{OsRelease, parse_os_release};
use crate::purl::{apk_purl, oci_purl};
use crate::util::{UniqueIds, is_web_url, sha256_hex};

/// The base of every SPDX document namespace: `<base>/<digest>`. The documents need not be
/// served there; SPDX only asks for a unique URI, and the digest makes it unique.
pub const NAMESPACE_BASE: &str = "https://rapko.dev/spdx";

/// The base of the URLs CycloneDX serial numbers are derived from (UUID v5 of `<base>/<digest>`).
pub(crate) const SERIAL_BASE: &str = "https://rapko.dev/cyclonedx";

/// The analysed input of one image's SBOMs; write it with [`ImageSbom::spdx_json`] and
/// [`ImageSbom::cyclonedx_json`].
pub struct ImageSbom<'a> {
    pub(crate) input: &'a ImageSbomInput,
    pub(crate) os: Option<OsRelease>,
    pub(crate) image_purl: String,
    pub(crate) packages: Vec<PackageView<'a>>,
    /// Edges as positions in `packages` (sorted, no self-edges).
    pub(crate) edges: BTreeMap<usize, BTreeSet<usize>>,
    pub(crate) warnings: Vec<String>,
}

/// One installed package with everything both formats write about it.
pub(crate) struct PackageView<'a> {
    pub pkg: &'a SbomPackage,
    pub spdx_id: String,
    /// The purl, also the CycloneDX bom-ref (unique: apk installs one package per name).
    pub purl: String,
    pub bom_ref: String,
    pub license: LicenseResult,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    /// `<repository>/<arch>/<name>-<version>.apk`, when it is a URL validators accept.
    pub download_url: Option<String>,
    pub homepage: Option<String>,
    pub supplier: Supplier,
    pub embedded: Vec<EmbeddedDoc>,
}

/// Who supplies a package: the distribution (os-release `NAME`) or its maintainer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Supplier {
    Organization(String),
    Person { name: String, email: Option<String> },
    Unknown,
}

impl<'a> ImageSbom<'a> {
    /// Checks the input (digests, edge indices) and works out everything both documents say.
    pub fn new(input: &'a ImageSbomInput) -> Result<ImageSbom<'a>> {
        sha256_hex("image digest", &input.image_digest)?;
        sha256_hex("config digest", &input.config_digest)?;
        for layer in &input.layers {
            sha256_hex("layer digest", &layer.digest)?;
        }
        let count = input.packages.len();
        if let Some(&(from, to)) = input
            .dependencies
            .iter()
            .find(|(f, t)| *f >= count || *t >= count)
        {
            return Err(Error::DependencyOutOfRange { from, to, count });
        }
        let os = input.os_release.as_deref().map(parse_os_release);
        let mut order: Vec<usize> = (0..count).collect();
        order.sort_by(|&a, &b| sort_key(&input.packages[a]).cmp(&sort_key(&input.packages[b])));
        let mut position = vec![0; count];
        for (pos, &index) in order.iter().enumerate() {
            position[index] = pos;
        }
        let mut ids = UniqueIds::default();
        let mut refs = UniqueIds::default();
        let mut warnings = Vec::new();
        let packages = order
            .iter()
            .map(|&i| {
                package_view(
                    &input.packages[i],
                    os.as_ref(),
                    &mut ids,
                    &mut refs,
                    &mut warnings,
                )
            })
            .collect();
        let mut edges: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
        for &(from, to) in &input.dependencies {
            if from != to {
                edges
                    .entry(position[from])
                    .or_default()
                    .insert(position[to]);
            }
        }
        let image_purl = oci_purl(
            &input.image_name,
            &input.image_digest,
            Some(&input.oci_arch),
        );
        Ok(ImageSbom {
            input,
            os,
            image_purl,
            packages,
            edges,
            warnings,
        })
    }

    /// What was skipped while reading the input (unreadable embedded SBOMs), one line each.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The SPDX document namespace: [`NAMESPACE_BASE`]`/<image digest>`.
    pub fn spdx_namespace(&self) -> String {
        format!("{NAMESPACE_BASE}/{}", self.input.image_digest)
    }
}

fn sort_key(p: &SbomPackage) -> (&str, &str, &str, &str) {
    (
        &p.info.name,
        &p.info.version,
        &p.info.arch,
        &p.repository_url,
    )
}

fn vendor(os: Option<&OsRelease>) -> &str {
    os.and_then(|o| o.id.as_deref()).unwrap_or("unknown")
}

fn package_view<'a>(
    pkg: &'a SbomPackage,
    os: Option<&OsRelease>,
    ids: &mut UniqueIds,
    refs: &mut UniqueIds,
    warnings: &mut Vec<String>,
) -> PackageView<'a> {
    let info = &pkg.info;
    let spdx_id = ids.claim(format!(
        "SPDXRef-Package-{}",
        sanitize_idstring(&format!("{}-{}", info.name, info.version))
    ));
    let distro =
        os.and_then(|o| Some(format!("{}-{}", o.id.as_deref()?, o.version_id.as_deref()?)));
    let purl = apk_purl(
        vendor(os),
        &info.name,
        &info.version,
        &info.arch,
        distro.as_deref(),
    );
    let bom_ref = refs.claim(purl.clone());
    let mut embedded = read_embedded_sboms(pkg, warnings);
    for (n, doc) in embedded.iter_mut().enumerate() {
        // The first document's ids read `…-sbom-…`, further ones `…-sbom2-…`.
        let tag = if n == 0 {
            "sbom".to_owned()
        } else {
            format!("sbom{}", n + 1)
        };
        for p in &mut doc.packages {
            let theirs = p.spdx_id.trim_start_matches("SPDXRef-");
            p.our_spdx_id = ids.claim(format!("{spdx_id}-{tag}-{}", sanitize_idstring(theirs)));
            p.our_bom_ref = refs.claim(format!("{bom_ref}#{tag}/{theirs}"));
        }
    }
    PackageView {
        pkg,
        spdx_id,
        purl,
        bom_ref,
        license: license_expression(&info.license),
        sha1: info.checksum.map(|c| hex::encode(c.0)),
        sha256: info.datahash.map(hex::encode),
        download_url: download_url(pkg),
        homepage: Some(info.url.trim().to_owned()).filter(|u| is_web_url(u)),
        supplier: supplier(os, info.maintainer.as_deref()),
        embedded,
    }
}

fn download_url(pkg: &SbomPackage) -> Option<String> {
    let info = &pkg.info;
    let url = format!(
        "{}/{}/{}-{}.apk",
        pkg.repository_url.trim_end_matches('/'),
        info.arch,
        info.name,
        info.version
    );
    is_web_url(&url).then_some(url)
}

fn supplier(os: Option<&OsRelease>, maintainer: Option<&str>) -> Supplier {
    if let Some(name) = os.and_then(|o| o.name.clone()) {
        return Supplier::Organization(name);
    }
    let Some(m) = maintainer.map(str::trim).filter(|m| !m.is_empty()) else {
        return Supplier::Unknown;
    };
    // `Natanael Copa <ncopa@alpinelinux.org>`
    let (name, email) = match m.split_once('<') {
        Some((n, rest)) => (
            n.trim(),
            rest.split('>')
                .next()
                .map(str::trim)
                .filter(|e| !e.is_empty()),
        ),
        None => (m, None),
    };
    // Parentheses would end SPDX's `Person: name (email)` early.
    let name: String = name.chars().filter(|c| !matches!(c, '(' | ')')).collect();
    if name.trim().is_empty() {
        return Supplier::Unknown;
    }
    Supplier::Person {
        name: name.trim().to_owned(),
        email: email.map(|e| e.chars().filter(|c| !matches!(c, '(' | ')')).collect()),
    }
}

fn read_embedded_sboms(pkg: &SbomPackage, warnings: &mut Vec<String>) -> Vec<EmbeddedDoc> {
    let mut files: Vec<_> = pkg
        .embedded_sboms
        .iter()
        .filter(|e| is_spdx_path(&e.path))
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
        .into_iter()
        .filter_map(|e| match read_embedded(&e.path, &e.content) {
            Ok(doc) => Some(doc),
            Err(why) => {
                warnings.push(format!(
                    "skipping the SBOM {} of package {}: {why}",
                    e.path,
                    pkg.info.name_version()
                ));
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supplier_prefers_the_distribution() {
        let os = parse_os_release("NAME=\"Alpine Linux\"\nID=alpine\n");
        assert_eq!(
            supplier(Some(&os), Some("A <a@b>")),
            Supplier::Organization("Alpine Linux".into())
        );
        assert_eq!(
            supplier(None, Some("Natanael Copa <ncopa@alpinelinux.org>")),
            Supplier::Person {
                name: "Natanael Copa".into(),
                email: Some("ncopa@alpinelinux.org".into())
            }
        );
        assert_eq!(
            supplier(None, Some("Jane (JD) Doe")),
            Supplier::Person {
                name: "Jane JD Doe".into(),
                email: None
            }
        );
        assert_eq!(supplier(None, Some(" <x@y>")), Supplier::Unknown);
        assert_eq!(supplier(None, None), Supplier::Unknown);
    }
}
