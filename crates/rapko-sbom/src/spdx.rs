//! SPDX 2.3 JSON: the document types (only the fields rapko writes, in a fixed order) and
//! the layout of an image or index SBOM.
//!
//! An image document DESCRIBES the image (a CONTAINER package named by its purl, with its
//! manifest digest as SHA256 checksum). The image CONTAINS each layer (ARCHIVE packages),
//! the operating system (OPERATING_SYSTEM, from os-release) and each installed APK. APKs
//! DEPENDS_ON each other along the resolved edges and CONTAINS the packages their own SBOM
//! describes. Every LicenseRef used is defined in `hasExtractedLicensingInfos`. Packages
//! are listed image, layers, OS, APKs by name, then merged packages; relationships are
//! sorted; so the same input always gives the same bytes.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::embedded::EmbeddedPackage;
use crate::error::{Error, Result};
use crate::input::IndexSbomInput;
use crate::license::LicenseRef;
use crate::model::{ImageSbom, NAMESPACE_BASE, PackageView, Supplier};
use crate::purl::oci_purl;
use crate::util::{UniqueIds, rfc3339, sha256_hex};

const NOASSERTION: &str = "NOASSERTION";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<Package>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedLicense>,
    relationships: Vec<Relationship>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationInfo {
    license_list_version: String,
    creators: Vec<String>,
    created: String,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct Package {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    package_file_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    supplier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    originator: Option<String>,
    download_location: String,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    #[serde(skip_serializing_if = "Option::is_none")]
    homepage: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    license_concluded: String,
    license_declared: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    license_comments: Option<String>,
    copyright_text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_package_purpose: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    built_date: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: String,
    checksum_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicense {
    license_id: String,
    name: String,
    extracted_text: String,
}

#[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: String,
    related_spdx_element: String,
}

fn rel(from: &str, kind: &str, to: &str) -> Relationship {
    Relationship {
        spdx_element_id: from.to_owned(),
        relationship_type: kind.to_owned(),
        related_spdx_element: to.to_owned(),
    }
}

fn purl_ref(purl: &str) -> ExternalRef {
    ExternalRef {
        reference_category: "PACKAGE-MANAGER",
        reference_type: "purl",
        reference_locator: purl.to_owned(),
    }
}

fn sha256(hex: &str) -> Checksum {
    Checksum {
        algorithm: "SHA256".to_owned(),
        checksum_value: hex.to_owned(),
    }
}

/// A package with the fields every entry needs set to "not asserted".
fn bare(spdx_id: String, name: String) -> Package {
    Package {
        spdx_id,
        name,
        download_location: NOASSERTION.to_owned(),
        license_concluded: NOASSERTION.to_owned(),
        license_declared: NOASSERTION.to_owned(),
        copyright_text: NOASSERTION.to_owned(),
        ..Package::default()
    }
}

/// `3.29` of the `spdx` crate's `3.29.0`: the form SPDX's `licenseListVersion` takes.
fn license_list_version() -> String {
    let full = spdx::license_version();
    let mut parts = full.split('.');
    match (parts.next(), parts.next()) {
        (Some(major), Some(minor)) => format!("{major}.{minor}"),
        _ => full.to_owned(),
    }
}

fn creation_info(tool: &crate::input::Tool, build_time: u64) -> CreationInfo {
    CreationInfo {
        license_list_version: license_list_version(),
        creators: vec![format!("Tool: {}-{}", tool.name, tool.version)],
        created: rfc3339(build_time),
    }
}

fn to_json(doc: &Document) -> Result<String> {
    let mut text = serde_json::to_string_pretty(doc).map_err(|source| Error::Json {
        format: "SPDX",
        source,
    })?;
    text.push('\n');
    Ok(text)
}

fn platform(oci_arch: &str, variant: Option<&str>) -> String {
    match variant {
        Some(v) => format!("linux/{oci_arch}/{v}"),
        None => format!("linux/{oci_arch}"),
    }
}

/// The SPDX 2.3 JSON document of one image.
pub(crate) fn image_document(sbom: &ImageSbom<'_>) -> Result<String> {
    let input = sbom.input;
    let mut packages = vec![image_package(sbom)?];
    let mut relationships = vec![rel("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image")];
    for (n, layer) in input.layers.iter().enumerate() {
        let id = format!("SPDXRef-Layer-{}", n + 1);
        let mut p = bare(id.clone(), layer.digest.clone());
        p.checksums = vec![sha256(sha256_hex("layer digest", &layer.digest)?)];
        p.comment = Some(format!(
            "layer {} of {}, {} bytes compressed",
            n + 1,
            input.layers.len(),
            layer.size
        ));
        p.primary_package_purpose = Some("ARCHIVE".to_owned());
        packages.push(p);
        relationships.push(rel("SPDXRef-Image", "CONTAINS", &id));
    }
    if let Some(os) = os_package(sbom) {
        packages.push(os);
        relationships.push(rel("SPDXRef-Image", "CONTAINS", "SPDXRef-OperatingSystem"));
    }
    let mut license_refs = Vec::new();
    for view in &sbom.packages {
        packages.push(apk_package(view));
        license_refs.extend(view.license.refs.iter().cloned());
        relationships.push(rel("SPDXRef-Image", "CONTAINS", &view.spdx_id));
    }
    for (from, tos) in &sbom.edges {
        for to in tos {
            relationships.push(rel(
                &sbom.packages[*from].spdx_id,
                "DEPENDS_ON",
                &sbom.packages[*to].spdx_id,
            ));
        }
    }
    for view in &sbom.packages {
        merge_embedded(view, &mut packages, &mut relationships, &mut license_refs);
    }
    relationships.sort();
    relationships.dedup();
    let doc = Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name: format!("{}@{}", input.image_name, input.image_digest),
        document_namespace: sbom.spdx_namespace(),
        creation_info: creation_info(&input.tool, input.build_time),
        packages,
        has_extracted_licensing_infos: extracted_licenses(license_refs),
        relationships,
    };
    to_json(&doc)
}

