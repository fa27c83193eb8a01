//! Tests of `rapko build-minirootfs` (issue 5: the root filesystem, packages installed exactly
//! as apk would, without running anything). The tarball is unpacked and used with bwrap: the
//! image's own busybox, apk and glibc loader are the judges. Tools that are missing skip the
//! test (or fail it under RAPKO_REQUIRE_TOOLS=1).

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{
    ALPINE_BASE, TOOL_LIMIT, bwrap, fixture, rapko, run_limited, run_ok, stderr, stdout,
    write_config,
};

/// Builds the minirootfs of `yaml` and unpacks it into `dir/rootfs`; `None` when GNU tar
/// (the unpacker) is missing and tools are not required.
fn minirootfs(dir: &Path, yaml: &str) -> Option<PathBuf> {
    let config = write_config(dir, "config.yaml", yaml);
    let tarball = dir.join("rootfs.tar.gz");
    run_ok(
        rapko(&dir.join("cache"))
            .arg("build-minirootfs")
            .arg(&config)
            .arg(&tarball),
    );
    unpack(&tarball, &dir.join("rootfs"))
}

/// Unpacks a `.tar.gz` with GNU tar, keeping modes, xattrs and numeric owners (owners only
/// when we are root, as in CI).
fn unpack(tarball: &Path, into: &Path) -> Option<PathBuf> {
    let tar = rapko_test::require_tool("tar")?;
    std::fs::create_dir_all(into).expect("create the rootfs dir");
    run_ok(
        Command::new(tar)
            .args(["--numeric-owner", "--xattrs", "--xattrs-include=*", "-xzpf"])
            .arg(tarball)
            .arg("-C")
            .arg(into),
    );
    Some(into.to_owned())
}

fn running_as_root(dir: &Path) -> bool {
    std::fs::metadata(dir).is_ok_and(|m| m.uid() == 0)
}

/// `sh -c script` in the rootfs with `extra` bwrap arguments (binds) before it.
fn sh(rootfs: &Path, extra: &[&str], script: &str) -> Option<Output> {
    let bwrap = rapko_test::require_tool("bwrap")?;
    let mut cmd = Command::new(bwrap);
    cmd.arg("--bind")
        .arg(rootfs)
        .args(["/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"])
        .args(["--unshare-all", "--die-with-parent", "--clearenv"])
        .args(["--setenv", "PATH", "/usr/sbin:/usr/bin:/sbin:/bin"])
        .args(extra)
        .args(["/bin/sh", "-c", script]);
    Some(run_limited(&mut cmd, TOOL_LIMIT))
}

fn sh_ok(rootfs: &Path, extra: &[&str], script: &str) -> Option<String> {
    let out = sh(rootfs, extra, script)?;
    assert!(
        out.status.success(),
        "`{script}` failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        stdout(&out),
        stderr(&out)
    );
    Some(stdout(&out))
}

/// The fixture repository, for binding into the image read-only at `/repo`.
fn repo_bind() -> [String; 3] {
    [
        "--ro-bind".to_owned(),
        fixture("alpine-3.19/main").display().to_string(),
        "/repo".to_owned(),
    ]
}

