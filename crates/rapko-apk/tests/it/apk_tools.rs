//! apk-tools itself as the reference for the installed database: Alpine 3.19's apk-tools
//! 2.14.0 (musl) and the glibc distro's 2.14.10, unpacked from the fixtures with this crate
//! and run through their own dynamic loaders, each install the same 84 real Alpine packages (busybox with scripts and triggers, tzdata with hundreds of hard
//! links, setuid and odd-mode files…) into a temporary root. Its `installed`, `triggers` and
//! `scripts.tar` must then be
//! 1. read and written back byte for byte by our reader and writers, and
//! 2. rebuilt from the packages alone, byte for byte, with [`InstalledPackage::add_entry`].
//!
//! The two versions write the same `installed` and `triggers`; their `scripts.tar` differ in
//! the entries' times ([`ScriptTimes`]). The apk binaries are x86_64 Linux: elsewhere the
//! test is compiled out.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use rapko_apk::installed::{
    ScriptTimes, attach_scripts, attach_triggers, parse_installed, parse_triggers,
    read_scripts_tar, write_installed, write_scripts_tar, write_triggers,
};
use rapko_apk::{ApkIndex, EntryKind, InstalledPackage, PackageInfo, Trust};

use crate::common::{entries_of, read};

const REPO: &str = "alpine-3.19/main/x86_64";

/// One apk-tools build in the fixtures, with what it needs to run.
struct ApkTools {
    /// Fixtures-relative directory of the packages below.
    repo: &'static str,
    /// apk-tools and the libraries it loads.
    runtime: &'static [&'static str],
    loader: &'static str,
    binary: &'static str,
    /// How this version stamps `scripts.tar`.
    times: ScriptTimes,
}

/// Alpine 3.19's apk-tools 2.14.0 (musl): every script entry gets `SOURCE_DATE_EPOCH`.
const APK_2_14_0: ApkTools = ApkTools {
    repo: REPO,
    runtime: &[
        "apk-tools-2.14.0-r5",
        "musl-1.2.4_git20230717-r4",
        "libcrypto3-3.1.4-r5",
        "libssl3-3.1.4-r5",
        "zlib-1.3.1-r0",
    ],
    loader: "lib/ld-musl-x86_64.so.1",
    binary: "sbin/apk",
    times: ScriptTimes::Fixed(EPOCH),
};

/// The glibc distro's apk-tools 2.14.10: script entries get their package's build date.
const APK_2_14_10: ApkTools = ApkTools {
    repo: "glibc-distro/main/x86_64",
    runtime: &[
        "apk-tools-2.14.10-r3",
        "glibc-2.41-r4",
        "ld-linux-2.41-r4",
        "libcrypto3-3.5.0-r2",
        "libssl3-3.5.0-r2",
        "zlib-1.3.1-r1",
    ],
    loader: "lib/ld-linux-x86-64.so.2",
    binary: "usr/bin/apk",
    times: ScriptTimes::BuildDate { fallback: EPOCH },
};

/// What apk is asked to install: 84 packages with their dependencies.
const WORLD: &[&str] = &[
    "alpine-base",
    "openssh",
    "openssl",
    "wget",
    "tzdata",
    "e2fsprogs",
    "e2fsprogs-extra",
    "chrony",
    "dhcpcd",
    "doas",
    "iw",
    "wpa_supplicant",
    "ppp-daemon",
    "kbd-bkeymaps",
    "tiny-cloud-alpine",
    "usb-modeswitch",
];

/// `SOURCE_DATE_EPOCH` for apk: 2.14.0 stamps `scripts.tar` entries with it.
const EPOCH: u64 = 1_700_000_000;

/// The database files apk wrote.
struct Database {
    installed: Vec<u8>,
    triggers: Vec<u8>,
    scripts_tar: Vec<u8>,
    times: ScriptTimes,
}

/// Runs each apk once per test process (a second or two each) and keeps what it wrote.
fn databases() -> &'static [Database; 2] {
    static DBS: OnceLock<[Database; 2]> = OnceLock::new();
    DBS.get_or_init(|| [run(&APK_2_14_0, "2.14.0"), run(&APK_2_14_10, "2.14.10")])
}

