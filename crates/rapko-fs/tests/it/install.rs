//! Installing synthetic packages: apk-tools 2.14's ownership rules, metadata kept, and entries
//! that must be refused.

use rapko_fs::NodeKind;
use rapko_test::{ApkBuilder, Entry};

use crate::common::{
    DataTar, content, install_err, install_ok, install_packages, owned_files, record,
    symlink_target, to_install, with_data_tar,
};

fn pkg(name: &str) -> ApkBuilder {
    ApkBuilder::new(name, "1.0-r0")
}

#[test]
fn a_package_that_replaces_the_owner_overwrites_and_takes_the_file() {
    let a = pkg("a")
        .file("etc/x.conf", "a\n")
        .file("etc/a-only", "1")
        .build();
    let b = pkg("b").replaces(["a"]).file("etc/x.conf", "b\n").build();
    let (tree, installed) = install_ok(&[a, b]);
    assert_eq!(content(&tree, "etc/x.conf"), b"b\n");
    assert_eq!(owned_files(record(&installed, "a")), ["etc/a-only"]);
    assert_eq!(owned_files(record(&installed, "b")), ["etc/x.conf"]);
}

#[test]
fn an_earlier_package_that_replaces_the_newcomer_keeps_its_file() {
    let a = pkg("a").replaces(["b"]).file("etc/x.conf", "a\n").build();
    let b = pkg("b")
        .file("etc/x.conf", "b\n")
        .file("etc/b-only", "1")
        .build();
    let (tree, installed) = install_ok(&[a, b]);
    assert_eq!(content(&tree, "etc/x.conf"), b"a\n");
    assert_eq!(owned_files(record(&installed, "a")), ["etc/x.conf"]);
    assert_eq!(owned_files(record(&installed, "b")), ["etc/b-only"]);
}

#[test]
fn replaces_priority_decides_between_packages_replacing_each_other() {
    let a = |prio| {
        pkg("a")
            .replaces(["b"])
            .replaces_priority(prio)
            .file("usr/bin/tool", "a")
            .build()
    };
    let b = pkg("b")
        .replaces(["a"])
        .replaces_priority(5)
        .file("usr/bin/tool", "b")
        .build();
    let (tree, _) = install_ok(&[a(10), b.clone()]);
    assert_eq!(
        content(&tree, "usr/bin/tool"),
        b"a",
        "higher priority keeps the file"
    );
    let (tree, _) = install_ok(&[a(5), b.clone()]);
    assert_eq!(
        content(&tree, "usr/bin/tool"),
        b"b",
        "equal priority: the newcomer wins"
    );
    let (tree, _) = install_ok(&[a(1), b]);
    assert_eq!(content(&tree, "usr/bin/tool"), b"b");
}

#[test]
fn replaces_with_a_version_that_does_not_match_is_a_conflict() {
    let a = pkg("a").file("etc/x", "a").build();
    let b = pkg("b").replaces(["a<1.0"]).file("etc/x", "b").build();
    let err = install_err(&[a, b]);
    assert!(err.contains("file conflict on /etc/x"), "{err}");
}

#[test]
fn packages_of_the_same_origin_overwrite_each_other() {
    let a = pkg("a").origin("src").file("usr/share/doc", "a").build();
    let b = pkg("b").origin("src").file("usr/share/doc", "b").build();
    let (tree, installed) = install_ok(&[a, b]);
    assert_eq!(content(&tree, "usr/share/doc"), b"b");
    assert!(owned_files(record(&installed, "a")).is_empty());
    assert_eq!(owned_files(record(&installed, "b")), ["usr/share/doc"]);
}

#[test]
fn identical_files_are_no_conflict() {
    let a = pkg("a")
        .file("etc/same", "same\n")
        .symlink("etc/link", "same")
        .build();
    let b = pkg("b")
        .file("etc/same", "same\n")
        .symlink("etc/link", "same")
        .build();
    let (tree, installed) = install_ok(&[a, b]);
    assert_eq!(content(&tree, "etc/same"), b"same\n");
    assert_eq!(
        owned_files(record(&installed, "b")),
        ["etc/link", "etc/same"]
    );
    assert!(owned_files(record(&installed, "a")).is_empty());
}

#[test]
fn a_conflict_names_both_packages_and_the_path() {
    let a = pkg("alpha").file("usr/bin/tool", "a").build();
    let b = pkg("beta").file("usr/bin/tool", "b").build();
    let err = install_err(&[a, b]);
    assert!(err.contains("/usr/bin/tool"), "{err}");
    assert!(err.contains("alpha-1.0-r0"), "{err}");
    assert!(err.contains("beta-1.0-r0"), "{err}");
    assert!(err.contains("hint"), "{err}");
}

