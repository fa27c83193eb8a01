//! Shared helpers: run the binary, locate fixtures, unpack and run images with real tools.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `rapko` binary under test, with a private cache dir and no inherited build-time
/// variables, so tests do not depend on the caller's environment.
pub fn rapko(cache: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rapko"));
    cmd.env("RAPKO_CACHE_DIR", cache)
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("HTTP_AUTH")
        .env("NO_COLOR", "1");
    cmd
}

/// The workspace root (the directory the README's commands run in).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fixture(rel: &str) -> PathBuf {
    rapko_test::fixture(rel)
}

/// Runs a command, panicking with its output when it fails.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Writes a config file into `dir` with fixture paths made absolute (configs name
/// repositories relative to the working directory, as apko does).
pub fn write_config(dir: &Path, name: &str, yaml: &str) -> PathBuf {
    let fixtures = rapko_test::fixtures();
    let text = yaml.replace("FIXTURES", &fixtures.display().to_string());
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write config");
    path
}

/// The alpine-base config used by many tests (x86_64, alpine-3.19/main).
pub const ALPINE_BASE: &str = "
contents:
  keyring:
    - FIXTURES/keys/alpine/alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub
  repositories:
    - FIXTURES/alpine-3.19/main
  packages:
    - alpine-base
archs: [x86_64]
";

/// Runs `argv` inside `rootfs` with bwrap (no network, private /tmp). `None` when bwrap is
/// missing and tools are not required.
pub fn bwrap(rootfs: &Path, argv: &[&str]) -> Option<Output> {
    let bwrap = rapko_test::require_tool("bwrap")?;
    let mut cmd = Command::new(bwrap);
    cmd.arg("--bind")
        .arg(rootfs)
        .args(["/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"])
        .args(["--unshare-all", "--die-with-parent", "--clearenv"])
        .args([
            "--setenv",
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ])
        .args(argv);
    Some(cmd.output().expect("run bwrap"))
}

// ---------------------------------------------------------------------------------------
// Running external tools safely: time limits, kill-on-drop, private state directories.
// ---------------------------------------------------------------------------------------

/// Kills (and reaps) a child process when dropped, so a failing test never leaves one behind.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// Runs `cmd` (stdin closed, output captured) for at most `limit`; kills it and panics when it
/// runs over. Use for every external tool that could hang (runc, podman, skopeo…).
pub fn run_limited(cmd: &mut Command, limit: std::time::Duration) -> Output {
    use std::io::Read;
    use std::process::Stdio;
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let mut guard = KillOnDrop(child);
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
    let start = std::time::Instant::now();
    let status = loop {
        match guard.0.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > limit => {
                drop(guard);
                panic!("{cmd:?} did not finish within {limit:?}; killed it");
            }
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(10)),
            Err(e) => panic!("cannot wait for {cmd:?}: {e}"),
        }
    };
    Output {
        status,
        stdout: out_thread.join().unwrap_or_default(),
        stderr: err_thread.join().unwrap_or_default(),
    }
}

/// [`run_limited`] that panics with the command's output unless it succeeds.
pub fn run_limited_ok(cmd: &mut Command, limit: std::time::Duration) -> Output {
    let out = run_limited(cmd, limit);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Two minutes: far more than any tool needs here, short enough to notice a hang.
pub const TOOL_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// A unique name for containers and the like: pid + a counter.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// `umoci unpack --image LAYOUT:TAG BUNDLE` (checks digests, sizes, media types and diff_ids).
/// `None` when umoci is missing and tools are not required.
pub fn umoci_unpack(layout: &Path, tag: &str, bundle: &Path) -> Option<()> {
    let umoci = rapko_test::require_tool("umoci")?;
    let mut image = layout.as_os_str().to_owned();
    image.push(format!(":{tag}"));
    run_limited_ok(
        Command::new(umoci)
            .arg("unpack")
            .arg("--image")
            .arg(image)
            .arg(bundle),
        TOOL_LIMIT,
    );
    Some(())
}

/// Runs an unpacked bundle (from [`umoci_unpack`]) with `runc run`, with `args` in place of
/// the image's when given, no terminal, and runc's state in a private directory. The
/// container is deleted afterwards, whatever happens. `None` when runc is missing.
pub fn runc_run(bundle: &Path, args: Option<&[&str]>) -> Option<Output> {
    let runc = rapko_test::require_tool("runc")?;
    let config_path = bundle.join("config.json");
    let text = std::fs::read(&config_path).expect("read the bundle's config.json");
    let mut config: serde_json::Value = serde_json::from_slice(&text).expect("config.json is JSON");
    config["process"]["terminal"] = serde_json::Value::Bool(false);
    if let Some(args) = args {
        config["process"]["args"] = serde_json::json!(args);
    }
    std::fs::write(
        &config_path,
        serde_json::to_vec_pretty(&config).expect("json"),
    )
    .expect("write config.json");
    let state = bundle.with_extension("runc-state");
    std::fs::create_dir_all(&state).expect("create runc state dir");
    struct Delete<'a>(&'a Path, &'a Path, String);
    impl Drop for Delete<'_> {
        fn drop(&mut self) {
            let _ = Command::new(self.0)
                .arg("--root")
                .arg(self.1)
                .args(["delete", "--force", &self.2])
                .output();
        }
    }
    let id = unique_name("rapko-it");
    let _delete = Delete(&runc, &state, id.clone());
    Some(run_limited(
        Command::new(&runc)
            .arg("--root")
            .arg(&state)
            .arg("run")
            .arg("--bundle")
            .arg(bundle)
            .arg(&id),
        TOOL_LIMIT,
    ))
}

