//! The glibc distro (no os-release, local repository), packages with their own SPDX SBOMs
//! (real melange packages), and the index SBOM of a two-arch build.

use std::collections::BTreeSet;

use rapko_apk::ApkPackage;
use rapko_sbom::{
    EmbeddedSbom, ImageSbom, ImageSbomInput, IndexImage, IndexSbomInput, SbomPackage, Tool,
    index_cyclonedx_json, index_spdx_json,
};
use serde_json::{Value, json};

use crate::common::*;

fn glibc_input() -> ImageSbomInput {
    let index = read_index("glibc-distro/main/x86_64/APKINDEX.tar.gz");
    let dir = "glibc-distro/main/x86_64";
    let present: Vec<&str> = index
        .iter()
        .filter(|p| {
            rapko_test::fixtures()
                .join(format!("{dir}/{}.apk", p.name_version()))
                .exists()
        })
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(present.len(), 26);
    // A local directory, as `rapko build --repository ./dir` gives: not a URL.
    let repo = rapko_test::fixture("glibc-distro/main")
        .to_string_lossy()
        .into_owned();
    let packages = packages_from(dir, &present, &repo);
    ImageSbomInput {
        image_name: "glibc-base".into(),
        os_release: None,
        dependencies: edges(&packages),
        packages,
        ..alpine_base_input()
    }
}

#[test]
fn glibc_distro_without_os_release() {
    let input = glibc_input();
    let sbom = ImageSbom::new(&input).unwrap();
    // Its packages ship CycloneDX files in var/lib/db/sbom/ (`glibc.json`): not read, no warning.
    assert!(input.packages.iter().all(|p| !p.embedded_sboms.is_empty()));
    assert_eq!(sbom.warnings(), &[] as &[String]);
    let (spdx, cdx) = (sbom.spdx_json().unwrap(), sbom.cyclonedx_json().unwrap());
    let dir = tempfile::tempdir().unwrap();
    validate_spdx(&write(dir.path(), "glibc.spdx.json", &spdx));
    validate_cyclonedx(&write(dir.path(), "glibc.cdx.json", &cdx));

    let doc = parse(&spdx);
    let glibc = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "glibc")
        .unwrap();
    // No os-release: vendor `unknown`, no distro, supplier from the maintainer; a local
    // repository is no download location.
    assert_eq!(
        glibc["externalRefs"][0]["referenceLocator"],
        "pkg:apk/unknown/glibc@2.41-r4?arch=x86_64"
    );
    assert_eq!(glibc["supplier"], "Person: AgniOS (admin@agnios.com)");
    assert_eq!(glibc["downloadLocation"], "NOASSERTION");
    assert!(
        !doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["SPDXID"] == "SPDXRef-OperatingSystem")
    );
    let apk_count = spdx_purls(&doc)
        .iter()
        .filter(|(_, u)| u.starts_with("pkg:apk/"))
        .count();
    assert_eq!(apk_count, 26);
    let bom = parse(&cdx);
    assert_eq!(
        bom["components"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["type"] == "library")
            .count(),
        26
    );
    assert!(!cdx.contains("\"distribution\""));
}

fn melange_package(file: &str) -> SbomPackage {
    let bytes = std::fs::read(rapko_test::fixture(&format!("small/misc/{file}"))).unwrap();
    let mut info = ApkPackage::parse(&bytes).unwrap().info;
    info.arch = "x86_64".into();
    SbomPackage {
        info,
        repository_url: "https://packages.wolfi.dev/os".into(),
        embedded_sboms: embedded_sboms(&bytes),
    }
}

fn embedded_input() -> ImageSbomInput {
    let mut packages: Vec<SbomPackage> = [
        "hello-2.12-r0.apk",
        "hello-wolfi-2.12.1-r0.apk",
        "replaces-0.0.1-r0.apk",
    ]
    .iter()
    .map(|f| melange_package(f))
    .collect();
    // An unreadable SBOM is skipped with a warning; a non-SPDX file is ignored.
    packages[2].embedded_sboms.push(EmbeddedSbom {
        path: "var/lib/db/sbom/broken.spdx.json".into(),
        content: b"{\"spdxVersion\": \"SPDX-2.3\", \"packages\": [".to_vec(),
    });
    packages[2].embedded_sboms.push(EmbeddedSbom {
        path: "var/lib/db/sbom/notes.txt".into(),
        content: b"not an sbom".to_vec(),
    });
    ImageSbomInput {
        image_name: "cgr.dev/example/hello".into(),
        os_release: Some(
            "ID=wolfi\nNAME=\"Wolfi\"\nVERSION_ID=20230201\nPRETTY_NAME=\"Wolfi\"\n".into(),
        ),
        dependencies: Vec::new(),
        packages,
        ..alpine_base_input()
    }
}

