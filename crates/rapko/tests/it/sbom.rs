//! End-to-end tests of the SBOMs `rapko build` and `rapko sbom` write (issue 7: "SBOMs that
//! list every package: SPDX 2.3 and CycloneDX 1.6"), built from the real packages of
//! ../shared/fixtures and checked by the real validators (pyspdxtools, check-jsonschema with
//! the SPDX 2.3 schema, cyclonedx-python-lib's strict 1.6 schema and model).
//!
//! What a document should say is worked out here WITHOUT rapko's libraries: package names
//! and versions from `rapko show-packages`, checksums from the repository files themselves
//! (the index's `C:` decoded and the SHA-1 of the control member; the `.PKGINFO` datahash and
//! the SHA-256 of the data member, hashed by sha1sum/sha256sum), dependency edges from the
//! index's `D:` and `p:` lines, and image digests from the output's `index.json`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::support::{
    ALPINE_BASE, TOOL_LIMIT, fixture, multi_arch_config, rapko, run_limited, run_limited_ok,
    stderr, stdout, workspace, write_config,
};

// ---------------------------------------------------------------------------------------
// One test's private world
// ---------------------------------------------------------------------------------------

struct Case {
    tmp: tempfile::TempDir,
}

impl Case {
    fn new() -> Case {
        Case {
            tmp: tempfile::Builder::new()
                .prefix("rapko-sbom-it-")
                .tempdir()
                .expect("temp dir"),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// A new empty directory `rel`.
    fn dir(&self, rel: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(&p).expect("create dir");
        p
    }

    fn config(&self, name: &str, yaml: &str) -> PathBuf {
        write_config(self.tmp.path(), name, yaml)
    }

    /// `rapko` with this case's default cache.
    fn rapko(&self) -> Command {
        self.rapko_cache("cache")
    }

    /// `rapko` with the cache directory `rel` of this case.
    fn rapko_cache(&self, rel: &str) -> Command {
        rapko(&self.path(rel))
    }

    /// `rapko build CONFIG TAG OUTPUT EXTRA…` with the default cache; must succeed; returns
    /// the digest it prints.
    fn build(&self, config: &Path, tag: &str, output: &Path, extra: &[&str]) -> String {
        self.build_cache("cache", config, tag, output, extra).0
    }

    /// The same with the cache `cache` and `-v`; returns the digest and the output.
    fn build_cache(
        &self,
        cache: &str,
        config: &Path,
        tag: &str,
        output: &Path,
        extra: &[&str],
    ) -> (String, Output) {
        let mut cmd = self.rapko_cache(cache);
        cmd.arg("build")
            .arg("-v")
            .arg(config)
            .arg(tag)
            .arg(output)
            .args(extra);
        let out = run_limited_ok(&mut cmd, TOOL_LIMIT);
        (printed_digest(&out, tag), out)
    }

    /// `rapko sbom ARGS…`, which must succeed; returns the paths it prints.
    fn sbom(&self, args: &[&std::ffi::OsStr]) -> Vec<PathBuf> {
        let out = run_limited_ok(self.rapko().arg("sbom").args(args), TOOL_LIMIT);
        stdout(&out).lines().map(PathBuf::from).collect()
    }

    /// The packages a config resolves to for `arch`, with what their repository says.
    fn expected(&self, config: &Path, arch: &str) -> Vec<Pkg> {
        expected_packages(&mut self.rapko(), config, arch)
    }
}

/// The digest from `rapko build`'s last stdout line `TAG@sha256:…`.
fn printed_digest(out: &Output, tag: &str) -> String {
    let text = stdout(out);
    let digest = text
        .lines()
        .last()
        .and_then(|l| l.strip_prefix(tag))
        .and_then(|r| r.strip_prefix('@'))
        .unwrap_or_else(|| panic!("rapko build printed {text:?}, expected {tag}@sha256:…"));
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
    digest.to_owned()
}

use rapko_test::ALPINE_BASE_PACKAGES;

/// The glibc distro with the merged-usr links its baselayout lacks (fixtures README).
const GLIBC_DISTRO: &str = "
contents:
  keyring:
    - FIXTURES/glibc-distro/keys/myrepo.rsa.pub
  repositories:
    - FIXTURES/glibc-distro/main
  packages:
    - agnios-baselayout
    - bash
    - busybox
    - ca-certificates-bundle
archs: [x86_64]
paths:
  - path: /lib64
    type: symlink
    source: lib
  - path: /bin
    type: symlink
    source: usr/bin
";

// ---------------------------------------------------------------------------------------
// What the repository says, read without rapko's libraries
// ---------------------------------------------------------------------------------------

/// One package as its repository describes it.
#[derive(Clone, Debug)]
struct Pkg {
    name: String,
    version: String,
    /// The index's `C:` (Q1…) decoded, hex.
    sha1: String,
    /// The `.PKGINFO` datahash, hex.
    sha256: String,
    /// `D:` atoms (conflicts `!…` included).
    depends: Vec<String>,
    /// The package name and its `p:` names, without versions.
    provides: Vec<String>,
}

/// `rapko show-packages --format json --arch ARCH CONFIG`, then each package's index record
/// and `.apk` file checked and hashed here.
fn expected_packages(cmd: &mut Command, config: &Path, arch: &str) -> Vec<Pkg> {
    let out = run_limited_ok(
        cmd.args(["show-packages", "--format", "json", "--arch", arch])
            .arg(config),
        TOOL_LIMIT,
    );
    let list: Value = serde_json::from_slice(&out.stdout).expect("show-packages prints JSON");
    let mut indexes: BTreeMap<PathBuf, Vec<BTreeMap<char, String>>> = BTreeMap::new();
    let mut pkgs: Vec<Pkg> = list
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|p| {
            let name = p["name"].as_str().expect("name").to_owned();
            let version = p["version"].as_str().expect("version").to_owned();
            let apk = PathBuf::from(p["url"].as_str().expect("url"));
            assert!(apk.is_file(), "{} is not a local file", apk.display());
            let dir = apk.parent().expect("apk dir").to_owned();
            let records = indexes
                .entry(dir.clone())
                .or_insert_with(|| read_apkindex(&dir.join("APKINDEX.tar.gz")));
            let record = records
                .iter()
                .find(|r| r.get(&'P') == Some(&name) && r.get(&'V') == Some(&version))
                .unwrap_or_else(|| panic!("{name}-{version} is not in {}", dir.display()));
            let q1 = &record[&'C'];
            assert_eq!(p["checksum"], q1.as_str(), "{name}: show-packages ≠ index");
            let sha1 = hex(&base64_decode(q1.strip_prefix("Q1").expect("Q1 checksum")));
            let (control_sha1, data_sha256, datahash) = apk_hashes(&apk);
            assert_eq!(
                sha1, control_sha1,
                "{name}: C: is not the control member's SHA-1"
            );
            assert_eq!(
                datahash, data_sha256,
                "{name}: datahash is not the data's SHA-256"
            );
            let words = |k: char| -> Vec<String> {
                record
                    .get(&k)
                    .map(|s| s.split_whitespace().map(str::to_owned).collect())
                    .unwrap_or_default()
            };
            let mut provides = vec![name.clone()];
            provides.extend(words('p').iter().map(|p| atom_name(p).to_owned()));
            Pkg {
                name,
                version,
                sha1,
                sha256: datahash,
                depends: words('D'),
                provides,
            }
        })
        .collect();
    pkgs.sort_by(|a, b| a.name.cmp(&b.name));
    pkgs
}

/// The name part of a dependency or provides atom (`so:libc.so.6=6` → `so:libc.so.6`).
fn atom_name(atom: &str) -> &str {
    let atom = atom.strip_prefix('!').unwrap_or(atom);
    atom.split(['<', '>', '=', '~']).next().unwrap_or(atom)
}

/// The dependency edges (from, to) by name: every installed package providing a non-conflict
/// dependency of another, self-edges left out.
fn expected_edges(pkgs: &[Pkg]) -> BTreeSet<(String, String)> {
    let mut edges = BTreeSet::new();
    for p in pkgs {
        for dep in p.depends.iter().filter(|d| !d.starts_with('!')) {
            let wanted = atom_name(dep);
            let providers: Vec<&Pkg> = pkgs
                .iter()
                .filter(|q| q.provides.iter().any(|n| n == wanted))
                .collect();
            assert!(!providers.is_empty(), "{}: nothing provides {dep}", p.name);
            for q in providers.into_iter().filter(|q| q.name != p.name) {
                edges.insert((p.name.clone(), q.name.clone()));
            }
        }
    }
    edges
}

/// The records of a (signed) `APKINDEX.tar.gz`, field letter → value.
fn read_apkindex(path: &Path) -> Vec<BTreeMap<char, String>> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut archive = tar::Archive::new(flate2::read::MultiGzDecoder::new(file));
    archive.set_ignore_zeros(true);
    let mut text = String::new();
    for entry in archive.entries().expect("index tar") {
        let mut entry = entry.expect("index entry");
        if entry.path().expect("path").to_str() == Some("APKINDEX") {
            entry.read_to_string(&mut text).expect("APKINDEX text");
        }
    }
    assert!(!text.is_empty(), "{} has no APKINDEX", path.display());
    text.split("\n\n")
        .map(|block| {
            block
                .lines()
                .filter_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    Some((k.chars().next()?, v.to_owned()))
                })
                .collect::<BTreeMap<char, String>>()
        })
        .filter(|r| r.contains_key(&'P'))
        .collect()
}

