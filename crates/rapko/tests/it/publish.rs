//! Tests of `rapko publish`, `rapko login` and `rapko logout` (issue 8: push images, indexes
//! and SBOMs to any OCI registry), driving the binary against a real Distribution registry
//! (`docker-registry`) on loopback, with its own config, storage, port and access log per
//! test, and checking what arrived with the real tools: skopeo (raw bytes, platform
//! choice, pull with digests preserved), umoci (digests and diff_ids), podman (pull and
//! run), pyspdxtools and the SPDX JSON schema. Missing tools skip (or fail under
//! RAPKO_REQUIRE_TOOLS=1). Every registry, podman and rapko process is killed on drop.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{
    ALPINE_BASE, KillOnDrop, Podman, TOOL_LIMIT, multi_arch_config, rapko, run_limited,
    run_limited_ok, runc_run, stderr, stdout, umoci_unpack, write_config,
};

/// The build date every comparison uses, so `rapko build` and `rapko publish` make the same
/// bytes.
const BUILD_DATE: &str = "2024-01-02T03:04:05Z";

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
const SPDX_JSON: &str = "application/spdx+json";
const CYCLONEDX_JSON: &str = "application/vnd.cyclonedx+json";

// ---------------------------------------------------------------------------------------
// A registry on loopback
// ---------------------------------------------------------------------------------------

/// A port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind a free port")
        .local_addr()
        .expect("local addr")
        .port()
}

/// A `docker-registry serve` on 127.0.0.1 with its own config, storage and port, optionally
/// demanding htpasswd basic auth. Its access log (one line a request) goes to
/// `access.log`, everything else to `registry.log`. Killed on drop.
struct Registry {
    _child: KillOnDrop,
    port: u16,
    dir: tempfile::TempDir,
}

impl Registry {
    /// An open registry, or `None` (after saying why) without `docker-registry`.
    fn start() -> Option<Registry> {
        Registry::start_with(None)
    }

    /// A registry that wants `user`/`password` (htpasswd, bcrypt).
    fn start_with_htpasswd(user: &str, password: &str) -> Option<Registry> {
        Registry::start_with(Some((user, password)))
    }

    fn start_with(users: Option<(&str, &str)>) -> Option<Registry> {
        let bin = rapko_test::require_tool("docker-registry")?;
        let dir = tempfile::Builder::new()
            .prefix("rapko-publish-registry-")
            .tempdir()
            .expect("temp dir for the registry");
        let auth = match users {
            Some((user, password)) => {
                let htpasswd = rapko_test::require_tool("htpasswd")?;
                let out = run_limited_ok(
                    Command::new(htpasswd).args(["-Bbn", user, password]),
                    TOOL_LIMIT,
                );
                let file = dir.path().join("htpasswd");
                std::fs::write(&file, out.stdout).expect("write htpasswd");
                format!(
                    "auth: {{htpasswd: {{realm: rapko-test, path: {}}}}}\n",
                    file.display()
                )
            }
            None => String::new(),
        };
        // A port taken between free_port() and the registry's bind makes it exit: retry.
        for _ in 0..5 {
            let port = free_port();
            let config = format!(
                "version: 0.1\nlog: {{level: warn, accesslog: {{disabled: false}}}}\n\
                 storage: {{filesystem: {{rootdirectory: {}}}, delete: {{enabled: true}}}}\n\
                 http: {{addr: 127.0.0.1:{port}, secret: test-only}}\n{auth}",
                dir.path().join("storage").display()
            );
            let config_path = dir.path().join("config.yml");
            std::fs::write(&config_path, config).expect("write registry config");
            let access = std::fs::File::create(dir.path().join("access.log")).expect("log");
            let log = std::fs::File::create(dir.path().join("registry.log")).expect("log");
            let child = Command::new(&bin)
                .arg("serve")
                .arg(&config_path)
                .stdin(Stdio::null())
                .stdout(access)
                .stderr(log)
                .spawn()
                .expect("start docker-registry");
            let mut guard = KillOnDrop(child);
            if wait_ready(&mut guard, port) {
                return Some(Registry {
                    _child: guard,
                    port,
                    dir,
                });
            }
        }
        panic!("docker-registry did not start after 5 tries");
    }

    /// `127.0.0.1:PORT`.
    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The registry's error log, for failure messages.
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// `(METHOD, path, status)` of every request so far, from the access log. Waits a
    /// moment first: the registry writes a line as it finishes a response.
    fn requests(&self) -> Vec<(String, String, u16)> {
        std::thread::sleep(Duration::from_millis(200));
        let text = std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default();
        text.lines()
            .filter_map(|line| {
                // 127.0.0.1 - - [date] "PUT /v2/x/manifests/v1 HTTP/1.1" 201 0 "" "rapko/0.1.0"
                let (_, rest) = line.split_once('"')?;
                let (request, rest) = rest.split_once('"')?;
                let mut words = request.split_whitespace();
                let method = words.next()?.to_owned();
                let path = words.next()?.to_owned();
                let status = rest.split_whitespace().next()?.parse().ok()?;
                Some((method, path, status))
            })
            .collect()
    }

    /// True when the registry's storage has a repository named `name`.
    fn has_repository(&self, name: &str) -> bool {
        self.dir
            .path()
            .join("storage/docker/registry/v2/repositories")
            .join(name)
            .exists()
    }

    /// `GET path` on an open registry: (status, body).
    fn get(&self, path: &str) -> (u16, Vec<u8>) {
        let (status, _, body) = http_get(self.port, path).expect("GET from the registry");
        (status, body)
    }