#[test]
fn embedded_spdx_sboms_are_merged() {
    let input = embedded_input();
    let sbom = ImageSbom::new(&input).unwrap();
    assert_eq!(sbom.warnings().len(), 1, "{:?}", sbom.warnings());
    assert!(
        sbom.warnings()[0].starts_with(
            "skipping the SBOM var/lib/db/sbom/broken.spdx.json of package replaces-0.0.1-r0: not JSON"
        ),
        "{:?}",
        sbom.warnings()
    );
    let (spdx, cdx) = (sbom.spdx_json().unwrap(), sbom.cyclonedx_json().unwrap());
    let dir = tempfile::tempdir().unwrap();
    validate_spdx(&write(dir.path(), "embedded.spdx.json", &spdx));
    validate_cyclonedx(&write(dir.path(), "embedded.cdx.json", &cdx));

    let doc = parse(&spdx);
    let rels = relationships(&doc);
    let merged = "SPDXRef-Package-replaces-0.0.1-r0-sbom-Package-replaces-0.0.1-r0";
    assert!(rels.contains(&(
        "SPDXRef-Package-replaces-0.0.1-r0".into(),
        "CONTAINS".into(),
        merged.into()
    )));
    let entry = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["SPDXID"] == merged)
        .unwrap();
    assert_eq!(
        *entry,
        json!({
            "SPDXID": merged,
            "name": "replaces",
            "versionInfo": "0.0.1-r0",
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
            "comment": "from the package's own SBOM var/lib/db/sbom/replaces-0.0.1-r0.spdx.json (SPDXRef-Package-replaces-0.0.1-r0)",
            "externalRefs": [{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": "pkg:apk/unknown/replaces@0.0.1-r0?arch=aarch64"
            }]
        })
    );
    // Every id is unique and every relationship points at a listed element.
    let ids: Vec<&str> = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["SPDXID"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len());
    for (a, _, b) in &rels {
        assert!(
            a == "SPDXRef-DOCUMENT" || unique.contains(a.as_str()),
            "{a}"
        );
        assert!(unique.contains(b.as_str()), "{b}");
    }
    // Each hello package brings its own described package (and what it relates to).
    for name in ["hello", "hello-wolfi"] {
        let ours = doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name && p["SPDXID"].as_str().unwrap().ends_with("-r0"))
            .unwrap()["SPDXID"]
            .as_str()
            .unwrap();
        assert!(
            rels.iter().any(|(a, k, b)| a == ours
                && k == "CONTAINS"
                && b.starts_with(&format!("{ours}-sbom-"))),
            "{name}"
        );
    }

    let bom = parse(&cdx);
    let replaces = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "replaces")
        .unwrap();
    let nested: Vec<&Value> = replaces["components"].as_array().unwrap().iter().collect();
    assert_eq!(nested.len(), 1);
    assert_eq!(
        nested[0]["bom-ref"],
        "pkg:apk/wolfi/replaces@0.0.1-r0?arch=x86_64&distro=wolfi-20230201#sbom/Package-replaces-0.0.1-r0"
    );
}

fn index_input() -> IndexSbomInput {
    IndexSbomInput {
        image_name: "registry.example.com/rapko/alpine-base".into(),
        index_digest: digest('0'),
        images: vec![
            IndexImage {
                digest: digest('1'),
                arch: "x86_64".into(),
                oci_arch: "amd64".into(),
                oci_variant: None,
            },
            IndexImage {
                digest: digest('4'),
                arch: "aarch64".into(),
                oci_arch: "arm64".into(),
                oci_variant: Some("v8".into()),
            },
        ],
        build_time: 1_706_271_234,
        tool: Tool::rapko(),
    }
}

#[test]
fn index_sbom_relates_the_index_to_each_image() {
    let input = index_input();
    let (spdx, cdx) = (
        index_spdx_json(&input).unwrap(),
        index_cyclonedx_json(&input).unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    validate_spdx(&write(dir.path(), "sbom-index.spdx.json", &spdx));
    validate_cyclonedx(&write(dir.path(), "sbom-index.cdx.json", &cdx));
    assert_eq!(spdx, index_spdx_json(&input).unwrap());
    assert_eq!(cdx, index_cyclonedx_json(&input).unwrap());

    let doc = parse(&spdx);
    assert_eq!(
        relationships(&doc),
        vec![
            (
                "SPDXRef-DOCUMENT".into(),
                "DESCRIBES".into(),
                "SPDXRef-Index".into()
            ),
            (
                "SPDXRef-Index".into(),
                "CONTAINS".into(),
                "SPDXRef-Image-aarch64".into()
            ),
            (
                "SPDXRef-Index".into(),
                "CONTAINS".into(),
                "SPDXRef-Image-x86-64".into()
            ),
        ]
    );
    let purls: Vec<String> = spdx_purls(&doc).into_iter().map(|(_, u)| u).collect();
    let repo = "repository_url=registry.example.com/rapko/alpine-base";
    assert_eq!(
        purls,
        vec![
            format!("pkg:oci/alpine-base@{}?{repo}", digest('0')),
            format!("pkg:oci/alpine-base@{}?arch=arm64&{repo}", digest('4')),
            format!("pkg:oci/alpine-base@{}?arch=amd64&{repo}", digest('1')),
        ]
    );
    assert_eq!(
        doc["documentNamespace"],
        format!("https://rapko.dev/spdx/{}", digest('0')).as_str()
    );
    let bom = parse(&cdx);
    assert_eq!(bom["dependencies"][0]["ref"], purls[0].as_str());
    assert_eq!(
        bom["dependencies"][0]["dependsOn"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // The image purls in the index SBOM are the ones the image SBOMs describe.
    let image = parse(
        &ImageSbom::new(&alpine_base_input())
            .unwrap()
            .cyclonedx_json()
            .unwrap(),
    );
    assert_eq!(image["metadata"]["component"]["purl"], purls[2].as_str());

    let mut bad = index_input();
    bad.images[1].digest = "sha256:".into();
    assert!(index_spdx_json(&bad).is_err());
    assert!(index_cyclonedx_json(&bad).is_err());
}
