//! The apk database a root filesystem carries: what `apk` inside the image reads.

use rapko_apk::installed::{parse_installed, parse_triggers, read_scripts_tar};
use rapko_test::{ApkBuilder, Entry};

use crate::common::{content, owned_files, rootfs, text};

const CONFIG: &str = "contents:\n  packages: [zeta, alpha, alpha]\n";

#[test]
fn installed_lists_exactly_what_each_package_owns_after_a_takeover() {
    let base = ApkBuilder::new("base", "1.0-r0")
        .file("etc/motd", "base\n")
        .file("etc/issue", "base\n")
        .build();
    let brand = ApkBuilder::new("brand", "2.0-r1")
        .replaces(["base"])
        .file("etc/motd", "brand\n")
        .build();
    let rootfs = rootfs(&[base, brand], CONFIG);
    let db = parse_installed(&text(&rootfs.tree, "lib/apk/db/installed")).unwrap();
    let names: Vec<&str> = db.iter().map(|p| p.info.name.as_str()).collect();
    assert_eq!(names, ["base", "brand"], "sorted by name, as apk writes it");
    assert_eq!(owned_files(&db[0]), ["etc/issue"]);
    assert_eq!(owned_files(&db[1]), ["etc/motd"]);
    assert_eq!(content(&rootfs.tree, "etc/motd"), b"brand\n");
    let text = text(&rootfs.tree, "lib/apk/db/installed");
    assert!(text.contains("P:brand\nV:2.0-r1\n"), "{text}");
    assert!(text.contains("r:base\n"), "replaces recorded: {text}");
}

#[test]
fn file_records_carry_checksums_and_non_default_owners_and_modes() {
    let p = ApkBuilder::new("p", "1.0-r0")
        .entry(Entry::dir("srv").mode(0o750).owner(33, 33))
        .entry(Entry::file("srv/data", "x").mode(0o600).owner(33, 34))
        .file("srv/plain", "y")
        .build();
    let rootfs = rootfs(&[p], CONFIG);
    let text = text(&rootfs.tree, "lib/apk/db/installed");
    let sha1 = |s: &str| {
        use base64::Engine as _;
        use sha1::Digest as _;
        let digest: [u8; 20] = sha1::Sha1::digest(s.as_bytes()).into();
        format!(
            "Q1{}",
            base64::engine::general_purpose::STANDARD.encode(digest)
        )
    };
    let expected = format!(
        "F:srv\nM:33:33:750\nR:data\na:33:34:600\nZ:{}\nR:plain\nZ:{}\n",
        sha1("x"),
        sha1("y")
    );
    assert!(text.contains(&expected), "{text}");
}

#[test]
fn scripts_triggers_world_repositories_keys_and_arch_are_written() {
    let p = ApkBuilder::new("zeta", "1.0-r0")
        .script(".post-install", "#!/bin/sh\necho hi\n")
        .script(".trigger", "#!/bin/sh\n")
        .triggers(["/usr/share/fonts/*"])
        .file("usr/share/zeta", "z")
        .build();
    let q = ApkBuilder::new("alpha", "1.0-r0")
        .file("usr/share/alpha", "a")
        .build();
    let rootfs = rootfs(&[p, q], CONFIG);
    let tree = &rootfs.tree;
    let scripts = read_scripts_tar(&content(tree, "lib/apk/db/scripts.tar")).unwrap();
    let names: Vec<String> = scripts.iter().map(|s| s.file_name()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[0].starts_with("zeta-1.0-r0.Q1") && names[0].ends_with(".post-install"));
    let triggers = parse_triggers(&text(tree, "lib/apk/db/triggers")).unwrap();
    assert_eq!(triggers.len(), 1);
    assert_eq!(triggers[0].1, ["/usr/share/fonts/*"]);
    assert_eq!(
        text(tree, "etc/apk/world"),
        "alpha\nzeta\n",
        "sorted, once each"
    );
    assert_eq!(
        text(tree, "etc/apk/repositories"),
        "https://example.org/main\n"
    );
    assert_eq!(text(tree, "etc/apk/arch"), "x86_64\n");
    assert_eq!(
        text(tree, &format!("etc/apk/keys/{}", rapko_test::TEST_KEY_NAME)),
        rapko_test::test_public_key_pem()
    );
    assert_eq!(tree.get("lib/apk/db/lock").unwrap().mode, 0o600);
    assert!(tree.get("var/cache/apk").is_some_and(|n| n.is_dir()));
}
