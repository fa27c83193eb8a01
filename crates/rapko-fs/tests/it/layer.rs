//! The tar stream of a tree, read back by the `tar` crate and by GNU tar: owners, modes,
//! xattrs and hard links (also one that sorts before its file) come out as installed.

use std::process::Command;

use rapko_fs::layer::write_tar;
use rapko_test::{ApkBuilder, Entry};

use crate::common::{DataTar, install_ok, install_packages, with_data_tar};

#[test]
fn owners_modes_and_xattrs_reach_the_tar() {
    let owned = ApkBuilder::new("owned", "1.0-r0")
        .entry(Entry::dir("srv").mode(0o750).owner(70, 71))
        .entry(
            Entry::file("srv/ids", "x")
                .mode(0o4755)
                .owner(1_000_000, 2_000_000),
        )
        .build();
    let caps = with_data_tar(
        &ApkBuilder::new("caps", "1.0-r0").build(),
        &DataTar::default()
            .dir("bin")
            .entry(
                "bin/ping",
                tar::EntryType::Regular,
                0o755,
                b"ping",
                None,
                &[("SCHILY.xattr.security.capability", b"\x01\x02")],
            )
            .finish(),
    );
    let packages = [crate::common::to_install(&owned), caps];
    let (tree, _) = install_packages(&packages).unwrap();
    let bytes = write_tar(&tree, |_, _| true, u64::MAX, Vec::new()).unwrap();
    let mut archive = tar::Archive::new(&bytes[..]);
    let mut seen = 0;
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let h = entry.header().clone();
        match path.as_str() {
            "srv/" => {
                assert_eq!(
                    (h.mode().unwrap(), h.uid().unwrap(), h.gid().unwrap()),
                    (0o750, 70, 71)
                );
                seen += 1;
            }
            "srv/ids" => {
                assert_eq!(h.mode().unwrap(), 0o4755);
                assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (1_000_000, 2_000_000));
                seen += 1;
            }
            "bin/ping" => {
                let xattrs: Vec<(String, Vec<u8>)> = entry
                    .pax_extensions()
                    .unwrap()
                    .unwrap()
                    .map(|e| e.unwrap())
                    .map(|e| (e.key().unwrap().to_owned(), e.value_bytes().to_vec()))
                    .collect();
                assert_eq!(
                    xattrs,
                    [(
                        "SCHILY.xattr.security.capability".to_owned(),
                        b"\x01\x02".to_vec()
                    )]
                );
                seen += 1;
            }
            _ => {}
        }
    }
    assert_eq!(seen, 3);
}

#[test]
fn hard_links_unpack_as_one_file_even_when_the_link_sorts_first() {
    // The package has the file first (as tar needs), but in the image the link sorts first.
    let p = ApkBuilder::new("gz", "1.0-r0")
        .entry(
            Entry::file("usr/bin/zz-gzip", "gzip!")
                .mode(0o755)
                .owner(0, 0),
        )
        .hardlink("usr/bin/aa-gunzip", "usr/bin/zz-gzip")
        .hardlink("usr/bin/zcat", "usr/bin/zz-gzip")
        .keep_order()
        .build();
    let (tree, _) = install_ok(&[p]);
    let bytes = write_tar(&tree, |_, _| true, u64::MAX, Vec::new()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    tar::Archive::new(&bytes[..]).unpack(dir.path()).unwrap();
    use std::os::unix::fs::MetadataExt as _;
    let meta = |name: &str| std::fs::metadata(dir.path().join("usr/bin").join(name)).unwrap();
    let first = meta("aa-gunzip");
    assert_eq!(first.nlink(), 3);
    assert_eq!(first.mode() & 0o7777, 0o755);
    for other in ["zcat", "zz-gzip"] {
        assert_eq!(meta(other).ino(), first.ino(), "{other}");
    }
    assert_eq!(
        std::fs::read(dir.path().join("usr/bin/zz-gzip")).unwrap(),
        b"gzip!"
    );
    // GNU tar agrees, when it is there.
    if let Some(tar) = rapko_test::require_tool("tar") {
        let archive = dir.path().join("layer.tar");
        std::fs::write(&archive, &bytes).unwrap();
        let out = Command::new(tar)
            .arg("-tvf")
            .arg(&archive)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let listing = String::from_utf8_lossy(&out.stdout);
        assert!(
            listing.contains("usr/bin/zz-gzip link to usr/bin/aa-gunzip"),
            "{listing}"
        );
    }
}
