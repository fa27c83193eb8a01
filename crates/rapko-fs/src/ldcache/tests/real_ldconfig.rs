//! The declarative ldconfig against real `ldconfig` binaries (the host's and the glibc
//! distro fixture's) and a real loader.

use super::*;

use rapko_test::{fixtures, require_tool, tools_required};

/// The host's glibc `ldconfig` and its generator string, when it has one (Alpine's
/// `/sbin/ldconfig` is a shell stub).
fn host_glibc_ldconfig() -> Option<(PathBuf, String)> {
    let path = PathBuf::from("/sbin/ldconfig");
    let generator = ldconfig_generator(&std::fs::read(&path).ok()?)?;
    Some((path, generator))
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
    })
}

fn glibc_repo() -> PathBuf {
    let dir = fixtures().join("glibc-distro/main/x86_64");
    assert!(
        dir.is_dir(),
        "fixture {} not found (set RAPKO_FIXTURES to the shared fixtures directory)",
        dir.display()
    );
    dir
}

/// Unpacks the data of every `.apk` given (each is concatenated gzip members; GNU tar
/// reads them in sequence) into `root`, dropping the control files tar also extracts.
fn unpack(apks: &[PathBuf], root: &Path) {
    let Some(tar) = require_tool("tar") else {
        panic!("tar is needed to unpack fixture packages");
    };
    std::fs::create_dir_all(root).expect("mkdir root");
    for apk in apks {
        let out = Command::new(&tar)
            .arg("-xzf")
            .arg(apk)
            .arg("-C")
            .arg(root)
            .output()
            .expect("run tar");
        assert!(out.status.success(), "tar -xzf {} failed", apk.display());
    }
    for entry in std::fs::read_dir(root).expect("read root").flatten() {
        if entry.file_name().to_string_lossy().starts_with('.') {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn fixture_apks(filter: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut apks: Vec<PathBuf> = std::fs::read_dir(glibc_repo())
        .expect("read fixture dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "apk")
                && p.file_name().is_some_and(|n| filter(&n.to_string_lossy()))
        })
        .collect();
    apks.sort();
    apks
}

/// The fixture's own glibc 2.41 `ldconfig` (a static x86-64 binary), unpacked into `tmp`.
fn fixture_ldconfig(tmp: &TempDir) -> Option<PathBuf> {
    if !cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        eprintln!("skipping: the fixture's ldconfig is an x86-64 Linux binary");
        return None;
    }
    let glibc = fixture_apks(|n| n.starts_with("glibc-2."));
    assert_eq!(glibc.len(), 1, "one glibc package in the fixture");
    let dir = tmp.path("glibc-pkg");
    unpack(&glibc, &dir);
    let ldconfig = dir.join("usr/bin/ldconfig");
    assert!(
        ldconfig.is_file(),
        "the glibc fixture ships usr/bin/ldconfig"
    );
    Some(ldconfig)
}

/// Runs a real `ldconfig` over `root`; returns the cache it wrote.
fn real_ldconfig(ldconfig: &Path, root: &Path, extra: &[&str]) -> Vec<u8> {
    let out = Command::new(ldconfig)
        .arg("-r")
        .arg(root)
        .args(["-C", "/etc/ld.so.cache.ref"])
        .args(extra)
        .output()
        .expect("run ldconfig");
    assert!(
        out.status.success(),
        "{} failed: {}",
        ldconfig.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let path = root.join("etc/ld.so.cache.ref");
    let bytes = std::fs::read(&path).expect("read the reference cache");
    std::fs::remove_file(&path).expect("remove the reference cache");
    bytes
}

fn apply(changes: &[LinkChange], root: &Path) {
    for change in changes {
        match change {
            LinkChange::Create { path, target } | LinkChange::Replace { path, target } => {
                let p = root.join(path.trim_start_matches('/'));
                let _ = std::fs::remove_file(&p);
                std::os::unix::fs::symlink(target, &p).expect("symlink");
            }
            LinkChange::RemoveStale { path } => {
                std::fs::remove_file(root.join(path.trim_start_matches('/')))
                    .expect("remove stale link");
            }
        }
    }
}

/// Every path under `root` with what it is: a link's target, a file's hash, "dir".
fn snapshot(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            if rel.starts_with("etc/ld.so.cache") || rel.starts_with("var/cache/ldconfig") {
                continue;
            }
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let what = if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).unwrap_or_default();
                format!("-> {}", target.display())
            } else if meta.is_dir() {
                walk(root, &path, out);
                "dir".to_owned()
            } else {
                let mut h = DefaultHasher::new();
                std::fs::read(&path).unwrap_or_default().hash(&mut h);
                format!("file {:x}", h.finish())
            };
            out.insert(rel, what);
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn describe(cache: &[u8]) -> String {
    match read_ld_so_cache(cache) {
        Ok(parsed) => parsed
            .entries
            .iter()
            .map(|e| format!("{:#x} {:#x} {} => {}\n", e.flags, e.hwcap, e.soname, e.path))
            .collect(),
        Err(e) => format!("unreadable: {e}"),
    }
}

fn assert_same_cache(ours: &[u8], reference: &[u8]) {
    assert!(
        ours == reference,
        "cache differs from ldconfig's ({} vs {} bytes)\n--- ours:\n{}--- ldconfig:\n{}",
        ours.len(),
        reference.len(),
        describe(ours),
        describe(reference)
    );
}

#[test]
fn kitchen_sink_matches_glibc_2_41_ldconfig_byte_for_byte() {
    let tmp = TempDir::new("sink");
    let Some(ldconfig) = fixture_ldconfig(&tmp) else {
        return;
    };
    let generator = ldconfig_generator(&std::fs::read(&ldconfig).expect("read ldconfig"))
        .expect("generator string in ldconfig");
    assert_eq!(
        generator,
        "ldconfig (glibc-2.41-r4) stable release version 2.41"
    );

    let (theirs, ours) = (tmp.path("theirs"), tmp.path("ours"));
    kitchen_sink(&mut DiskSink(theirs.clone()));
    kitchen_sink(&mut DiskSink(ours.clone()));
    let reference = real_ldconfig(&ldconfig, &theirs, &[]);

    let opts = LdCacheOptions {
        generator: Some(generator),
        ..LdCacheOptions::new(LdArch::X86_64)
    };
    let result = run_ldconfig(&RealTree { root: ours.clone() }, &opts).expect("ldconfig");
    assert_same_cache(&result.cache, &reference);

    // The same tree in memory gives the same bytes.
    let mut mem = MemTree::default();
    kitchen_sink(&mut mem);
    assert_eq!(run_ldconfig(&mem, &opts).expect("mem").cache, reference);

    // ldconfig's symlink work, replayed: the trees end up the same. (Not as root,
    // `ldconfig -r` cannot chroot and leaves dangling links alone.)
    if is_root() {
        apply(&result.link_changes, &ours);
        assert_eq!(snapshot(&ours), snapshot(&theirs));
    }
}

#[test]
fn empty_tree_and_no_config_match_glibc_ldconfig() {
    let tmp = TempDir::new("empty");
    let Some(ldconfig) = fixture_ldconfig(&tmp) else {
        return;
    };
    let root = tmp.path("root");
    std::fs::create_dir_all(root.join("etc")).expect("mkdir");
    let reference = real_ldconfig(&ldconfig, &root, &[]);
    let opts = LdCacheOptions {
        generator: ldconfig_generator(&std::fs::read(&ldconfig).expect("read")),
        ..LdCacheOptions::new(LdArch::X86_64)
    };
    let ours = run_ldconfig(&RealTree { root }, &opts).expect("ldconfig");
    assert_same_cache(&ours.cache, &reference);
    assert!(ours.entries.is_empty());
}

#[test]
fn glibc_distro_fixture_matches_its_own_ldconfig() {
    let tmp = TempDir::new("distro");
    let Some(ldconfig) = fixture_ldconfig(&tmp) else {
        return;
    };
    let (theirs, ours) = (tmp.path("theirs"), tmp.path("ours"));
    let apks = fixture_apks(|_| true);
    unpack(&apks, &theirs);
    unpack(&apks, &ours);
    let tree = RealTree { root: ours.clone() };
    assert!(needs_ld_so_cache(&tree));
    assert_eq!(detect_arch(&tree).expect("arch"), LdArch::X86_64);

    let cache = build_ld_so_cache(&tree).expect("cache");
    let reference = real_ldconfig(&ldconfig, &theirs, &[]);
    assert_same_cache(&cache, &reference);

    let result = run_ldconfig(&tree, &LdCacheOptions::new(LdArch::X86_64)).expect("run");
    if is_root() {
        apply(&result.link_changes, &ours);
        assert_eq!(snapshot(&ours), snapshot(&theirs));
    }
    let find = |soname: &str| {
        result
            .entries
            .iter()
            .find(|e| e.soname == soname)
            .map(|e| (e.path.as_str(), e.flags))
    };
    assert_eq!(find("libc.so.6"), Some(("/lib/libc.so.6", 0x303)));
    assert_eq!(
        find("libtinfo.so.6"),
        Some(("/usr/lib/libtinfo.so.6", 0x303))
    );
    assert_eq!(find("libz.so.1"), Some(("/lib/libz.so.1", 0x303)));
    assert_eq!(
        find("ld-linux-x86-64.so.2"),
        Some(("/lib/ld-linux-x86-64.so.2", 0x303))
    );
    let generator = read_ld_so_cache(&cache).expect("parse").generator;
    assert_eq!(
        generator.as_deref(),
        Some("ldconfig (glibc-2.41-r4) stable release version 2.41")
    );

    // The host's own ldconfig reads the file too.
    if let Some((host, _)) = host_glibc_ldconfig() {
        let file = tmp.path("ld.so.cache");
        std::fs::write(&file, &cache).expect("write cache");
        let out = Command::new(host)
            .arg("-p")
            .arg("-C")
            .arg(&file)
            .output()
            .expect("ldconfig -p");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.starts_with(&format!("{} libs found", result.entries.len())),
            "{text}"
        );
        assert!(
            text.contains("\tlibc.so.6 (libc6,x86-64) => /lib/libc.so.6\n"),
            "{text}"
        );
        assert!(
            text.contains("\tlibtinfo.so.6 (libc6,x86-64) => /usr/lib/libtinfo.so.6\n"),
            "{text}"
        );
    }
}