/// The gzip members of an `.apk`, as byte ranges of the file.
fn gzip_members(bytes: &[u8]) -> Vec<&[u8]> {
    let mut members = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let mut decoder = flate2::bufread::GzDecoder::new(rest);
        std::io::copy(&mut decoder, &mut std::io::sink()).expect("a gzip member");
        let left = decoder.into_inner();
        members.push(&rest[..rest.len() - left.len()]);
        rest = left;
    }
    members
}

/// (SHA-1 of the control member, SHA-256 of the data member, the `.PKGINFO` datahash).
fn apk_hashes(apk: &Path) -> (String, String, String) {
    let bytes = std::fs::read(apk).unwrap_or_else(|e| panic!("{}: {e}", apk.display()));
    let members = gzip_members(&bytes);
    assert!(
        members.len() >= 2,
        "{}: {} members",
        apk.display(),
        members.len()
    );
    let control = members[members.len() - 2];
    let data = members[members.len() - 1];
    let mut pkginfo = String::new();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(control));
    for entry in archive.entries().expect("control tar") {
        let mut entry = entry.expect("control entry");
        if entry.path().expect("path").to_str() == Some(".PKGINFO") {
            entry.read_to_string(&mut pkginfo).expect(".PKGINFO");
        }
    }
    let datahash = pkginfo
        .lines()
        .find_map(|l| l.strip_prefix("datahash = "))
        .unwrap_or_else(|| panic!("{}: no datahash in .PKGINFO", apk.display()))
        .trim()
        .to_owned();
    (sum("sha1sum", control), sum("sha256sum", data), datahash)
}

/// The hex digest `tool` (sha1sum, sha256sum) prints for `bytes`.
fn sum(tool: &str, bytes: &[u8]) -> String {
    let mut child = Command::new(tool)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {tool}: {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(bytes)
        .expect("feed the hash tool");
    let out = child.wait_with_output().expect("hash tool output");
    assert!(out.status.success(), "{tool} failed");
    stdout(&out)
        .split_whitespace()
        .next()
        .expect("a digest")
        .to_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|&c| c != b'=') {
        let v = ALPHABET
            .iter()
            .position(|&a| a == c)
            .unwrap_or_else(|| panic!("bad base64 {text:?}"));
        acc = (acc << 6) | u32::try_from(v).expect("small");
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).expect("a byte"));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// The output: an OCI layout (a directory, or a tarball extracted into one)
// ---------------------------------------------------------------------------------------

fn json_file(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()))
}

fn extract(tarball: &Path, dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).expect("create extraction dir");
    run_limited_ok(
        Command::new("tar")
            .arg("-xf")
            .arg(tarball)
            .arg("-C")
            .arg(dir),
        TOOL_LIMIT,
    );
    dir.to_owned()
}

fn blob(layout: &Path, digest: &str) -> Value {
    let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
    json_file(&layout.join("blobs/sha256").join(hex))
}

/// The digest `index.json` records under the ref name `tag`.
fn tagged_digest(layout: &Path, tag: &str) -> String {
    let index = json_file(&layout.join("index.json"));
    let found: Vec<&Value> = index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .filter(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .collect();
    assert_eq!(found.len(), 1, "want one entry tagged {tag:?} in {index}");
    found[0]["digest"].as_str().expect("digest").to_owned()
}

/// (OCI architecture, manifest digest) of each image of an image index blob.
fn index_images(layout: &Path, index_digest: &str) -> Vec<(String, String)> {
    blob(layout, index_digest)["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|m| {
            (
                m["platform"]["architecture"]
                    .as_str()
                    .expect("arch")
                    .to_owned(),
                m["digest"].as_str().expect("digest").to_owned(),
            )
        })
        .collect()
}

/// Names in a directory that start with `sbom`, sorted.
fn sbom_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("sbom"))
        .collect();
    names.sort();
    names
}

// ---------------------------------------------------------------------------------------
// The validators
// ---------------------------------------------------------------------------------------