    /// The tags of `repository` (sorted), on an open registry; none when the registry
    /// does not know the name (Distribution says so for a repository without tags).
    fn tags(&self, repository: &str) -> Vec<String> {
        let (status, body) = self.get(&format!("/v2/{repository}/tags/list"));
        if status == 404 && lossy(&body).contains("NAME_UNKNOWN") {
            return Vec::new();
        }
        assert_eq!(status, 200, "tags/list of {repository}: {}", lossy(&body));
        let list: Value = serde_json::from_slice(&body).expect("tags/list is JSON");
        let mut tags: Vec<String> = list["tags"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        tags.sort();
        tags
    }

    /// The exact bytes of manifest `reference` (tag or digest) of `repository`.
    fn manifest(&self, repository: &str, reference: &str) -> Vec<u8> {
        let (status, body) = self.get(&format!("/v2/{repository}/manifests/{reference}"));
        assert_eq!(
            status,
            200,
            "manifest {repository}:{reference}: {}\nregistry log:\n{}",
            lossy(&body),
            self.log()
        );
        body
    }

    /// The exact bytes of blob `digest` of `repository`.
    fn blob(&self, repository: &str, digest: &str) -> Vec<u8> {
        let (status, body) = self.get(&format!("/v2/{repository}/blobs/{digest}"));
        assert_eq!(status, 200, "blob {repository}@{digest}: {}", lossy(&body));
        body
    }
}

/// True once the registry answers `GET /v2/` (200, or 401 with auth); false if it exited.
fn wait_ready(child: &mut KillOnDrop, port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.0.try_wait() {
            return false;
        }
        if let Ok((status, _, _)) = http_get(port, "/v2/")
            && (status == 200 || status == 401)
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A minimal HTTP/1.0 GET to 127.0.0.1:`port` accepting OCI manifests and indexes:
/// (status, head, body). Blob GETs are answered directly (the filesystem driver does not
/// redirect).
fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String, Vec<u8>)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nAccept: {OCI_MANIFEST}, {OCI_INDEX}\r\n\r\n"
    )?;
    let mut all = Vec::new();
    s.read_to_end(&mut all)?;
    let split = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of headers"))?;
    let head = String::from_utf8_lossy(&all[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    Ok((status, head, all[split + 4..].to_vec()))
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// ---------------------------------------------------------------------------------------
// One test's private world
// ---------------------------------------------------------------------------------------

/// A temp dir with the package cache and an (initially empty) DOCKER_CONFIG directory, so
/// no test reads or writes the credentials of whoever runs it.
struct Case {
    tmp: tempfile::TempDir,
}

impl Case {
    fn new() -> Case {
        let tmp = tempfile::Builder::new()
            .prefix("rapko-publish-it-")
            .tempdir()
            .expect("temp dir");
        std::fs::create_dir_all(tmp.path().join("docker")).expect("docker config dir");
        Case { tmp }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    fn dir(&self, rel: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(&p).expect("create dir");
        p
    }

    /// The DOCKER_CONFIG directory of this case.
    fn docker_config(&self) -> PathBuf {
        self.path("docker")
    }

    /// Its config.json.
    fn docker_config_json(&self) -> PathBuf {
        self.docker_config().join("config.json")
    }

    fn config(&self, name: &str, yaml: &str) -> PathBuf {
        write_config(self.tmp.path(), name, yaml)
    }

    /// `rapko` with this case's cache and DOCKER_CONFIG.
    fn rapko(&self) -> Command {
        let mut cmd = rapko(&self.path("cache"));
        cmd.env("DOCKER_CONFIG", self.docker_config())
            .env_remove("RAPKO_LOG");
        cmd
    }

    /// `rapko publish CONFIG REFS… EXTRA…` (not checked).
    fn publish(&self, config: &Path, refs: &[&str], extra: &[&str]) -> Output {
        let mut cmd = self.rapko();
        cmd.arg("publish").arg(config).args(refs).args(extra);
        run_limited(&mut cmd, TOOL_LIMIT)
    }

    /// `rapko publish …` that must succeed; returns its stdout lines.
    fn publish_ok(&self, config: &Path, refs: &[&str], extra: &[&str]) -> Vec<String> {
        let out = self.publish(config, refs, extra);
        assert!(
            out.status.success(),
            "rapko publish {refs:?} {extra:?} failed ({}):\nstdout: {}\nstderr: {}",
            out.status,
            stdout(&out),
            stderr(&out)
        );
        stdout(&out).lines().map(str::to_owned).collect()
    }

    /// `rapko build CONFIG TAG DIR --build-date BUILD_DATE EXTRA…` into a new layout
    /// directory; returns the layout and the digest printed.
    fn build_layout(
        &self,
        config: &Path,
        tag: &str,
        rel: &str,
        extra: &[&str],
    ) -> (Layout, String) {
        let dir = self.dir(rel);
        let mut cmd = self.rapko();
        cmd.arg("build")
            .arg(config)
            .arg(tag)
            .arg(&dir)
            .args(["--build-date", BUILD_DATE])
            .args(extra);
        let out = run_limited_ok(&mut cmd, TOOL_LIMIT);
        let text = stdout(&out);
        let digest = text
            .trim()
            .rsplit_once('@')
            .map(|(_, d)| d.to_owned())
            .unwrap_or_else(|| panic!("rapko build printed {text:?}"));
        (Layout { dir }, digest)
    }

    /// `rapko login REGISTRY -u USER --password-stdin` with `password` piped in.
    fn login(&self, registry: &str, user: &str, password: &str) -> Output {
        let mut cmd = self.rapko();
        cmd.args(["login", registry, "-u", user, "--password-stdin"]);
        run_with_stdin(&mut cmd, format!("{password}\n").as_bytes())
    }

    /// `rapko logout REGISTRY`.
    fn logout(&self, registry: &str) -> Output {
        let mut cmd = self.rapko();
        cmd.args(["logout", registry]);
        run_limited(&mut cmd, TOOL_LIMIT)
    }
}

/// Runs `cmd` with `input` on stdin, for at most two minutes (killed on drop).
fn run_with_stdin(cmd: &mut Command, input: &[u8]) -> Output {
    let child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let mut guard = KillOnDrop(child);
    let mut stdin = guard.0.stdin.take().expect("stdin piped");
    stdin.write_all(input).expect("write stdin");
    drop(stdin);
    let mut out_pipe = guard.0.stdout.take().expect("stdout piped");
    let mut err_pipe = guard.0.stderr.take().expect("stderr piped");
    let out_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let err_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        match guard.0.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > TOOL_LIMIT => {
                drop(guard);
                panic!("{cmd:?} did not finish within {TOOL_LIMIT:?}; killed it");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("cannot wait for {cmd:?}: {e}"),
        }
    };
    Output {
        status,
        stdout: out_thread.join().unwrap_or_default(),
        stderr: err_thread.join().unwrap_or_default(),
    }
}

/// An OCI image layout directory written by `rapko build`.
struct Layout {
    dir: PathBuf,
}

impl Layout {
    fn blob(&self, digest: &str) -> Vec<u8> {
        let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
        std::fs::read(self.dir.join("blobs/sha256").join(hex))
            .unwrap_or_else(|e| panic!("blob {digest} of {}: {e}", self.dir.display()))
    }

    fn blob_json(&self, digest: &str) -> Value {
        serde_json::from_slice(&self.blob(digest)).expect("blob is JSON")
    }
}

/// The sha256 of `bytes` as `sha256:<hex>`, by coreutils' sha256sum (not rapko's code).
fn sha256(bytes: &[u8]) -> String {
    let mut cmd = Command::new("sha256sum");
    let out = run_with_stdin(&mut cmd, bytes);
    assert!(out.status.success(), "sha256sum failed");
    let text = stdout(&out);
    let hex = text.split_whitespace().next().expect("sha256sum output");
    assert_eq!(hex.len(), 64, "sha256sum printed {text:?}");
    format!("sha256:{hex}")
}

/// Standard base64 with padding (the docker config's `auth` field).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The layer digests of a manifest.
fn layer_digests(manifest: &Value) -> Vec<String> {
    manifest["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| l["digest"].as_str().expect("layer digest").to_owned())
        .collect()
}

/// The package names of an apk installed database (its `P:` lines), sorted.
fn installed_names(db: &str) -> BTreeSet<String> {
    db.lines()
        .filter_map(|l| l.strip_prefix("P:"))
        .map(str::to_owned)
        .collect()
}

/// The contents of `path` in a gzipped tar layer.
fn layer_file(layer: &[u8], path: &str) -> Vec<u8> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(layer));
    for entry in archive.entries().expect("layer is a tar") {
        let mut entry = entry.expect("tar entry");
        let name = entry
            .path()
            .expect("entry path")
            .to_string_lossy()
            .into_owned();
        if name.trim_start_matches("./") == path {
            let mut v = Vec::new();
            entry.read_to_end(&mut v).expect("read entry");
            return v;
        }
    }
    panic!("{path} is not in the layer");
}

/// `skopeo ARGS…` (must succeed), or `None` without skopeo.
fn skopeo(args: &[&str]) -> Option<Output> {
    let bin = rapko_test::require_tool("skopeo")?;
    Some(run_limited_ok(Command::new(bin).args(args), TOOL_LIMIT))
}

/// The one `REPO@sha256:…` line of a publish to one repository; checks its form.
fn single_ref(lines: &[String], repo: &str) -> String {
    assert_eq!(lines.len(), 1, "expected one reference, got {lines:?}");
    let digest = lines[0]
        .strip_prefix(&format!("{repo}@"))
        .unwrap_or_else(|| panic!("expected {repo}@sha256:…, got {:?}", lines[0]));
    assert!(
        digest.starts_with("sha256:")
            && digest.len() == 71
            && digest[7..].bytes().all(|b| b.is_ascii_hexdigit()),
        "bad digest in {:?}",
        lines[0]
    );
    digest.to_owned()
}

// ---------------------------------------------------------------------------------------
// Single-arch: exact bytes, pulled back intact, runs
// ---------------------------------------------------------------------------------------

#[test]
fn publish_pushes_the_exact_bytes_rapko_build_makes() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let case = Case::new();
    let config = case.config("base.yaml", ALPINE_BASE);
    let (layout, built) = case.build_layout(&config, "rapko/base:v1", "built", &[]);

    let repo = format!("{}/rapko/base", registry.addr());
    let lines = case.publish_ok(
        &config,
        &[&format!("{repo}:v1")],
        &["--build-date", BUILD_DATE],
    );
    let digest = single_ref(&lines, &repo);
    assert_eq!(
        digest, built,
        "publish and build of the same config and build date differ"
    );

    // The registry holds exactly rapko's manifest bytes, under the tag and the digest.
    let manifest_bytes = layout.blob(&digest);
    assert_eq!(sha256(&manifest_bytes), digest);
    assert_eq!(registry.manifest("rapko/base", "v1"), manifest_bytes);
    assert_eq!(registry.manifest("rapko/base", &digest), manifest_bytes);
    let manifest: Value = serde_json::from_slice(&manifest_bytes).expect("manifest JSON");
    assert_eq!(manifest["mediaType"], OCI_MANIFEST);
    // Config and layers too, byte for byte.
    let config_digest = manifest["config"]["digest"]
        .as_str()
        .expect("config digest");
    assert_eq!(
        registry.blob("rapko/base", config_digest),
        layout.blob(config_digest)
    );
    for layer in layer_digests(&manifest) {
        let bytes = registry.blob("rapko/base", &layer);
        assert_eq!(sha256(&bytes), layer);
        assert_eq!(bytes, layout.blob(&layer), "layer {layer} differs");
    }

    // skopeo sees the same bytes.
    let reference = format!("docker://{repo}:v1");
    let Some(raw) = skopeo(&["inspect", "--tls-verify=false", "--raw", &reference]) else {
        return;
    };
    assert_eq!(raw.stdout, manifest_bytes, "skopeo --raw differs");
    assert_eq!(sha256(&raw.stdout), digest);
    let raw_config = skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--config",
        "--raw",
        &reference,
    ])
    .expect("skopeo");
    assert_eq!(raw_config.stdout, layout.blob(config_digest));

    // Pulled back with digests checked, into a layout umoci accepts (digests, sizes, media
    // types and diff_ids), with the same manifest.
    let pulled = case.path("pulled");
    let dest = format!("oci:{}:v1", pulled.display());
    skopeo(&[
        "copy",
        "-q",
        "--src-tls-verify=false",
        "--preserve-digests",
        &reference,
        &dest,
    ])
    .expect("skopeo");
    let pulled_raw = skopeo(&["inspect", "--raw", &dest]).expect("skopeo");
    assert_eq!(pulled_raw.stdout, manifest_bytes);
    let bundle = case.path("bundle");
    if umoci_unpack(&pulled, "v1", &bundle).is_none() {
        return;
    }
    let rootfs = bundle.join("rootfs");
    let release = std::fs::read_to_string(rootfs.join("etc/alpine-release")).expect("release");
    assert!(release.starts_with("3.19"), "alpine-release is {release:?}");
    let db = std::fs::read_to_string(rootfs.join("lib/apk/db/installed")).expect("apk db");
    assert_eq!(installed_names(&db).len(), 25, "alpine-base is 25 packages");

    // And it runs.
    if let Some(out) = runc_run(&bundle, Some(&["/bin/sh", "-c", "echo boo!"])) {
        assert!(out.status.success(), "runc failed: {}", stderr(&out));
        assert_eq!(stdout(&out), "boo!\n");
    }
}