fn run(tools: &ApkTools, label: &str) -> Database {
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("rapko-apk-apk-{label}"));
    let _ = std::fs::remove_dir_all(&work);
    let (dir, root) = (work.join("tools"), work.join("root"));
    std::fs::create_dir_all(&root).expect("create root");
    for name in tools.runtime {
        unpack(
            &rapko_test::fixture(&format!("{}/{name}.apk", tools.repo)),
            &dir,
        );
    }
    install(tools, &dir, &root);
    let db = root.join("lib/apk/db");
    let database = Database {
        installed: read(&db.join("installed")),
        triggers: read(&db.join("triggers")),
        scripts_tar: read(&db.join("scripts.tar")),
        times: tools.times,
    };
    let _ = std::fs::remove_dir_all(&work);
    database
}

/// Lays a package's files out under `dest` (enough of an installer to run apk).
fn unpack(package: &Path, dest: &Path) {
    let bytes = read(package);
    let (_, entries) = entries_of(&bytes);
    for entry in entries {
        let path = dest.join(&entry.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        match &entry.kind {
            EntryKind::Directory => std::fs::create_dir_all(&path).expect("mkdir"),
            EntryKind::File => {
                std::fs::write(&path, &entry.content).expect("write file");
                let mode = std::os::unix::fs::PermissionsExt::from_mode(entry.mode | 0o600);
                std::fs::set_permissions(&path, mode).expect("chmod");
            }
            EntryKind::Symlink(target) => {
                let _ = std::fs::remove_file(&path);
                std::os::unix::fs::symlink(target, &path).expect("symlink");
            }
            EntryKind::Hardlink(target) => {
                std::fs::hard_link(dest.join(target), &path).expect("hard link")
            }
            _ => {}
        }
    }
}

fn install(tools: &ApkTools, dir: &Path, root: &Path) {
    let repo = rapko_test::fixture("alpine-3.19/main");
    let libs = format!(
        "{}:{}",
        dir.join("lib").display(),
        dir.join("usr/lib").display()
    );
    let output = Command::new(dir.join(tools.loader))
        .arg("--library-path")
        .arg(libs)
        .arg(dir.join(tools.binary))
        .arg("--root")
        .arg(root)
        .args([
            "--initdb",
            "--allow-untrusted",
            "--no-scripts",
            "--no-cache",
        ])
        .args([
            "--arch",
            "x86_64",
            "--repositories-file",
            "/dev/null",
            "--repository",
        ])
        .arg(&repo)
        .arg("add")
        .args(WORLD)
        .env("SOURCE_DATE_EPOCH", EPOCH.to_string())
        .output()
        .expect("run apk from the fixtures");
    assert!(
        output.status.success(),
        "{} add failed: {}\n{}",
        tools.binary,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("apk writes UTF-8 here")
}

/// apk's packages, with their triggers and scripts attached.
fn apk_packages(db: &Database) -> Vec<InstalledPackage> {
    let mut packages = parse_installed(text(&db.installed)).expect("apk's installed parses");
    attach_triggers(
        &mut packages,
        parse_triggers(text(&db.triggers)).expect("triggers parse"),
    );
    attach_scripts(
        &mut packages,
        read_scripts_tar(&db.scripts_tar).expect("scripts.tar reads"),
    );
    packages
}

/// Packages in the order their scripts appear in apk's `scripts.tar` (install order).
fn script_order<'a>(db: &Database, packages: &'a [InstalledPackage]) -> Vec<&'a InstalledPackage> {
    let mut order: Vec<&InstalledPackage> = Vec::new();
    for entry in read_scripts_tar(&db.scripts_tar).expect("reads") {
        let pkg = packages
            .iter()
            .find(|p| p.info.checksum == Some(entry.checksum))
            .expect("every script belongs to an installed package");
        if !order.iter().any(|p| std::ptr::eq(*p, pkg)) {
            order.push(pkg);
        }
    }
    order
}

fn trigger_order<'a>(db: &Database, packages: &'a [InstalledPackage]) -> Vec<&'a InstalledPackage> {
    parse_triggers(text(&db.triggers))
        .expect("parses")
        .iter()
        .filter_map(|(sum, _)| packages.iter().find(|p| p.info.checksum == Some(*sum)))
        .collect()
}

#[test]
fn both_apk_versions_write_the_same_installed_and_triggers() {
    let [old, new] = databases();
    assert!(
        old.installed == new.installed,
        "installed differs between 2.14.0 and 2.14.10"
    );
    assert_eq!(old.triggers, new.triggers);
    assert!(old.scripts_tar != new.scripts_tar, "the entry times differ");
}