/// Runs a validator, panicking with its output unless it accepts.
fn accepts(cmd: &mut Command, what: &str) {
    let out = run_limited(cmd, TOOL_LIMIT);
    assert!(
        out.status.success(),
        "{what} refused:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
}

/// Every `sbom*.json` of `dir` through the validators of its format, the three validators
/// side by side: `pyspdxtools -i` (each SPDX file) AND `check-jsonschema` with the SPDX 2.3
/// schema; cyclonedx-python-lib's JsonStrictValidator 1.6 and `Bom.from_json(...).validate()`
/// (rapko-sbom's own script, tests/validate_cdx.py). Skips (with the reason) when a validator
/// is missing, unless RAPKO_REQUIRE_TOOLS=1.
fn validate_dir(dir: &Path) {
    let names = sbom_names(dir);
    assert!(!names.is_empty(), "no SBOMs in {}", dir.display());
    assert!(
        names
            .iter()
            .all(|n| n.ends_with(".spdx.json") || n.ends_with(".cdx.json")),
        "unexpected files in {}: {names:?}",
        dir.display()
    );
    let spdx: Vec<PathBuf> = names
        .iter()
        .filter(|n| n.ends_with(".spdx.json"))
        .map(|n| dir.join(n))
        .collect();
    let cdx: Vec<PathBuf> = names
        .iter()
        .filter(|n| n.ends_with(".cdx.json"))
        .map(|n| dir.join(n))
        .collect();
    let (Some(pyspdxtools), Some(check), Some(python)) = (
        rapko_test::require_tool("/tmp/rapko-venv/bin/pyspdxtools"),
        rapko_test::require_tool("/tmp/rapko-venv/bin/check-jsonschema"),
        rapko_test::require_tool("/tmp/rapko-venv/bin/python"),
    ) else {
        return;
    };
    let schema = rapko_test::fixtures().join("../schemas/spdx-schema-2.3.json");
    assert!(schema.is_file(), "{} is missing", schema.display());
    let script = workspace().join("crates/rapko-sbom/tests/validate_cdx.py");
    std::thread::scope(|s| {
        if !spdx.is_empty() {
            s.spawn(|| {
                for f in &spdx {
                    accepts(
                        Command::new(&pyspdxtools).arg("-i").arg(f),
                        &format!("pyspdxtools -i {}", f.display()),
                    );
                }
            });
            s.spawn(|| {
                accepts(
                    Command::new(&check)
                        .arg("--schemafile")
                        .arg(&schema)
                        .args(&spdx),
                    "check-jsonschema (SPDX 2.3 schema)",
                );
            });
        }
        if !cdx.is_empty() {
            s.spawn(|| {
                accepts(
                    Command::new(&python).arg(&script).args(&cdx),
                    "cyclonedx-python-lib (strict 1.6 schema, model)",
                );
            });
        }
    });
}

// ---------------------------------------------------------------------------------------
// Checking the documents' contents
// ---------------------------------------------------------------------------------------

/// What an image SBOM must say.
struct ImageExpect<'a> {
    digest: &'a str,
    arch: &'a str,
    /// `(vendor, distro)` of the purls (`alpine`, `alpine-3.19.1`); None: only the name,
    /// version and arch are checked.
    purl: Option<(&'a str, &'a str)>,
    packages: &'a [Pkg],
    /// Checksums are checked unless false (`rapko sbom` has no datahash to give).
    sha256: bool,
}

impl ImageExpect<'_> {
    fn purl_ok(&self, purl: &str, p: &Pkg) -> bool {
        match self.purl {
            Some((vendor, distro)) => {
                purl == format!(
                    "pkg:apk/{vendor}/{}@{}?arch={}&distro={distro}",
                    p.name, p.version, self.arch
                )
            }
            None => {
                purl.starts_with("pkg:apk/")
                    && purl.contains(&format!("/{}@{}?arch={}", p.name, p.version, self.arch))
            }
        }
    }

    fn pkg(&self, name: &str) -> &Pkg {
        self.packages
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("{name} is not one of the image's packages"))
    }

    fn names(&self) -> BTreeSet<String> {
        self.packages.iter().map(|p| p.name.clone()).collect()
    }

    fn hex(&self) -> &str {
        self.digest.strip_prefix("sha256:").expect("sha256 digest")
    }
}

fn purl_of(spdx_package: &Value) -> Option<&str> {
    spdx_package["externalRefs"]
        .as_array()?
        .iter()
        .find(|r| r["referenceType"] == "purl")?["referenceLocator"]
        .as_str()
}

fn spdx_checksums(entry: &Value) -> BTreeMap<String, String> {
    entry["checksums"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["algorithm"].as_str().expect("algorithm").to_owned(),
                c["checksumValue"].as_str().expect("value").to_owned(),
            )
        })
        .collect()
}

fn cdx_hashes(component: &Value) -> BTreeMap<String, String> {
    component["hashes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| {
            (
                h["alg"].as_str().expect("alg").to_owned(),
                h["content"].as_str().expect("content").to_owned(),
            )
        })
        .collect()
}

/// Checks an image's SPDX document; returns its dependency edges by package name.
fn check_image_spdx(doc: &Value, want: &ImageExpect) -> BTreeSet<(String, String)> {
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    let packages = doc["packages"].as_array().expect("packages");
    let ids: Vec<&str> = packages
        .iter()
        .map(|p| p["SPDXID"].as_str().expect("SPDXID"))
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate SPDXIDs: {ids:?}");
    let rels: Vec<(&str, &str, &str)> = doc["relationships"]
        .as_array()
        .expect("relationships")
        .iter()
        .map(|r| {
            (
                r["spdxElementId"].as_str().expect("from"),
                r["relationshipType"].as_str().expect("type"),
                r["relatedSpdxElement"].as_str().expect("to"),
            )
        })
        .collect();
    for (a, kind, b) in &rels {
        assert!(
            (*a == "SPDXRef-DOCUMENT" || unique.contains(a)) && unique.contains(b),
            "relationship {a} {kind} {b} names an unlisted element"
        );
    }

    // The image: the element the document describes, named by the manifest digest.
    let described: Vec<&str> = rels
        .iter()
        .filter(|(a, kind, _)| *a == "SPDXRef-DOCUMENT" && *kind == "DESCRIBES")
        .map(|(_, _, b)| *b)
        .collect();
    assert_eq!(described.len(), 1, "{described:?}");
    let image = packages
        .iter()
        .find(|p| p["SPDXID"] == described[0])
        .expect("the described element");
    assert_eq!(image["primaryPackagePurpose"], "CONTAINER");
    assert_eq!(
        image["versionInfo"], want.digest,
        "image version ≠ manifest digest"
    );
    assert_eq!(
        spdx_checksums(image).get("SHA256").map(String::as_str),
        Some(want.hex()),
        "image checksum ≠ manifest digest"
    );
    assert!(
        doc["documentNamespace"]
            .as_str()
            .expect("namespace")
            .ends_with(want.digest),
        "namespace {} does not name the image digest",
        doc["documentNamespace"]
    );

    // Exactly the image's packages, with the repository's versions, purls and checksums
    // (what the image CONTAINS; packages merged from a package's own SBOM hang under it).
    let apks: Vec<&Value> = packages
        .iter()
        .filter(|p| purl_of(p).is_some_and(|u| u.starts_with("pkg:apk/")))
        .filter(|p| {
            let id = p["SPDXID"].as_str().expect("id");
            rels.contains(&(described[0], "CONTAINS", id))
                || !rels
                    .iter()
                    .any(|(_, kind, b)| *kind == "CONTAINS" && *b == id)
        })
        .collect();
    let listed: Vec<String> = apks
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_owned())
        .collect();
    assert_eq!(
        listed.len(),
        want.packages.len(),
        "SPDX lists {listed:?}, want {:?}",
        want.names()
    );
    assert_eq!(
        listed.iter().cloned().collect::<BTreeSet<_>>(),
        want.names()
    );
    let mut name_of: BTreeMap<&str, &str> = BTreeMap::new();
    for entry in &apks {
        let name = entry["name"].as_str().expect("name");
        let p = want.pkg(name);
        name_of.insert(entry["SPDXID"].as_str().expect("id"), name);
        assert_eq!(entry["versionInfo"], p.version.as_str(), "{name}");
        let purl = purl_of(entry).expect("purl");
        assert!(want.purl_ok(purl, p), "{name}: purl {purl}");
        let sums = spdx_checksums(entry);
        assert_eq!(
            sums.get("SHA1"),
            Some(&p.sha1),
            "{name}: SHA1 ≠ the index's C:"
        );
        if want.sha256 {
            assert_eq!(
                sums.get("SHA256"),
                Some(&p.sha256),
                "{name}: SHA256 ≠ the datahash"
            );
        } else if let Some(s) = sums.get("SHA256") {
            assert_eq!(s, &p.sha256, "{name}: SHA256 ≠ the datahash");
        }
        assert!(
            rels.contains(&(
                described[0],
                "CONTAINS",
                entry["SPDXID"].as_str().expect("id")
            )),
            "the image does not CONTAIN {name}"
        );
    }

    // Every dependency edge joins two listed packages.
    rels.iter()
        .filter(|(_, kind, _)| *kind == "DEPENDS_ON")
        .map(|(a, _, b)| {
            let from = name_of
                .get(a)
                .unwrap_or_else(|| panic!("DEPENDS_ON from {a}, not a listed package"));
            let to = name_of
                .get(b)
                .unwrap_or_else(|| panic!("DEPENDS_ON to {b}, not a listed package"));
            ((*from).to_owned(), (*to).to_owned())
        })
        .collect()
}

