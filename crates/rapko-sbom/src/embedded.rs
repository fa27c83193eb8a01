//! SPDX documents that packages ship about themselves (`var/lib/db/sbom/*.spdx.json`, as
//! melange writes for Wolfi and Chainguard packages), read leniently and cleaned so that
//! what is merged keeps the image SBOM valid.
//!
//! Only packages and the relationships between them are taken; files, snippets and
//! references to other documents are left out (the image SBOM describes packages, and a
//! package's file list would multiply its size). Every field is re-checked the way the
//! validators check it: a value that would fail (a bad URL, checksum, purl, actor or license)
//! is dropped or becomes NOASSERTION. Real melange documents write `PACKAGE_MANAGER` where
//! the SPDX 2.3 JSON schema wants `PACKAGE-MANAGER`; that is fixed too.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::license::{LicenseResult, license_expression};
use crate::util::is_web_url;

/// The parts of one embedded SPDX document that are merged.
#[derive(Clone, Debug, Default)]
pub(crate) struct EmbeddedDoc {
    pub path: String,
    pub packages: Vec<EmbeddedPackage>,
    /// `(from, type, to)` between packages of `packages`, by their original SPDXIDs.
    pub relationships: Vec<(String, String, String)>,
    /// The SPDXIDs of the packages the document describes: linked to our package entry.
    pub described: Vec<String>,
}

/// A package of an embedded document, with only fields that passed the checks.
#[derive(Clone, Debug, Default)]
pub(crate) struct EmbeddedPackage {
    /// The SPDXID in the embedded document.
    pub spdx_id: String,
    /// Its id in our document and its CycloneDX bom-ref, both unique (set by the model).
    pub our_spdx_id: String,
    pub our_bom_ref: String,
    pub name: String,
    pub version: Option<String>,
    pub supplier: Option<String>,
    pub originator: Option<String>,
    pub download_location: String,
    pub homepage: Option<String>,
    pub license_declared: Option<EmbeddedLicense>,
    pub license_concluded: Option<EmbeddedLicense>,
    pub copyright_text: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    /// `(SPDX algorithm, lowercase hex)`.
    pub checksums: Vec<(String, String)>,
    pub purls: Vec<String>,
    pub purpose: Option<String>,
}

