//! The SBOMs of a realistic Alpine 3.19 alpine-base image (25 real packages).

use std::collections::BTreeSet;

use rapko_sbom::{ImageSbom, ImageSbomInput};
use serde_json::{Value, json};

use crate::common::*;

fn expected_purl(input: &ImageSbomInput, name: &str) -> String {
    let p = input.packages.iter().find(|p| p.info.name == name).unwrap();
    format!(
        "pkg:apk/alpine/{name}@{}?arch=x86_64&distro=alpine-3.19.1",
        p.info.version
    )
}

fn name_of<'a>(doc: &'a Value, id: &str) -> &'a str {
    doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["SPDXID"] == id)
        .and_then(|p| p["name"].as_str())
        .unwrap_or_else(|| panic!("{id} is not a listed package"))
}

#[test]
fn spdx_lists_every_package_with_its_edges() {
    let input = alpine_base_input();
    let spdx = ImageSbom::new(&input).unwrap().spdx_json().unwrap();
    let dir = tempfile::tempdir().unwrap();
    validate_spdx(&write(dir.path(), "sbom-x86_64.spdx.json", &spdx));
    let doc = parse(&spdx);

    let apk: Vec<(String, String)> = spdx_purls(&doc)
        .into_iter()
        .filter(|(_, purl)| purl.starts_with("pkg:apk/"))
        .collect();
    assert_eq!(apk.len(), 25);
    let names: BTreeSet<&str> = apk.iter().map(|(id, _)| name_of(&doc, id)).collect();
    assert_eq!(names, ALPINE_BASE.into_iter().collect());
    for (id, purl) in &apk {
        let name = name_of(&doc, id);
        assert_eq!(*purl, expected_purl(&input, name));
        let version = &input
            .packages
            .iter()
            .find(|p| p.info.name == name)
            .unwrap()
            .info
            .version;
        let entry = doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["SPDXID"] == id.as_str())
            .unwrap();
        assert_eq!(entry["versionInfo"], version.as_str());
    }

    let rels = relationships(&doc);
    let apk_ids: BTreeSet<&str> = apk.iter().map(|(id, _)| id.as_str()).collect();
    assert!(rels.contains(&(
        "SPDXRef-DOCUMENT".into(),
        "DESCRIBES".into(),
        "SPDXRef-Image".into()
    )));
    for id in &apk_ids {
        assert!(rels.contains(&("SPDXRef-Image".into(), "CONTAINS".into(), (*id).to_owned())));
    }
    let depends: Vec<(&str, &str)> = rels
        .iter()
        .filter(|(_, kind, _)| kind == "DEPENDS_ON")
        .map(|(a, _, b)| (name_of(&doc, a), name_of(&doc, b)))
        .collect();
    for (a, b) in &depends {
        assert!(names.contains(a) && names.contains(b), "{a} -> {b}");
    }
    assert_eq!(depends.len(), input.dependencies.len());
    for edge in [
        ("busybox-binsh", "busybox"),
        ("ssl_client", "libssl3"),
        ("apk-tools", "musl"),
        ("alpine-base", "openrc"),
    ] {
        assert!(depends.contains(&edge), "missing {edge:?}");
    }
}

#[test]
fn cyclonedx_lists_every_package_with_its_edges() {
    let input = alpine_base_input();
    let cdx = ImageSbom::new(&input).unwrap().cyclonedx_json().unwrap();
    let dir = tempfile::tempdir().unwrap();
    validate_cyclonedx(&write(dir.path(), "sbom-x86_64.cdx.json", &cdx));
    let bom = parse(&cdx);

    let libraries: Vec<&Value> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] == "library")
        .collect();
    assert_eq!(libraries.len(), 25);
    for c in &libraries {
        let name = c["name"].as_str().unwrap();
        assert_eq!(c["purl"], expected_purl(&input, name).as_str());
        assert_eq!(c["bom-ref"], c["purl"]);
    }
    let refs: BTreeSet<&str> = libraries
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    let image_ref = bom["metadata"]["component"]["bom-ref"].as_str().unwrap();
    let mut edge_count = 0;
    for dep in bom["dependencies"].as_array().unwrap() {
        let from = dep["ref"].as_str().unwrap();
        assert!(refs.contains(from) || from == image_ref, "{from}");
        for to in dep["dependsOn"].as_array().into_iter().flatten() {
            assert!(refs.contains(to.as_str().unwrap()), "{from} -> {to}");
            edge_count += usize::from(from != image_ref);
        }
    }
    assert_eq!(edge_count, input.dependencies.len());
    let os = &bom["components"][0];
    assert_eq!(
        *os,
        json!({
            "type": "operating-system",
            "bom-ref": "os:alpine",
            "supplier": {"name": "Alpine Linux", "url": ["https://alpinelinux.org/"]},
            "name": "alpine",
            "version": "3.19.1",
            "description": "Alpine Linux v3.19",
            "externalReferences": [{"type": "website", "url": "https://alpinelinux.org/"}]
        })
    );
}