/// Checks an image's CycloneDX BOM; returns its dependency edges by package name.
fn check_image_cdx(bom: &Value, want: &ImageExpect) -> BTreeSet<(String, String)> {
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["specVersion"], "1.6");
    let image = &bom["metadata"]["component"];
    assert_eq!(image["type"], "container");
    assert_eq!(
        image["version"], want.digest,
        "image version ≠ manifest digest"
    );
    assert_eq!(
        cdx_hashes(image).get("SHA-256").map(String::as_str),
        Some(want.hex()),
        "image hash ≠ manifest digest"
    );
    let image_ref = image["bom-ref"].as_str().expect("image bom-ref");

    let components = bom["components"].as_array().expect("components");
    let refs: Vec<&str> = components
        .iter()
        .map(|c| c["bom-ref"].as_str().expect("bom-ref"))
        .chain([image_ref])
        .collect();
    let unique: BTreeSet<&str> = refs.iter().copied().collect();
    assert_eq!(unique.len(), refs.len(), "duplicate bom-refs");

    let apks: Vec<&Value> = components
        .iter()
        .filter(|c| {
            c["purl"]
                .as_str()
                .is_some_and(|u| u.starts_with("pkg:apk/"))
        })
        .collect();
    let listed: Vec<String> = apks
        .iter()
        .map(|c| c["name"].as_str().expect("name").to_owned())
        .collect();
    assert_eq!(
        listed.len(),
        want.packages.len(),
        "CycloneDX lists {listed:?}"
    );
    assert_eq!(
        listed.iter().cloned().collect::<BTreeSet<_>>(),
        want.names()
    );
    let mut name_of: BTreeMap<&str, &str> = BTreeMap::new();
    for c in &apks {
        let name = c["name"].as_str().expect("name");
        let p = want.pkg(name);
        assert_eq!(c["type"], "library", "{name}");
        assert_eq!(c["version"], p.version.as_str(), "{name}");
        let purl = c["purl"].as_str().expect("purl");
        assert!(want.purl_ok(purl, p), "{name}: purl {purl}");
        let hashes = cdx_hashes(c);
        assert_eq!(
            hashes.get("SHA-1"),
            Some(&p.sha1),
            "{name}: SHA-1 ≠ the index's C:"
        );
        if want.sha256 {
            assert_eq!(
                hashes.get("SHA-256"),
                Some(&p.sha256),
                "{name}: SHA-256 ≠ the datahash"
            );
        } else if let Some(s) = hashes.get("SHA-256") {
            assert_eq!(s, &p.sha256, "{name}: SHA-256 ≠ the datahash");
        }
        name_of.insert(c["bom-ref"].as_str().expect("bom-ref"), name);
    }

    let mut edges = BTreeSet::new();
    for dep in bom["dependencies"].as_array().expect("dependencies") {
        let from = dep["ref"].as_str().expect("ref");
        assert!(unique.contains(from), "dependency of unlisted {from}");
        for to in dep["dependsOn"].as_array().into_iter().flatten() {
            let to = to.as_str().expect("ref");
            assert!(unique.contains(to), "{from} depends on unlisted {to}");
            if from == image_ref {
                assert!(name_of.contains_key(to), "the image depends on {to}");
                continue;
            }
            let a = name_of
                .get(from)
                .unwrap_or_else(|| panic!("{from} depends on something but is no package"));
            let b = name_of
                .get(to)
                .unwrap_or_else(|| panic!("{from} depends on {to}, not a listed package"));
            edges.insert(((*a).to_owned(), (*b).to_owned()));
        }
    }
    edges
}

/// Reads and checks both documents of one image in `dir` (validate_dir validates).
fn check_image_sboms(dir: &Path, want: &ImageExpect) {
    let spdx_path = dir.join(format!("sbom-{}.spdx.json", want.arch));
    let cdx_path = dir.join(format!("sbom-{}.cdx.json", want.arch));
    let spdx_edges = check_image_spdx(&json_file(&spdx_path), want);
    let cdx_edges = check_image_cdx(&json_file(&cdx_path), want);
    let edges = expected_edges(want.packages);
    assert_eq!(
        spdx_edges,
        edges,
        "SPDX edges ≠ the index's dependencies: extra {:?}, missing {:?}",
        spdx_edges.difference(&edges).collect::<Vec<_>>(),
        edges.difference(&spdx_edges).collect::<Vec<_>>()
    );
    assert_eq!(
        cdx_edges, edges,
        "CycloneDX edges ≠ the index's dependencies"
    );
}

