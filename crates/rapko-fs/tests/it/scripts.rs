//! What the install scripts that matter would have done: busybox applet links, the CA bundle,
//! `/etc/ld.so.cache`, and apko's s6 service bundle.

use rapko_apk::{ApkPackage, EntryKind};
use rapko_fs::ldcache::read_ld_so_cache;
use rapko_test::{ApkBuilder, Entry};

use crate::common::{content, fixture_package, rootfs as build, rootfs_of, symlink_target, text};

const NO_CONFIG: &str = "contents:\n  packages: [x]\n";

fn busybox(list: &str) -> rapko_test::BuiltApk {
    ApkBuilder::new("busybox", "1.36.1-r15")
        .executable("bin/busybox", b"\x7fELF not really".to_vec())
        .entry(Entry::symlink("bin/sh", "/bin/busybox"))
        .file("etc/busybox-paths.d/busybox", list)
        .build()
}

#[test]
fn busybox_applets_are_linked_from_the_paths_list() {
    let coreutils = ApkBuilder::new("coreutils", "9.4-r0")
        .executable("bin/ls", b"real ls".to_vec())
        .build();
    let list = "bin/ls\nbin/sh\nusr/bin/wget\nusr/bin/vi\nsbin/ifconfig\n";
    let rootfs = build(&[coreutils, busybox(list)], NO_CONFIG);
    let tree = &rootfs.tree;
    assert_eq!(symlink_target(tree, "usr/bin/wget"), "/bin/busybox");
    assert_eq!(symlink_target(tree, "usr/bin/vi"), "/bin/busybox");
    assert_eq!(symlink_target(tree, "sbin/ifconfig"), "/bin/busybox");
    assert_eq!(
        content(tree, "bin/ls"),
        b"real ls",
        "package files are left alone"
    );
    // The links are not the package's: the database does not list them.
    let db = text(tree, "lib/apk/db/installed");
    assert!(!db.contains("R:wget"), "{db}");
}

#[test]
fn bbsuid_links_its_applets_before_busybox() {
    let suid = ApkBuilder::new("busybox-suid", "1.36.1-r15")
        .entry(Entry::file("bin/bbsuid", "suid").mode(0o4111))
        .build();
    let list = "bin/su\nbin/mount\nbin/ls\n";
    let rootfs = build(&[busybox(list), suid], NO_CONFIG);
    assert_eq!(symlink_target(&rootfs.tree, "bin/su"), "/bin/bbsuid");
    assert_eq!(symlink_target(&rootfs.tree, "bin/mount"), "/bin/bbsuid");
    assert_eq!(
        symlink_target(&rootfs.tree, "usr/bin/passwd"),
        "/bin/bbsuid"
    );
    assert_eq!(symlink_target(&rootfs.tree, "bin/ls"), "/bin/busybox");
}