fn image_package(sbom: &ImageSbom<'_>) -> Result<Package> {
    let input = sbom.input;
    let name = if input.image_name.is_empty() {
        "image"
    } else {
        &input.image_name
    };
    let mut p = bare("SPDXRef-Image".to_owned(), name.to_owned());
    p.version_info = Some(input.image_digest.clone());
    p.checksums = vec![sha256(sha256_hex("image digest", &input.image_digest)?)];
    p.external_refs = vec![purl_ref(&sbom.image_purl)];
    p.primary_package_purpose = Some("CONTAINER".to_owned());
    p.built_date = Some(rfc3339(input.build_time));
    p.comment = Some(format!(
        "OCI image manifest for {}, config {}",
        platform(&input.oci_arch, input.oci_variant.as_deref()),
        input.config_digest
    ));
    Ok(p)
}

fn os_package(sbom: &ImageSbom<'_>) -> Option<Package> {
    let os = sbom.os.as_ref()?;
    let name = os.id.clone().or_else(|| os.name.clone())?;
    let mut p = bare("SPDXRef-OperatingSystem".to_owned(), name);
    p.version_info = os.version_id.clone();
    p.supplier = Some(supplier_text(&sbom_supplier(os.name.as_deref())));
    p.description = os.pretty_name.clone();
    p.homepage = os.home_url.clone().filter(|u| crate::util::is_web_url(u));
    p.primary_package_purpose = Some("OPERATING_SYSTEM".to_owned());
    Some(p)
}

fn sbom_supplier(name: Option<&str>) -> Supplier {
    name.map_or(Supplier::Unknown, |n| Supplier::Organization(n.to_owned()))
}