/// Checks the index SBOMs in `dir`: the index digest, and each image's manifest digest
/// (validate_dir validates).
fn check_index_sboms(dir: &Path, index_digest: &str, images: &[(String, String)]) {
    let spdx_path = dir.join("sbom-index.spdx.json");
    let cdx_path = dir.join("sbom-index.cdx.json");
    let hex = |d: &str| d.strip_prefix("sha256:").expect("sha256").to_owned();
    let want: BTreeSet<String> = images.iter().map(|(_, d)| hex(d)).collect();

    let doc = json_file(&spdx_path);
    let packages = doc["packages"].as_array().expect("packages");
    let by_id = |id: &str| {
        packages
            .iter()
            .find(|p| p["SPDXID"] == id)
            .unwrap_or_else(|| panic!("{id} is not listed"))
    };
    let rels: Vec<&Value> = doc["relationships"]
        .as_array()
        .expect("rels")
        .iter()
        .collect();
    let described: Vec<&str> = rels
        .iter()
        .filter(|r| {
            r["spdxElementId"] == "SPDXRef-DOCUMENT" && r["relationshipType"] == "DESCRIBES"
        })
        .map(|r| r["relatedSpdxElement"].as_str().expect("id"))
        .collect();
    assert_eq!(described.len(), 1);
    let index = by_id(described[0]);
    assert_eq!(
        spdx_checksums(index).get("SHA256"),
        Some(&hex(index_digest)),
        "the index SBOM does not describe the index digest"
    );
    assert_eq!(index["versionInfo"], index_digest);
    let contained: BTreeSet<String> = rels
        .iter()
        .filter(|r| r["spdxElementId"] == described[0] && r["relationshipType"] == "CONTAINS")
        .map(|r| {
            spdx_checksums(by_id(r["relatedSpdxElement"].as_str().expect("id")))["SHA256"].clone()
        })
        .collect();
    assert_eq!(
        contained, want,
        "the index SPDX does not contain the images"
    );

    let bom = json_file(&cdx_path);
    let root = &bom["metadata"]["component"];
    assert_eq!(
        cdx_hashes(root).get("SHA-256"),
        Some(&hex(index_digest)),
        "the index BOM does not describe the index digest"
    );
    let root_ref = root["bom-ref"].as_str().expect("bom-ref");
    let components = bom["components"].as_array().expect("components");
    let dep = bom["dependencies"]
        .as_array()
        .expect("dependencies")
        .iter()
        .find(|d| d["ref"] == root_ref)
        .expect("the index's dependencies");
    let related: BTreeSet<String> = dep["dependsOn"]
        .as_array()
        .expect("dependsOn")
        .iter()
        .map(|r| {
            let c = components
                .iter()
                .find(|c| c["bom-ref"] == *r)
                .unwrap_or_else(|| panic!("{r} is not a component"));
            cdx_hashes(c)["SHA-256"].clone()
        })
        .collect();
    assert_eq!(related, want, "the index BOM does not relate the images");
}

/// The packages of an SBOM by name → version (SPDX), to compare documents.
fn spdx_versions(doc: &Value) -> BTreeMap<String, String> {
    doc["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| purl_of(p).is_some_and(|u| u.starts_with("pkg:apk/")))
        .map(|p| {
            (
                p["name"].as_str().expect("name").to_owned(),
                p["versionInfo"].as_str().expect("version").to_owned(),
            )
        })
        .collect()
}

fn file_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

// ---------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------

#[test]
fn alpine_base_sboms_validate_and_list_every_package() {
    let case = Case::new();
    let config = case.config("alpine.yaml", ALPINE_BASE);
    let out_dir = case.dir("out");
    let tarball = out_dir.join("img.tar");
    let digest = case.build(&config, "demo:1.0", &tarball, &[]);
    assert_eq!(
        sbom_names(&out_dir),
        ["sbom-x86_64.cdx.json", "sbom-x86_64.spdx.json"]
    );
    let layout = extract(&tarball, &case.path("extracted"));
    assert_eq!(tagged_digest(&layout, "1.0"), digest);

    let packages = case.expected(&config, "x86_64");
    let listed: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        listed, ALPINE_BASE_PACKAGES,
        "the fixture's closure changed?"
    );
    let busybox = packages
        .iter()
        .find(|p| p.name == "busybox")
        .expect("busybox");
    assert_eq!(busybox.version, "1.36.1-r15");
    assert_eq!(busybox.sha1, "018371da92ce00745865082fde733c4cdb6f4566");
    assert_eq!(
        busybox.sha256,
        "382c75e2d1a2e2b9d281e879b763b3b363508400d7cc796d9448c46a7b6ba342"
    );
    validate_dir(&out_dir);
    check_image_sboms(
        &out_dir,
        &ImageExpect {
            digest: &digest,
            arch: "x86_64",
            purl: Some(("alpine", "alpine-3.19.1")),
            packages: &packages,
            sha256: true,
        },
    );
    let edges = expected_edges(&packages);
    for edge in [
        ("busybox-binsh", "busybox"),
        ("ssl_client", "libssl3"),
        ("apk-tools", "musl"),
        ("alpine-base", "openrc"),
    ] {
        assert!(edges.contains(&(edge.0.into(), edge.1.into())), "{edge:?}");
    }
}

#[test]
fn glibc_distro_sboms_validate_and_list_every_package() {
    let case = Case::new();
    let config = case.config("glibc.yaml", GLIBC_DISTRO);
    let out_dir = case.dir("out");
    let digest = case.build(&config, "glibc-base:1", &out_dir.join("img.tar"), &[]);
    let packages = case.expected(&config, "x86_64");
    let listed: BTreeSet<&str> = packages.iter().map(|p| p.name.as_str()).collect();
    for name in [
        "agnios-baselayout",
        "bash",
        "busybox",
        "ca-certificates-bundle",
        "glibc",
    ] {
        assert!(listed.contains(name), "{name} not in {listed:?}");
    }
    validate_dir(&out_dir);
    check_image_sboms(
        &out_dir,
        &ImageExpect {
            digest: &digest,
            arch: "x86_64",
            purl: None,
            packages: &packages,
            sha256: true,
        },
    );
}

#[test]
fn multi_arch_build_writes_per_arch_and_index_sboms() {
    let case = Case::new();
    let config = multi_arch_config(case.tmp.path());
    let out_dir = case.dir("out");
    let tarball = out_dir.join("multi.tar");
    let index_digest = case.build(&config, "demo:multi", &tarball, &[]);
    assert_eq!(
        sbom_names(&out_dir),
        [
            "sbom-aarch64.cdx.json",
            "sbom-aarch64.spdx.json",
            "sbom-index.cdx.json",
            "sbom-index.spdx.json",
            "sbom-x86_64.cdx.json",
            "sbom-x86_64.spdx.json"
        ]
    );
    let layout = extract(&tarball, &case.path("extracted"));
    assert_eq!(tagged_digest(&layout, "multi"), index_digest);
    let images = index_images(&layout, &index_digest);
    let digest_of = |oci: &str| {
        images
            .iter()
            .find(|(a, _)| a == oci)
            .unwrap_or_else(|| panic!("no {oci} image in {images:?}"))
            .1
            .clone()
    };
    assert_eq!(images.len(), 2);
    validate_dir(&out_dir);
    for (arch, oci, distro) in [
        ("x86_64", "amd64", "alpine-3.19.1"),
        ("aarch64", "arm64", "alpine-3.7.0_rc3"),
    ] {
        let packages = case.expected(&config, arch);
        assert!(packages.iter().any(|p| p.name == "alpine-base"), "{arch}");
        check_image_sboms(
            &out_dir,
            &ImageExpect {
                digest: &digest_of(oci),
                arch,
                purl: Some(("alpine", distro)),
                packages: &packages,
                sha256: true,
            },
        );
    }
    check_index_sboms(&out_dir, &index_digest, &images);

    // `rapko sbom` on the tarball writes the same set, about the same digests.
    let again = case.dir("again");
    let written = case.sbom(&[
        tarball.as_os_str(),
        "--sbom-path".as_ref(),
        again.as_os_str(),
    ]);
    assert_eq!(written.len(), 6, "{written:?}");
    assert_eq!(sbom_names(&again), sbom_names(&out_dir));
    validate_dir(&again);
    check_index_sboms(&again, &index_digest, &images);
    assert_same_but_datahash(&out_dir, &again);
    for arch in ["x86_64", "aarch64"] {
        let name = format!("sbom-{arch}.spdx.json");
        assert_eq!(
            spdx_versions(&json_file(&again.join(&name))),
            spdx_versions(&json_file(&out_dir.join(&name))),
            "{arch}"
        );
    }
}