#[test]
fn a_file_where_a_directory_is_and_the_reverse_are_refused() {
    let dir = pkg("dirs").dir("opt/thing").build();
    let file = pkg("files").file("opt/thing", "x").build();
    let err = install_err(&[dir.clone(), file.clone()]);
    assert!(
        err.contains("files-1.0-r0") && err.contains("dirs-1.0-r0"),
        "{err}"
    );
    assert!(err.contains("/opt/thing is already a directory"), "{err}");
    let err = install_err(&[file, dir]);
    assert!(
        err.contains("cannot install a directory /opt/thing"),
        "{err}"
    );
}

#[test]
fn modes_owners_and_mtimes_are_kept() {
    let a = pkg("a")
        .entry(Entry::dir("var/lib/app").mode(0o750).owner(100, 101))
        .entry(
            Entry::file("var/lib/app/state", "s")
                .mode(0o4640)
                .owner(1000, 1001)
                .mtime(1_600_000_000),
        )
        .symlink("var/lib/app/link", "state")
        .build();
    let (tree, installed) = install_ok(&[a]);
    let dir = tree.get("var/lib/app").unwrap();
    assert_eq!((dir.mode, dir.uid, dir.gid), (0o750, 100, 101));
    let file = tree.get("var/lib/app/state").unwrap();
    assert_eq!((file.mode, file.uid, file.gid), (0o4640, 1000, 1001));
    assert_eq!(file.mtime, 1_600_000_000);
    assert_eq!(symlink_target(&tree, "var/lib/app/link"), "state");
    let text = rapko_apk::installed::write_installed(installed.iter()).unwrap();
    assert!(text.contains("F:var/lib/app\nM:100:101:750\n"), "{text}");
    assert!(text.contains("R:state\na:1000:1001:4640\n"), "{text}");
}

#[test]
fn shared_directories_take_apks_lowest_owner_and_common_mode() {
    let first = pkg("a")
        .entry(Entry::dir("srv").mode(0o775).owner(0, 0))
        .entry(Entry::dir("data").mode(0o700).owner(50, 50))
        .build();
    let second = pkg("b")
        .entry(Entry::dir("srv").mode(0o755).owner(0, 0))
        .entry(Entry::dir("data").mode(0o755).owner(0, 0))
        .build();
    let (tree, _) = install_ok(&[first, second]);
    let srv = tree.get("srv").unwrap();
    assert_eq!((srv.mode, srv.uid), (0o755, 0), "same owner: modes and-ed");
    let data = tree.get("data").unwrap();
    assert_eq!(
        (data.mode, data.uid, data.gid),
        (0o755, 0, 0),
        "lower uid wins"
    );
    // A directory only implied as a parent takes the first explicit entry.
    let later = pkg("c")
        .entry(Entry::dir("srv/www").mode(0o710).owner(33, 33))
        .build();
    let early = pkg("d")
        .file("srv/www/index.html", "hi")
        .no_auto_dirs()
        .build();
    let (tree, installed) = install_ok(&[early, later]);
    let www = tree.get("srv/www").unwrap();
    assert_eq!((www.mode, www.uid, www.gid), (0o710, 33, 33));
    // The package without a directory entry still lists its file (apk would skip it).
    assert_eq!(owned_files(record(&installed, "d")), ["srv/www/index.html"]);
}

#[test]
fn xattrs_are_kept_and_recorded() {
    let base = pkg("caps").build();
    let data = DataTar::default()
        .dir("usr")
        .dir("usr/bin")
        .entry(
            "usr/bin/ping",
            tar::EntryType::Regular,
            0o755,
            b"ping",
            None,
            &[
                (
                    "SCHILY.xattr.security.capability",
                    b"\x01\x00\x00\x02\x00\x20",
                ),
                ("SCHILY.xattr.user.note", b"hello"),
            ],
        )
        .finish();
    let (tree, installed) = install_packages(&[with_data_tar(&base, &data)]).unwrap();
    let node = tree.get("usr/bin/ping").unwrap();
    assert_eq!(
        node.xattrs,
        [
            (
                "security.capability".to_owned(),
                b"\x01\x00\x00\x02\x00\x20".to_vec()
            ),
            ("user.note".to_owned(), b"hello".to_vec()),
        ]
    );
    let file = installed[0].file("usr/bin/ping").unwrap();
    assert!(
        file.acl.xattr_sha1.is_some(),
        "the ACL carries the xattr digest"
    );
}

#[test]
fn hard_links_share_the_file() {
    // abuild sorts entries, but a link must follow its file: keep this order.
    let a = pkg("a")
        .file("usr/bin/gzip", "gz")
        .hardlink("usr/bin/gunzip", "usr/bin/gzip")
        .keep_order()
        .build();
    let (tree, installed) = install_ok(&[a]);
    assert_eq!(
        tree.get("usr/bin/gunzip").unwrap().kind,
        NodeKind::Hardlink("usr/bin/gzip".into())
    );
    let record = &installed[0];
    assert_eq!(
        record.file("usr/bin/gunzip").unwrap().checksum,
        record.file("usr/bin/gzip").unwrap().checksum,
        "a link records its file's checksum"
    );
}

