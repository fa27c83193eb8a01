//! Every distinct `L:` value of the real Alpine 3.19 indexes (main and community, 23k
//! packages) goes through the mapping and both validators.

use std::collections::BTreeSet;

use rapko_apk::PackageInfo;
use rapko_sbom::{ImageSbom, ImageSbomInput, SbomPackage, license_expression};

use crate::common::{
    alpine_base_input, parse, read_index, validate_cyclonedx, validate_spdx, write,
};

fn distinct_licenses() -> BTreeSet<String> {
    ["main", "community"]
        .iter()
        .flat_map(|repo| {
            read_index(&format!(
                "alpine-3.19-upstream/{repo}/x86_64/APKINDEX.tar.gz"
            ))
        })
        .map(|p| p.license)
        .collect()
}

fn input_with_one_package_per(values: &BTreeSet<String>) -> ImageSbomInput {
    let packages = values
        .iter()
        .enumerate()
        .map(|(n, license)| {
            let info = PackageInfo {
                name: format!("license-{n:03}"),
                version: "1.0-r0".into(),
                arch: "x86_64".into(),
                license: license.clone(),
                ..PackageInfo::default()
            };
            // No repository: the CycloneDX validator checks each URL with an Earley
            // parser (~50 ms a URL), and URLs are not what this test is about.
            SbomPackage::new(info, "")
        })
        .collect();
    ImageSbomInput {
        packages,
        dependencies: Vec::new(),
        ..alpine_base_input()
    }
}

#[test]
fn every_real_license_value_validates() {
    let values = distinct_licenses();
    assert!(
        values.len() >= 200,
        "only {} distinct license values",
        values.len()
    );
    let unmapped: Vec<&String> = values
        .iter()
        .filter(|v| license_expression(v).spdx.is_none())
        .collect();
    eprintln!(
        "{} distinct license values, {} without an SPDX expression: {unmapped:?}",
        values.len(),
        unmapped.len()
    );
    // Today 15 of 601: ten name an exception SPDX does not list (`OpenSSL-Exception`), and
    // unbalanced parentheses, `AND AND`, `Unknown`, `none`. A mapping that gets worse must
    // be looked at.
    assert!(
        unmapped.len() <= 15,
        "more unmapped values than before: {unmapped:?}"
    );

    let input = input_with_one_package_per(&values);
    let sbom = ImageSbom::new(&input).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spdx = sbom.spdx_json().unwrap();
    let cdx = sbom.cyclonedx_json().unwrap();
    let (spdx_file, cdx_file) = (
        write(dir.path(), "licenses.spdx.json", &spdx),
        write(dir.path(), "licenses.cdx.json", &cdx),
    );
    // The validators take ~9 s each on 601 packages: run them side by side.
    std::thread::scope(|s| {
        s.spawn(|| validate_cyclonedx(&cdx_file));
        validate_spdx(&spdx_file);
    });

    // Each package carries its mapping: the expression in SPDX, NOASSERTION plus the raw
    // field when there is none.
    let doc = parse(&spdx);
    let by_name = |name: &str| {
        doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()
            .clone()
    };
    for (n, value) in values.iter().enumerate() {
        let p = by_name(&format!("license-{n:03}"));
        let mapped = license_expression(value);
        let declared = mapped.spdx.clone().unwrap_or_else(|| "NOASSERTION".into());
        assert_eq!(p["licenseDeclared"], declared.as_str(), "{value:?}");
        if mapped.spdx.is_none() && !value.is_empty() {
            assert_eq!(
                p["licenseComments"],
                format!("APK license field: {value}").as_str()
            );
        }
    }
    let refs = doc["hasExtractedLicensingInfos"].as_array().unwrap();
    assert!(
        refs.iter()
            .any(|r| r["licenseId"] == "LicenseRef-apk-custom" && r["name"] == "custom")
    );
}