#[test]
fn podman_pulls_and_runs_the_pushed_image() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let Some(podman) = Podman::new() else {
        return;
    };
    let case = Case::new();
    let config = case.config("base.yaml", ALPINE_BASE);
    let repo = format!("{}/rapko/podman", registry.addr());
    let image = format!("{repo}:v1");
    let digest = single_ref(&case.publish_ok(&config, &[&image], &[]), &repo);

    run_limited_ok(
        podman
            .cmd()
            .args(["pull", "-q", "--tls-verify=false", &image]),
        TOOL_LIMIT,
    );
    let inspect = run_limited_ok(
        podman
            .cmd()
            .args(["image", "inspect", "--format", "{{.Digest}}", &image]),
        TOOL_LIMIT,
    );
    assert_eq!(
        stdout(&inspect).trim(),
        digest,
        "podman pulled another digest"
    );
    let out = podman.run(&image, &["/bin/sh", "-c", "echo boo!"]);
    assert!(out.status.success(), "podman run failed: {}", stderr(&out));
    assert_eq!(stdout(&out), "boo!\n");
}

/// `rapko build` names an image without a tag `:latest`, like docker, crane and apko; so
/// must `rapko publish`, or `apko publish cfg.yaml registry/app` scripts push nothing
/// pullable by tag.
#[test]
fn a_reference_without_tag_is_pushed_as_latest() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let case = Case::new();
    let config = case.config("base.yaml", ALPINE_BASE);
    let repo = format!("{}/rapko/notag", registry.addr());
    let digest = single_ref(
        &case.publish_ok(&config, &[&repo], &["--sbom=false"]),
        &repo,
    );
    assert_eq!(
        registry.tags("rapko/notag"),
        ["latest"],
        "a reference without tag should be tagged latest"
    );
    assert_eq!(sha256(&registry.manifest("rapko/notag", "latest")), digest);
}