fn supplier_text(s: &Supplier) -> String {
    match s {
        Supplier::Organization(name) => format!("Organization: {name}"),
        Supplier::Person {
            name,
            email: Some(e),
        } => format!("Person: {name} ({e})"),
        Supplier::Person { name, email: None } => format!("Person: {name}"),
        Supplier::Unknown => NOASSERTION.to_owned(),
    }
}

fn apk_package(view: &PackageView<'_>) -> Package {
    let info = &view.pkg.info;
    let mut p = bare(view.spdx_id.clone(), info.name.clone());
    p.version_info = Some(info.version.clone());
    p.package_file_name = Some(format!("{}.apk", info.name_version()));
    p.supplier = Some(supplier_text(&view.supplier));
    if let Some(url) = &view.download_url {
        p.download_location = url.clone();
    }
    p.checksums = [("SHA1", &view.sha1), ("SHA256", &view.sha256)]
        .into_iter()
        .filter_map(|(alg, hex)| {
            Some(Checksum {
                algorithm: alg.to_owned(),
                checksum_value: hex.clone()?,
            })
        })
        .collect();
    p.homepage = view.homepage.clone();
    p.source_info = source_info(info.origin.as_deref(), info.commit.as_deref());
    if let Some(expr) = &view.license.spdx {
        p.license_declared = expr.clone();
    }
    if view.license.spdx.as_deref() != Some(view.license.raw.as_str())
        && !view.license.raw.is_empty()
    {
        // Keep what the package said when it is not literally what we wrote.
        p.license_comments = Some(format!("APK license field: {}", view.license.raw));
    }
    p.description = Some(info.description.clone()).filter(|d| !d.is_empty());
    p.external_refs = vec![purl_ref(&view.purl)];
    p.built_date = info.build_time.map(rfc3339);
    p
}

fn source_info(origin: Option<&str>, commit: Option<&str>) -> Option<String> {
    match (origin, commit) {
        (Some(o), Some(c)) => Some(format!("built from origin package {o}, commit {c}")),
        (Some(o), None) => Some(format!("built from origin package {o}")),
        (None, Some(c)) => Some(format!("built from commit {c}")),
        (None, None) => None,
    }
}

/// Adds a package's embedded SBOM: its packages with our ids, their relationships, and our
/// package CONTAINS what the document describes.
fn merge_embedded(
    view: &PackageView<'_>,
    packages: &mut Vec<Package>,
    relationships: &mut Vec<Relationship>,
    license_refs: &mut Vec<LicenseRef>,
) {
    for doc in &view.embedded {
        let ids: BTreeMap<&str, &str> = doc
            .packages
            .iter()
            .map(|p| (p.spdx_id.as_str(), p.our_spdx_id.as_str()))
            .collect();
        for ep in &doc.packages {
            packages.push(embedded_package(ep, &doc.path, license_refs));
        }
        for described in &doc.described {
            if let Some(ours) = ids.get(described.as_str()) {
                relationships.push(rel(&view.spdx_id, "CONTAINS", ours));
            }
        }
        for (from, kind, to) in &doc.relationships {
            if let (Some(f), Some(t)) = (ids.get(from.as_str()), ids.get(to.as_str())) {
                relationships.push(rel(f, kind, t));
            }
        }
    }
}

