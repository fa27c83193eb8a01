//! Hostile packages found by testing (issue #19): a file through an absolute symlink the
//! package just made, a file name that is not UTF-8.

use rapko_test::{ApkBuilder, Entry};

use crate::common::{install_err, install_ok, owned_files, record};

#[test]
fn a_file_through_an_absolute_symlink_without_a_directory_entry_is_skipped_as_apk_does() {
    let evil = ApkBuilder::new("evil", "1.0-r0")
        .no_auto_dirs()
        .keep_order()
        .dir("target")
        .symlink("a", "/target")
        .file("a/x", "through the link\n")
        .file("target/own", "1\n")
        .build();
    let (tree, installed) = install_ok(&[evil]);
    assert!(
        tree.get("target/x").is_none(),
        "installed through /a -> /target"
    );
    assert!(tree.get("a/x").is_none());
    assert!(tree.get("target/own").is_some());
    assert_eq!(owned_files(record(&installed, "evil")), ["a", "target/own"]);
}

#[test]
fn a_relative_symlink_is_still_followed_as_before() {
    // merged /usr: `lib -> usr/lib`, then `lib/x` without an entry for `lib` (as apko does).
    let merged = ApkBuilder::new("merged", "1.0-r0")
        .no_auto_dirs()
        .keep_order()
        .dir("usr")
        .dir("usr/lib")
        .symlink("lib", "usr/lib")
        .file("lib/x", "1\n")
        .build();
    let (tree, _) = install_ok(&[merged]);
    assert!(tree.get("usr/lib/x").is_some());
}

#[test]
fn a_file_name_that_is_not_utf8_is_refused_naming_it() {
    let latin1 = ApkBuilder::new("latin1", "1.0-r0")
        .entry(Entry::file("usr/share/caf_", "x").raw_name(b"usr/share/caf\xe9"))
        .build();
    let err = install_err(&[latin1]);
    assert!(
        err.contains("latin1-1.0-r0")
            && err.contains(r"usr/share/caf\xe9")
            && err.contains("not UTF-8"),
        "{err}"
    );
}