/// A destination pinned by digest is pushed by digest only when it is the image's digest,
/// and refused, before anything is written, when it is not.
#[test]
fn a_reference_with_digest_must_name_the_image() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let case = Case::new();
    let config = case.config("base.yaml", ALPINE_BASE);
    let (_, built) = case.build_layout(&config, "x:v1", "built", &[]);
    let repo = format!("{}/rapko/pinned", registry.addr());

    let wrong = format!("{repo}@sha256:{}", "0".repeat(64));
    let out = case.publish(&config, &[&wrong], &["--build-date", BUILD_DATE]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&"0".repeat(64)) && err.contains(&built),
        "the error should name both digests: {err}"
    );
    assert!(stdout(&out).is_empty());
    assert!(!registry.has_repository("rapko/pinned"));

    let right = format!("{repo}@{built}");
    let lines = case.publish_ok(&config, &[&right], &["--build-date", BUILD_DATE]);
    assert_eq!(lines, std::slice::from_ref(&right));
    assert_eq!(sha256(&registry.manifest("rapko/pinned", &built)), built);
    let tags = registry.tags("rapko/pinned");
    assert!(
        tags.iter().all(|t| t.ends_with(".sbom")),
        "a push by digest should tag nothing but the SBOM: {tags:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Multi-arch
// ---------------------------------------------------------------------------------------

#[test]
fn multi_arch_publish_pushes_the_index_and_both_images() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let case = Case::new();
    let config = multi_arch_config(case.tmp.path());
    let (layout, built) = case.build_layout(&config, "rapko/multi:v1", "built", &[]);

    let repo = format!("{}/rapko/multi", registry.addr());
    let lines = case.publish_ok(
        &config,
        &[&format!("{repo}:v1")],
        &["--build-date", BUILD_DATE],
    );
    let digest = single_ref(&lines, &repo);
    assert_eq!(digest, built, "publish and build of the same config differ");

    // The index, exactly.
    let index_bytes = layout.blob(&digest);
    assert_eq!(registry.manifest("rapko/multi", "v1"), index_bytes);
    assert_eq!(sha256(&index_bytes), digest);
    let index: Value = serde_json::from_slice(&index_bytes).expect("index JSON");
    assert_eq!(index["mediaType"], OCI_INDEX);
    let entries = index["manifests"].as_array().expect("manifests");
    let archs: Vec<&str> = entries
        .iter()
        .map(|m| m["platform"]["architecture"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(archs, ["amd64", "arm64"]);

    // Both images, exactly, with their configs and layers.
    let mut layers_of = std::collections::BTreeMap::new();
    for entry in entries {
        let d = entry["digest"].as_str().expect("digest");
        let arch = entry["platform"]["architecture"].as_str().expect("arch");
        let bytes = registry.manifest("rapko/multi", d);
        assert_eq!(bytes, layout.blob(d), "{arch} manifest differs");
        assert_eq!(sha256(&bytes), d);
        let manifest = layout.blob_json(d);
        let config_digest = manifest["config"]["digest"].as_str().expect("config");
        let image_config: Value =
            serde_json::from_slice(&registry.blob("rapko/multi", config_digest)).expect("JSON");
        assert_eq!(image_config["architecture"], arch);
        for layer in layer_digests(&manifest) {
            assert_eq!(sha256(&registry.blob("rapko/multi", &layer)), layer);
        }
        layers_of.insert(arch.to_owned(), (d.to_owned(), layer_digests(&manifest)));
    }
    assert_ne!(layers_of["amd64"].1, layers_of["arm64"].1);
    // The arm64 image really is Alpine 3.7 for aarch64.
    let arm_layer = registry.blob("rapko/multi", &layers_of["arm64"].1[0]);
    let db = lossy(&layer_file(&arm_layer, "lib/apk/db/installed"));
    assert!(db.contains("\nA:aarch64\n") && !db.contains("\nA:x86_64\n"));

    // An SBOM tag for the index and for each image.
    let mut expected = vec!["v1".to_owned()];
    for d in [&digest, &layers_of["amd64"].0, &layers_of["arm64"].0] {
        expected.push(format!("sha256-{}.sbom", &d[7..]));
    }
    expected.sort();
    assert_eq!(registry.tags("rapko/multi"), expected);

    // skopeo picks the platform asked for.
    let reference = format!("docker://{repo}:v1");
    for arch in ["arm64", "amd64"] {
        let Some(out) = skopeo(&[
            "inspect",
            "--tls-verify=false",
            "--override-os",
            "linux",
            "--override-arch",
            arch,
            &reference,
        ]) else {
            return;
        };
        let info: Value = serde_json::from_slice(&out.stdout).expect("skopeo JSON");
        assert_eq!(info["Architecture"], arch);
        // skopeo's Digest is the one of what the tag names: the index.
        assert_eq!(info["Digest"], digest.as_str());
        assert_eq!(
            info["Layers"],
            serde_json::json!(layers_of[arch].1),
            "skopeo picked the wrong image for {arch}"
        );
    }

    // All of it pulls back with digests preserved, and the arm64 image unpacks.
    let pulled = case.path("pulled");
    let dest = format!("oci:{}:multi", pulled.display());
    skopeo(&[
        "copy",
        "-q",
        "--all",
        "--src-tls-verify=false",
        "--preserve-digests",
        &reference,
        &dest,
    ])
    .expect("skopeo");
    let raw = skopeo(&["inspect", "--raw", &dest]).expect("skopeo");
    assert_eq!(raw.stdout, index_bytes);
    let arm = case.path("pulled-arm64");
    let arm_dest = format!("oci:{}:arm64", arm.display());
    skopeo(&[
        "copy",
        "-q",
        "--src-tls-verify=false",
        "--preserve-digests",
        &format!("docker://{repo}@{}", layers_of["arm64"].0),
        &arm_dest,
    ])
    .expect("skopeo");
    let bundle = case.path("bundle-arm64");
    if umoci_unpack(&arm, "arm64", &bundle).is_some() {
        let busybox = std::fs::read(bundle.join("rootfs/bin/busybox")).expect("busybox");
        // e_machine 183 = EM_AARCH64.
        assert_eq!(u16::from_le_bytes([busybox[18], busybox[19]]), 183);
    }
}

// ---------------------------------------------------------------------------------------
// SBOMs
// ---------------------------------------------------------------------------------------

#[test]
fn sboms_are_attached_by_subject_and_by_tag() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let case = Case::new();
    let config = case.config("base.yaml", ALPINE_BASE);
    let repo = format!("{}/rapko/sbom", registry.addr());
    let sbom_dir = case.path("sboms");
    let lines = case.publish_ok(
        &config,
        &[&format!("{repo}:v1")],
        &["--sbom-path", sbom_dir.to_str().expect("utf-8 path")],
    );
    let digest = single_ref(&lines, &repo);
    let image_bytes = registry.manifest("rapko/sbom", &digest);
    let image: Value = serde_json::from_slice(&image_bytes).expect("JSON");

    // The fallback tag names an artifact manifest whose subject is the image.
    let sbom_tag = format!("sha256-{}.sbom", &digest[7..]);
    assert_eq!(registry.tags("rapko/sbom"), [sbom_tag.clone(), "v1".into()]);
    let artifact_bytes = registry.manifest("rapko/sbom", &sbom_tag);
    let artifact: Value = serde_json::from_slice(&artifact_bytes).expect("JSON");
    assert_eq!(artifact["mediaType"], OCI_MANIFEST);
    assert_eq!(artifact["artifactType"], SPDX_JSON);
    assert_eq!(
        artifact["subject"],
        serde_json::json!({
            "mediaType": OCI_MANIFEST,
            "digest": digest,
            "size": image_bytes.len(),
        }),
        "the SBOM's subject is not the pushed image"
    );
    assert_eq!(artifact["config"]["mediaType"], OCI_EMPTY);
    let empty_digest = artifact["config"]["digest"].as_str().expect("digest");
    assert_eq!(registry.blob("rapko/sbom", empty_digest), b"{}");
    let layers = artifact["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0]["mediaType"], SPDX_JSON);
    let spdx_digest = layers[0]["digest"].as_str().expect("digest");
    let spdx = registry.blob("rapko/sbom", spdx_digest);
    assert_eq!(sha256(&spdx), spdx_digest);
    assert_eq!(layers[0]["size"], spdx.len());

    // --sbom-path wrote the very documents that were pushed.
    let mut written: Vec<PathBuf> = std::fs::read_dir(&sbom_dir)
        .expect("--sbom-path dir")
        .map(|e| e.expect("entry").path())
        .collect();
    written.sort();
    let spdx_file = written
        .iter()
        .find(|p| p.to_string_lossy().ends_with(".spdx.json"))
        .unwrap_or_else(|| panic!("no .spdx.json in {written:?}"));
    assert_eq!(std::fs::read(spdx_file).expect("read"), spdx);
    let cdx_file = written
        .iter()
        .find(|p| p.to_string_lossy().ends_with(".cdx.json"))
        .unwrap_or_else(|| panic!("no .cdx.json in {written:?}"));
    let cdx = std::fs::read(cdx_file).expect("read");
    assert_eq!(
        registry.blob("rapko/sbom", &sha256(&cdx)),
        cdx,
        "the CycloneDX SBOM was not pushed"
    );

    // The SPDX document is valid, describes this image and lists exactly its packages.
    let doc: Value = serde_json::from_slice(&spdx).expect("SPDX JSON");
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    assert!(
        lossy(&spdx).contains(&digest[7..]),
        "the SBOM does not mention the image digest"
    );
    let purl_names: BTreeSet<String> = doc["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| {
            p["externalRefs"].as_array().is_some_and(|refs| {
                refs.iter().any(|r| {
                    r["referenceLocator"]
                        .as_str()
                        .is_some_and(|l| l.starts_with("pkg:apk/alpine/"))
                })
            })
        })
        .map(|p| p["name"].as_str().expect("name").to_owned())
        .collect();
    let layer = registry.blob("rapko/sbom", &layer_digests(&image)[0]);
    let installed = installed_names(&lossy(&layer_file(&layer, "lib/apk/db/installed")));
    assert_eq!(installed.len(), 25);
    assert_eq!(purl_names, installed, "SBOM packages vs the image's apk db");
    let file = case.path("pushed.spdx.json");
    std::fs::write(&file, &spdx).expect("write");
    if let Some(tool) = rapko_test::require_tool("/tmp/rapko-venv/bin/pyspdxtools") {
        run_limited_ok(Command::new(tool).arg("-i").arg(&file), TOOL_LIMIT);
    }
    if let Some(tool) = rapko_test::require_tool("/tmp/rapko-venv/bin/check-jsonschema") {
        let schema = rapko_test::fixtures().join("../schemas/spdx-schema-2.3.json");
        run_limited_ok(
            Command::new(tool)
                .arg("--schemafile")
                .arg(schema)
                .arg(&file),
            TOOL_LIMIT,
        );
    }

    // --sbom=false pushes the same image and no SBOM.
    let bare = format!("{}/rapko/bare", registry.addr());
    let lines = case.publish_ok(&config, &[&format!("{bare}:v1")], &["--sbom=false"]);
    assert_eq!(single_ref(&lines, &bare), digest);
    assert_eq!(registry.tags("rapko/bare"), ["v1"]);

    // CycloneDX alone still gets the fallback tag.
    let cdx_repo = format!("{}/rapko/cdx", registry.addr());
    case.publish_ok(
        &config,
        &[&format!("{cdx_repo}:v1")],
        &["--sbom-formats", "cyclonedx"],
    );
    let artifact: Value =
        serde_json::from_slice(&registry.manifest("rapko/cdx", &sbom_tag)).expect("JSON");
    assert_eq!(artifact["artifactType"], CYCLONEDX_JSON);
    assert_eq!(artifact["subject"]["digest"], digest.as_str());
    let cdx_doc: Value = serde_json::from_slice(&registry.blob(
        "rapko/cdx",
        artifact["layers"][0]["digest"].as_str().expect("digest"),
    ))
    .expect("CycloneDX JSON");
    assert_eq!(cdx_doc["bomFormat"], "CycloneDX");
}

// ---------------------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------------------

#[test]
fn login_publish_logout_with_basic_auth() {
    const USER: &str = "rapko-user";
    const PASSWORD: &str = "s3cret-Pa55w0rd";
    const WRONG: &str = "wr0ng-Pa55w0rd";
    let Some(registry) = Registry::start_with_htpasswd(USER, PASSWORD) else {
        return;
    };
    let case = Case::new();
    let config = case.config("base.yaml", ALPINE_BASE);
    let addr = registry.addr();
    let repo = format!("{addr}/rapko/private");
    let no_secret = |out: &Output| {
        for text in [stdout(out), stderr(out)] {
            assert!(
                !text.contains(PASSWORD) && !text.contains(WRONG),
                "a password was printed: {text}"
            );
        }
    };

    // Someone else's login and settings, which rapko must keep.
    let seeded = serde_json::json!({
        "auths": {"other.example": {"auth": base64(b"other:secret")}},
        "psFormat": "table {{.ID}}",
    });
    let seeded_text = serde_json::to_string_pretty(&seeded).expect("json");
    std::fs::write(case.docker_config_json(), &seeded_text).expect("seed config.json");

    // Not logged in: a clear refusal naming the registry and saying to log in; nothing
    // pushed.
    let out = case.publish(&config, &[&format!("{repo}:v1")], &[]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&addr) && err.contains(&format!("rapko login {addr}")),
        "unclear message without credentials: {err}"
    );
    assert!(stdout(&out).is_empty());
    assert!(!registry.has_repository("rapko/private"));

    // A wrong password: login fails clearly and stores nothing.
    let out = case.login(&addr, USER, WRONG);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&addr) && err.contains(USER) && err.contains("password"),
        "unclear message for a wrong password: {err}"
    );
    no_secret(&out);
    assert_eq!(
        std::fs::read_to_string(case.docker_config_json()).expect("config.json"),
        seeded_text,
        "a failed login changed config.json"
    );

    // The right one: stored the way docker does, private, the rest kept.
    let out = case.login(&addr, USER, PASSWORD);
    assert!(out.status.success(), "login failed: {}", stderr(&out));
    no_secret(&out);
    let stored: Value =
        serde_json::from_slice(&std::fs::read(case.docker_config_json()).expect("read"))
            .expect("config.json is JSON");
    assert_eq!(
        stored["auths"][addr.as_str()]["auth"],
        base64(format!("{USER}:{PASSWORD}").as_bytes())
    );
    assert_eq!(
        stored["auths"]["other.example"],
        seeded["auths"]["other.example"]
    );
    assert_eq!(stored["psFormat"], seeded["psFormat"]);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(case.docker_config_json())
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o077,
        0,
        "config.json is readable by others: {mode:o}"
    );

    // Now publish works, and skopeo reads it with the same login.
    let lines = case.publish_ok(&config, &[&format!("{repo}:v1")], &[]);
    let digest = single_ref(&lines, &repo);
    let authfile = case.docker_config_json();
    if let Some(raw) = skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--raw",
        "--authfile",
        authfile.to_str().expect("utf-8"),
        &format!("docker://{repo}:v1"),
    ]) {
        assert_eq!(sha256(&raw.stdout), digest);
    }

    // A second, wrong login fails and keeps the good credentials.
    let before = std::fs::read(case.docker_config_json()).expect("read");
    let out = case.login(&addr, USER, WRONG);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    no_secret(&out);
    assert_eq!(
        std::fs::read(case.docker_config_json()).expect("read"),
        before
    );

    // Wrong credentials in the config: publish names the user and the registry.
    let mut bad = stored.clone();
    bad["auths"][addr.as_str()]["auth"] = base64(format!("{USER}:{WRONG}").as_bytes()).into();
    std::fs::write(
        case.docker_config_json(),
        serde_json::to_vec(&bad).expect("json"),
    )
    .expect("write");
    let out = case.publish(&config, &[&format!("{repo}:v2")], &[]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&addr) && err.contains(USER) && err.contains(&format!("rapko login {addr}")),
        "unclear message for rejected credentials: {err}"
    );
    no_secret(&out);
    std::fs::write(case.docker_config_json(), &before).expect("restore");

    // Logout forgets this registry only; publishing is refused again.
    let out = case.logout(&addr);
    assert!(out.status.success(), "logout failed: {}", stderr(&out));
    let after: Value =
        serde_json::from_slice(&std::fs::read(case.docker_config_json()).expect("read"))
            .expect("JSON");
    assert!(
        after["auths"].get(addr.as_str()).is_none(),
        "logout left the credentials: {after}"
    );
    assert_eq!(
        after["auths"]["other.example"],
        seeded["auths"]["other.example"]
    );
    assert_eq!(after["psFormat"], seeded["psFormat"]);
    let out = case.publish(&config, &[&format!("{repo}:v3")], &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "publish after logout: {}",
        stderr(&out)
    );
    assert!(stderr(&out).contains(&format!("rapko login {addr}")));
    // Logging out twice is not an error (docker's behaviour).
    let out = case.logout(&addr);
    assert!(out.status.success(), "second logout: {}", stderr(&out));
}

