//! Tests of `rapko build` (issue 6: reproducible OCI images, single- and multi-arch), with
//! the real Alpine packages of ../shared/fixtures, checked by the real tools: umoci (digests
//! and diff_ids), oci-image-tool, skopeo, the OCI JSON schemas, and running the images with
//! runc and podman. Every test has its own temp dirs and cache; tools that are missing skip
//! the test (or fail it under RAPKO_REQUIRE_TOOLS=1).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::{
    Podman, TOOL_LIMIT, check_oci_schema, fixture, multi_arch_config, rapko, run_limited,
    run_limited_ok, runc_run, stderr, stdout, umoci_unpack, write_config,
};

/// alpine-base with everything a process can see: a non-root user, a work dir, environment,
/// entrypoint and cmd. Run without arguments it prints `boo!`, its cwd, uid, gid and env.
const RUN_CONFIG: &str = r#"
contents:
  keyring:
    - FIXTURES/keys/alpine/alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub
  repositories:
    - FIXTURES/alpine-3.19/main
  packages:
    - alpine-base
archs: [x86_64]
accounts:
  groups:
    - groupname: nonroot
      gid: 65532
  users:
    - username: nonroot
      uid: 65532
      gid: 65532
  run-as: nonroot
work-dir: /home/nonroot
environment:
  GREETING: hello-from-config
  ANSWER: "42"
entrypoint:
  command: /bin/sh -c
cmd: "'echo boo!; pwd; id -u; id -g; env'"
"#;

/// The layering stanza of the layered tests.
const LAYERING: &str = "layering: {strategy: origin, budget: 5}\n";