#[test]
fn sboms_are_identical_across_builds_caches_and_lockfiles() {
    let case = Case::new();
    let config = case.config("alpine.yaml", ALPINE_BASE);
    let files = ["sbom-x86_64.spdx.json", "sbom-x86_64.cdx.json"];
    let read = |dir: &Path| -> Vec<Vec<u8>> {
        files
            .iter()
            .map(|f| std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}")))
            .collect()
    };

    let first = case.dir("first");
    let (digest, out) = case.build_cache("cache-a", &config, "demo:1", &first.join("i.tar"), &[]);
    assert!(
        !stderr(&out).contains("layers reused from the cache"),
        "a fresh cache reused layers?\n{}",
        stderr(&out)
    );
    let reference = read(&first);
    validate_dir(&first);

    // Another build from scratch (another cache, another directory, a layout output).
    let second = case.dir("second");
    let (d2, _) = case.build_cache("cache-b", &config, "demo:1", &second, &[]);
    assert_eq!(d2, digest);
    assert!(
        read(&second) == reference,
        "two builds gave different SBOMs"
    );

    // A rebuild with the first cache: layers come from the cache, the SBOMs must not change
    // (datahash, edges and everything else still known).
    let third = case.dir("third");
    let (d3, out) = case.build_cache("cache-a", &config, "demo:1", &third.join("i.tar"), &[]);
    assert_eq!(d3, digest);
    assert!(
        stderr(&out).contains("layers reused from the cache"),
        "the rebuild did not reuse the cached layers:\n{}",
        stderr(&out)
    );
    for (i, f) in files.iter().enumerate() {
        assert!(
            std::fs::read(third.join(f)).expect("read") == reference[i],
            "{f} of the cached rebuild differs from the first build's"
        );
    }

    // A build from a lockfile (no resolution: edges are matched again) gives the same.
    let lock = case.path("apko.lock.json");
    run_limited_ok(
        case.rapko_cache("cache-c")
            .arg("lock")
            .arg(&config)
            .arg("--output")
            .arg(&lock),
        TOOL_LIMIT,
    );
    let fourth = case.dir("fourth");
    let lock_arg = lock.display().to_string();
    let (d4, _) = case.build_cache(
        "cache-c",
        &config,
        "demo:1",
        &fourth.join("i.tar"),
        &["--lockfile", &lock_arg],
    );
    assert_eq!(d4, digest);
    assert!(
        read(&fourth) == reference,
        "a lockfile build gave other SBOMs"
    );
}