/// `rapko login` into a DOCKER_CONFIG directory that does not exist yet creates it; a URL
/// form of the registry is stored under its host, where publish finds it.
#[test]
fn login_creates_the_docker_config_and_accepts_a_url() {
    let Some(registry) = Registry::start_with_htpasswd("u", "pw-123456") else {
        return;
    };
    let case = Case::new();
    std::fs::remove_dir_all(case.docker_config()).expect("remove docker dir");
    let config = case.config("base.yaml", ALPINE_BASE);
    let addr = registry.addr();
    let out = case.login(&format!("http://{addr}/"), "u", "pw-123456");
    assert!(out.status.success(), "login failed: {}", stderr(&out));
    let stored: Value =
        serde_json::from_slice(&std::fs::read(case.docker_config_json()).expect("created"))
            .expect("JSON");
    assert_eq!(
        stored["auths"][addr.as_str()]["auth"],
        base64(b"u:pw-123456")
    );
    let repo = format!("{addr}/rapko/url");
    single_ref(
        &case.publish_ok(&config, &[&format!("{repo}:v1")], &[]),
        &repo,
    );
}

// ---------------------------------------------------------------------------------------
// Pushing again, several references, --image-refs
// ---------------------------------------------------------------------------------------

/// Requests that write something to the registry.
fn writes(requests: &[(String, String, u16)]) -> Vec<String> {
    requests
        .iter()
        .filter(|(m, _, _)| matches!(m.as_str(), "POST" | "PUT" | "PATCH" | "DELETE"))
        .map(|(m, p, s)| format!("{m} {p} {s}"))
        .collect()
}