fn embedded_package(
    ep: &EmbeddedPackage,
    path: &str,
    license_refs: &mut Vec<LicenseRef>,
) -> Package {
    let mut p = bare(ep.our_spdx_id.clone(), ep.name.clone());
    p.version_info = ep.version.clone();
    p.supplier = ep.supplier.clone();
    p.originator = ep.originator.clone();
    p.download_location = ep.download_location.clone();
    p.homepage = ep.homepage.clone();
    for (field, license) in [
        (&mut p.license_declared, &ep.license_declared),
        (&mut p.license_concluded, &ep.license_concluded),
    ] {
        if let Some(l) = license {
            *field = l.spdx_value();
            if let crate::embedded::EmbeddedLicense::Mapped(r) = l {
                license_refs.extend(r.refs.iter().cloned());
            }
        }
    }
    if let Some(c) = &ep.copyright_text {
        p.copyright_text = c.clone();
    }
    p.summary = ep.summary.clone();
    p.description = ep.description.clone();
    p.checksums = ep
        .checksums
        .iter()
        .map(|(algorithm, value)| Checksum {
            algorithm: algorithm.clone(),
            checksum_value: value.clone(),
        })
        .collect();
    p.external_refs = ep.purls.iter().map(|u| purl_ref(u)).collect();
    p.primary_package_purpose = ep.purpose.clone();
    p.comment = Some(format!(
        "from the package's own SBOM {path} ({})",
        ep.spdx_id
    ));
    p
}

/// One `hasExtractedLicensingInfos` entry per LicenseRef id, naming every field it came from.
fn extracted_licenses(refs: Vec<LicenseRef>) -> Vec<ExtractedLicense> {
    let mut by_id: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in refs {
        by_id.entry(r.id).or_default().insert(r.name);
    }
    by_id
        .into_iter()
        .map(|(id, names)| {
            let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
            ExtractedLicense {
                license_id: id,
                name: names.into_iter().next().unwrap_or_default(),
                extracted_text: format!(
                    "A license not on the SPDX License List, named {} in the package metadata; \
                     its text is not part of this document.",
                    quoted.join(", ")
                ),
            }
        })
        .collect()
}

/// The SPDX 2.3 JSON document of a multi-arch index.
pub(crate) fn index_document(input: &IndexSbomInput) -> Result<String> {
    let hex = sha256_hex("index digest", &input.index_digest)?;
    let name = if input.image_name.is_empty() {
        "image"
    } else {
        &input.image_name
    };
    let mut index = bare("SPDXRef-Index".to_owned(), name.to_owned());
    index.version_info = Some(input.index_digest.clone());
    index.checksums = vec![sha256(hex)];
    index.external_refs = vec![purl_ref(&oci_purl(
        &input.image_name,
        &input.index_digest,
        None,
    ))];
    index.primary_package_purpose = Some("CONTAINER".to_owned());
    index.built_date = Some(rfc3339(input.build_time));
    index.comment = Some(format!("OCI image index of {} images", input.images.len()));
    let mut packages = vec![index];
    let mut relationships = vec![rel("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Index")];
    let mut ids = UniqueIds::default();
    let mut images: Vec<_> = input.images.iter().collect();
    images.sort_by(|a, b| (&a.arch, &a.digest).cmp(&(&b.arch, &b.digest)));
    for image in images {
        let id = ids.claim(format!(
            "SPDXRef-Image-{}",
            crate::license::sanitize_idstring(&image.arch)
        ));
        let mut p = bare(id.clone(), name.to_owned());
        p.version_info = Some(image.digest.clone());
        p.checksums = vec![sha256(sha256_hex("image digest", &image.digest)?)];
        p.external_refs = vec![purl_ref(&oci_purl(
            &input.image_name,
            &image.digest,
            Some(&image.oci_arch),
        ))];
        p.primary_package_purpose = Some("CONTAINER".to_owned());
        p.comment = Some(format!(
            "OCI image manifest for {}",
            platform(&image.oci_arch, image.oci_variant.as_deref())
        ));
        packages.push(p);
        relationships.push(rel("SPDXRef-Index", "CONTAINS", &id));
    }
    relationships.sort();
    let doc = Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name: format!("{}@{}", input.image_name, input.index_digest),
        document_namespace: format!("{NAMESPACE_BASE}/{}", input.index_digest),
        creation_info: creation_info(&input.tool, input.build_time),
        packages,
        has_extracted_licensing_infos: Vec::new(),
        relationships,
    };
    to_json(&doc)
}
