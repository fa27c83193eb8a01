//! `paths` mutations on a finished tree, and the error for each mistake a config can make.

use rapko_fs::NodeKind;
use rapko_test::{ApkBuilder, BuiltApk, Entry};

use crate::common::{content, rootfs, rootfs_err, symlink_target};

fn base() -> BuiltApk {
    ApkBuilder::new("base", "1.0-r0")
        .entry(Entry::dir("tmp").mode(0o1777))
        .file("etc/hosts", "127.0.0.1 localhost\n")
        .entry(Entry::file("usr/lib/app/lib.so", "so").mode(0o755))
        .file("usr/lib/app/data/x", "x")
        .build()
}

fn with_paths(paths: &str) -> rapko_fs::Rootfs {
    rootfs(&[base()], &format!("paths:\n{paths}"))
}

fn paths_err(paths: &str) -> String {
    rootfs_err(&[base()], &format!("paths:\n{paths}"))
}

#[test]
fn directories_are_created_with_owner_and_mode() {
    let rootfs = with_paths(
        "  - {path: /data/cache, type: directory, uid: 65532, gid: 65533, permissions: 0o750}\n\
         \x20 - {path: /plain, type: directory}\n\
         \x20 - {path: /tmp, type: directory}\n",
    );
    let tree = &rootfs.tree;
    let cache = tree.get("data/cache").unwrap();
    assert_eq!((cache.mode, cache.uid, cache.gid), (0o750, 65532, 65533));
    assert_eq!(
        tree.get("data").unwrap().mode,
        0o755,
        "missing parents are 0755"
    );
    assert_eq!(tree.get("plain").unwrap().mode, 0o755);
    assert_eq!(
        tree.get("tmp").unwrap().mode,
        0o1777,
        "an existing directory keeps its mode"
    );
}

#[test]
fn recursive_directories_change_everything_below() {
    let rootfs = with_paths(
        "  - {path: /usr/lib/app, type: directory, uid: 1000, gid: 1000, permissions: 0o700, recursive: true}\n",
    );
    let tree = &rootfs.tree;
    for path in [
        "usr/lib/app",
        "usr/lib/app/lib.so",
        "usr/lib/app/data",
        "usr/lib/app/data/x",
    ] {
        let node = tree.get(path).unwrap();
        assert_eq!(
            (node.mode, node.uid, node.gid),
            (0o700, 1000, 1000),
            "{path}"
        );
    }
    assert_eq!(
        tree.get("usr/lib").unwrap().uid,
        0,
        "parents are not touched"
    );
}

#[test]
fn permissions_change_only_what_they_set() {
    let rootfs = with_paths(
        "  - {path: /etc/hosts, type: permissions, permissions: 0o600}\n\
         \x20 - {path: /usr/lib/app/lib.so, type: permissions, uid: 7}\n",
    );
    let hosts = rootfs.tree.get("etc/hosts").unwrap();
    assert_eq!((hosts.mode, hosts.uid), (0o600, 0));
    let lib = rootfs.tree.get("usr/lib/app/lib.so").unwrap();
    assert_eq!((lib.mode, lib.uid, lib.gid), (0o755, 7, 0));
}

#[test]
fn empty_files_are_created_or_truncated() {
    let rootfs = with_paths(
        "  - {path: /var/log/app.log, type: empty-file, uid: 5, permissions: 0o640}\n\
         \x20 - {path: /etc/hosts, type: empty-file}\n\
         \x20 - {path: /new, type: empty-file}\n",
    );
    let tree = &rootfs.tree;
    assert_eq!(content(tree, "var/log/app.log"), b"");
    let log = tree.get("var/log/app.log").unwrap();
    assert_eq!((log.mode, log.uid), (0o640, 5));
    assert_eq!(content(tree, "etc/hosts"), b"", "truncated");
    assert_eq!(tree.get("new").unwrap().mode, 0o644);
}

#[test]
fn links_are_made_and_a_hard_link_shares_its_files_mode() {
    let rootfs = with_paths(
        "  - {path: /lib64, type: symlink, source: lib}\n\
         \x20 - {path: /lib64, type: symlink, source: lib}\n\
         \x20 - {path: /etc/hosts.copy, type: hardlink, source: /etc/hosts}\n\
         \x20 - {path: /etc/hosts.copy, type: permissions, permissions: 0o604}\n",
    );
    let tree = &rootfs.tree;
    assert_eq!(symlink_target(tree, "lib64"), "lib");
    assert_eq!(
        tree.get("etc/hosts.copy").unwrap().kind,
        NodeKind::Hardlink("etc/hosts".into())
    );
    assert_eq!(
        tree.get("etc/hosts").unwrap().mode,
        0o604,
        "one inode, one mode"
    );
}

#[test]
fn permissions_on_a_missing_path_say_so() {
    let err = paths_err("  - {path: /nope/file, type: permissions, permissions: 0o600}\n");
    assert_eq!(
        err,
        "paths: permissions /nope/file: /nope/file does not exist in the image; create it \
         first (a `directory` or `empty-file` entry before this one) or fix the path"
    );
}

#[test]
fn a_hard_link_to_a_missing_source_says_so() {
    let err = paths_err("  - {path: /x, type: hardlink, source: /etc/missing}\n");
    assert_eq!(
        err,
        "paths: hardlink /x: the source /etc/missing is missing, not a regular file of the \
         image; a hard link needs an existing file (check `source`)"
    );
    let err = paths_err("  - {path: /x, type: hardlink, source: /usr/lib/app}\n");
    assert!(
        err.contains("/usr/lib/app is a directory, not a regular file"),
        "{err}"
    );
}

#[test]
fn a_symlink_over_an_existing_file_says_so() {
    let err = paths_err("  - {path: /etc/hosts, type: symlink, source: /proc/hosts}\n");
    assert_eq!(
        err,
        "paths: symlink /etc/hosts: /etc/hosts already exists (a file); remove the entry or \
         pick another path"
    );
}

#[test]
fn a_directory_over_a_file_and_paths_out_of_the_root_say_so() {
    let err = paths_err("  - {path: /etc/hosts/sub, type: directory}\n");
    assert_eq!(
        err,
        "paths: directory /etc/hosts/sub: cannot create /etc/hosts/sub: its parent /etc/hosts \
         is a file, not a directory"
    );
    let err = paths_err(
        "  - {path: /up, type: symlink, source: ../../..}\n\
         \x20 - {path: /up/etc/passwd, type: empty-file}\n",
    );
    assert!(err.contains("resolves outside the image root"), "{err}");
}