#[test]
fn pushing_the_same_image_again_uploads_nothing() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let case = Case::new();
    let config = case.config("base.yaml", ALPINE_BASE);
    let repo = format!("{}/rapko/again", registry.addr());
    let first = case.publish(&config, &[&format!("{repo}:v1")], &["-v"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let uploads = registry
        .requests()
        .iter()
        .filter(|(m, p, _)| m == "POST" && p.contains("/blobs/uploads/"))
        .count();
    assert!(uploads >= 3, "the first push uploaded only {uploads} blobs");
    let seen = registry.requests().len();

    // Again: the same output, and not one write.
    let second = case.publish(&config, &[&format!("{repo}:v1")], &["-v"]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(stdout(&second), stdout(&first));
    let requests = registry.requests();
    let new = &requests[seen..];
    assert!(!new.is_empty(), "the access log shows no requests");
    assert_eq!(writes(new), Vec::<String>::new(), "the second push wrote");
    let err = stderr(&second);
    assert!(
        err.contains("pushed 0 blobs (0 bytes)") && err.contains("0 manifests"),
        "-v should report nothing pushed: {err}"
    );

    // A new tag of the same image: one manifest PUT (the tag), no blob.
    let seen = requests.len();
    let third = case.publish(&config, &[&format!("{repo}:v2")], &["-v"]);
    assert!(third.status.success(), "{}", stderr(&third));
    assert_eq!(
        stdout(&third),
        stdout(&first),
        "same image, same reference printed"
    );
    let requests = registry.requests();
    assert_eq!(
        writes(&requests[seen..]),
        ["PUT /v2/rapko/again/manifests/v2 201".to_owned()]
    );
}

#[test]
fn several_references_and_the_image_refs_file() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let case = Case::new();
    let config = case.config("base.yaml", ALPINE_BASE);
    let addr = registry.addr();
    let refs_file = case.path("out/image-refs.txt");
    std::fs::create_dir_all(refs_file.parent().expect("parent")).expect("mkdir");
    let refs = [
        format!("{addr}/rapko/one:a"),
        format!("{addr}/rapko/one:b"),
        format!("{addr}/rapko/two:c"),
    ];
    let ref_args: Vec<&str> = refs.iter().map(String::as_str).collect();
    let out = case.publish(
        &config,
        &ref_args,
        &["--image-refs", refs_file.to_str().expect("utf-8")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let printed: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    let file = std::fs::read_to_string(&refs_file).expect("--image-refs file");
    assert!(
        file.ends_with('\n'),
        "the file should end with a newline: {file:?}"
    );
    let listed: Vec<String> = file.lines().map(str::to_owned).collect();
    assert_eq!(listed, printed, "--image-refs and stdout differ");
    // One line per repository, each pinned by digest, all the same image.
    assert_eq!(listed.len(), 2, "{listed:?}");
    let digest = single_ref(&listed[..1], &format!("{addr}/rapko/one"));
    assert_eq!(listed[1], format!("{addr}/rapko/two@{digest}"));

    // Every tag resolves to that digest.
    for (repository, tag) in [("rapko/one", "a"), ("rapko/one", "b"), ("rapko/two", "c")] {
        assert_eq!(
            sha256(&registry.manifest(repository, tag)),
            digest,
            "{repository}:{tag}"
        );
    }
    if let Some(out) = skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--raw",
        &format!("docker://{}", refs[1]),
    ]) {
        assert_eq!(sha256(&out.stdout), digest);
    }

    // The second repository got its blobs by mounting, not by uploading them again.
    let requests = registry.requests();
    let uploads_to_two: Vec<&(String, String, u16)> = requests
        .iter()
        .filter(|(m, p, _)| {
            matches!(m.as_str(), "PATCH" | "PUT") && p.starts_with("/v2/rapko/two/blobs/uploads/")
        })
        .collect();
    assert!(
        uploads_to_two.is_empty(),
        "blobs uploaded again to the second repository: {uploads_to_two:?}"
    );
}

// ---------------------------------------------------------------------------------------
// No registry
// ---------------------------------------------------------------------------------------

#[test]
fn an_unreachable_registry_fails_clearly_and_soon() {
    let case = Case::new();
    let config = case.config("base.yaml", ALPINE_BASE);
    // Warm the layer cache, so the time measured is the push's.
    case.build_layout(&config, "x:v1", "warm", &[]);

    // A closed port.
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let start = Instant::now();
    let out = case.publish(
        &config,
        &[&format!("{addr}/rapko/down:v1")],
        &["--build-date", BUILD_DATE],
    );
    let took = start.elapsed();
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&addr) && err.contains("cannot reach"),
        "unclear message for a closed port: {err}"
    );
    assert!(stdout(&out).is_empty());
    assert!(took < Duration::from_secs(30), "took {took:?} to give up");

    // A port that accepts and hangs up at once.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = std::sync::Arc::clone(&stop);
    let acceptor = std::thread::spawn(move || {
        for conn in listener.incoming() {
            if stop2.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            drop(conn);
        }
    });
    struct Stop(std::sync::Arc<std::sync::atomic::AtomicBool>, u16);
    impl Drop for Stop {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
            let _ = TcpStream::connect(("127.0.0.1", self.1));
        }
    }
    let stopper = Stop(stop, port);
    let addr = format!("127.0.0.1:{port}");
    let start = Instant::now();
    let out = case.publish(
        &config,
        &[&format!("{addr}/rapko/hangup:v1")],
        &["--build-date", BUILD_DATE],
    );
    let took = start.elapsed();
    drop(stopper);
    let _ = acceptor.join();
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    assert!(
        stderr(&out).contains(&addr),
        "the error should name the registry: {}",
        stderr(&out)
    );
    assert!(took < Duration::from_secs(30), "took {took:?} to give up");

    // Login to a closed port fails the same way and stores nothing.
    let port = free_port();
    let out = case.login(&format!("127.0.0.1:{port}"), "u", "p");
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains(&format!("127.0.0.1:{port}")));
    assert!(!case.docker_config_json().exists());
}