/// A package that ships its own SPDX SBOM (a real melange package, hello-wolfi, on the glibc
/// distro): merged under its entry, also when the layers come from the cache, and by
/// `rapko sbom` reading the image back.
#[test]
fn a_package_own_sbom_is_merged_also_from_the_cache_and_read_back() {
    let case = Case::new();
    let repo = case.dir("hello-repo/x86_64");
    let apk = repo.join("hello-wolfi-2.12.1-r0.apk");
    std::os::unix::fs::symlink(fixture("small/misc/hello-wolfi-2.12.1-r0.apk"), &apk)
        .expect("symlink");
    let key = rapko_test::test_key_dir().join("rapko-test.rsa");
    run_limited_ok(
        case.rapko()
            .args(["apk", "index", "--sign"])
            .arg(&key)
            .arg("--output")
            .arg(repo.join("APKINDEX.tar.gz"))
            .arg(&apk),
        TOOL_LIMIT,
    );
    let yaml = format!(
        "contents:\n  keyring:\n    - FIXTURES/glibc-distro/keys/myrepo.rsa.pub\n    - {}\n  \
         repositories:\n    - FIXTURES/glibc-distro/main\n    - {}\n  packages:\n    - hello-wolfi\n\
         archs: [x86_64]\n",
        rapko_test::test_public_key_path().display(),
        case.path("hello-repo").display()
    );
    let config = case.config("hello.yaml", &yaml);
    let merged = "SPDXRef-Package-hello-wolfi-2.12.1-r0-sbom-Package-hello-wolfi-2.12.1-r0";
    let check = |dir: &Path| {
        validate_dir(dir);
        let doc = json_file(&dir.join("sbom-x86_64.spdx.json"));
        let rel = doc["relationships"]
            .as_array()
            .expect("rels")
            .iter()
            .any(|r| {
                r["spdxElementId"] == "SPDXRef-Package-hello-wolfi-2.12.1-r0"
                    && r["relationshipType"] == "CONTAINS"
                    && r["relatedSpdxElement"] == merged
            });
        assert!(
            rel,
            "{}: the package's own SBOM is not merged",
            dir.display()
        );
        let bom = json_file(&dir.join("sbom-x86_64.cdx.json"));
        let hello = bom["components"]
            .as_array()
            .expect("components")
            .iter()
            .find(|c| c["name"] == "hello-wolfi")
            .expect("hello-wolfi in the BOM");
        assert!(
            hello["components"]
                .as_array()
                .is_some_and(|c| !c.is_empty()),
            "{}: the BOM does not nest the package's own SBOM: {hello}",
            dir.display()
        );
    };

    let first = case.dir("first");
    let (digest, _) = case.build_cache("cache", &config, "hello:1", &first.join("i.tar"), &[]);
    check(&first);
    let packages = case.expected(&config, "x86_64");
    check_image_sboms(
        &first,
        &ImageExpect {
            digest: &digest,
            arch: "x86_64",
            purl: None,
            packages: &packages,
            sha256: true,
        },
    );

    let second = case.dir("second");
    let (_, out) = case.build_cache("cache", &config, "hello:1", &second.join("i.tar"), &[]);
    assert!(
        stderr(&out).contains("layers reused from the cache"),
        "{}",
        stderr(&out)
    );
    for f in ["sbom-x86_64.spdx.json", "sbom-x86_64.cdx.json"] {
        assert!(
            std::fs::read(first.join(f)).expect("read")
                == std::fs::read(second.join(f)).expect("read"),
            "{f}: the cached rebuild's differs"
        );
    }

    let back = case.dir("back");
    case.sbom(&[
        first.join("i.tar").as_os_str(),
        "--sbom-path".as_ref(),
        back.as_os_str(),
    ]);
    check(&back);
    // The build knows which repository each package came from; read back from an image of
    // two repositories that is unknown, and must not be guessed.
    let bom = json_file(&first.join("sbom-x86_64.cdx.json"));
    let repository = |name: &str| -> String {
        let c = bom["components"]
            .as_array()
            .expect("components")
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} not in the BOM"));
        c["properties"]
            .as_array()
            .expect("properties")
            .iter()
            .find(|p| p["name"] == "rapko:apk:repository")
            .and_then(|p| p["value"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(
        repository("hello-wolfi"),
        case.path("hello-repo").display().to_string()
    );
    assert_eq!(
        repository("glibc"),
        fixture("glibc-distro/main").display().to_string()
    );
    assert_read_back(&first, &back, true);
}

/// `rapko sbom IMAGE.tar` reads the packages back from the image's apk database.
#[test]
fn rapko_sbom_on_a_tarball_lists_the_same_packages() {
    let case = Case::new();
    let config = case.config("alpine.yaml", ALPINE_BASE);
    let out_dir = case.dir("out");
    let tarball = out_dir.join("img.tar");
    let digest = case.build(&config, "demo:1.0", &tarball, &[]);
    let packages = case.expected(&config, "x86_64");

    let back = case.dir("back");
    let written = case.sbom(&[
        tarball.as_os_str(),
        "--sbom-path".as_ref(),
        back.as_os_str(),
    ]);
    assert_eq!(
        written,
        [
            back.join("sbom-x86_64.spdx.json"),
            back.join("sbom-x86_64.cdx.json")
        ]
    );
    // Read back, there is no datahash (the apk database does not keep it): SHA-256 is
    // checked only where present.
    validate_dir(&back);
    check_image_sboms(
        &back,
        &ImageExpect {
            digest: &digest,
            arch: "x86_64",
            purl: Some(("alpine", "alpine-3.19.1")),
            packages: &packages,
            sha256: false,
        },
    );
    let built = json_file(&out_dir.join("sbom-x86_64.spdx.json"));
    let read_back = json_file(&back.join("sbom-x86_64.spdx.json"));
    assert_eq!(spdx_versions(&read_back), spdx_versions(&built));
    assert_eq!(spdx_versions(&read_back).len(), 25);
    // Everything else — image, layers, OS, edges, dates, repository, names — is what the
    // build wrote: the documents are the build's less the datahashes.
    assert_same_but_datahash(&out_dir, &back);
}

/// The documents in `read_back` (from `rapko sbom`) equal those in `built` (from the build)
/// once the packages' SHA-256 (datahash, which the apk database does not keep) is dropped.
fn assert_same_but_datahash(built: &Path, read_back: &Path) {
    assert_read_back(built, read_back, false);
}

/// The same, and when `unknown_repository` (an image of several repositories: the apk
/// database does not say which package came from which) without the packages' repository
/// and download location.
fn assert_read_back(built: &Path, read_back: &Path, unknown_repository: bool) {
    for name in sbom_names(built) {
        let mut doc = json_file(&built.join(&name));
        let again = json_file(&read_back.join(&name));
        let spdx = name.ends_with(".spdx.json");
        let (list, key, alg, sha256) = if spdx {
            ("packages", "checksums", "algorithm", "SHA256")
        } else {
            ("components", "hashes", "alg", "SHA-256")
        };
        for p in doc[list].as_array_mut().expect("packages").iter_mut() {
            let apk = purl_of(p)
                .or_else(|| p["purl"].as_str())
                .is_some_and(|u| u.starts_with("pkg:apk/"));
            if !apk {
                continue;
            }
            if let Some(sums) = p.get_mut(key).and_then(Value::as_array_mut) {
                sums.retain(|c| c[alg] != sha256);
            }
            if !unknown_repository {
                continue;
            }
            let obj = p.as_object_mut().expect("an object");
            if spdx {
                obj.insert("downloadLocation".into(), "NOASSERTION".into());
                continue;
            }
            if let Some(props) = obj.get_mut("properties").and_then(Value::as_array_mut) {
                props.retain(|p| p["name"] != "rapko:apk:repository");
            }
            if let Some(refs) = obj
                .get_mut("externalReferences")
                .and_then(Value::as_array_mut)
            {
                refs.retain(|r| r["type"] != "distribution");
                if refs.is_empty() {
                    obj.remove("externalReferences");
                }
            }
        }
        assert!(
            doc == again,
            "{name}: `rapko sbom` differs from the build's (beyond the datahash):\nbuild: {}\nread back: {}",
            serde_json::to_string_pretty(&doc).expect("json"),
            serde_json::to_string_pretty(&again).expect("json")
        );
    }
}

#[test]
fn rapko_sbom_on_a_layout_dir_lists_the_same_packages() {
    let case = Case::new();
    let config = case.config("alpine.yaml", ALPINE_BASE);
    let layout = case.dir("layout");
    let digest = case.build(&config, "registry.example.com/team/demo:1.0", &layout, &[]);
    let packages = case.expected(&config, "x86_64");
    let built = json_file(&layout.join("sbom-x86_64.spdx.json"));

    let back = case.dir("back");
    case.sbom(&[layout.as_os_str(), "--sbom-path".as_ref(), back.as_os_str()]);
    validate_dir(&back);
    check_image_sboms(
        &back,
        &ImageExpect {
            digest: &digest,
            arch: "x86_64",
            purl: Some(("alpine", "alpine-3.19.1")),
            packages: &packages,
            sha256: false,
        },
    );
    let read_back = json_file(&back.join("sbom-x86_64.spdx.json"));
    assert_eq!(spdx_versions(&read_back), spdx_versions(&built));
    assert_same_but_datahash(&layout, &back);
    // `--name` picks the image by its tag; an unknown name is an error.
    let named = case.dir("named");
    case.sbom(&[
        layout.as_os_str(),
        "--name".as_ref(),
        "1.0".as_ref(),
        "--sbom-path".as_ref(),
        named.as_os_str(),
    ]);
    assert_eq!(sbom_names(&named), sbom_names(&back));
    let out = run_limited(
        case.rapko()
            .arg("sbom")
            .arg(&layout)
            .args(["--name", "nope", "--sbom-path"])
            .arg(case.path("none")),
        TOOL_LIMIT,
    );
    assert!(!out.status.success(), "--name nope succeeded");
    assert!(stderr(&out).contains("nope"), "{}", stderr(&out));
    assert!(!case.path("none").exists() || sbom_names(&case.path("none")).is_empty());
}

/// The image name in the documents `rapko sbom` writes is the one the build wrote, for a
/// Docker Hub short name too (index.json records it normalized: docker.io/library/demo).
#[test]
fn rapko_sbom_names_the_image_as_the_build_did() {
    let case = Case::new();
    let config = case.config("alpine.yaml", ALPINE_BASE);
    for (i, tag) in [
        "demo:1.0",
        "team/demo:1.0",
        "registry.example.com/team/demo:1.0",
    ]
    .into_iter()
    .enumerate()
    {
        let out_dir = case.dir(&format!("out{i}"));
        let tarball = out_dir.join("img.tar");
        case.build(&config, tag, &tarball, &[]);
        let back = case.dir(&format!("back{i}"));
        case.sbom(&[
            tarball.as_os_str(),
            "--sbom-path".as_ref(),
            back.as_os_str(),
        ]);
        for f in ["sbom-x86_64.spdx.json", "sbom-x86_64.cdx.json"] {
            let built = json_file(&out_dir.join(f));
            let read_back = json_file(&back.join(f));
            let (a, b) = if f.ends_with("spdx.json") {
                (&built["packages"][0], &read_back["packages"][0])
            } else {
                (
                    &built["metadata"]["component"],
                    &read_back["metadata"]["component"],
                )
            };
            assert_eq!(a["name"], b["name"], "{tag}: {f}: image name");
            if f.ends_with("spdx.json") {
                assert_eq!(purl_of(a), purl_of(b), "{tag}: {f}: image purl");
                assert_eq!(
                    built["name"], read_back["name"],
                    "{tag}: {f}: document name"
                );
            } else {
                assert_eq!(a["purl"], b["purl"], "{tag}: {f}: image purl");
            }
        }
    }
}

/// Without --sbom-path, `rapko sbom IMAGE` writes where its help says: beside a tarball, or
/// into a layout directory (as `rapko build` does), not into the current directory.
#[test]
fn rapko_sbom_writes_beside_the_image_by_default() {
    let case = Case::new();
    let config = case.config("alpine.yaml", ALPINE_BASE);
    let out_dir = case.dir("out");
    let tarball = out_dir.join("img.tar");
    case.build(&config, "demo:1.0", &tarball, &["--sbom=false"]);
    let layout = case.dir("layout");
    case.build(&config, "demo:1.0", &layout, &["--sbom=false"]);
    assert!(sbom_names(&out_dir).is_empty() && sbom_names(&layout).is_empty());
    let cwd = case.dir("elsewhere");
    for (image, dir) in [(&tarball, &out_dir), (&layout, &layout)] {
        run_limited_ok(
            case.rapko().arg("sbom").arg(image).current_dir(&cwd),
            TOOL_LIMIT,
        );
        assert_eq!(
            sbom_names(dir),
            ["sbom-x86_64.cdx.json", "sbom-x86_64.spdx.json"],
            "`rapko sbom {}` wrote into {:?}, not beside the image",
            image.display(),
            sbom_names(&cwd)
        );
    }
}

#[test]
fn sbom_flags_choose_whether_which_and_where() {
    let case = Case::new();
    let config = case.config("alpine.yaml", ALPINE_BASE);

    // --sbom=false: none at all (tarball and layout outputs).
    let none = case.dir("none");
    let digest = case.build(&config, "demo:1", &none.join("img.tar"), &["--sbom=false"]);
    assert_eq!(sbom_names(&none), Vec::<String>::new());
    let layout = case.dir("layout");
    case.build(&config, "demo:1", &layout, &["--sbom=false"]);
    assert_eq!(sbom_names(&layout), Vec::<String>::new());

    // --sbom-formats spdx / cyclonedx: only that format.
    let spdx = case.dir("spdx");
    assert_eq!(
        case.build(
            &config,
            "demo:1",
            &spdx.join("img.tar"),
            &["--sbom-formats", "spdx"]
        ),
        digest
    );
    assert_eq!(sbom_names(&spdx), ["sbom-x86_64.spdx.json"]);
    validate_dir(&spdx);
    let cdx = case.dir("cdx");
    case.build(
        &config,
        "demo:1",
        &cdx.join("img.tar"),
        &["--sbom-formats", "cyclonedx"],
    );
    assert_eq!(sbom_names(&cdx), ["sbom-x86_64.cdx.json"]);
    validate_dir(&cdx);

    // --sbom-path DIR (created, nested): there, and not beside the output.
    let beside = case.dir("beside");
    let target = case.path("reports/sboms");
    let target_arg = target.display().to_string();
    case.build(
        &config,
        "demo:1",
        &beside.join("img.tar"),
        &["--sbom-path", &target_arg],
    );
    assert_eq!(sbom_names(&beside), Vec::<String>::new());
    assert_eq!(
        sbom_names(&target),
        ["sbom-x86_64.cdx.json", "sbom-x86_64.spdx.json"]
    );
    validate_dir(&target);
    // …also for a layout output, which otherwise gets them inside.
    let layout2 = case.dir("layout2");
    let target2 = case.path("reports2");
    let target2_arg = target2.display().to_string();
    case.build(&config, "demo:1", &layout2, &["--sbom-path", &target2_arg]);
    assert_eq!(sbom_names(&layout2), Vec::<String>::new());
    assert_eq!(sbom_names(&target2).len(), 2);

    // A relative output in the current directory: the SBOMs beside it, in that directory.
    let cwd = case.dir("cwd");
    run_limited_ok(
        case.rapko()
            .arg("build")
            .arg(&config)
            .arg("demo:1")
            .arg("img.tar")
            .current_dir(&cwd),
        TOOL_LIMIT,
    );
    assert_eq!(
        sbom_names(&cwd),
        ["sbom-x86_64.cdx.json", "sbom-x86_64.spdx.json"]
    );
    assert!(
        std::fs::read(cwd.join("sbom-x86_64.spdx.json")).expect("read")
            == std::fs::read(target.join("sbom-x86_64.spdx.json")).expect("read"),
        "where the SBOM goes changed what it says"
    );

    // Multi-arch with one format: per arch and index, SPDX only.
    let multi = case.dir("multi");
    let multi_config = multi_arch_config(case.tmp.path());
    case.build(
        &multi_config,
        "demo:m",
        &multi.join("img.tar"),
        &["--sbom-formats=spdx"],
    );
    assert_eq!(
        sbom_names(&multi),
        [
            "sbom-aarch64.spdx.json",
            "sbom-index.spdx.json",
            "sbom-x86_64.spdx.json"
        ]
    );
}

/// An unknown `--sbom-formats` is a usage error found before anything is built: the build
/// fails and writes nothing (as every failed build does), instead of writing the image and
/// then failing.
#[test]
fn unknown_sbom_format_fails_before_writing_anything() {
    let case = Case::new();
    let config = case.config("alpine.yaml", ALPINE_BASE);
    let out_dir = case.dir("out");
    let tarball = out_dir.join("img.tar");
    let out = run_limited(
        case.rapko()
            .arg("build")
            .arg(&config)
            .arg("demo:1")
            .arg(&tarball)
            .args(["--sbom-formats", "spdx,xml"]),
        TOOL_LIMIT,
    );
    assert!(!out.status.success(), "an unknown SBOM format was accepted");
    assert!(stderr(&out).contains("xml"), "{}", stderr(&out));
    let left: Vec<String> = std::fs::read_dir(&out_dir)
        .expect("read")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        left.is_empty(),
        "a failed build (exit {:?}) left {left:?} behind",
        out.status.code()
    );
}

/// The SBOMs are ordinary output files: as readable as the image written beside them
/// (both follow the umask), not private 0600 temporary files.
#[test]
fn sbom_files_are_as_readable_as_the_image() {
    let case = Case::new();
    let config = case.config("alpine.yaml", ALPINE_BASE);
    let out_dir = case.dir("out");
    let tarball = out_dir.join("img.tar");
    case.build(&config, "demo:1", &tarball, &[]);
    let image_mode = file_mode(&tarball);
    assert!(image_mode & 0o400 != 0, "{image_mode:o}");
    for f in sbom_names(&out_dir) {
        assert_eq!(
            format!("{:o}", file_mode(&out_dir.join(&f))),
            format!("{image_mode:o}"),
            "{f}'s mode differs from the image's"
        );
    }
    let back = case.dir("back");
    case.sbom(&[
        tarball.as_os_str(),
        "--sbom-path".as_ref(),
        back.as_os_str(),
    ]);
    for f in sbom_names(&back) {
        assert_eq!(
            format!("{:o}", file_mode(&back.join(&f))),
            format!("{image_mode:o}"),
            "rapko sbom: {f}'s mode differs from the image's"
        );
    }
}
