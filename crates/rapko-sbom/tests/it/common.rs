//! Shared helpers: inputs built from the real fixtures, and the real validators.

use std::path::{Path, PathBuf};
use std::process::Command;

use rapko_apk::{ApkIndex, ApkPackage, EntryKind, PackageInfo, Trust};
use rapko_sbom::{EmbeddedSbom, ImageSbomInput, Layer, SbomPackage, Tool, dependency_edges};
use serde_json::Value;

pub use rapko_test::ALPINE_BASE_PACKAGES as ALPINE_BASE;

pub const ALPINE_REPO: &str = "https://dl-cdn.alpinelinux.org/alpine/v3.19/main";

/// `sha256:` + 64 copies of `c`.
pub fn digest(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

pub fn read_index(rel: &str) -> Vec<PackageInfo> {
    let bytes = std::fs::read(rapko_test::fixture(rel)).unwrap();
    ApkIndex::read(&bytes, Trust::Ignore).unwrap().0.packages
}

/// A regular file's content from a package's data member (following one symlink).
pub fn data_file(apk: &[u8], path: &str) -> Option<Vec<u8>> {
    let pkg = ApkPackage::parse(apk).unwrap();
    let mut files = Vec::new();
    pkg.data_entries(apk, |e| {
        files.push(e);
        Ok(())
    })
    .unwrap();
    let entry = files.iter().find(|e| e.path == path)?;
    match &entry.kind {
        EntryKind::File => Some(entry.content.clone()),
        EntryKind::Symlink(target) => {
            let dir = Path::new(path).parent().unwrap_or(Path::new(""));
            let resolved = dir.join(target).to_string_lossy().replace("/../", "/");
            files
                .iter()
                .find(|e| e.path == resolved)
                .map(|e| e.content.clone())
        }
        _ => None,
    }
}

/// Every `var/lib/db/sbom/` file of a package, as the builder would pass them.
pub fn embedded_sboms(apk: &[u8]) -> Vec<EmbeddedSbom> {
    let pkg = ApkPackage::parse(apk).unwrap();
    let mut out = Vec::new();
    pkg.data_entries(apk, |e| {
        if e.path.starts_with("var/lib/db/sbom/") && e.kind == EntryKind::File {
            out.push(EmbeddedSbom {
                path: e.path.clone(),
                content: e.content.clone(),
            });
        }
        Ok(())
    })
    .unwrap();
    out
}

/// The index record of each named package, with `datahash` from its `.PKGINFO` when the
/// `.apk` file is present, and its embedded SBOMs.
pub fn packages_from(repo_dir: &str, names: &[&str], repository_url: &str) -> Vec<SbomPackage> {
    let index = read_index(&format!("{repo_dir}/APKINDEX.tar.gz"));
    names
        .iter()
        .map(|name| {
            let mut info = index.iter().find(|p| p.name == *name).unwrap().clone();
            let mut embedded = Vec::new();
            let file =
                rapko_test::fixtures().join(format!("{repo_dir}/{}.apk", info.name_version()));
            if let Ok(bytes) = std::fs::read(&file) {
                info.datahash = ApkPackage::parse(&bytes).unwrap().info.datahash;
                embedded = embedded_sboms(&bytes);
            }
            SbomPackage {
                info,
                repository_url: repository_url.to_owned(),
                embedded_sboms: embedded,
            }
        })
        .collect()
}

pub fn edges(packages: &[SbomPackage]) -> Vec<(usize, usize)> {
    let infos: Vec<&PackageInfo> = packages.iter().map(|p| &p.info).collect();
    dependency_edges(&infos)
}

/// A realistic input for the 25 packages of Alpine 3.19's alpine-base.
pub fn alpine_base_input() -> ImageSbomInput {
    let packages = packages_from("alpine-3.19/main/x86_64", &ALPINE_BASE, ALPINE_REPO);
    let release = std::fs::read(rapko_test::fixture(
        "alpine-3.19/main/x86_64/alpine-release-3.19.1-r0.apk",
    ))
    .unwrap();
    let os_release = String::from_utf8(data_file(&release, "etc/os-release").unwrap()).unwrap();
    ImageSbomInput {
        image_name: "registry.example.com/rapko/alpine-base".into(),
        image_digest: digest('1'),
        config_digest: digest('2'),
        layers: vec![Layer {
            digest: digest('3'),
            size: 3_456_789,
        }],
        arch: "x86_64".into(),
        oci_arch: "amd64".into(),
        oci_variant: None,
        os_release: Some(os_release),
        dependencies: edges(&packages),
        packages,
        build_time: 1_706_271_234,
        tool: Tool {
            name: "rapko".into(),
            version: "0.1.0".into(),
        },
    }
}

pub fn parse(json: &str) -> Value {
    serde_json::from_str(json).unwrap()
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Runs both SPDX validators on `file`; false when they are not installed (skipped).
pub fn validate_spdx(file: &Path) -> bool {
    let Some(pyspdxtools) = rapko_test::require_tool("/tmp/rapko-venv/bin/pyspdxtools") else {
        return false;
    };
    let Some(check) = rapko_test::require_tool("/tmp/rapko-venv/bin/check-jsonschema") else {
        return false;
    };
    let (ok, text) = run(Command::new(pyspdxtools).arg("-i").arg(file));
    assert!(ok, "pyspdxtools refused {}:\n{text}", file.display());
    let schema = rapko_test::fixtures().join("../schemas/spdx-schema-2.3.json");
    let (ok, text) = run(Command::new(check)
        .arg("--schemafile")
        .arg(schema)
        .arg(file));
    assert!(ok, "check-jsonschema refused {}:\n{text}", file.display());
    true
}

/// Runs cyclonedx-python-lib's strict 1.6 schema and model validation on `file`.
pub fn validate_cyclonedx(file: &Path) -> bool {
    let Some(python) = rapko_test::require_tool("/tmp/rapko-venv/bin/python") else {
        return false;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate_cdx.py");
    let (ok, text) = run(Command::new(python).arg(script).arg(file));
    assert!(
        ok,
        "cyclonedx-python-lib refused {}:\n{text}",
        file.display()
    );
    true
}

/// The purls of the SPDX packages, by SPDXID.
pub fn spdx_purls(doc: &Value) -> Vec<(String, String)> {
    doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| {
            let purl = p["externalRefs"]
                .as_array()?
                .iter()
                .find(|r| r["referenceType"] == "purl")?["referenceLocator"]
                .as_str()?
                .to_owned();
            Some((p["SPDXID"].as_str()?.to_owned(), purl))
        })
        .collect()
}

/// `(from, type, to)` of every SPDX relationship.
pub fn relationships(doc: &Value) -> Vec<(String, String, String)> {
    doc["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["spdxElementId"].as_str().unwrap().to_owned(),
                r["relationshipType"].as_str().unwrap().to_owned(),
                r["relatedSpdxElement"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}