#[test]
fn alpine_base_runs_and_its_apk_database_is_apks_own() {
    let dir = tempfile::tempdir().unwrap();
    let Some(root) = minirootfs(dir.path(), ALPINE_BASE) else {
        return;
    };
    let Some(out) = bwrap(&root, &["/bin/sh", "-c", "echo boo!"]) else {
        return;
    };
    assert_eq!(stdout(&out), "boo!\n", "{}", stderr(&out));

    // apk lists what rapko resolved, no more, no less.
    let config = write_config(dir.path(), "show.yaml", ALPINE_BASE);
    let resolved = stdout(&run_ok(
        rapko(&dir.path().join("cache"))
            .arg("show-packages")
            .arg(&config),
    ));
    let resolved: BTreeSet<String> = resolved
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    let listed = sh_ok(&root, &[], "apk info -v").unwrap();
    let listed: BTreeSet<String> = listed.lines().map(str::to_owned).collect();
    assert_eq!(listed.len(), 25, "{listed:?}");
    assert_eq!(listed, resolved, "apk info -v against rapko show-packages");

    // Every file apk knows is as the database says: no line at all.
    let audit = sh(&root, &[], "apk audit --system").unwrap();
    assert!(audit.status.success(), "{}", stderr(&audit));
    assert_eq!(stdout(&audit), "", "apk audit --system reported changes");
    // In the protected paths (/etc), only apk's own files no package owns: world, arch,
    // repositories and keys, which apk-tools lists the same way for a root it made itself.
    let audit = sh_ok(&root, &[], "apk audit 2>/dev/null").unwrap();
    assert!(audit.contains("A etc/apk/world\n"), "{audit}");
    for line in audit.lines() {
        assert!(
            line.starts_with("A etc/apk/"),
            "unexpected `{line}` in:\n{audit}"
        );
    }

    // The packages the image was built from verify with the image's own keys.
    let files: Vec<String> = listed
        .iter()
        .map(|p| format!("/repo/x86_64/{p}.apk"))
        .collect();
    let bind = repo_bind();
    let binds: Vec<&str> = bind.iter().map(String::as_str).collect();
    let verify = sh_ok(&root, &binds, &format!("apk verify {}", files.join(" "))).unwrap();
    assert_eq!(verify.matches(" - OK").count(), 25, "{verify}");
}

/// `python3 -m http.server` on a free loopback port, killed when dropped.
struct HttpServer {
    _child: crate::support::KillOnDrop,
    port: u16,
}

impl HttpServer {
    /// `None` when python3 is missing and tools are not required.
    fn serve(dir: &Path) -> Option<HttpServer> {
        let python = rapko_test::require_tool("python3")?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free loopback port");
        let child = Command::new(python)
            .args([
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                &port.to_string(),
            ])
            .arg("--directory")
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start python3 -m http.server");
        let server = HttpServer {
            _child: crate::support::KillOnDrop(child),
            port,
        };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(server);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("python3 -m http.server did not listen on 127.0.0.1:{port}");
    }
}

#[test]
fn the_cached_packages_verify_inside_the_image() {
    // Served over HTTP, so the packages land in rapko's cache (local ones are read in place).
    let Some(server) = HttpServer::serve(&fixture("alpine-3.19")) else {
        return;
    };
    let yaml = ALPINE_BASE.replace(
        "FIXTURES/alpine-3.19/main",
        &format!("http://127.0.0.1:{}/main", server.port),
    );
    let dir = tempfile::tempdir().unwrap();
    let Some(root) = minirootfs(dir.path(), &yaml) else {
        return;
    };
    let cache = dir.path().join("cache/packages");
    let cached = std::fs::read_dir(&cache)
        .unwrap_or_else(|e| panic!("no package cache at {}: {e}", cache.display()))
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "apk"))
        })
        .count();
    assert_eq!(cached, 25, "one cached file per installed package");
    let binds = ["--ro-bind", cache.to_str().unwrap(), "/cache"];
    let Some(out) = sh_ok(&root, &binds, "apk verify /cache/*.apk") else {
        return;
    };
    assert_eq!(out.matches(" - OK").count(), 25, "{out}");
    assert_eq!(out.lines().count(), 25, "{out}");
}

#[test]
fn busybox_applets_resolve_through_their_links() {
    let dir = tempfile::tempdir().unwrap();
    let Some(root) = minirootfs(dir.path(), ALPINE_BASE) else {
        return;
    };
    let script = "for a in ls wget vi sed awk ifconfig; do command -v $a; done; \
                  readlink /usr/bin/wget; ls /etc/apk/world; vi --help 2>&1 | head -n1";
    let Some(out) = sh_ok(&root, &[], script) else {
        return;
    };
    assert_eq!(
        out.lines().take(7).collect::<Vec<_>>(),
        [
            "/bin/ls",
            "/usr/bin/wget",
            "/usr/bin/vi",
            "/bin/sed",
            "/usr/bin/awk",
            "/sbin/ifconfig",
            "/bin/busybox",
        ]
    );
    assert!(out.contains("BusyBox v1.36.1"), "{out}");
}