/// Runs `/usr/bin/bash -c 'echo ok'` inside `root` with bwrap.
fn bash_in(bwrap: &Path, root: &Path) -> std::process::Output {
    Command::new(bwrap)
        .arg("--bind")
        .arg(root)
        .args(["/", "--proc", "/proc", "--dev", "/dev", "--unshare-all"])
        .args(["/usr/bin/bash", "-c", "echo ok"])
        .output()
        .expect("run bwrap")
}

#[test]
fn glibc_distro_bash_runs_and_the_loader_uses_the_cache() {
    let Some(bwrap) = require_tool("bwrap") else {
        return;
    };
    if !cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        eprintln!("skipping: the fixture is x86-64 Linux");
        return;
    }
    let probe = Command::new(&bwrap)
        .args(["--bind", "/", "/", "--unshare-all", "true"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        assert!(!tools_required(), "bwrap cannot create namespaces here");
        eprintln!("skipping: bwrap cannot create namespaces here");
        return;
    }
    let tmp = TempDir::new("bwrap");
    let root = tmp.path("root");
    unpack(&fixture_apks(|_| true), &root);
    for (link, target) in [("lib64", "lib"), ("bin", "usr/bin")] {
        if std::fs::symlink_metadata(root.join(link)).is_err() {
            std::os::unix::fs::symlink(target, root.join(link)).expect("symlink");
        }
    }
    let tree = RealTree { root: root.clone() };
    let write_cache = || {
        let result = run_ldconfig(&tree, &LdCacheOptions::new(LdArch::X86_64)).expect("run");
        apply(&result.link_changes, &root);
        std::fs::write(root.join("etc/ld.so.cache"), &result.cache).expect("write cache");
        result
    };

    write_cache();
    let out = bash_in(&bwrap, &root);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ok\n",
        "bash failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // libtinfo moves to a directory only ld.so.conf names, without its SONAME link:
    // the generated links + cache must be what lets bash start.
    let private = root.join("opt/private");
    std::fs::create_dir_all(&private).expect("mkdir");
    std::fs::rename(
        root.join("usr/lib/libtinfo.so.6.5"),
        private.join("libtinfo.so.6.5"),
    )
    .expect("move libtinfo");
    std::fs::remove_file(root.join("usr/lib/libtinfo.so.6")).expect("rm link");
    let conf = root.join("etc/ld.so.conf.d/private.conf");
    std::fs::write(&conf, "/opt/private\n").expect("write conf");
    let result = write_cache();
    assert!(result.link_changes.contains(&LinkChange::Create {
        path: "/opt/private/libtinfo.so.6".to_owned(),
        target: "libtinfo.so.6.5".to_owned()
    }));
    assert!(
        result
            .entries
            .iter()
            .any(|e| e.soname == "libtinfo.so.6" && e.path == "/opt/private/libtinfo.so.6")
    );
    let out = bash_in(&bwrap, &root);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ok\n",
        "bash failed with the cache naming /opt/private: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Control: without the configuration line the cache no longer names the library and
    // the loader cannot find it.
    std::fs::remove_file(&conf).expect("rm conf");
    write_cache();
    let out = bash_in(&bwrap, &root);
    assert!(
        !out.status.success(),
        "bash started without libtinfo in the cache"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("libtinfo.so.6"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn host_libraries_match_the_host_ldconfig() {
    let debian = host_glibc_ldconfig().filter(|(_, g)| g.contains("Debian"));
    let Some((host, generator)) = debian else {
        eprintln!("skipping: no Debian glibc ldconfig on this host (its trusted dirs differ)");
        return;
    };
    let multiarch = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"];
    let tmp = TempDir::new("host");
    let root = tmp.path("root");
    let mut sink = DiskSink(root.clone());
    let mut copied = 0;
    for soname in [
        "libz.so.1",
        "libtinfo.so.6",
        "libreadline.so.8",
        "libstdc++.so.6",
        "libgcc_s.so.1",
        "libm.so.6",
        "libc.so.6",
        "libdl.so.2",
        "libcrypt.so.1",
        "libssl.so.3",
        "libcrypto.so.3",
        "libffi.so.8",
        "libexpat.so.1",
        "libzstd.so.1",
    ] {
        let Some(real) = multiarch
            .iter()
            .find_map(|d| std::fs::canonicalize(Path::new(d).join(soname)).ok())
        else {
            continue;
        };
        let Some(name) = real.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        let data = std::fs::read(&real).expect("read host library");
        sink.file(&format!("/usr/lib/{name}"), &data);
        if name != soname {
            sink.link(&format!("/usr/lib/{soname}"), &name);
        }
        if soname == "libz.so.1" {
            sink.file(&format!("/opt/extra/{name}"), &data);
            sink.link("/opt/extra/libz.so.1", &name);
            sink.link("/usr/lib/libz.so", "libz.so.1");
            sink.file("/usr/lib/glibc-hwcaps/x86-64-v3/libz.so.1", &data);
        }
        copied += 1;
    }
    if copied < 3 {
        eprintln!("skipping: too few host libraries found");
        return;
    }
    sink.file("/etc/ld.so.conf", b"/opt/extra\n");
    let reference = real_ldconfig(&host, &root, &["-X"]);
    let opts = LdCacheOptions {
        system_dirs: [
            "/lib/x86_64-linux-gnu",
            "/usr/lib/x86_64-linux-gnu",
            "/lib",
            "/usr/lib",
        ]
        .map(str::to_owned)
        .to_vec(),
        generator: Some(generator),
        ..LdCacheOptions::new(LdArch::X86_64)
    };
    let ours = run_ldconfig(&RealTree { root }, &opts).expect("ldconfig");
    assert_same_cache(&ours.cache, &reference);
    assert!(ours.link_changes.is_empty(), "{:?}", ours.link_changes);
}