/// A podman with its storage, configuration and temporary files in a private directory
/// (vfs storage, runc, no network, low ulimits: see TOOLS.md). Dropping it removes any
/// container left behind, then the directory.
pub struct Podman {
    bin: PathBuf,
    dir: tempfile::TempDir,
}

impl Podman {
    /// `None` when podman or runc is missing and tools are not required.
    pub fn new() -> Option<Podman> {
        let bin = rapko_test::require_tool("podman")?;
        rapko_test::require_tool("runc")?;
        let dir = tempfile::tempdir().expect("temp dir for podman");
        let root = dir.path();
        for d in ["root", "run", "tmp", "engine-tmp"] {
            std::fs::create_dir_all(root.join(d)).expect("podman dirs");
        }
        std::fs::write(
            root.join("containers.conf"),
            format!(
                "[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n\
                 netns = \"none\"\n[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\n\
                 events_logger = \"file\"\nevents_logfile_path = \"{0}/events.log\"\n\
                 tmp_dir = \"{0}/engine-tmp\"\n",
                root.display()
            ),
        )
        .expect("write containers.conf");
        std::fs::write(
            root.join("storage.conf"),
            format!(
                "[storage]\ndriver = \"vfs\"\ngraphroot = \"{0}/root\"\nrunroot = \"{0}/run\"\n",
                root.display()
            ),
        )
        .expect("write storage.conf");
        Some(Podman { bin, dir })
    }

    /// `podman ARGS…` with this instance's configuration.
    pub fn cmd(&self) -> Command {
        let root = self.dir.path();
        let mut cmd = Command::new(&self.bin);
        cmd.env("CONTAINERS_CONF", root.join("containers.conf"))
            .env("CONTAINERS_STORAGE_CONF", root.join("storage.conf"))
            .env("TMPDIR", root.join("tmp"))
            .env_remove("CONTAINER_HOST")
            .env_remove("DOCKER_HOST");
        cmd
    }

    /// `podman load -i TARBALL`; returns podman's stdout (the "Loaded image: …" lines).
    pub fn load(&self, tarball: &Path) -> String {
        stdout(&run_limited_ok(
            self.cmd().arg("load").arg("-i").arg(tarball),
            TOOL_LIMIT,
        ))
    }

    /// `podman run --rm --pull never --network none IMAGE ARGS…` (not checked for success).
    pub fn run(&self, image: &str, args: &[&str]) -> Output {
        run_limited(
            self.cmd()
                .args(["run", "--rm", "--pull", "never", "--network", "none", image])
                .args(args),
            TOOL_LIMIT,
        )
    }

    /// The `REPOSITORY:TAG` of every image in this podman's storage, sorted.
    pub fn image_names(&self) -> Vec<String> {
        let out = run_limited_ok(
            self.cmd()
                .args(["images", "--format", "{{.Repository}}:{{.Tag}}"]),
            TOOL_LIMIT,
        );
        let mut names: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
        names.sort();
        names
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = run_limited(
            self.cmd().args(["rm", "--all", "--force", "--time", "0"]),
            TOOL_LIMIT,
        );
    }
}

/// Validates `file` against one of the OCI image-spec JSON schemas (`image-manifest-schema.json`,
/// `image-index-schema.json`, `config-schema.json`, `image-layout-schema.json`) with
/// check-jsonschema from /tmp/rapko-venv. `None` when the validator or schemas are missing.
pub fn check_oci_schema(schema: &str, file: &Path) -> Option<()> {
    let tool = rapko_test::require_tool("/tmp/rapko-venv/bin/check-jsonschema")?;
    let dir = Path::new("/usr/share/gocode/src/github.com/opencontainers/image-spec/schema");
    if !dir.join(schema).is_file() {
        assert!(
            !rapko_test::tools_required(),
            "{} is required (RAPKO_REQUIRE_TOOLS=1); install golang-github-opencontainers-image-spec-dev",
            dir.join(schema).display()
        );
        eprintln!("skipping: {} not found", dir.join(schema).display());
        return None;
    }
    run_limited_ok(
        Command::new(tool)
            .arg("--base-uri")
            .arg(format!("file://{}/", dir.display()))
            .arg("--schemafile")
            .arg(dir.join(schema))
            .arg(file),
        TOOL_LIMIT,
    );
    Some(())
}

/// A two-architecture repository in `dir` — x86_64 from alpine-3.19/main and aarch64 from
/// alpine-3.7/main, symlinked as the arch directories of ONE repository — and the path of
/// a config (`multi.yaml`) that builds alpine-base for both, trusting every Alpine key.
pub fn multi_arch_config(dir: &Path) -> PathBuf {
    let repo = dir.join("multi-repo");
    std::fs::create_dir_all(&repo).expect("create multi-repo");
    std::os::unix::fs::symlink(fixture("alpine-3.19/main/x86_64"), repo.join("x86_64"))
        .expect("symlink x86_64");
    std::os::unix::fs::symlink(fixture("alpine-3.7/main/aarch64"), repo.join("aarch64"))
        .expect("symlink aarch64");
    let mut keys: Vec<PathBuf> = std::fs::read_dir(fixture("keys/alpine"))
        .expect("keys dir")
        .map(|e| e.expect("entry").path())
        .collect();
    keys.sort();
    assert!(
        keys.len() > 10,
        "expected all the Alpine keys, found {keys:?}"
    );
    let mut yaml = String::from("contents:\n  keyring:\n");
    for k in &keys {
        yaml.push_str(&format!("    - {}\n", k.display()));
    }
    yaml.push_str(&format!(
        "  repositories:\n    - {}\n  packages:\n    - alpine-base\narchs: [x86_64, aarch64]\n",
        repo.display()
    ));
    write_config(dir, "multi.yaml", &yaml)
}