#[test]
fn apk_adds_a_package_on_top_offline() {
    let dir = tempfile::tempdir().unwrap();
    let Some(root) = minirootfs(dir.path(), ALPINE_BASE) else {
        return;
    };
    let bind = repo_bind();
    let binds: Vec<&str> = bind.iter().map(String::as_str).collect();
    // The image's /etc/apk/repositories names the build's repository path, which does not
    // exist inside; the bound copy replaces it.
    let script = "apk add --no-network --repositories-file /dev/null --repository /repo \
                  openssl 2>&1 && openssl version && apk info | wc -l && apk audit --system";
    let Some(out) = sh_ok(&root, &binds, script) else {
        return;
    };
    assert!(out.contains("Installing openssl (3.1.4-r5)"), "{out}");
    assert!(out.contains("OpenSSL 3.1.4"), "{out}");
    assert!(out.contains("\n26\n"), "{out}");
    assert!(
        out.ends_with("26\n"),
        "apk audit --system reported changes: {out}"
    );
}

#[test]
fn accounts_are_what_id_and_the_home_directory_say() {
    let yaml = format!(
        "{ALPINE_BASE}
accounts:
  groups:
    - groupname: nonroot
      gid: 65532
  users:
    - username: nonroot
      uid: 65532
      gid: 65532
  run-as: nonroot
"
    );
    let dir = tempfile::tempdir().unwrap();
    let Some(root) = minirootfs(dir.path(), &yaml) else {
        return;
    };
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
    assert!(
        passwd.ends_with("nonroot:x:65532:65532:Account created by apko:/home/nonroot:/bin/sh\n"),
        "{passwd}"
    );
    let group = std::fs::read_to_string(root.join("etc/group")).unwrap();
    assert!(group.ends_with("nonroot:x:65532:\n"), "{group}");
    let home = std::fs::symlink_metadata(root.join("home/nonroot")).unwrap();
    assert!(home.is_dir());
    assert_eq!(home.mode() & 0o7777, 0o700);
    if running_as_root(&root) {
        assert_eq!((home.uid(), home.gid()), (65532, 65532));
    }
    let Some(id) = sh_ok(&root, &[], "id nonroot") else {
        return;
    };
    assert_eq!(
        id,
        "uid=65532(nonroot) gid=65532(nonroot) groups=65532(nonroot)\n"
    );
}

/// The glibc distro of the fixtures, as in examples/glibc.yaml, plus apk to audit it.
const GLIBC: &str = "
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
    - apk-tools
paths:
  - path: /lib64
    type: symlink
    source: lib
  - path: /bin
    type: symlink
    source: usr/bin
archs: [x86_64]
";