/// A license field of an embedded package: `NONE`/`NOASSERTION` as written, or mapped.
#[derive(Clone, Debug)]
pub(crate) enum EmbeddedLicense {
    Keyword(&'static str),
    Mapped(LicenseResult),
}

impl EmbeddedLicense {
    /// The value to write in SPDX.
    pub fn spdx_value(&self) -> String {
        match self {
            EmbeddedLicense::Keyword(k) => (*k).to_owned(),
            EmbeddedLicense::Mapped(r) => {
                r.spdx.clone().unwrap_or_else(|| "NOASSERTION".to_owned())
            }
        }
    }
}

/// The relationship types of the SPDX 2.3 JSON schema.
pub(crate) const RELATIONSHIP_TYPES: &[&str] = &[
    "AMENDS",
    "ANCESTOR_OF",
    "BUILD_DEPENDENCY_OF",
    "BUILD_TOOL_OF",
    "CONTAINED_BY",
    "CONTAINS",
    "COPY_OF",
    "DATA_FILE_OF",
    "DEPENDENCY_MANIFEST_OF",
    "DEPENDENCY_OF",
    "DEPENDS_ON",
    "DESCENDANT_OF",
    "DESCRIBED_BY",
    "DESCRIBES",
    "DEV_DEPENDENCY_OF",
    "DEV_TOOL_OF",
    "DISTRIBUTION_ARTIFACT",
    "DOCUMENTATION_OF",
    "DYNAMIC_LINK",
    "EXAMPLE_OF",
    "EXPANDED_FROM_ARCHIVE",
    "FILE_ADDED",
    "FILE_DELETED",
    "FILE_MODIFIED",
    "GENERATED_FROM",
    "GENERATES",
    "HAS_PREREQUISITE",
    "METAFILE_OF",
    "OPTIONAL_COMPONENT_OF",
    "OPTIONAL_DEPENDENCY_OF",
    "OTHER",
    "PACKAGE_OF",
    "PATCH_APPLIED",
    "PATCH_FOR",
    "PREREQUISITE_FOR",
    "PROVIDED_DEPENDENCY_OF",
    "REQUIREMENT_DESCRIPTION_FOR",
    "RUNTIME_DEPENDENCY_OF",
    "SPECIFICATION_FOR",
    "STATIC_LINK",
    "TEST_CASE_OF",
    "TEST_DEPENDENCY_OF",
    "TEST_OF",
    "TEST_TOOL_OF",
    "VARIANT_OF",
];

const PURPOSES: &[&str] = &[
    "APPLICATION",
    "ARCHIVE",
    "CONTAINER",
    "DEVICE",
    "FILE",
    "FIRMWARE",
    "FRAMEWORK",
    "INSTALL",
    "LIBRARY",
    "OPERATING_SYSTEM",
    "OTHER",
    "SOURCE",
];

/// Checksum algorithms kept, with the hex length the validators require.
const CHECKSUMS: &[(&str, usize)] = &[
    ("MD5", 32),
    ("SHA1", 40),
    ("SHA224", 56),
    ("SHA256", 64),
    ("SHA384", 96),
    ("SHA512", 128),
];

/// Whether `path` names an embedded SBOM this crate reads.
pub(crate) fn is_spdx_path(path: &str) -> bool {
    path.ends_with(".spdx.json")
}

/// Reads an embedded SPDX document; the error says why it was skipped.
pub(crate) fn read_embedded(path: &str, content: &[u8]) -> Result<EmbeddedDoc, String> {
    let doc: Value = serde_json::from_slice(content).map_err(|e| format!("not JSON: {e}"))?;
    let version = doc.get("spdxVersion").and_then(Value::as_str).unwrap_or("");
    if !version.starts_with("SPDX-2.") {
        return Err(format!(
            "not an SPDX 2.x document (spdxVersion {version:?})"
        ));
    }
    let packages: Vec<EmbeddedPackage> = array(&doc, "packages")
        .iter()
        .filter_map(read_package)
        .collect();
    if packages.is_empty() {
        return Err("it lists no package".to_owned());
    }
    let ids: BTreeSet<&str> = packages.iter().map(|p| p.spdx_id.as_str()).collect();
    let doc_id = doc
        .get("SPDXID")
        .and_then(Value::as_str)
        .unwrap_or("SPDXRef-DOCUMENT");
    let mut relationships = Vec::new();
    let mut described: BTreeSet<String> = array(&doc, "documentDescribes")
        .iter()
        .filter_map(Value::as_str)
        .filter(|id| ids.contains(id))
        .map(str::to_owned)
        .collect();
    for rel in array(&doc, "relationships") {
        let field = |k: &str| rel.get(k).and_then(Value::as_str).unwrap_or("");
        let (from, kind, to) = (
            field("spdxElementId"),
            field("relationshipType"),
            field("relatedSpdxElement"),
        );
        match kind {
            "DESCRIBES" if from == doc_id && ids.contains(to) => {
                described.insert(to.to_owned());
            }
            "DESCRIBED_BY" if to == doc_id && ids.contains(from) => {
                described.insert(from.to_owned());
            }
            _ if ids.contains(from) && ids.contains(to) && RELATIONSHIP_TYPES.contains(&kind) => {
                relationships.push((from.to_owned(), kind.to_owned(), to.to_owned()));
            }
            _ => {}
        }
    }
    if described.is_empty() {
        described = roots(&packages, &relationships);
    }
    relationships.sort();
    relationships.dedup();
    Ok(EmbeddedDoc {
        path: path.to_owned(),
        packages,
        relationships,
        described: described.into_iter().collect(),
    })
}

/// Packages no relationship points at: what a document without DESCRIBES is about.
fn roots(
    packages: &[EmbeddedPackage],
    relationships: &[(String, String, String)],
) -> BTreeSet<String> {
    let targets: BTreeSet<&str> = relationships.iter().map(|(_, _, to)| to.as_str()).collect();
    packages
        .iter()
        .map(|p| p.spdx_id.as_str())
        .filter(|id| !targets.contains(id))
        .map(str::to_owned)
        .collect()
}

fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn read_package(p: &Value) -> Option<EmbeddedPackage> {
    let spdx_id = text(p, "SPDXID").filter(|id| id.starts_with("SPDXRef-"))?;
    let name = text(p, "name")?;
    Some(EmbeddedPackage {
        spdx_id,
        name,
        version: text(p, "versionInfo"),
        supplier: text(p, "supplier").filter(|a| is_actor(a)),
        originator: text(p, "originator").filter(|a| is_actor(a)),
        download_location: text(p, "downloadLocation")
            .filter(|d| d == "NONE" || is_web_url(d))
            .unwrap_or_else(|| "NOASSERTION".to_owned()),
        homepage: text(p, "homepage").filter(|h| is_web_url(h)),
        license_declared: text(p, "licenseDeclared").map(|l| read_license(&l)),
        license_concluded: text(p, "licenseConcluded").map(|l| read_license(&l)),
        copyright_text: text(p, "copyrightText"),
        summary: text(p, "summary"),
        description: text(p, "description"),
        checksums: read_checksums(p),
        purls: read_purls(p),
        purpose: text(p, "primaryPackagePurpose")
            .map(|s| s.to_ascii_uppercase().replace('-', "_"))
            .filter(|s| PURPOSES.contains(&s.as_str())),
        ..EmbeddedPackage::default()
    })
}

/// `Person: …`, `Organization: …`, `Tool: …` or NOASSERTION, as SPDX actors are written.
fn is_actor(actor: &str) -> bool {
    actor == "NOASSERTION"
        || ["Person: ", "Organization: ", "Tool: "].iter().any(|p| {
            actor
                .strip_prefix(p)
                .is_some_and(|rest| !rest.trim().is_empty())
        })
}

fn read_license(value: &str) -> EmbeddedLicense {
    match value {
        "NONE" => EmbeddedLicense::Keyword("NONE"),
        "NOASSERTION" => EmbeddedLicense::Keyword("NOASSERTION"),
        other => EmbeddedLicense::Mapped(license_expression(other)),
    }
}

fn read_checksums(p: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = array(p, "checksums")
        .iter()
        .filter_map(|c| {
            let alg = text(c, "algorithm")?.to_ascii_uppercase().replace('-', "");
            let value = text(c, "checksumValue")?.to_ascii_lowercase();
            let (alg, len) = CHECKSUMS.iter().find(|(a, _)| *a == alg)?;
            let ok = value.len() == *len && value.bytes().all(|b| b.is_ascii_hexdigit());
            ok.then(|| ((*alg).to_owned(), value))
        })
        .collect();
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

fn read_purls(p: &Value) -> Vec<String> {
    let mut out: Vec<String> = array(p, "externalRefs")
        .iter()
        .filter(|r| {
            let category = text(r, "referenceCategory")
                .unwrap_or_default()
                .replace('_', "-");
            category == "PACKAGE-MANAGER" && text(r, "referenceType").as_deref() == Some("purl")
        })
        .filter_map(|r| text(r, "referenceLocator"))
        .filter(|l| is_purl(l))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// `pkg:type/…name` with no spaces: the shape the validators' purl check wants.
fn is_purl(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("pkg:") else {
        return false;
    };
    let Some((kind, path)) = rest.split_once('/') else {
        return false;
    };
    !kind.is_empty()
        && kind
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".+-".contains(&b))
        && !path.is_empty()
        && !path.starts_with(['@', '?', '#'])
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{
      "SPDXID": "SPDXRef-DOCUMENT", "spdxVersion": "SPDX-2.3", "name": "x",
      "documentDescribes": ["SPDXRef-Package-hello"],
      "files": [{"SPDXID": "SPDXRef-File-a", "fileName": "/a"}],
      "packages": [
        {"SPDXID": "SPDXRef-Package-hello", "name": "hello", "versionInfo": "2.12-r0",
         "downloadLocation": "NOASSERTION", "licenseDeclared": "GPL-3.0+",
         "supplier": "Organization: Wolfi", "originator": "bogus",
         "homepage": "not a url",
         "checksums": [{"algorithm": "SHA256", "checksumValue": "AB"},
                       {"algorithm": "SHA1", "checksumValue": "F572D396FAE9206628714FB2CE00F72E94F2258F"}],
         "externalRefs": [{"referenceCategory": "PACKAGE_MANAGER", "referenceType": "purl",
                           "referenceLocator": "pkg:apk/wolfi/hello@2.12-r0?arch=x86_64"},
                          {"referenceCategory": "SECURITY", "referenceType": "cpe23Type",
                           "referenceLocator": "cpe:2.3:a:gnu:hello"}],
         "primaryPackagePurpose": "OPERATING-SYSTEM"},
        {"SPDXID": "SPDXRef-Package-src", "name": "hello-src", "downloadLocation": "https://ftp.gnu.org/gnu/hello/hello-2.12.tar.gz"},
        {"SPDXID": "SPDXRef-nameless"}
      ],
      "relationships": [
        {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-Package-hello"},
        {"spdxElementId": "SPDXRef-Package-hello", "relationshipType": "GENERATED_FROM", "relatedSpdxElement": "SPDXRef-Package-src"},
        {"spdxElementId": "SPDXRef-Package-hello", "relationshipType": "CONTAINS", "relatedSpdxElement": "SPDXRef-File-a"},
        {"spdxElementId": "SPDXRef-Package-hello", "relationshipType": "MADE_UP", "relatedSpdxElement": "SPDXRef-Package-src"}
      ]
    }"#;

    #[test]
    fn reads_and_cleans_packages() {
        let doc = read_embedded("var/lib/db/sbom/hello.spdx.json", DOC.as_bytes()).unwrap();
        assert_eq!(doc.packages.len(), 2);
        assert_eq!(doc.described, vec!["SPDXRef-Package-hello".to_owned()]);
        assert_eq!(
            doc.relationships,
            vec![(
                "SPDXRef-Package-hello".to_owned(),
                "GENERATED_FROM".to_owned(),
                "SPDXRef-Package-src".to_owned()
            )]
        );
        let hello = &doc.packages[0];
        assert_eq!(hello.supplier.as_deref(), Some("Organization: Wolfi"));
        assert_eq!(hello.originator, None);
        assert_eq!(hello.homepage, None);
        assert_eq!(
            hello.checksums,
            vec![(
                "SHA1".to_owned(),
                "f572d396fae9206628714fb2ce00f72e94f2258f".to_owned()
            )]
        );
        assert_eq!(
            hello.purls,
            vec!["pkg:apk/wolfi/hello@2.12-r0?arch=x86_64".to_owned()]
        );
        assert_eq!(hello.purpose.as_deref(), Some("OPERATING_SYSTEM"));
        assert_eq!(
            hello
                .license_declared
                .as_ref()
                .map(EmbeddedLicense::spdx_value)
                .as_deref(),
            Some("GPL-3.0-or-later")
        );
        assert_eq!(
            doc.packages[1].download_location,
            "https://ftp.gnu.org/gnu/hello/hello-2.12.tar.gz"
        );
    }

    #[test]
    fn refuses_what_is_not_spdx() {
        assert!(
            read_embedded("a.spdx.json", b"{")
                .unwrap_err()
                .starts_with("not JSON")
        );
        let cdx = br#"{"bomFormat": "CycloneDX", "specVersion": "1.5"}"#;
        assert!(
            read_embedded("a.spdx.json", cdx)
                .unwrap_err()
                .contains("not an SPDX 2.x")
        );
        let empty = br#"{"spdxVersion": "SPDX-2.3", "packages": []}"#;
        assert_eq!(
            read_embedded("a.spdx.json", empty).unwrap_err(),
            "it lists no package"
        );
    }

    #[test]
    fn without_describes_the_roots_are_described() {
        let doc = DOC
            .replace("\"DESCRIBES\"", "\"OTHER\"")
            .replace("\"documentDescribes\": [\"SPDXRef-Package-hello\"],", "");
        let doc = read_embedded("x.spdx.json", doc.as_bytes()).unwrap();
        assert_eq!(doc.described, vec!["SPDXRef-Package-hello".to_owned()]);
    }
}
