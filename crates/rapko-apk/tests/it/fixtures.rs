//! Every real package and index in the shared fixtures parses, and what is parsed agrees
//! with what the files say elsewhere (file names, index records, the data entries).

use rapko_apk::{ApkIndex, ApkPackage, EntryKind, Trust, parse_pkginfo, write_pkginfo};

use crate::common::{all_indexes, all_packages, entries_of, read, short};

#[test]
fn every_fixture_package_parses_and_its_data_reads() {
    let packages = all_packages();
    assert!(
        packages.len() > 250,
        "expected the full fixture set, found {}",
        packages.len()
    );
    let mut failures = Vec::new();
    for path in &packages {
        let bytes = read(path);
        let result = ApkPackage::parse(&bytes).and_then(|pkg| {
            let mut count = 0usize;
            pkg.data_entries(&bytes, |_| {
                count += 1;
                Ok(())
            })?;
            Ok((pkg, count))
        });
        match result {
            Ok((pkg, _)) => {
                let file = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default();
                // Alpine names files <name>-<version>.apk; one misc fixture adds the arch.
                assert!(
                    file.starts_with(&pkg.info.name_version()),
                    "{}: .PKGINFO says {}",
                    short(path),
                    pkg.info.name_version()
                );
            }
            // The tampered Wolfi packages parse; their data member is what is wrong.
            Err(e) if short(path).starts_with("wolfi/bad-signature") => {
                eprintln!("{}: {e} (expected: tampered)", short(path));
            }
            Err(e) => failures.push(format!("{}: {e}", short(path))),
        }
    }
    assert!(
        failures.is_empty(),
        "packages that failed:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_fixture_index_parses() {
    let indexes = all_indexes();
    assert!(indexes.len() >= 14, "found {} indexes", indexes.len());
    let mut failures = Vec::new();
    for path in &indexes {
        match ApkIndex::read(&read(path), Trust::Ignore) {
            Ok((index, verified)) => {
                assert!(verified.is_none(), "Trust::Ignore verifies nothing");
                assert!(!index.packages.is_empty(), "{}: no packages", short(path));
            }
            Err(e) => failures.push(format!("{}: {e}", short(path))),
        }
    }
    assert!(
        failures.is_empty(),
        "indexes that failed:\n{}",
        failures.join("\n")
    );
}

#[test]
fn upstream_index_sizes_match_the_readme() {
    for (rel, count) in [
        ("alpine-3.19-upstream/main/x86_64/APKINDEX.tar.gz", 5443),
        (
            "alpine-3.19-upstream/community/x86_64/APKINDEX.tar.gz",
            17587,
        ),
        ("indexes/alpine-3.16-main/x86_64/APKINDEX.tar.gz", 4929),
        ("indexes/alpine-3.17-main/aarch64/APKINDEX.tar.gz", 5004),
    ] {
        let (index, _) =
            ApkIndex::read(&read(&rapko_test::fixture(rel)), Trust::Ignore).expect(rel);
        assert_eq!(index.packages.len(), count, "{rel}");
        assert!(
            index.description.as_deref().is_some_and(|d| !d.is_empty()),
            "{rel}"
        );
        assert!(
            index.packages.iter().all(|p| p.checksum.is_some()),
            "{rel}: every record has C:"
        );
    }
}

#[test]
fn pkginfo_written_back_parses_to_the_same_metadata() {
    for path in all_packages() {
        let bytes = read(&path);
        let Ok(pkg) = ApkPackage::parse(&bytes) else {
            continue;
        };
        let again = parse_pkginfo(&write_pkginfo(&pkg.info)).expect("rewritten .PKGINFO parses");
        assert_eq!(again, pkg.info, "{}", short(&path));
    }
}

#[test]
fn busybox_data_entries_look_like_busybox() {
    let bytes = read(&rapko_test::fixture(
        "alpine-3.19/main/x86_64/busybox-1.36.1-r15.apk",
    ));
    let (pkg, entries) = entries_of(&bytes);
    assert_eq!(pkg.info.name, "busybox");
    assert_eq!(
        pkg.info.triggers,
        ["/bin", "/usr/bin", "/sbin", "/usr/sbin", "/lib/modules/*"]
    );
    let scripts: Vec<&str> = pkg.scripts.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(scripts, [".post-install", ".post-upgrade", ".trigger"]);
    let binary = entries
        .iter()
        .find(|e| e.path == "bin/busybox")
        .expect("bin/busybox");
    assert_eq!(binary.kind, EntryKind::File);
    assert_eq!(binary.mode, 0o755);
    assert!(
        binary.sha1.is_some(),
        "regular files carry APK-TOOLS.checksum.SHA1"
    );
    assert!(binary.content.starts_with(b"\x7fELF"));
    let installed: u64 = entries.iter().map(|e| e.content.len() as u64).sum();
    assert!(
        installed <= pkg.info.installed_size,
        "I: counts at least the file bytes"
    );
}