/// One package entry, exactly, in both formats.
#[test]
fn busybox_entries() {
    let input = alpine_base_input();
    let sbom = ImageSbom::new(&input).unwrap();
    let spdx = parse(&sbom.spdx_json().unwrap());
    let busybox = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "busybox")
        .unwrap();
    assert_eq!(
        *busybox,
        json!({
            "SPDXID": "SPDXRef-Package-busybox-1.36.1-r15",
            "name": "busybox",
            "versionInfo": "1.36.1-r15",
            "packageFileName": "busybox-1.36.1-r15.apk",
            "supplier": "Organization: Alpine Linux",
            "downloadLocation": "https://dl-cdn.alpinelinux.org/alpine/v3.19/main/x86_64/busybox-1.36.1-r15.apk",
            "filesAnalyzed": false,
            "checksums": [
                {"algorithm": "SHA1", "checksumValue": "018371da92ce00745865082fde733c4cdb6f4566"},
                {"algorithm": "SHA256", "checksumValue": "382c75e2d1a2e2b9d281e879b763b3b363508400d7cc796d9448c46a7b6ba342"}
            ],
            "homepage": "https://busybox.net/",
            "sourceInfo": "built from origin package busybox, commit d1b6f274f29076967826e0ecf6ebcaa5d360272f",
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "GPL-2.0-only",
            "copyrightText": "NOASSERTION",
            "description": "Size optimized toolbox of many common UNIX utilities",
            "externalRefs": [{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": "pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1"
            }],
            "builtDate": "2023-11-07T18:53:09Z"
        })
    );
    // The SHA-1 is the index's `C:` decoded.
    let info = &input
        .packages
        .iter()
        .find(|p| p.info.name == "busybox")
        .unwrap()
        .info;
    assert_eq!(
        info.checksum.unwrap().to_q1(),
        "Q1AYNx2pLOAHRYZQgv3nM8TNtvRWY="
    );

    let cdx = parse(&sbom.cyclonedx_json().unwrap());
    let busybox = cdx["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "busybox")
        .unwrap();
    assert_eq!(
        *busybox,
        json!({
            "type": "library",
            "bom-ref": "pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1",
            "supplier": {"name": "Alpine Linux"},
            "name": "busybox",
            "version": "1.36.1-r15",
            "description": "Size optimized toolbox of many common UNIX utilities",
            "hashes": [
                {"alg": "SHA-1", "content": "018371da92ce00745865082fde733c4cdb6f4566"},
                {"alg": "SHA-256", "content": "382c75e2d1a2e2b9d281e879b763b3b363508400d7cc796d9448c46a7b6ba342"}
            ],
            "licenses": [{"expression": "GPL-2.0-only"}],
            "purl": "pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1",
            "externalReferences": [
                {"type": "distribution", "url": "https://dl-cdn.alpinelinux.org/alpine/v3.19/main/x86_64/busybox-1.36.1-r15.apk"},
                {"type": "website", "url": "https://busybox.net/"}
            ],
            "properties": [
                {"name": "rapko:apk:arch", "value": "x86_64"},
                {"name": "rapko:apk:build-date", "value": "2023-11-07T18:53:09Z"},
                {"name": "rapko:apk:commit", "value": "d1b6f274f29076967826e0ecf6ebcaa5d360272f"},
                {"name": "rapko:apk:license", "value": "GPL-2.0-only"},
                {"name": "rapko:apk:maintainer", "value": "Sören Tempel <soeren+alpine@soeren-tempel.net>"},
                {"name": "rapko:apk:origin", "value": "busybox"},
                {"name": "rapko:apk:repository", "value": "https://dl-cdn.alpinelinux.org/alpine/v3.19/main"}
            ]
        })
    );
}

#[test]
fn same_input_same_bytes_and_digest_names_the_document() {
    let input = alpine_base_input();
    let first = ImageSbom::new(&input).unwrap();
    let (spdx, cdx) = (first.spdx_json().unwrap(), first.cyclonedx_json().unwrap());
    let again = ImageSbom::new(&input).unwrap();
    assert_eq!(spdx, again.spdx_json().unwrap());
    assert_eq!(cdx, again.cyclonedx_json().unwrap());

    // The order packages and edges come in does not matter.
    let mut shuffled = input.clone();
    shuffled.packages.reverse();
    let n = shuffled.packages.len();
    shuffled.dependencies = input
        .dependencies
        .iter()
        .rev()
        .map(|&(a, b)| (n - 1 - a, n - 1 - b))
        .collect();
    assert_eq!(spdx, rapko_sbom::spdx_json(&shuffled).unwrap());
    assert_eq!(cdx, rapko_sbom::cyclonedx_json(&shuffled).unwrap());

    let doc = parse(&spdx);
    let bom = parse(&cdx);
    assert_eq!(
        doc["documentNamespace"],
        "https://rapko.dev/spdx/sha256:1111111111111111111111111111111111111111111111111111111111111111"
    );
    assert_eq!(doc["creationInfo"]["created"], "2024-01-26T12:13:54Z");
    assert_eq!(bom["metadata"]["timestamp"], "2024-01-26T12:13:54Z");
    assert_eq!(
        bom["serialNumber"],
        "urn:uuid:6410c042-c49a-5ae6-94e1-dddc9ec791ed"
    );

    let other = ImageSbomInput {
        image_digest: digest('9'),
        ..input
    };
    let other_doc = parse(&rapko_sbom::spdx_json(&other).unwrap());
    let other_bom = parse(&rapko_sbom::cyclonedx_json(&other).unwrap());
    assert_ne!(other_doc["documentNamespace"], doc["documentNamespace"]);
    assert_ne!(other_bom["serialNumber"], bom["serialNumber"]);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let mut input = alpine_base_input();
    input.dependencies.push((0, 25));
    let err = ImageSbom::new(&input).err().unwrap().to_string();
    assert!(err.contains("dependency edge 0 -> 25"), "{err}");
    let mut input = alpine_base_input();
    input.layers[0].digest = "sha256:nothex".into();
    let err = ImageSbom::new(&input).err().unwrap().to_string();
    assert!(err.contains("layer digest \"sha256:nothex\""), "{err}");
}