/// What the image of [`RUN_CONFIG`] prints when run as configured.
fn check_default_run(out: &str, config: &Value, how: &str) {
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.len() > 4, "{how}: too little output:\n{out}");
    assert_eq!(
        lines[0], "boo!",
        "{how}: entrypoint + cmd did not run:\n{out}"
    );
    assert_eq!(
        lines[1], "/home/nonroot",
        "{how}: wrong working directory:\n{out}"
    );
    assert_eq!(
        lines[1], config["config"]["WorkingDir"],
        "{how}: cwd ≠ WorkingDir"
    );
    assert_eq!(
        lines[2], "65532",
        "{how}: wrong uid (User nonroot = 65532):\n{out}"
    );
    assert_eq!(lines[3], "65532", "{how}: wrong gid:\n{out}");
    let env: BTreeSet<&str> = lines[4..].iter().copied().collect();
    let want = config["config"]["Env"].as_array().expect("config has Env");
    assert!(
        want.iter().any(|e| e == "GREETING=hello-from-config"),
        "config Env lacks GREETING: {want:?}"
    );
    for e in want {
        let e = e.as_str().expect("Env entries are strings");
        assert!(
            env.contains(e),
            "{how}: the process does not see {e:?}; its env:\n{out}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// One test's private world: a temp dir and a package cache inside it.
struct Case {
    tmp: tempfile::TempDir,
}

impl Case {
    fn new() -> Case {
        Case {
            tmp: tempfile::Builder::new()
                .prefix("rapko-build-it-")
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

    /// Writes a config (FIXTURES replaced by the fixtures path) and returns its path.
    fn config(&self, name: &str, yaml: &str) -> PathBuf {
        write_config(self.tmp.path(), name, yaml)
    }

    /// `rapko` with this case's cache.
    fn rapko(&self) -> Command {
        rapko(&self.path("cache"))
    }

    /// `rapko build CONFIG TAG OUTPUT EXTRA…`, which must succeed; returns the digest it
    /// prints (`TAG@sha256:…`).
    fn build(&self, config: &Path, tag: &str, output: &Path, extra: &[&str]) -> String {
        let mut cmd = self.rapko();
        cmd.arg("build")
            .arg(config)
            .arg(tag)
            .arg(output)
            .args(extra);
        build_digest(&run_limited_ok(&mut cmd, TOOL_LIMIT), tag)
    }

    /// `rapko build …` that must fail; returns its output.
    fn build_fails(&self, config: &Path, tag: &str, output: &Path, extra: &[&str]) -> Output {
        let mut cmd = self.rapko();
        cmd.arg("build")
            .arg(config)
            .arg(tag)
            .arg(output)
            .args(extra);
        let out = run_limited(&mut cmd, TOOL_LIMIT);
        assert_eq!(
            out.status.code(),
            Some(1),
            "rapko build should fail with exit code 1:\nstdout: {}\nstderr: {}",
            stdout(&out),
            stderr(&out)
        );
        out
    }
}

/// The digest from `rapko build`'s stdout line `TAG@sha256:…`.
fn build_digest(out: &Output, tag: &str) -> String {
    let text = stdout(out);
    let line = text.lines().last().unwrap_or_default();
    let digest = line
        .strip_prefix(tag)
        .and_then(|r| r.strip_prefix('@'))
        .unwrap_or_else(|| panic!("rapko build printed {text:?}, expected {tag}@sha256:…"));
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "bad digest {digest:?}"
    );
    digest.to_owned()
}

/// An OCI image layout on disk (a directory, or a tarball extracted into one).
struct Layout {
    dir: PathBuf,
}

impl Layout {
    fn at(dir: &Path) -> Layout {
        Layout {
            dir: dir.to_owned(),
        }
    }

    /// Extracts a tarball output into `dir` with tar(1).
    fn extract(tarball: &Path, dir: &Path) -> Layout {
        std::fs::create_dir_all(dir).expect("create extraction dir");
        run_limited_ok(
            Command::new("tar")
                .arg("-xf")
                .arg(tarball)
                .arg("-C")
                .arg(dir),
            TOOL_LIMIT,
        );
        Layout::at(dir)
    }

    fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.dir.join("blobs/sha256").join(hex)
    }

    fn json_file(&self, path: &Path) -> Value {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
    }

    fn index(&self) -> Value {
        self.json_file(&self.dir.join("index.json"))
    }

    fn blob_json(&self, digest: &str) -> Value {
        self.json_file(&self.blob_path(digest))
    }

    /// The `index.json` entry whose ref name is `tag`.
    fn entry(&self, tag: &str) -> Value {
        let index = self.index();
        let found: Vec<&Value> = index["manifests"]
            .as_array()
            .expect("index.json has manifests")
            .iter()
            .filter(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
            .collect();
        assert_eq!(found.len(), 1, "want one entry tagged {tag:?} in {index}");
        found[0].clone()
    }

    /// Ref names in `index.json`, in order.
    fn ref_names(&self) -> Vec<String> {
        self.index()["manifests"]
            .as_array()
            .expect("manifests")
            .iter()
            .map(|m| {
                m["annotations"]["org.opencontainers.image.ref.name"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect()
    }

    /// The image manifest tagged `tag` (which must be a manifest, not an index).
    fn manifest(&self, tag: &str) -> Value {
        let entry = self.entry(tag);
        assert_eq!(
            entry["mediaType"],
            "application/vnd.oci.image.manifest.v1+json"
        );
        self.blob_json(entry["digest"].as_str().expect("digest"))
    }

    fn manifest_digest(&self, tag: &str) -> String {
        self.entry(tag)["digest"]
            .as_str()
            .expect("digest")
            .to_owned()
    }

    fn config_of(&self, manifest: &Value) -> Value {
        self.blob_json(
            manifest["config"]["digest"]
                .as_str()
                .expect("config digest"),
        )
    }

    fn config(&self, tag: &str) -> Value {
        self.config_of(&self.manifest(tag))
    }

    fn config_digest(&self, tag: &str) -> String {
        self.manifest(tag)["config"]["digest"]
            .as_str()
            .expect("config digest")
            .to_owned()
    }

    fn layer_digests(&self, tag: &str) -> Vec<String> {
        layer_digests(&self.manifest(tag))
    }

    /// `PATH` of one file inside a gzip layer blob, extracted with tar(1).
    fn layer_file(&self, layer: &str, path: &str) -> Vec<u8> {
        run_limited_ok(
            Command::new("tar")
                .arg("-xzOf")
                .arg(self.blob_path(layer))
                .arg(path),
            TOOL_LIMIT,
        )
        .stdout
    }

    /// Every file under the layout, relative, sorted.
    fn files(&self) -> Vec<String> {
        let mut out = Vec::new();
        walk(&self.dir, &self.dir, &mut out);
        out.sort();
        out
    }
}

fn layer_digests(manifest: &Value) -> Vec<String> {
    manifest["layers"]
        .as_array()
        .expect("manifest has layers")
        .iter()
        .map(|l| l["digest"].as_str().expect("layer digest").to_owned())
        .collect()
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        let rel = p
            .strip_prefix(root)
            .expect("under root")
            .display()
            .to_string();
        if p.is_dir() && !p.is_symlink() {
            out.push(format!("{rel}/"));
            walk(root, &p, out);
        } else {
            out.push(rel);
        }
    }
}

/// Names in a directory, sorted (to see leftovers such as temporary files).
fn dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// A listing of an unpacked root filesystem: path, type+mode, owner, size, link target,
/// mtime — one line per entry, sorted. `find` reports what the kernel sees after unpacking.
fn tree_listing(rootfs: &Path) -> Vec<String> {
    let out = run_limited_ok(
        Command::new("find")
            .arg(".")
            .args(["-printf", "%p %M %U:%G %s %l %T@\\n"])
            .current_dir(rootfs),
        TOOL_LIMIT,
    );
    let mut lines: Vec<String> = stdout(&out)
        .lines()
        // A directory's size depends on the file system, not on the image.
        .map(|l| {
            if l.split(' ').nth(1).is_some_and(|m| m.starts_with('d')) {
                let mut f: Vec<&str> = l.split(' ').collect();
                f[3] = "-";
                f.join(" ")
            } else {
                l.to_owned()
            }
        })
        .collect();
    lines.sort();
    lines
}

/// RFC 3339 UTC of `secs` via date(1), independent of rapko's own formatting.
fn rfc3339(secs: u64) -> String {
    let out = run_limited_ok(
        Command::new("date")
            .env("TZ", "UTC")
            .arg("-u")
            .arg("-d")
            .arg(format!("@{secs}"))
            .arg("+%Y-%m-%dT%H:%M:%SZ"),
        TOOL_LIMIT,
    );
    stdout(&out).trim().to_owned()
}

/// The ELF machine of a binary (62 = x86-64, 183 = AArch64).
fn elf_machine(path: &Path) -> u16 {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    assert_eq!(&bytes[..4], b"\x7fELF", "{} is not ELF", path.display());
    u16::from_le_bytes([bytes[18], bytes[19]])
}

/// skopeo inspect (JSON) with extra args and a transport:reference.
fn skopeo_inspect(args: &[&str], reference: &str) -> Option<Value> {
    let skopeo = rapko_test::require_tool("skopeo")?;
    let out = run_limited_ok(
        Command::new(skopeo)
            .arg("inspect")
            .args(args)
            .arg(reference),
        TOOL_LIMIT,
    );
    Some(serde_json::from_slice(&out.stdout).expect("skopeo prints JSON"))
}

fn oci_image_tool_validate(layout: &Path) -> Option<()> {
    let tool = rapko_test::require_tool("oci-image-tool")?;
    run_limited_ok(
        Command::new(tool)
            .args(["validate", "--type", "image"])
            .arg(layout),
        TOOL_LIMIT,
    );
    Some(())
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

// ---------------------------------------------------------------------------------------
// Well-formed: umoci, oci-image-tool, skopeo, schemas
// ---------------------------------------------------------------------------------------

#[test]
fn tarball_passes_umoci_oci_image_tool_skopeo_and_schemas() {
    let case = Case::new();
    let config = case.config("run.yaml", RUN_CONFIG);
    let tarball = case.path("img.tar");
    let digest = case.build(&config, "demo:latest", &tarball, &[]);
    let layout = Layout::extract(&tarball, &case.path("extracted"));

    // The tarball is a complete OCI layout AND a docker-load archive, nothing else.
    let manifest_digest = layout.manifest_digest("latest");
    assert_eq!(manifest_digest, digest, "printed digest ≠ index.json's");
    let manifest = layout.manifest("latest");
    let mut want = vec![
        "blobs/".to_owned(),
        "blobs/sha256/".to_owned(),
        "index.json".to_owned(),
        "manifest.json".to_owned(),
        "oci-layout".to_owned(),
    ];
    want.push(format!("blobs/sha256/{}", &digest[7..]));
    want.push(format!(
        "blobs/sha256/{}",
        &manifest["config"]["digest"].as_str().expect("config")[7..]
    ));
    for l in layer_digests(&manifest) {
        want.push(format!("blobs/sha256/{}", &l[7..]));
    }
    assert_eq!(layout.files(), sorted(want));
    let config_json = layout.config("latest");
    assert_eq!(config_json["architecture"], "amd64");
    assert_eq!(config_json["os"], "linux");
    assert_eq!(config_json["config"]["User"], "nonroot");
    assert_eq!(
        config_json["config"]["Entrypoint"],
        serde_json::json!(["/bin/sh", "-c"])
    );
    assert_eq!(
        config_json["config"]["Cmd"],
        serde_json::json!(["echo boo!; pwd; id -u; id -g; env"])
    );
    assert_eq!(
        config_json["rootfs"]["diff_ids"].as_array().map(Vec::len),
        Some(layer_digests(&manifest).len())
    );
    let docker: Value = layout.json_file(&layout.dir.join("manifest.json"));
    assert_eq!(
        docker[0]["RepoTags"],
        serde_json::json!(["docker.io/library/demo:latest"])
    );

    // umoci: digests, sizes, media types and diff_ids.
    if umoci_unpack(&layout.dir, "latest", &case.path("bundle")).is_some() {
        assert!(case.path("bundle/rootfs/bin/busybox").is_file());
        assert_eq!(elf_machine(&case.path("bundle/rootfs/bin/busybox")), 62);
    }
    oci_image_tool_validate(&layout.dir);

    // skopeo reads both views of the same file and agrees on the digests.
    let oci = format!("oci-archive:{}", tarball.display());
    if let Some(info) = skopeo_inspect(&[], &oci) {
        assert_eq!(info["Digest"], digest.as_str());
        assert_eq!(info["Architecture"], "amd64");
        assert_eq!(info["Os"], "linux");
        assert_eq!(info["Layers"], serde_json::json!(layer_digests(&manifest)));
        assert_eq!(info["Env"], config_json["config"]["Env"]);
        let raw = skopeo_inspect(&["--raw"], &oci).expect("skopeo is there");
        assert_eq!(raw, manifest);
        let cfg = skopeo_inspect(&["--config"], &oci).expect("skopeo is there");
        assert_eq!(cfg, config_json);
    }
    let docker_ref = format!("docker-archive:{}", tarball.display());
    if let Some(info) = skopeo_inspect(&["--config"], &docker_ref) {
        assert_eq!(info, config_json, "docker-archive view has another config");
    }

    // The JSON schemas of the image spec.
    let schema_checks = [
        ("image-index-schema.json", layout.dir.join("index.json")),
        ("image-layout-schema.json", layout.dir.join("oci-layout")),
        ("image-manifest-schema.json", layout.blob_path(&digest)),
        (
            "config-schema.json",
            layout.blob_path(manifest["config"]["digest"].as_str().expect("config")),
        ),
    ];
    for (schema, file) in schema_checks {
        check_oci_schema(schema, &file);
    }
}

// ---------------------------------------------------------------------------------------
// It runs, as configured
// ---------------------------------------------------------------------------------------

#[test]
fn image_runs_in_runc_as_configured() {
    let case = Case::new();
    let config = case.config("run.yaml", RUN_CONFIG);
    let layout_dir = case.dir("layout");
    case.build(&config, "demo:run", &layout_dir, &[]);
    let layout = Layout::at(&layout_dir);
    let image_config = layout.config("run");

    let bundle = case.path("bundle");
    if umoci_unpack(&layout_dir, "run", &bundle).is_none() {
        return;
    }
    // umoci turned the image config into the runtime spec: check it took ours.
    let spec: Value = layout.json_file(&bundle.join("config.json"));
    assert_eq!(
        spec["process"]["args"],
        serde_json::json!(["/bin/sh", "-c", "echo boo!; pwd; id -u; id -g; env"])
    );
    assert_eq!(spec["process"]["cwd"], "/home/nonroot");
    assert_eq!(spec["process"]["user"]["uid"], 65532);

    let Some(out) = runc_run(&bundle, None) else {
        return;
    };
    assert!(out.status.success(), "runc run failed: {}", stderr(&out));
    check_default_run(&stdout(&out), &image_config, "runc");

    let out = runc_run(&bundle, Some(&["/bin/sh", "-c", "echo boo!"])).expect("runc is there");
    assert!(out.status.success(), "runc run failed: {}", stderr(&out));
    assert_eq!(stdout(&out), "boo!\n");
}

#[test]
fn image_runs_in_podman_as_configured() {
    let Some(podman) = Podman::new() else {
        return;
    };
    let case = Case::new();
    let config = case.config("run.yaml", RUN_CONFIG);
    let tarball = case.path("img.tar");
    case.build(&config, "demo:run", &tarball, &[]);
    let image_config = Layout::extract(&tarball, &case.path("x")).config("run");

    let loaded = podman.load(&tarball);
    assert!(
        loaded.contains("docker.io/library/demo:run"),
        "podman load said {loaded:?}"
    );
    assert_eq!(podman.image_names(), ["docker.io/library/demo:run"]);
    let image = "docker.io/library/demo:run";

    // As configured: entrypoint + cmd, as nonroot, in /home/nonroot, with the env.
    let out = podman.run(image, &[]);
    assert!(out.status.success(), "podman run failed: {}", stderr(&out));
    check_default_run(&stdout(&out), &image_config, "podman");

    // Arguments replace Cmd and keep the Entrypoint (`/bin/sh -c`).
    let out = podman.run(image, &["echo boo!"]);
    assert!(out.status.success(), "podman run failed: {}", stderr(&out));
    assert_eq!(stdout(&out), "boo!\n");

    // And the classic form, overriding the entrypoint.
    let out = run_limited(
        podman
            .cmd()
            .args(["run", "--rm", "--pull", "never", "--network", "none"])
            .args(["--entrypoint", "/bin/sh", image, "-c", "echo boo!"]),
        TOOL_LIMIT,
    );
    assert!(out.status.success(), "podman run failed: {}", stderr(&out));
    assert_eq!(stdout(&out), "boo!\n");
}

// ---------------------------------------------------------------------------------------
// Multi-arch
// ---------------------------------------------------------------------------------------

#[test]
fn multi_arch_build_is_an_index_of_two_platforms() {
    let case = Case::new();
    let config = multi_arch_config(case.tmp.path());
    let tarball = case.path("multi.tar");
    let digest = case.build(&config, "demo:multi", &tarball, &[]);
    let layout = Layout::extract(&tarball, &case.path("extracted"));

    // rapko-oci's documented naming: the index under TAG, each platform under TAG-<OCI arch>.
    assert_eq!(layout.ref_names(), ["multi", "multi-amd64", "multi-arm64"]);
    let root = layout.entry("multi");
    assert_eq!(root["mediaType"], "application/vnd.oci.image.index.v1+json");
    assert_eq!(root["digest"], digest.as_str());
    let index = layout.blob_json(&digest);
    let platforms: Vec<(String, String)> = index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|m| {
            (
                m["platform"]["os"].as_str().unwrap_or("").to_owned(),
                m["platform"]["architecture"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
            )
        })
        .collect();
    assert_eq!(
        platforms,
        [
            ("linux".into(), "amd64".into()),
            ("linux".into(), "arm64".into())
        ]
    );
    for (i, arch) in [(0, "amd64"), (1, "arm64")] {
        let entry = &index["manifests"][i];
        assert_eq!(
            layout.manifest_digest(&format!("multi-{arch}")),
            entry["digest"].as_str().unwrap()
        );
        assert_eq!(
            layout.config(&format!("multi-{arch}"))["architecture"],
            arch
        );
    }
    let amd64_layers = layout.layer_digests("multi-amd64");
    let arm64_layers = layout.layer_digests("multi-arm64");
    assert_ne!(amd64_layers, arm64_layers);

    // Each arch got its own packages: the installed db says so.
    let db = String::from_utf8(layout.layer_file(&arm64_layers[0], "lib/apk/db/installed"))
        .expect("utf-8 db");
    assert!(
        db.contains("\nA:aarch64\n"),
        "arm64 image's packages are not aarch64"
    );
    assert!(
        db.contains("P:musl\nV:1.1.18"),
        "arm64 image is not from alpine 3.7"
    );
    let db = String::from_utf8(layout.layer_file(&amd64_layers[0], "lib/apk/db/installed"))
        .expect("utf-8 db");
    assert!(db.contains("\nA:x86_64\n") && !db.contains("\nA:aarch64\n"));

    // umoci takes each platform by its tag; the binaries are of the right machine.
    for (tag, machine) in [("multi-amd64", 62), ("multi-arm64", 183)] {
        let bundle = case.path(&format!("bundle-{tag}"));
        if umoci_unpack(&layout.dir, tag, &bundle).is_none() {
            break;
        }
        assert_eq!(
            elf_machine(&bundle.join("rootfs/bin/busybox")),
            machine,
            "{tag}"
        );
    }
    oci_image_tool_validate(&layout.dir);
    check_oci_schema("image-index-schema.json", &layout.blob_path(&digest));
    check_oci_schema("image-index-schema.json", &layout.dir.join("index.json"));

    // skopeo picks the platform asked for.
    let reference = format!("oci-archive:{}:multi", tarball.display());
    for (arch, layers) in [("arm64", &arm64_layers), ("amd64", &amd64_layers)] {
        let Some(info) = skopeo_inspect(
            &["--override-arch", arch, "--override-os", "linux"],
            &reference,
        ) else {
            break;
        };
        assert_eq!(info["Architecture"], arch);
        assert_eq!(
            &info["Layers"],
            &serde_json::json!(layers),
            "skopeo picked the wrong image for {arch}"
        );
    }

    // --arch narrows the config's archs to one: a single image, the same as in the index
    // (at the same build date: by default that is the newest package of all the archs).
    let single = case.dir("single");
    let created = layout.config("multi-arm64")["created"]
        .as_str()
        .expect("created")
        .to_owned();
    let args = ["--arch", "arm64", "--build-date", &created];
    let digest = case.build(&config, "demo:one", &single, &args);
    let single = Layout::at(&single);
    assert_eq!(single.ref_names(), ["one"]);
    assert_eq!(single.entry("one")["platform"]["architecture"], "arm64");
    assert_eq!(single.layer_digests("one"), arm64_layers);
    assert_eq!(
        digest,
        layout.manifest_digest("multi-arm64"),
        "the arm64 image alone differs from the arm64 image of the index"
    );
}

#[test]
fn multi_arch_tarball_loads_both_platforms_in_podman() {
    let Some(podman) = Podman::new() else {
        return;
    };
    let case = Case::new();
    let config = multi_arch_config(case.tmp.path());
    let tarball = case.path("multi.tar");
    case.build(&config, "demo:multi", &tarball, &[]);
    podman.load(&tarball);
    assert_eq!(
        podman.image_names(),
        [
            "docker.io/library/demo:multi-amd64",
            "docker.io/library/demo:multi-arm64"
        ]
    );
    let inspect = run_limited_ok(
        podman.cmd().args([
            "image",
            "inspect",
            "--format",
            "{{.Architecture}}",
            "docker.io/library/demo:multi-arm64",
            "docker.io/library/demo:multi-amd64",
        ]),
        TOOL_LIMIT,
    );
    assert_eq!(stdout(&inspect), "arm64\namd64\n");
    let out = podman.run(
        "docker.io/library/demo:multi-amd64",
        &["/bin/sh", "-c", "echo boo!"],
    );
    assert!(out.status.success(), "podman run failed: {}", stderr(&out));
    assert_eq!(stdout(&out), "boo!\n");
}

// ---------------------------------------------------------------------------------------
// Reproducible
// ---------------------------------------------------------------------------------------

/// `rapko build` under `sh -c 'umask U; exec …'` with TZ and LC_ALL set.
fn build_in_env(case: &Case, sub: &str, umask: &str, tz: &str, lc: &str, output: &str) -> PathBuf {
    let dir = case.dir(sub);
    let config = write_config(&dir, "config-file.yaml", RUN_CONFIG);
    let output = dir.join(output);
    let cmd = rapko(&dir.join("cache"));
    let program = cmd.get_program().to_owned();
    let mut sh = Command::new("/bin/sh");
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    sh.arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
        .arg(program)
        .arg("build")
        .arg(&config)
        .arg("demo:repro")
        .arg(&output)
        .env("TZ", tz)
        .env("LC_ALL", lc)
        .env("LANG", lc)
        .current_dir(&dir);
    run_limited_ok(&mut sh, TOOL_LIMIT);
    output
}

#[test]
fn builds_in_different_dirs_umasks_timezones_and_locales_are_identical() {
    let case = Case::new();
    let a = build_in_env(&case, "a", "022", "UTC", "C", "img.tar");
    let b = build_in_env(
        &case,
        "second/deeper",
        "077",
        "Asia/Kathmandu",
        "tr_TR.UTF-8",
        "other-name.tar",
    );
    let (a_bytes, b_bytes) = (std::fs::read(&a).expect("a"), std::fs::read(&b).expect("b"));
    assert!(
        a_bytes == b_bytes,
        "two builds of one config differ ({} vs {} bytes)",
        a_bytes.len(),
        b_bytes.len()
    );

    // Same as layouts in directories: identical files.
    let da = case.dir("la");
    let db = case.dir("lb/x");
    let c1 = case.config("one.yaml", RUN_CONFIG);
    let c2 = case.config("two.yaml", RUN_CONFIG);
    case.build(&c1, "demo:repro", &da, &[]);
    let other = Case::new();
    let mut cmd = other.rapko();
    cmd.arg("build")
        .arg(&c2)
        .arg("demo:repro")
        .arg(&db)
        .env("TZ", "America/St_Johns")
        .env("LC_ALL", "de_DE.UTF-8");
    run_limited_ok(&mut cmd, TOOL_LIMIT);
    let (la, lb) = (Layout::at(&da), Layout::at(&db));
    assert_eq!(la.files(), lb.files());
    for f in la.files().iter().filter(|f| !f.ends_with('/')) {
        assert!(
            std::fs::read(da.join(f)).expect("a") == std::fs::read(db.join(f)).expect("b"),
            "{f} differs between two layout builds"
        );
    }
}

/// Outputs are files like any other a command writes: under umask 022 everyone may read
/// them (the tarball, the SBOMs beside it, every file and directory of a layout).
#[test]
fn outputs_are_readable_by_others_under_umask_022() {
    use std::os::unix::fs::PermissionsExt;
    let case = Case::new();
    let tar_dir = case.path("t");
    build_in_env(&case, "t", "022", "UTC", "C", "img.tar");
    case.dir("l/layout");
    build_in_env(&case, "l", "022", "UTC", "C", "layout");
    let mut checked = Vec::new();
    let mut paths: Vec<PathBuf> = ["img.tar", "sbom-x86_64.spdx.json", "sbom-x86_64.cdx.json"]
        .iter()
        .map(|f| tar_dir.join(f))
        .collect();
    let layout = case.path("l/layout");
    paths.push(layout.clone());
    paths.extend(Layout::at(&layout).files().iter().map(|f| layout.join(f)));
    for p in paths {
        let meta = std::fs::metadata(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let mode = meta.permissions().mode() & 0o777;
        let want = if meta.is_dir() { 0o755 } else { 0o644 };
        if mode != want {
            checked.push(format!("{} is {mode:o}, want {want:o}", p.display()));
        }
    }
    assert!(checked.is_empty(), "wrong modes:\n{}", checked.join("\n"));
}

#[test]
fn changing_the_environment_changes_the_config_not_the_layer() {
    let case = Case::new();
    let one = case.config("one.yaml", RUN_CONFIG);
    let two = case.config(
        "two.yaml",
        &RUN_CONFIG.replace("GREETING: hello-from-config", "GREETING: something-else"),
    );
    let dir = case.dir("layout");
    let d1 = case.build(&one, "demo:one", &dir, &[]);
    let d2 = case.build(&two, "demo:two", &dir, &[]);
    assert_ne!(d1, d2, "another environment must give another image");
    let layout = Layout::at(&dir);
    assert_ne!(layout.config_digest("one"), layout.config_digest("two"));
    assert_eq!(layout.layer_digests("one"), layout.layer_digests("two"));
    assert_eq!(
        layout.config("one")["rootfs"],
        layout.config("two")["rootfs"],
        "diff_ids must not change"
    );
    assert!(
        layout.config("two")["config"]["Env"]
            .as_array()
            .expect("Env")
            .iter()
            .any(|e| e == "GREETING=something-else")
    );
    // Both tags live in one layout: the second build added to it.
    assert_eq!(sorted(layout.ref_names()), ["one", "two"]);
}

#[test]
fn build_date_defaults_to_newest_package_and_follows_source_date_epoch() {
    let case = Case::new();
    let config = case.config("run.yaml", RUN_CONFIG);
    let default = case.path("default.tar");
    case.build(&config, "demo:date", &default, &[]);
    let layout = Layout::extract(&default, &case.path("default"));
    let manifest = layout.manifest("date");

    // Default: the newest build date (`t:`) of the installed packages.
    let db =
        String::from_utf8(layout.layer_file(&layer_digests(&manifest)[0], "lib/apk/db/installed"))
            .expect("utf-8 db");
    let newest = db
        .lines()
        .filter_map(|l| l.strip_prefix("t:"))
        .map(|t| t.parse::<u64>().expect("t: is a number"))
        .max()
        .expect("the db has build dates");
    let created = rfc3339(newest);
    let config_json = layout.config_of(&manifest);
    assert_eq!(config_json["created"], created.as_str());
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.created"],
        created.as_str()
    );
    for h in config_json["history"].as_array().expect("history") {
        assert_eq!(h["created"], created.as_str());
    }

    // SOURCE_DATE_EPOCH sets it, and changes the output.
    let epoch = case.path("epoch.tar");
    let mut cmd = case.rapko();
    cmd.env("SOURCE_DATE_EPOCH", "1700000000")
        .arg("build")
        .arg(&config)
        .arg("demo:date")
        .arg(&epoch);
    run_limited_ok(&mut cmd, TOOL_LIMIT);
    let by_epoch = Layout::extract(&epoch, &case.path("epoch"));
    assert_eq!(by_epoch.config("date")["created"], "2023-11-14T22:13:20Z");
    assert_eq!(
        by_epoch.manifest("date")["annotations"]["org.opencontainers.image.created"],
        "2023-11-14T22:13:20Z"
    );
    let epoch_bytes = std::fs::read(&epoch).expect("epoch");
    assert!(epoch_bytes != std::fs::read(&default).expect("default"));

    // --build-date, as seconds or RFC 3339, gives the very same bytes.
    for date in ["1700000000", "2023-11-14T22:13:20Z"] {
        let out = case.path(&format!("flag-{}.tar", date.len()));
        case.build(&config, "demo:date", &out, &["--build-date", date]);
        assert!(
            std::fs::read(&out).expect("flag") == epoch_bytes,
            "--build-date {date} ≠ SOURCE_DATE_EPOCH=1700000000"
        );
    }

    // SOURCE_DATE_EPOCH wins over --build-date (as documented).
    let both = case.path("both.tar");
    let mut cmd = case.rapko();
    cmd.env("SOURCE_DATE_EPOCH", "1700000000")
        .arg("build")
        .arg(&config)
        .arg("demo:date")
        .arg(&both)
        .args(["--build-date", "1600000000"]);
    run_limited_ok(&mut cmd, TOOL_LIMIT);
    assert!(std::fs::read(&both).expect("both") == epoch_bytes);
}

// ---------------------------------------------------------------------------------------
// Layering
// ---------------------------------------------------------------------------------------

#[test]
fn layered_image_has_the_same_files_and_runs() {
    let case = Case::new();
    let single = case.config("single.yaml", RUN_CONFIG);
    let layered = case.config("layered.yaml", &format!("{RUN_CONFIG}{LAYERING}"));
    let dir = case.dir("layout");
    case.build(&single, "demo:single", &dir, &[]);
    case.build(&layered, "demo:layered", &dir, &[]);
    let layout = Layout::at(&dir);

    let layers = layout.layer_digests("layered");
    assert_eq!(layout.layer_digests("single").len(), 1);
    assert!(
        layers.len() > 2 && layers.len() <= 6,
        "budget 5 should give several layers, at most budget + 1: {layers:?}"
    );
    let config = layout.config("layered");
    assert_eq!(
        config["rootfs"]["diff_ids"].as_array().map(Vec::len),
        Some(layers.len())
    );
    assert_eq!(
        config["history"].as_array().map(Vec::len),
        Some(layers.len())
    );
    assert_eq!(config["config"], layout.config("single")["config"]);
    oci_image_tool_validate(&dir);

    let (bs, bl) = (case.path("bundle-single"), case.path("bundle-layered"));
    if umoci_unpack(&dir, "single", &bs).is_none() {
        return;
    }
    umoci_unpack(&dir, "layered", &bl).expect("umoci is there");
    let (ls, ll) = (
        tree_listing(&bs.join("rootfs")),
        tree_listing(&bl.join("rootfs")),
    );
    assert!(ls.len() > 500, "too few files: {}", ls.len());
    if ls != ll {
        let only_s: Vec<_> = ls.iter().filter(|l| !ll.contains(l)).take(20).collect();
        let only_l: Vec<_> = ll.iter().filter(|l| !ls.contains(l)).take(20).collect();
        panic!(
            "single and layered trees differ:\nonly single: {only_s:#?}\nonly layered: {only_l:#?}"
        );
    }
    let diff = run_limited(
        Command::new("diff")
            .arg("-r")
            .arg("--no-dereference")
            .arg(bs.join("rootfs"))
            .arg(bl.join("rootfs")),
        TOOL_LIMIT,
    );
    assert!(diff.status.success(), "contents differ:\n{}", stdout(&diff));

    if let Some(out) = runc_run(&bl, None) {
        assert!(out.status.success(), "runc run failed: {}", stderr(&out));
        check_default_run(&stdout(&out), &config, "runc, layered");
    }
}

#[test]
fn layered_images_that_share_packages_share_layers() {
    let case = Case::new();
    let base = case.config("base.yaml", &format!("{RUN_CONFIG}{LAYERING}"));
    let dir = case.dir("layout");
    case.build(&base, "demo:base", &dir, &[]);
    case.build(&base, "demo:more", &dir, &["-p", "tzdata"]);
    let layout = Layout::at(&dir);

    // Layers are described in the history; the same origins must give the same layer.
    let described = |tag: &str| -> BTreeMap<String, String> {
        let config = layout.config(tag);
        let comments = config["history"].as_array().expect("history").iter();
        comments
            .map(|h| h["comment"].as_str().unwrap_or("").to_owned())
            .zip(layout.layer_digests(tag))
            .collect()
    };
    let (base_layers, more_layers) = (described("base"), described("more"));
    assert!(
        more_layers.keys().any(|k| k.contains("tzdata")),
        "tzdata should be in a layer of its own or in the shared rest: {more_layers:#?}"
    );
    let mut shared = 0;
    for (what, digest) in &base_layers {
        if what.starts_with("packages from origin ")
            && let Some(other) = more_layers.get(what)
        {
            assert_eq!(
                digest, other,
                "layer {what:?} differs between the two images"
            );
            shared += 1;
        }
    }
    assert!(
        shared >= 2,
        "expected ≥ 2 shared package layers:\n{base_layers:#?}\n{more_layers:#?}"
    );
    let base_set: BTreeSet<_> = layout.layer_digests("base").into_iter().collect();
    let more_set: BTreeSet<_> = layout.layer_digests("more").into_iter().collect();
    assert_eq!(base_set.intersection(&more_set).count(), shared);
    // Shared blobs are stored once.
    let blobs = dir_names(&dir.join("blobs/sha256"));
    let referenced: BTreeSet<String> = base_set
        .union(&more_set)
        .map(|d| d[7..].to_owned())
        .collect();
    assert!(referenced.iter().all(|d| blobs.contains(d)));
}

// ---------------------------------------------------------------------------------------
// Lockfiles
// ---------------------------------------------------------------------------------------

fn lock(case: &Case, config: &Path, output: &Path) {
    let mut cmd = case.rapko();
    cmd.arg("lock").arg(config).arg("--output").arg(output);
    run_limited_ok(&mut cmd, TOOL_LIMIT);
}

/// Changes one field of one package of a lockfile.
fn tamper_lock(lock: &Path, out: &Path, package: &str, edit: impl Fn(&mut Value)) {
    let mut json: Value =
        serde_json::from_slice(&std::fs::read(lock).expect("read lock")).expect("lock is JSON");
    let pkgs = json["contents"]["packages"]
        .as_array_mut()
        .expect("packages");
    let p = pkgs
        .iter_mut()
        .find(|p| p["name"] == package)
        .unwrap_or_else(|| panic!("{package} not in the lock"));
    edit(p);
    std::fs::write(out, serde_json::to_vec_pretty(&json).expect("json")).expect("write lock");
}

/// A different value of the same shape: flips one base64/hex character in the middle.
fn flip(value: &str) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

#[test]
fn build_from_lockfile_is_byte_identical() {
    let case = Case::new();
    let config = case.config("run.yaml", RUN_CONFIG);
    let lockfile = case.path("run.lock.json");
    lock(&case, &config, &lockfile);
    let json: Value =
        serde_json::from_slice(&std::fs::read(&lockfile).expect("lock")).expect("json");
    assert_eq!(
        json["contents"]["packages"].as_array().map(Vec::len),
        Some(25)
    );

    let resolved = case.path("resolved.tar");
    case.build(&config, "demo:lock", &resolved, &[]);
    // With a cold cache of its own, so the lock alone says what to fetch.
    let other = Case::new();
    let locked = other.path("locked.tar");
    let lock_arg = lockfile.display().to_string();
    other.build(&config, "demo:lock", &locked, &["--lockfile", &lock_arg]);
    assert!(
        std::fs::read(&resolved).expect("resolved") == std::fs::read(&locked).expect("locked"),
        "build --lockfile differs from the resolved build"
    );
}

/// A failed build names `what`, writes nothing, and leaves its directory empty.
fn assert_failed_cleanly(out: &Output, dir: &Path, what: &[&str]) {
    let err = stderr(out);
    assert!(
        err.starts_with("error: "),
        "stderr should start with `error: `:\n{err}"
    );
    for w in what {
        assert!(err.contains(w), "stderr should mention {w:?}:\n{err}");
    }
    assert!(
        stdout(out).is_empty(),
        "nothing on stdout on failure: {}",
        stdout(out)
    );
    assert_eq!(
        dir_names(dir),
        Vec::<String>::new(),
        "leftovers after a failed build"
    );
}

#[test]
fn tampered_lock_package_checksum_fails_clearly() {
    let case = Case::new();
    let config = case.config("run.yaml", RUN_CONFIG);
    let lockfile = case.path("run.lock.json");
    lock(&case, &config, &lockfile);
    let tampered = case.path("tampered.lock.json");
    tamper_lock(&lockfile, &tampered, "busybox", |p| {
        p["checksum"] = Value::from(flip(p["checksum"].as_str().expect("checksum")));
    });
    let out_dir = case.dir("out");
    let t = tampered.display().to_string();
    let out = case.build_fails(
        &config,
        "demo:x",
        &out_dir.join("img.tar"),
        &["--lockfile", &t],
    );
    assert_failed_cleanly(
        &out,
        &out_dir,
        &["busybox", "checksum", "tampered.lock.json"],
    );
}

/// The lock records a checksum of each package's control and data sections; a lock whose
/// recorded checksum does not match the package's bytes was tampered with (or is stale) and
/// must not build silently.
#[test]
fn tampered_lock_section_checksums_fail_clearly() {
    let case = Case::new();
    let config = case.config("run.yaml", RUN_CONFIG);
    let lockfile = case.path("run.lock.json");
    lock(&case, &config, &lockfile);
    for section in ["data", "control"] {
        let tampered = case.path(&format!("tampered-{section}.lock.json"));
        tamper_lock(&lockfile, &tampered, "busybox", |p| {
            let c = p[section]["checksum"]
                .as_str()
                .expect("checksum")
                .to_owned();
            p[section]["checksum"] = Value::from(flip(&c));
        });
        let out_dir = case.dir(&format!("out-{section}"));
        let t = tampered.display().to_string();
        let out = case.build_fails(
            &config,
            "demo:x",
            &out_dir.join("img.tar"),
            &["--lockfile", &t],
        );
        assert_failed_cleanly(&out, &out_dir, &["busybox", "checksum"]);
    }
}

// ---------------------------------------------------------------------------------------
// Output safety
// ---------------------------------------------------------------------------------------

/// A copy of alpine-3.19/main/x86_64 (symlinks) whose busybox .apk has one byte flipped in
/// its data section: the index still verifies, the failure comes late, after fetching.
fn repo_with_corrupt_busybox(case: &Case) -> PathBuf {
    let repo = case.dir("corrupt-repo");
    let arch = case.dir("corrupt-repo/x86_64");
    let src = fixture("alpine-3.19/main/x86_64");
    for e in std::fs::read_dir(&src).expect("fixture dir") {
        let p = e.expect("entry").path();
        let name = p.file_name().expect("name").to_owned();
        if name.to_string_lossy().starts_with("busybox-1.36.1-r15.apk") {
            let mut bytes = std::fs::read(&p).expect("read busybox");
            let i = bytes.len() * 2 / 3;
            bytes[i] ^= 0x55;
            std::fs::write(arch.join(&name), bytes).expect("write busybox");
        } else {
            std::os::unix::fs::symlink(&p, arch.join(&name)).expect("symlink");
        }
    }
    repo
}

#[test]
fn failed_builds_write_nothing_and_say_why() {
    let case = Case::new();
    let good = case.config("good.yaml", RUN_CONFIG);
    let no_keys = case.config(
        "no-keys.yaml",
        &RUN_CONFIG.replace(
            "  keyring:\n    - FIXTURES/keys/alpine/alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub\n",
            "",
        ),
    );
    assert!(
        !std::fs::read_to_string(&no_keys)
            .expect("cfg")
            .contains("keyring")
    );
    let repo = repo_with_corrupt_busybox(&case);
    let corrupt = case.config(
        "corrupt.yaml",
        &RUN_CONFIG.replace("FIXTURES/alpine-3.19/main", &repo.display().to_string()),
    );

    let failures: [(&Path, &[&str], &[&str]); 3] = [
        (&good, &["-p", "no-such-package"], &["no-such-package"]),
        (&no_keys, &[], &["keyring", "6165ee59"]),
        (&corrupt, &[], &["busybox"]),
    ];
    for (i, (config, extra, what)) in failures.iter().enumerate() {
        // No file at OUTPUT, nothing beside it.
        let dir = case.dir(&format!("fail-{i}"));
        let out = case.build_fails(config, "demo:x", &dir.join("img.tar"), extra);
        assert_failed_cleanly(&out, &dir, what);

        // An existing OUTPUT file is untouched.
        let dir = case.dir(&format!("keep-{i}"));
        let existing = dir.join("img.tar");
        std::fs::write(&existing, b"precious").expect("write");
        let before = std::fs::metadata(&existing)
            .expect("meta")
            .modified()
            .expect("mtime");
        let out = case.build_fails(config, "demo:x", &existing, extra);
        assert!(stderr(&out).starts_with("error: "));
        assert_eq!(std::fs::read(&existing).expect("read"), b"precious");
        assert_eq!(
            std::fs::metadata(&existing)
                .expect("meta")
                .modified()
                .expect("mtime"),
            before
        );
        assert_eq!(
            dir_names(&dir),
            ["img.tar"],
            "leftovers beside an existing output"
        );

        // An empty OUTPUT directory stays empty.
        let dir = case.dir(&format!("empty-dir-{i}"));
        case.build_fails(config, "demo:x", &dir, extra);
        assert_eq!(
            dir_names(&dir),
            Vec::<String>::new(),
            "a failed build wrote into the dir"
        );
    }

    // An existing layout directory is untouched by a failed build.
    let dir = case.dir("layout");
    case.build(&good, "demo:ok", &dir, &[]);
    let files = Layout::at(&dir).files();
    let index = std::fs::read(dir.join("index.json")).expect("index");
    for (config, extra, _) in &failures {
        case.build_fails(config, "demo:x", &dir, extra);
        assert_eq!(
            Layout::at(&dir).files(),
            files,
            "a failed build changed the layout"
        );
        assert_eq!(std::fs::read(dir.join("index.json")).expect("index"), index);
    }
}

/// Each cause is printed once: a `caused by:` line never repeats the line before it.
#[test]
fn failure_messages_do_not_repeat_themselves() {
    let case = Case::new();
    let no_keys = case.config(
        "no-keys.yaml",
        &RUN_CONFIG.replace(
            "  keyring:\n    - FIXTURES/keys/alpine/alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub\n",
            "",
        ),
    );
    let good = case.config("good.yaml", RUN_CONFIG);
    let dir = case.dir("out");
    for (config, extra) in [(&no_keys, &[][..]), (&good, &["-p", "no-such-package"][..])] {
        let out = case.build_fails(config, "demo:x", &dir.join("img.tar"), extra);
        let err = stderr(&out);
        let lines: Vec<&str> = err
            .lines()
            .map(|l| l.trim_start_matches("  caused by: "))
            .collect();
        for pair in lines.windows(2) {
            assert!(
                !pair[0].contains(pair[1]),
                "a cause repeats the line before it:\n{err}"
            );
        }
        if config == &no_keys {
            assert!(
                err.contains("hint: add the key"),
                "an untrusted index should come with a hint:\n{err}"
            );
        }
    }
}

/// Ctrl-C (SIGINT) or a `kill` (SIGTERM) in the middle of a build is a failed build too: it
/// must not leave its temporary blob store or a partial tarball beside OUTPUT (they can be
/// hundreds of MB). The build is of a synthetic 40 MB repository with a cold cache so that it
/// is still running when the signal comes; the signal is sent as soon as the build's first
/// temporary file appears.
#[test]
fn interrupted_build_leaves_nothing_behind() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let case = Case::new();
    let repo = case.dir("big-repo");
    rapko_test::write_repo(
        &repo,
        "x86_64",
        &rapko_test::big_package_set(40_000_000, 8, 7),
    );
    let config = case.config(
        "big.yaml",
        &format!(
            "contents:\n  keyring: [{}]\n  repositories: [{}]\n  packages: [big-0000]\narchs: [x86_64]\n",
            rapko_test::test_public_key_path().display(),
            repo.display()
        ),
    );
    for (signal, output) in [
        ("INT", "img.tar"),
        ("TERM", "img.tar"),
        ("INT", ""),
        ("TERM", ""),
    ] {
        let dir = case.dir(&format!("out-{signal}-{}", output.len()));
        let target = if output.is_empty() {
            dir.clone()
        } else {
            dir.join(output)
        };
        // A cold cache of its own, so that no cached work makes the build too quick to catch.
        let mut cmd = rapko(&case.path(&format!("cache-{signal}-{}", output.len())));
        cmd.arg("build")
            .arg(&config)
            .arg("big:1")
            .arg(&target)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = crate::support::KillOnDrop(cmd.spawn().expect("spawn rapko"));
        let start = Instant::now();
        let mut seen = false;
        while start.elapsed() < Duration::from_secs(60) {
            if child.0.try_wait().expect("try_wait").is_some() {
                break;
            }
            if !dir_names(&dir).is_empty() {
                seen = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(
            seen,
            "the build ended (or never wrote) before it could be interrupted; make the repository bigger"
        );
        run_limited_ok(
            Command::new("kill")
                .arg(format!("-{signal}"))
                .arg(child.0.id().to_string()),
            TOOL_LIMIT,
        );
        let status = loop {
            if let Some(status) = child.0.try_wait().expect("try_wait") {
                break status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "rapko ignored SIG{signal}"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        assert!(!status.success(), "an interrupted build must not succeed");
        assert_eq!(
            dir_names(&dir),
            Vec::<String>::new(),
            "SIG{signal} during `rapko build … {}` left files behind",
            target.display()
        );
    }
}

// ---------------------------------------------------------------------------------------
// Output to a directory
// ---------------------------------------------------------------------------------------

#[test]
fn existing_directory_output_is_an_oci_layout() {
    let case = Case::new();
    let config = case.config("run.yaml", RUN_CONFIG);
    let dir = case.dir("out");
    let digest = case.build(&config, "example.com/team/demo:1.0", &dir, &[]);
    let layout = Layout::at(&dir);
    // Only the layout and the SBOMs (documented: they go into OUTPUT when it is a layout);
    // no temporary store or files left in the directory.
    assert_eq!(
        dir_names(&dir),
        [
            "blobs",
            "index.json",
            "oci-layout",
            "sbom-x86_64.cdx.json",
            "sbom-x86_64.spdx.json"
        ]
    );
    assert_eq!(dir_names(&dir.join("blobs")), ["sha256"]);
    assert_eq!(dir_names(&dir.join("blobs/sha256")).len(), 3);
    assert_eq!(
        std::fs::read_to_string(dir.join("oci-layout")).expect("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#
    );
    let entry = layout.entry("1.0");
    assert_eq!(entry["digest"], digest.as_str());
    assert_eq!(
        entry["annotations"]["io.containerd.image.name"],
        "example.com/team/demo:1.0"
    );
    oci_image_tool_validate(&dir);
    if umoci_unpack(&dir, "1.0", &case.path("bundle")).is_some() {
        assert!(case.path("bundle/rootfs/etc/alpine-release").is_file());
        if let Some(out) = runc_run(&case.path("bundle"), Some(&["/bin/sh", "-c", "echo boo!"])) {
            assert!(out.status.success(), "runc run failed: {}", stderr(&out));
            assert_eq!(stdout(&out), "boo!\n");
        }
    }
    if let Some(info) = skopeo_inspect(&[], &format!("oci:{}:1.0", dir.display())) {
        assert_eq!(info["Digest"], digest.as_str());
    }
    // The same image as the tarball output, whatever the name.
    let tarball = case.path("img.tar");
    assert_eq!(case.build(&config, "other:tag", &tarball, &[]), digest);

    // Without SBOMs: exactly the layout.
    let bare = case.dir("bare");
    assert_eq!(
        case.build(&config, "demo:1.0", &bare, &["--sbom=false"]),
        digest
    );
    assert_eq!(dir_names(&bare), ["blobs", "index.json", "oci-layout"]);
}
