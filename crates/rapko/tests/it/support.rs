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
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
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
        .args(["--setenv", "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
        .args(argv);
    Some(cmd.output().expect("run bwrap"))
}