#[test]
fn hard_links_keep_their_content_when_the_file_is_taken_over() {
    let a = pkg("a")
        .file("usr/bin/gzip", "old")
        .hardlink("usr/bin/gunzip", "usr/bin/gzip")
        .hardlink("usr/bin/zcat", "usr/bin/gzip")
        .keep_order()
        .build();
    let b = pkg("b").replaces(["a"]).file("usr/bin/gzip", "new").build();
    let (tree, _) = install_ok(&[a, b]);
    assert_eq!(content(&tree, "usr/bin/gzip"), b"new");
    assert_eq!(content(&tree, "usr/bin/gunzip"), b"old");
    assert_eq!(content(&tree, "usr/bin/zcat"), b"old");
    assert_eq!(
        tree.get("usr/bin/zcat").unwrap().kind,
        NodeKind::Hardlink("usr/bin/gunzip".into())
    );
}

#[test]
fn a_hard_link_to_another_packages_file_is_refused() {
    let a = pkg("lib").file("usr/lib/libx.so", "x").build();
    let base = pkg("linker").build();
    let data = DataTar::default()
        .dir("usr")
        .dir("usr/bin")
        .entry(
            "usr/bin/x",
            tar::EntryType::Link,
            0o644,
            b"",
            Some("usr/lib/libx.so"),
            &[],
        )
        .finish();
    let packages = [to_install(&a), with_data_tar(&base, &data)];
    let err = install_packages(&packages).unwrap_err().to_string();
    assert!(err.contains("linker-1.0-r0"), "{err}");
    assert!(
        err.contains("hard link /usr/bin/x points at /usr/lib/libx.so"),
        "{err}"
    );
    assert!(
        err.contains("not a file the package installed before it"),
        "{err}"
    );
    // Nor to a file that is nowhere.
    let data = DataTar::default()
        .entry("x", tar::EntryType::Link, 0o644, b"", Some("missing"), &[])
        .finish();
    let err = install_packages(&[with_data_tar(&base, &data)])
        .unwrap_err()
        .to_string();
    assert!(err.contains("hard link /x points at /missing"), "{err}");
}

#[test]
fn dotdot_entries_are_refused_with_the_package_named() {
    let evil = pkg("evil")
        .entry(Entry::file("x", "root::0:0::/:/bin/sh\n").verbatim("../etc/passwd"))
        .build();
    let err = install_err(&[evil]);
    assert!(err.contains("evil-1.0-r0"), "{err}");
    assert!(err.contains("../etc/passwd"), "{err}");
}

#[test]
fn writing_through_a_symlink_out_of_the_root_is_refused() {
    let evil = pkg("evil")
        .symlink("escape", "../../..")
        .entry(Entry::file("x", "pwned").verbatim("escape/etc/passwd"))
        .build();
    let err = install_err(&[evil]);
    assert!(err.contains("package evil-1.0-r0"), "{err}");
    assert!(
        err.contains("escape/etc/passwd resolves outside the image root"),
        "{err}"
    );
}

#[test]
fn absolute_symlinks_stay_inside_the_root() {
    let layout = pkg("layout")
        .dir("usr/lib")
        .symlink("lib", "/usr/lib")
        .build();
    let libs = pkg("libs").dir("lib").file("lib/libc.so", "libc").build();
    let (tree, installed) = install_ok(&[layout, libs]);
    assert_eq!(content(&tree, "usr/lib/libc.so"), b"libc");
    assert_eq!(symlink_target(&tree, "lib"), "/usr/lib");
    assert!(owned_files(record(&installed, "libs")).contains(&"lib/libc.so".to_owned()));
}

#[test]
fn absolute_entries_are_refused_with_the_package_named() {
    let evil = pkg("abs")
        .entry(Entry::file("x", "x").verbatim("/etc/profile.d/evil.sh"))
        .build();
    let err = install_err(&[evil]);
    assert!(err.contains("abs-1.0-r0"), "{err}");
    assert!(
        err.contains("\"/etc/profile.d/evil.sh\": is absolute"),
        "{err}"
    );
}

#[test]
fn apk_metadata_entries_and_keep_files_are_not_installed() {
    let meta = pkg("meta")
        .entry(Entry::file(".dummy", ""))
        .file("var/empty/.keep_meta", "")
        .file("etc/real", "1")
        .build();
    let (tree, installed) = install_ok(&[meta]);
    assert!(tree.get(".dummy").is_none());
    assert!(tree.get("var/empty/.keep_meta").is_none());
    assert!(tree.get("var/empty").is_some_and(|n| n.is_dir()));
    assert_eq!(owned_files(&installed[0]), ["etc/real"]);
}

#[test]
fn names_with_control_characters_are_refused() {
    let base = pkg("ctl").build();
    let data = DataTar::default()
        .file("etc/bad\u{1b}[2Jname", b"x")
        .finish();
    let err = install_packages(&[with_data_tar(&base, &data)])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ctl-1.0-r0") && err.contains("control character"),
        "{err}"
    );
}