/// `path` of a fixture package's data member.
fn fixture_file(apk: &str, path: &str) -> Vec<u8> {
    let bytes = std::fs::read(rapko_test::fixture(apk)).unwrap();
    let package = ApkPackage::parse(&bytes).unwrap();
    let mut found = None;
    package
        .data_entries(&bytes, |e| {
            if e.path == path && e.kind == EntryKind::File {
                found = Some(e.content);
            }
            Ok(())
        })
        .unwrap();
    found.unwrap_or_else(|| panic!("{path} not in {apk}"))
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn alpine_busybox_tables_give_exactly_its_paths_list() {
    let apk = "alpine-3.19/main/x86_64/busybox-1.36.1-r15.apk";
    let binary = fixture_file(apk, "bin/busybox");
    let list = fixture_file(apk, "etc/busybox-paths.d/busybox");
    let from_binary = rapko_fs::busybox::applets_from_binary(&binary).expect("applet tables");
    let listed = rapko_fs::busybox::parse_paths_list(&String::from_utf8_lossy(&list));
    assert_eq!(listed.len(), 304);
    assert_eq!(sorted(from_binary), sorted(listed));
}

#[test]
fn the_glibc_distro_busybox_lists_its_applets_under_usr_bin_only() {
    let apk = "glibc-distro/main/x86_64/busybox-1.37.0-r41.apk";
    let binary = fixture_file(apk, "usr/bin/busybox");
    let list = fixture_file(apk, "etc/busybox-paths.d/busybox");
    let listed = rapko_fs::busybox::parse_paths_list(&String::from_utf8_lossy(&list));
    let from_binary = rapko_fs::busybox::applets_from_binary(&binary).expect("applet tables");
    // Same applets; the list moves them all to usr/bin (merged /usr), the binary would not.
    let name = |p: &String| p.rsplit('/').next().unwrap_or(p).to_owned();
    assert_eq!(
        sorted(listed.iter().map(name).collect()),
        sorted(from_binary.iter().map(name).collect())
    );
    assert!(listed.iter().all(|p| p.starts_with("usr/bin/")));
    assert!(from_binary.contains(&"sbin/inotifyd".to_owned()));
    // rapko follows the list: links land in usr/bin and point at /usr/bin/busybox.
    let packages = [
        fixture_package("glibc-distro/main/x86_64/agnios-baselayout-20230201-r20230201.apk"),
        fixture_package(apk),
    ];
    let rootfs = rootfs_of(&packages, NO_CONFIG).unwrap();
    assert_eq!(
        symlink_target(&rootfs.tree, "usr/bin/ls"),
        "/usr/bin/busybox"
    );
    assert!(rootfs.tree.get("sbin/inotifyd").is_none());
    assert!(
        rootfs.tree.get("bin").is_none(),
        "/bin stays free for a paths symlink"
    );
}

#[test]
fn busybox_without_a_paths_list_is_linked_from_its_own_tables() {
    // Alpine 3.7's busybox 1.27 predates /etc/busybox-paths.d.
    let packages = [fixture_package(
        "alpine-3.7/main/aarch64/busybox-1.27.2-r6.apk",
    )];
    let rootfs = rootfs_of(&packages, NO_CONFIG).unwrap();
    let tree = &rootfs.tree;
    for applet in [
        "bin/ls",
        "bin/mount",
        "usr/bin/wget",
        "usr/bin/vi",
        "sbin/ifconfig",
    ] {
        assert_eq!(symlink_target(tree, applet), "/bin/busybox", "{applet}");
    }
    let links = tree
        .iter()
        .filter(|(_, n)| n.kind == rapko_fs::NodeKind::Symlink("/bin/busybox".into()))
        .count();
    assert!(links > 290, "{links} links");
}

fn ca_certificates(conf: Option<&str>) -> rapko_test::BuiltApk {
    let mut b = ApkBuilder::new("ca-certificates", "20241121-r1")
        .file("usr/share/ca-certificates/mozilla/A.crt", "-----A-----\n")
        .file("usr/share/ca-certificates/mozilla/B.crt", "-----B-----")
        .file("usr/share/ca-certificates/mozilla/C.crt", "-----C-----\n")
        .dir("etc/ssl/certs");
    if let Some(conf) = conf {
        b = b.file("etc/ca-certificates.conf", conf);
    }
    b.build()
}

#[test]
fn the_ca_bundle_follows_ca_certificates_conf() {
    let conf = "# comment\nmozilla/B.crt\n!mozilla/C.crt\nmozilla/A.crt\n";
    let local = ApkBuilder::new("local-ca", "1.0-r0")
        .file(
            "usr/local/share/ca-certificates/corp.crt",
            "-----CORP-----\n",
        )
        .build();
    let rootfs = build(&[ca_certificates(Some(conf)), local], NO_CONFIG);
    let tree = &rootfs.tree;
    assert_eq!(
        text(tree, "etc/ssl/certs/ca-certificates.crt"),
        "-----B-----\n-----A-----\n\n-----CORP-----\n\n",
        "each certificate then a newline, in the conf's order, local ones last"
    );
    assert_eq!(
        symlink_target(tree, "etc/ssl/certs/ca-cert-A.pem"),
        "/usr/share/ca-certificates/mozilla/A.crt"
    );
    assert_eq!(
        symlink_target(tree, "etc/ssl/certs/ca-cert-corp.pem"),
        "/usr/local/share/ca-certificates/corp.crt"
    );
    assert!(
        tree.get("etc/ssl/certs/ca-cert-C.pem").is_none(),
        "disabled"
    );
}

#[test]
fn without_a_conf_every_certificate_is_used_and_a_shipped_bundle_is_kept() {
    let rootfs = build(&[ca_certificates(None)], NO_CONFIG);
    assert_eq!(
        text(&rootfs.tree, "etc/ssl/certs/ca-certificates.crt"),
        "-----A-----\n\n-----B-----\n-----C-----\n\n"
    );
    let bundle = ApkBuilder::new("ca-certificates-bundle", "20241121-r1")
        .file("etc/ssl/certs/ca-certificates.crt", "shipped\n")
        .build();
    let rootfs = build(&[bundle, ca_certificates(None)], NO_CONFIG);
    assert_eq!(
        text(&rootfs.tree, "etc/ssl/certs/ca-certificates.crt"),
        "shipped\n"
    );
    // Without ca-certificates installed nothing is made.
    let only_certs = ApkBuilder::new("certs", "1.0-r0")
        .file("usr/share/ca-certificates/x.crt", "x")
        .build();
    let rootfs = build(&[only_certs], NO_CONFIG);
    assert!(
        rootfs
            .tree
            .get("etc/ssl/certs/ca-certificates.crt")
            .is_none()
    );
}

#[test]
fn service_bundles_get_an_s6_run_file_each() {
    let yaml = "entrypoint:\n  type: service-bundle\n  services:\n    nginx: /usr/sbin/nginx -g \"daemon off;\"\n    php: php-fpm83 -F\n";
    let rootfs = build(&[], yaml);
    let tree = &rootfs.tree;
    assert_eq!(
        text(tree, "sv/nginx/run"),
        "#!/bin/execlineb\n/usr/sbin/nginx -g \"daemon off;\"\n"
    );
    assert_eq!(tree.get("sv/nginx/run").unwrap().mode, 0o755);
    assert_eq!(text(tree, "sv/php/run"), "#!/bin/execlineb\nphp-fpm83 -F\n");
    assert!(tree.get("sv").unwrap().is_dir());
    assert!(rootfs.tree.get("sv/nginx").unwrap().is_dir());
}

#[test]
fn glibc_images_get_the_ld_so_cache_and_musl_images_none() {
    let names = [
        "agnios-baselayout-20230201-r20230201",
        "ld-linux-2.41-r4",
        "glibc-2.41-r4",
        "libgcc-14.2.0-r1",
        "ncurses-terminfo-base-6.5_p20241228-r1",
        "ncurses-6.5_p20241228-r1",
        "bash-5.2.37-r30",
    ];
    let packages: Vec<_> = names
        .iter()
        .map(|n| fixture_package(&format!("glibc-distro/main/x86_64/{n}.apk")))
        .collect();
    let rootfs = rootfs_of(&packages, NO_CONFIG).unwrap();
    let cache = read_ld_so_cache(&content(&rootfs.tree, "etc/ld.so.cache")).unwrap();
    let lookup = |soname: &str| {
        cache
            .entries
            .iter()
            .find(|e| e.soname == soname)
            .map(|e| e.path.clone())
    };
    assert_eq!(lookup("libc.so.6").as_deref(), Some("/lib/libc.so.6"));
    assert_eq!(
        lookup("libtinfo.so.6").as_deref(),
        Some("/usr/lib/libtinfo.so.6")
    );
    assert_eq!(rootfs.tree.get("etc/ld.so.cache").unwrap().mode, 0o644);

    let musl = ApkBuilder::new("musl", "1.2.4-r2")
        .file("lib/ld-musl-x86_64.so.1", "musl")
        .build();
    let rootfs = build(&[musl], NO_CONFIG);
    assert!(rootfs.tree.get("etc/ld.so.cache").is_none());
}

#[test]
fn a_glibc_ldconfig_does_not_know_gets_no_cache_but_builds() {
    let armhf = ApkBuilder::new("glibc", "2.41-r0")
        .arch("armv7")
        .file("lib/ld-linux-armhf.so.3", "not really")
        .build();
    let packages = [crate::common::to_install(&armhf)];
    let rootfs = crate::common::rootfs_for_arch(&packages, NO_CONFIG, "armv7").unwrap();
    assert!(rootfs.tree.get("etc/ld.so.cache").is_none());
}