#[test]
fn apk_database_reads_and_writes_back_byte_for_byte() {
    for db in databases() {
        let packages = apk_packages(db);
        assert_eq!(packages.len(), 84);
        assert_eq!(
            write_installed(&packages).expect("writes"),
            text(&db.installed)
        );
        let busybox = packages
            .iter()
            .find(|p| p.info.name == "busybox")
            .expect("busybox");
        assert_eq!(busybox.scripts.len(), 3);
        assert_eq!(busybox.info.triggers.len(), 5);
        let triggers = write_triggers(trigger_order(db, &packages)).expect("writes");
        assert_eq!(triggers, text(&db.triggers));
        let scripts = write_scripts_tar(script_order(db, &packages), db.times).expect("writes");
        assert!(
            scripts == db.scripts_tar,
            "scripts.tar differs from apk's ({:?})",
            db.times
        );
    }
}

/// Our own install bookkeeping of every package apk installed, in apk's order.
fn rebuild(theirs: &[InstalledPackage]) -> Vec<InstalledPackage> {
    let dir = rapko_test::fixture(REPO);
    let (index, _) =
        ApkIndex::read(&read(&dir.join("APKINDEX.tar.gz")), Trust::Ignore).expect("index");
    let records: BTreeMap<&str, &PackageInfo> = index
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p))
        .collect();
    let mut ours = Vec::new();
    for reference in theirs {
        let name = reference.info.name.as_str();
        let bytes = read(&dir.join(format!("{}.apk", reference.info.name_version())));
        let (package, entries) = entries_of(&bytes);
        let mut installed = InstalledPackage::from_package((*records[name]).clone(), &package);
        for entry in &entries {
            installed.add_entry(entry);
        }
        assert_eq!(
            installed.dirs, reference.dirs,
            "{name}: directories and files"
        );
        assert_eq!(installed.scripts, reference.scripts, "{name}: scripts");
        assert_eq!(
            installed.info.triggers, reference.info.triggers,
            "{name}: triggers"
        );
        ours.push(installed);
    }
    ours
}

#[test]
fn apk_database_is_rebuilt_from_the_packages_alone() {
    for db in databases() {
        let theirs = apk_packages(db);
        let ours = rebuild(&theirs);
        let written = write_installed(&ours).expect("writes");
        assert_eq!(written, text(&db.installed));
        // alpine-base owns no directory: its replaces went to the next record, as apk does.
        let find = |list: &[InstalledPackage], name: &str| {
            list.iter()
                .find(|p| p.info.name == name)
                .cloned()
                .expect(name)
        };
        let base = find(&ours, "alpine-base");
        assert_eq!(base.info.replaces.len(), 1);
        assert!(find(&theirs, "alpine-base").info.replaces.is_empty());
        assert_eq!(
            find(&theirs, "alpine-baselayout").info.replaces,
            base.info.replaces
        );
        let scripts = write_scripts_tar(script_order(db, &ours), db.times).expect("writes");
        assert!(
            scripts == db.scripts_tar,
            "rebuilt scripts.tar differs from apk's ({:?})",
            db.times
        );
        let triggers = write_triggers(trigger_order(db, &ours)).expect("writes");
        assert_eq!(triggers, text(&db.triggers));
    }
}

#[test]
fn apk_database_covers_the_interesting_cases() {
    let packages = apk_packages(&databases()[0]);
    let tzdata = packages
        .iter()
        .find(|p| p.info.name == "tzdata")
        .expect("tzdata");
    let files: Vec<String> = tzdata.file_paths().collect();
    assert!(
        files.len() > 500,
        "tzdata's hard links are listed as files: {}",
        files.len()
    );
    let acls: Vec<_> = packages
        .iter()
        .flat_map(|p| {
            p.dirs
                .iter()
                .flat_map(|d| d.files.iter().map(|f| f.acl.mode))
        })
        .collect();
    assert!(acls.contains(&0o4111), "busybox-suid's setuid binary");
    assert!(acls.contains(&0o777), "symlinks");
    let dir_modes: Vec<u32> = packages
        .iter()
        .flat_map(|p| p.dirs.iter().map(|d| d.acl.mode))
        .collect();
    assert!(dir_modes.contains(&0o1777), "sticky /tmp");
    assert!(
        packages.iter().any(|p| !p.info.replaces.is_empty()),
        "r: lines"
    );
}
