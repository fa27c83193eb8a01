//! `accounts` merged into the account files packages ship, and home directories.

use rapko_test::{ApkBuilder, BuiltApk, Entry};

use crate::common::{rootfs, rootfs_err, text};

fn baselayout() -> BuiltApk {
    ApkBuilder::new("baselayout", "1.0-r0")
        .file(
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n",
        )
        .file("etc/group", "root:x:0:root\nnogroup:x:65533:\n")
        .entry(
            Entry::file("etc/shadow", "root:*::0:::::\nnobody:!::0:::::\n")
                .mode(0o640)
                .owner(0, 42),
        )
        .entry(Entry::dir("root").mode(0o700))
        .dir("home")
        .build()
}

const ACCOUNTS: &str = "
accounts:
  groups:
    - {groupname: nonroot, gid: 65532, members: [nonroot]}
    - {groupname: nogroup, gid: 65500}
  users:
    - {username: nonroot, uid: 65532, gid: 65532}
    - {username: nobody, uid: 65534, gid: 65534, shell: /bin/false, homedir: /}
  run-as: nonroot
";

#[test]
fn configured_accounts_are_appended_and_replace_shipped_ones_of_the_same_name() {
    let rootfs = rootfs(&[baselayout()], ACCOUNTS);
    let tree = &rootfs.tree;
    assert_eq!(
        text(tree, "etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\n\
         nobody:x:65534:65534:Account created by apko:/:/bin/false\n\
         nonroot:x:65532:65532:Account created by apko:/home/nonroot:/bin/sh\n"
    );
    assert_eq!(
        text(tree, "etc/group"),
        "root:x:0:root\nnogroup:x:65500:\nnonroot:x:65532:nonroot\n"
    );
    assert_eq!(
        text(tree, "etc/shadow"),
        "root:*::0:::::\nnobody:!::0:::::\nnonroot:!::0:::::\n"
    );
    let shadow = tree.get("etc/shadow").unwrap();
    assert_eq!(
        (shadow.mode, shadow.gid),
        (0o640, 42),
        "the shipped mode and group stay"
    );
}

#[test]
fn home_directories_are_created_owned_by_the_user() {
    let rootfs = rootfs(&[baselayout()], ACCOUNTS);
    let home = rootfs.tree.get("home/nonroot").unwrap();
    assert!(home.is_dir());
    assert_eq!((home.mode, home.uid, home.gid), (0o700, 65532, 65532));
    let root_dir = rootfs.tree.get("root").unwrap();
    assert_eq!((root_dir.mode, root_dir.uid), (0o700, 0));
    // `/` as a home is left alone.
    assert_eq!(
        rootfs.tree.iter().next().map(|(p, _)| p.as_str()),
        Some("etc")
    );
}

#[test]
fn files_are_created_when_no_package_ships_them_and_homes_get_parents() {
    let yaml = "accounts:\n  users:\n    - {username: app, uid: 1000, homedir: /srv/app/home}\n";
    let rootfs = rootfs(&[], yaml);
    let tree = &rootfs.tree;
    assert_eq!(
        text(tree, "etc/passwd"),
        "app:x:1000:1000:Account created by apko:/srv/app/home:/bin/sh\n"
    );
    assert_eq!(tree.get("etc/passwd").unwrap().mode, 0o644);
    assert_eq!(tree.get("etc/shadow").unwrap().mode, 0o640);
    assert_eq!(tree.get("srv/app").unwrap().mode, 0o755);
    let home = tree.get("srv/app/home").unwrap();
    assert_eq!((home.mode, home.uid, home.gid), (0o700, 1000, 1000));
}

#[test]
fn an_existing_home_is_left_alone_and_a_file_there_is_an_error() {
    let www = ApkBuilder::new("www", "1.0-r0")
        .entry(Entry::dir("var/www").mode(0o755))
        .file("srv/file", "x")
        .build();
    let yaml = "accounts:\n  users:\n    - {username: www, uid: 82, homedir: /var/www}\n";
    let rootfs = rootfs(std::slice::from_ref(&www), yaml);
    let dir = rootfs.tree.get("var/www").unwrap();
    assert_eq!((dir.mode, dir.uid), (0o755, 0));
    let yaml = "accounts:\n  users:\n    - {username: www, uid: 82, homedir: /srv/file}\n";
    let err = rootfs_err(&[www], yaml);
    assert_eq!(
        err,
        "accounts: the home directory /srv/file of www exists but is a file; pick another homedir"
    );
}

#[test]
fn fields_that_would_corrupt_the_files_are_refused() {
    let yaml = "accounts:\n  users:\n    - {username: app, uid: 1000, shell: \"/bin/sh:x\"}\n";
    let err = rootfs_err(&[], yaml);
    assert!(
        err.starts_with("accounts: account \"app\": a field contains ':'"),
        "{err}"
    );
}
