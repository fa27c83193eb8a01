//! CycloneDX 1.6 JSON: the BOM types (only the fields rapko writes, in a fixed order) and
//! the layout of an image or index BOM.
//!
//! `metadata.component` is the image (a `container` whose bom-ref is its purl). The
//! components are the operating system (`operating-system`), the layers (`file`, with their
//! SHA-256) and one `library` per installed APK (bom-ref = purl), with the packages of its
//! own SPDX SBOM nested under it. `dependencies` has the image depending on every APK and
//! each APK on its resolved dependencies. Licenses are an SPDX `expression` when the field
//! maps to one, else a named license. rapko-specific facts (APK origin, commit, maintainer,
//! OCI platform) are `properties` in the `rapko:` namespace, sorted by name.

use serde::Serialize;

use crate::embedded::{EmbeddedLicense, EmbeddedPackage};
use crate::error::{Error, Result};
use crate::input::{IndexSbomInput, Tool};
use crate::license::LicenseResult;
use crate::model::{ImageSbom, PackageView, SERIAL_BASE, Supplier};
use crate::purl::oci_purl;
use crate::util::{rfc3339, sha256_hex, uuid_v5_urn};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom {
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata,
    components: Vec<Component>,
    dependencies: Vec<Dependency>,
}

#[derive(Serialize)]
struct Metadata {
    timestamp: String,
    tools: Tools,
    component: Component,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Component>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct Component {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    supplier: Option<Organization>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashes: Vec<Hash>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenseChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_references: Vec<ExternalReference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    components: Vec<Component>,
}

#[derive(Serialize)]
struct Organization {
    name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    url: Vec<String>,
}

#[derive(Serialize)]
struct Hash {
    alg: &'static str,
    content: String,
}

#[derive(Serialize)]
#[serde(untagged)]
enum LicenseChoice {
    License { license: NamedLicense },
    Expression { expression: String },
}

#[derive(Serialize)]
struct NamedLicense {
    name: String,
}

#[derive(Serialize)]
struct ExternalReference {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
}

#[derive(Serialize)]
struct Property {
    name: String,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    depends_on: Vec<String>,
}

fn properties(pairs: &[(&str, Option<&str>)]) -> Vec<Property> {
    let mut out: Vec<Property> = pairs
        .iter()
        .filter_map(|(name, value)| {
            Some(Property {
                name: format!("rapko:{name}"),
                value: value.filter(|v| !v.is_empty())?.to_owned(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn sha256(hex: &str) -> Hash {
    Hash {
        alg: "SHA-256",
        content: hex.to_owned(),
    }
}

fn tools(tool: &Tool) -> Tools {
    Tools {
        components: vec![Component {
            kind: "application",
            name: tool.name.clone(),
            version: Some(tool.version.clone()),
            ..Component::default()
        }],
    }
}

fn to_json(bom: &Bom) -> Result<String> {
    let mut text = serde_json::to_string_pretty(bom).map_err(|source| Error::Json {
        format: "CycloneDX",
        source,
    })?;
    text.push('\n');
    Ok(text)
}

fn bom(serial_of: &str, build_time: u64, tool: &Tool, component: Component) -> Bom {
    Bom {
        bom_format: "CycloneDX",
        spec_version: "1.6",
        serial_number: uuid_v5_urn(&format!("{SERIAL_BASE}/{serial_of}")),
        version: 1,
        metadata: Metadata {
            timestamp: rfc3339(build_time),
            tools: tools(tool),
            component,
        },
        components: Vec::new(),
        dependencies: Vec::new(),
    }
}

/// The CycloneDX 1.6 JSON BOM of one image.
pub(crate) fn image_bom(sbom: &ImageSbom<'_>) -> Result<String> {
    let input = sbom.input;
    let image = image_component(sbom)?;
    let mut bom = bom(&input.image_digest, input.build_time, &input.tool, image);
    if let Some(os) = os_component(sbom) {
        bom.components.push(os);
    }
    for (n, layer) in input.layers.iter().enumerate() {
        bom.components.push(Component {
            kind: "file",
            bom_ref: Some(format!("layer-{}", n + 1)),
            name: layer.digest.clone(),
            hashes: vec![sha256(sha256_hex("layer digest", &layer.digest)?)],
            properties: properties(&[
                ("oci:layer-index", Some(&(n + 1).to_string())),
                ("oci:layer-size", Some(&layer.size.to_string())),
            ]),
            ..Component::default()
        });
    }
    bom.components
        .extend(sbom.packages.iter().map(apk_component));
    bom.dependencies.push(Dependency {
        reference: sbom.image_purl.clone(),
        depends_on: sbom.packages.iter().map(|p| p.bom_ref.clone()).collect(),
    });
    for (pos, view) in sbom.packages.iter().enumerate() {
        let mut depends_on: Vec<String> = sbom
            .edges
            .get(&pos)
            .into_iter()
            .flatten()
            .map(|&to| sbom.packages[to].bom_ref.clone())
            .collect();
        depends_on.sort();
        bom.dependencies.push(Dependency {
            reference: view.bom_ref.clone(),
            depends_on,
        });
    }
    to_json(&bom)
}

fn image_component(sbom: &ImageSbom<'_>) -> Result<Component> {
    let input = sbom.input;
    let hex = sha256_hex("image digest", &input.image_digest)?;
    let name = if input.image_name.is_empty() {
        "image"
    } else {
        &input.image_name
    };
    Ok(Component {
        kind: "container",
        bom_ref: Some(sbom.image_purl.clone()),
        name: name.to_owned(),
        version: Some(input.image_digest.clone()),
        hashes: vec![sha256(hex)],
        purl: Some(sbom.image_purl.clone()),
        properties: properties(&[
            ("apk:arch", Some(&input.arch)),
            ("oci:architecture", Some(&input.oci_arch)),
            ("oci:config-digest", Some(&input.config_digest)),
            ("oci:os", Some("linux")),
            ("oci:variant", input.oci_variant.as_deref()),
        ]),
        ..Component::default()
    })
}

fn os_component(sbom: &ImageSbom<'_>) -> Option<Component> {
    let os = sbom.os.as_ref()?;
    let name = os.id.clone().or_else(|| os.name.clone())?;
    let home = os.home_url.clone().filter(|u| crate::util::is_web_url(u));
    Some(Component {
        kind: "operating-system",
        bom_ref: Some(format!("os:{name}")),
        supplier: os.name.clone().map(|n| Organization {
            name: n,
            url: home.iter().cloned().collect(),
        }),
        name,
        version: os.version_id.clone(),
        description: os.pretty_name.clone(),
        external_references: home
            .map(|url| ExternalReference {
                kind: "website",
                url,
            })
            .into_iter()
            .collect(),
        ..Component::default()
    })
}

fn supplier(s: &Supplier) -> Option<Organization> {
    let name = match s {
        Supplier::Organization(name) => name.clone(),
        Supplier::Person { name, .. } => name.clone(),
        Supplier::Unknown => return None,
    };
    Some(Organization {
        name,
        url: Vec::new(),
    })
}

fn licenses(l: &LicenseResult) -> Vec<LicenseChoice> {
    let choice = match (&l.spdx, l.single_ref_name()) {
        (Some(_), Some(name)) => LicenseChoice::License {
            license: NamedLicense {
                name: name.to_owned(),
            },
        },
        (Some(expr), None) => LicenseChoice::Expression {
            expression: expr.clone(),
        },
        (None, _) if l.raw.is_empty() => return Vec::new(),
        (None, _) => LicenseChoice::License {
            license: NamedLicense {
                name: l.raw.clone(),
            },
        },
    };
    vec![choice]
}

fn apk_component(view: &PackageView<'_>) -> Component {
    let info = &view.pkg.info;
    let mut hashes = Vec::new();
    if let Some(sha1) = &view.sha1 {
        hashes.push(Hash {
            alg: "SHA-1",
            content: sha1.clone(),
        });
    }
    if let Some(sha256) = &view.sha256 {
        hashes.push(Hash {
            alg: "SHA-256",
            content: sha256.clone(),
        });
    }
    let mut external_references = Vec::new();
    if let Some(url) = &view.download_url {
        external_references.push(ExternalReference {
            kind: "distribution",
            url: url.clone(),
        });
    }
    if let Some(url) = &view.homepage {
        external_references.push(ExternalReference {
            kind: "website",
            url: url.clone(),
        });
    }
    let (maintainer, build_date) = (info.maintainer.as_deref(), info.build_time.map(rfc3339));
    Component {
        kind: "library",
        bom_ref: Some(view.bom_ref.clone()),
        supplier: supplier(&view.supplier),
        name: info.name.clone(),
        version: Some(info.version.clone()),
        description: Some(info.description.clone()).filter(|d| !d.is_empty()),
        hashes,
        licenses: licenses(&view.license),
        purl: Some(view.purl.clone()),
        external_references,
        properties: properties(&[
            ("apk:arch", Some(&info.arch)),
            ("apk:build-date", build_date.as_deref()),
            ("apk:commit", info.commit.as_deref()),
            ("apk:license", Some(&view.license.raw)),
            ("apk:maintainer", maintainer),
            ("apk:origin", info.origin.as_deref()),
            ("apk:repository", Some(&view.pkg.repository_url)),
        ]),
        components: view
            .embedded
            .iter()
            .flat_map(|doc| {
                doc.packages
                    .iter()
                    .map(move |p| embedded_component(p, &doc.path))
            })
            .collect(),
    }
}

fn embedded_component(ep: &EmbeddedPackage, path: &str) -> Component {
    let hashes = ep
        .checksums
        .iter()
        .filter_map(|(alg, value)| {
            let alg = match alg.as_str() {
                "MD5" => "MD5",
                "SHA1" => "SHA-1",
                "SHA256" => "SHA-256",
                "SHA384" => "SHA-384",
                "SHA512" => "SHA-512",
                _ => return None,
            };
            Some(Hash {
                alg,
                content: value.clone(),
            })
        })
        .collect();
    let licenses = match &ep.license_declared {
        Some(EmbeddedLicense::Mapped(r)) => licenses(r),
        _ => Vec::new(),
    };
    let supplier = ep
        .supplier
        .as_deref()
        .and_then(|s| s.split_once(": "))
        .map(|(_, name)| Organization {
            name: name.to_owned(),
            url: Vec::new(),
        });
    Component {
        kind: "library",
        bom_ref: Some(ep.our_bom_ref.clone()),
        supplier,
        name: ep.name.clone(),
        version: ep.version.clone(),
        description: ep.description.clone().or_else(|| ep.summary.clone()),
        hashes,
        licenses,
        purl: ep.purls.first().cloned(),
        properties: properties(&[
            ("sbom:source", Some(path)),
            ("sbom:spdx-id", Some(&ep.spdx_id)),
        ]),
        ..Component::default()
    }
}

/// The CycloneDX 1.6 JSON BOM of a multi-arch index.
pub(crate) fn index_bom(input: &IndexSbomInput) -> Result<String> {
    let hex = sha256_hex("index digest", &input.index_digest)?;
    let name = if input.image_name.is_empty() {
        "image"
    } else {
        &input.image_name
    };
    let index_purl = oci_purl(&input.image_name, &input.index_digest, None);
    let index = Component {
        kind: "container",
        bom_ref: Some(index_purl.clone()),
        name: name.to_owned(),
        version: Some(input.index_digest.clone()),
        hashes: vec![sha256(hex)],
        purl: Some(index_purl.clone()),
        ..Component::default()
    };
    let mut bom = bom(&input.index_digest, input.build_time, &input.tool, index);
    let mut images: Vec<_> = input.images.iter().collect();
    images.sort_by(|a, b| (&a.arch, &a.digest).cmp(&(&b.arch, &b.digest)));
    let mut refs = crate::util::UniqueIds::default();
    for image in images {
        let purl = oci_purl(&input.image_name, &image.digest, Some(&image.oci_arch));
        let bom_ref = refs.claim(purl.clone());
        bom.components.push(Component {
            kind: "container",
            bom_ref: Some(bom_ref.clone()),
            name: name.to_owned(),
            version: Some(image.digest.clone()),
            hashes: vec![sha256(sha256_hex("image digest", &image.digest)?)],
            purl: Some(purl),
            properties: properties(&[
                ("apk:arch", Some(&image.arch)),
                ("oci:architecture", Some(&image.oci_arch)),
                ("oci:os", Some("linux")),
                ("oci:variant", image.oci_variant.as_deref()),
            ]),
            ..Component::default()
        });
        bom.dependencies.push(Dependency {
            reference: bom_ref,
            depends_on: Vec::new(),
        });
    }
    let mut image_refs: Vec<String> = bom
        .dependencies
        .iter()
        .map(|d| d.reference.clone())
        .collect();
    image_refs.sort();
    bom.dependencies.insert(
        0,
        Dependency {
            reference: index_purl,
            depends_on: image_refs,
        },
    );
    to_json(&bom)
}