#[test]
fn glibc_bash_finds_its_libraries_through_the_ld_so_cache() {
    let dir = tempfile::tempdir().unwrap();
    let Some(root) = minirootfs(dir.path(), GLIBC) else {
        return;
    };
    let Some(out) = sh_ok(&root, &[], "bash -c 'echo ok'") else {
        return;
    };
    assert_eq!(out, "ok\n");
    // The loader looks the libraries up in the cache and finds them there.
    let debug = sh(&root, &[], "LD_DEBUG=libs bash -c true 2>&1").unwrap();
    let debug = stdout(&debug);
    for (library, path) in [
        ("libtinfo.so.6", "/usr/lib/libtinfo.so.6"),
        ("libc.so.6", "/lib/libc.so.6"),
    ] {
        let lookup = debug
            .split(&format!("find library={library}"))
            .nth(1)
            .unwrap_or_else(|| panic!("{library} not looked up:\n{debug}"));
        let found = lookup
            .split("search cache=/etc/ld.so.cache")
            .nth(1)
            .unwrap_or_else(|| panic!("{library} not looked up in the cache:\n{debug}"));
        let first_try = found.lines().find(|l| l.contains("trying file=")).unwrap();
        assert!(
            first_try.ends_with(&format!("trying file={path}")),
            "{debug}"
        );
    }
    // glibc's own ldconfig, run in the image, writes the very same cache.
    let ours = std::fs::read(root.join("etc/ld.so.cache")).unwrap();
    sh_ok(&root, &[], "ldconfig").unwrap();
    let theirs = std::fs::read(root.join("etc/ld.so.cache")).unwrap();
    assert!(
        ours == theirs,
        "ldconfig rewrote /etc/ld.so.cache differently"
    );
    // ldconfig's links agree with the packages: nothing changed outside /etc; in /etc the
    // cache replaces the placeholder ld-linux ships, the rest is apk's own unowned files.
    let audit = sh_ok(&root, &[], "apk audit --system").unwrap();
    assert_eq!(audit, "", "apk audit --system reported changes");
    let audit = sh_ok(&root, &[], "apk audit 2>/dev/null").unwrap();
    assert!(audit.contains("U etc/ld.so.cache\n"), "{audit}");
    for line in audit.lines() {
        assert!(
            line == "U etc/ld.so.cache" || line.starts_with("A etc/apk/"),
            "unexpected `{line}` in:\n{audit}"
        );
    }
    // busybox 1.37 links from its list, reachable through the /bin symlink.
    let out = sh_ok(
        &root,
        &[],
        "readlink /bin/ls; ls /bin/sh >/dev/null && echo sh-ok",
    )
    .unwrap();
    assert_eq!(out, "/usr/bin/busybox\nsh-ok\n");
}

/// A repository of synthetic packages and a config naming them.
fn synthetic(dir: &Path, apks: &[rapko_test::BuiltApk], extra: &str) -> PathBuf {
    let repo = dir.join("repo");
    rapko_test::write_repo(&repo, "x86_64", apks);
    let key = rapko_test::test_public_key_path();
    let names: Vec<&str> = apks.iter().map(|a| a.name()).collect();
    let yaml = format!(
        "contents:\n  keyring: [{}]\n  repositories: [{}]\n  packages: [{}]\narchs: [x86_64]\n{extra}",
        key.display(),
        repo.display(),
        names.join(", ")
    );
    write_config(dir, "config.yaml", &yaml)
}

fn minirootfs_err(dir: &Path, config: &Path) -> String {
    let out = rapko(&dir.join("cache"))
        .arg("build-minirootfs")
        .arg(config)
        .arg(dir.join("out.tar.gz"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!dir.join("out.tar.gz").exists(), "no tarball on failure");
    stderr(&out)
}

#[test]
fn a_file_conflict_fails_the_build_naming_both_packages_and_the_path() {
    use rapko_test::ApkBuilder;
    let dir = tempfile::tempdir().unwrap();
    let a = ApkBuilder::new("tool-a", "1.0-r0")
        .file("usr/bin/tool", "a")
        .build();
    let b = ApkBuilder::new("tool-b", "2.0-r0")
        .file("usr/bin/tool", "b")
        .build();
    let config = synthetic(dir.path(), &[a, b], "");
    let err = minirootfs_err(dir.path(), &config);
    let first = err.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("error: cannot build the root filesystem for x86_64"),
        "{err}"
    );
    for needle in ["/usr/bin/tool", "tool-a-1.0-r0", "tool-b-2.0-r0", "hint:"] {
        assert!(err.contains(needle), "{needle} missing in:\n{err}");
    }
}

#[test]
fn a_path_mutation_on_a_missing_path_fails_the_build() {
    use rapko_test::ApkBuilder;
    let dir = tempfile::tempdir().unwrap();
    let a = ApkBuilder::new("a", "1.0-r0").file("etc/a", "a").build();
    let paths = "paths:\n  - {path: /etc/nope, type: permissions, permissions: 0o600}\n";
    let config = synthetic(dir.path(), &[a], paths);
    let err = minirootfs_err(dir.path(), &config);
    assert!(
        err.contains("paths: permissions /etc/nope: /etc/nope does not exist in the image"),
        "{err}"
    );
}
