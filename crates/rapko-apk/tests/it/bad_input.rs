//! Hostile and broken input: every case must be an error that names the problem, never a
//! panic, a hang or an allocation the input merely claims.

use std::io::Write;

use rapko_apk::installed::{parse_installed, parse_triggers, read_scripts_tar};
use rapko_apk::{ApkIndex, ApkPackage, Dependency, Error, Trust, parse_index_text, parse_pkginfo};

use crate::common::read;

fn gz(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    enc.write_all(data).expect("gzip in memory");
    enc.finish().expect("gzip in memory")
}

/// A tar header for `name`, claiming `size` bytes (any size: the tar crate switches to
/// GNU base-256 numbers past 8 GiB).
fn header(name: &str, size: u64, kind: tar::EntryType) -> Vec<u8> {
    let mut h = tar::Header::new_gnu();
    // Written raw: the tar crate refuses to write hostile names such as `../x`.
    h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_entry_type(kind);
    h.set_cksum();
    h.as_bytes().to_vec()
}

fn tar_file(name: &str, content: &[u8]) -> Vec<u8> {
    let mut out = header(name, content.len() as u64, tar::EntryType::Regular);
    out.extend_from_slice(content);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

const PKGINFO: &[u8] = b"pkgname = x\npkgver = 1-r0\narch = noarch\n";

/// An unsigned package: a control member and the given raw data tar.
fn package(data_tar: &[u8]) -> Vec<u8> {
    let mut bytes = gz(&tar_file(".PKGINFO", PKGINFO));
    bytes.extend(gz(data_tar));
    bytes
}

fn entries_error(bytes: &[u8]) -> Error {
    let pkg = ApkPackage::parse(bytes).expect("the head is fine");
    pkg.data_entries(bytes, |_| Ok(()))
        .expect_err("data refused")
}

fn real_package() -> Vec<u8> {
    read(&rapko_test::fixture(
        "alpine-3.19/main/x86_64/busybox-1.36.1-r15.apk",
    ))
}

#[test]
fn garbage_is_not_a_gzip_stream() {
    for bytes in [&b""[..], b"garbage", b"\x1f\x8b", &[0u8; 4096]] {
        let err = ApkPackage::parse(bytes).expect_err("garbage refused");
        assert!(err.to_string().contains("byte 0"), "{bytes:?}: {err}");
        let err = ApkIndex::read(bytes, Trust::Ignore).expect_err("garbage refused");
        assert!(err.to_string().contains("byte 0"), "{bytes:?}: {err}");
    }
}

#[test]
fn a_truncated_package_is_refused_wherever_it_is_cut() {
    let bytes = real_package();
    let pkg = ApkPackage::parse(&bytes).expect("parses");
    let cuts = [
        10,
        pkg.control.start - 5,
        pkg.control.start + 20,
        pkg.control.end - 3,
        pkg.control.end,
        pkg.control.end + 100,
        bytes.len() / 2,
        bytes.len() - 4,
    ];
    for cut in cuts {
        let short = &bytes[..cut];
        let error = match ApkPackage::parse(short) {
            Err(e) => e,
            // Cut inside the data member: the head is whole, the data is not.
            Ok(p) => p
                .data_entries(short, |_| Ok(()))
                .expect_err("truncated data refused"),
        };
        let text = error.to_string();
        assert!(
            [
                "truncated",
                "gzip",
                "unexpected end",
                "no data member",
                "incomplete deflate"
            ]
            .iter()
            .any(|what| text.contains(what)),
            "cut at {cut}: {text}"
        );
    }
}

#[test]
fn a_truncated_index_is_refused() {
    let bytes = read(&rapko_test::fixture(
        "alpine-3.19/main/x86_64/APKINDEX.tar.gz",
    ));
    for cut in [5, 600, bytes.len() / 2, bytes.len() - 1] {
        let err = ApkIndex::read(&bytes[..cut], Trust::Ignore).expect_err("truncated refused");
        assert!(!err.to_string().is_empty(), "cut at {cut}");
    }
}

#[test]
fn a_data_entry_claiming_100_gb_is_refused_before_allocating() {
    let mut data = header("usr/bin/huge", 100 << 30, tar::EntryType::Regular);
    data.extend_from_slice(&[0u8; 4096]);
    let err = entries_error(&package(&data));
    let text = err.to_string();
    assert!(matches!(err, Error::TooLarge { .. }), "{text}");
    assert!(
        text.contains("usr/bin/huge") && text.contains("107374182400"),
        "{text}"
    );
}

#[test]
fn a_control_entry_claiming_100_gb_is_refused() {
    let mut control = tar_file(".PKGINFO", PKGINFO);
    control.extend(header(".post-install", 100 << 30, tar::EntryType::Regular));
    control.extend_from_slice(&[0u8; 1024]);
    let mut bytes = gz(&control);
    bytes.extend(gz(&tar_file("a", b"x")));
    let text = ApkPackage::parse(&bytes).expect_err("refused").to_string();
    assert!(
        text.contains(".post-install") && text.contains("107374182400"),
        "{text}"
    );
}

#[test]
fn a_control_member_bomb_is_refused() {
    // 17 MiB of zeros compress to a few KiB; the control member may inflate to 16 MiB.
    let mut control = tar_file(".PKGINFO", PKGINFO);
    control.extend(tar_file(".post-install", &vec![0u8; 17 << 20]));
    let mut bytes = gz(&control);
    bytes.extend(gz(&tar_file("a", b"x")));
    assert!(bytes.len() < 100_000);
    let err = ApkPackage::parse(&bytes).expect_err("bomb refused");
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    assert!(err.to_string().contains("over the limit"), "{err}");
}

#[test]
fn paths_that_escape_the_root_are_refused() {
    for path in ["../etc/passwd", "usr/../../etc/shadow", "./.."] {
        let err = entries_error(&package(&tar_file(path, b"owned")));
        assert!(matches!(err, Error::UnsafePath { .. }), "{path}: {err}");
        assert!(err.to_string().contains(".."), "{err}");
    }
}

#[test]
fn a_bad_pax_checksum_is_refused_naming_it() {
    let mut pax = Vec::new();
    let record = "APK-TOOLS.checksum.SHA1=nothex";
    let line = format!("{} {record}\n", record.len() + 4);
    pax.extend(header(
        "PaxHeaders/a",
        line.len() as u64,
        tar::EntryType::XHeader,
    ));
    pax.extend_from_slice(line.as_bytes());
    pax.resize(pax.len().div_ceil(512) * 512, 0);
    pax.extend(tar_file("a", b"x"));
    let text = entries_error(&package(&pax)).to_string();
    assert!(
        text.contains("APK-TOOLS.checksum.SHA1") && text.contains("nothex"),
        "{text}"
    );
}

/// The error of `result`, without printing a (huge) success value if there is none.
fn error_of<T>(result: rapko_apk::Result<T>, what: &str) -> String {
    match result {
        Ok(_) => panic!("{what}: accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn ten_megabyte_lines() {
    let long = "a".repeat(10 << 20);
    let short_enough = |text: &str, line: &str| text.contains(line) && text.len() < 500;
    // Not `X:value`: refused, and the message quotes only the start of the line.
    let err = error_of(
        parse_index_text(&format!("P:x\nV:1\n{long}\n")),
        "index line",
    );
    assert!(short_enough(&err, "line 3"), "{} bytes", err.len());
    // A 10 MB description is odd but well formed.
    let ok = parse_index_text(&format!("P:x\nV:1\nT:{long}\n")).map(|p| p[0].description.len());
    assert_eq!(ok.ok(), Some(long.len()));
    let err = error_of(
        parse_pkginfo(&format!("pkgname = x\n{long}\n")),
        ".PKGINFO line",
    );
    assert!(short_enough(&err, "line 2"), "{} bytes", err.len());
    let installed = format!("C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\nP:x\nV:1\n{long}\n");
    let err = error_of(parse_installed(&installed), "installed line");
    assert!(short_enough(&err, "line 4"), "{} bytes", err.len());
    // A 10 MB dependency atom without a version after its operator.
    let err = error_of(
        parse_index_text(&format!("P:x\nV:1\nD:{long}>=\n")),
        "index atom",
    );
    assert!(short_enough(&err, "line 3"), "{} bytes", err.len());
    let err = error_of(
        parse_pkginfo(&format!("pkgname = x\ndepend = {long}>=\n")),
        "pkginfo atom",
    );
    assert!(short_enough(&err, "line 2"), "{} bytes", err.len());
    for field in ["I:", "C:Q1"] {
        let err = error_of(
            parse_index_text(&format!("P:x\nV:1\n{field}{long}\n")),
            field,
        );
        assert!(short_enough(&err, "line 3"), "{field}: {} bytes", err.len());
    }
    let err = error_of(
        parse_pkginfo(&format!("pkgname = x\nsize = {long}\n")),
        "size",
    );
    assert!(short_enough(&err, "not a number"), "{} bytes", err.len());
}

#[test]
fn invalid_versions_are_named() {
    let err = rapko_apk::version::validate("1.2-rx").expect_err("invalid");
    assert!(err.to_string().contains("1.2-rx"), "{err}");
    let err = "foo>=1..2".parse::<Dependency>().expect_err("invalid");
    assert!(err.to_string().contains("1..2"), "{err}");
    let err = parse_index_text("P:x\nV:1\nD:foo>=\n").expect_err("an operator without a version");
    assert!(
        err.to_string().contains("line 3") && err.to_string().contains("foo>="),
        "{err}"
    );
    let err = parse_pkginfo("pkgname = x\npkgver = 1\nsize = lots\n").expect_err("not a number");
    assert!(
        err.to_string().contains("size") && err.to_string().contains("lots"),
        "{err}"
    );
}

#[test]
fn broken_database_files() {
    assert!(parse_triggers("Q1 /x\n").is_err());
    let err = read_scripts_tar(&[b'x'; 1024]).expect_err("not a tar");
    assert!(err.to_string().contains("tar"), "{err}");
    let err = parse_installed("C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\nP:x\nV:1\nF:d\nR:f\na:0:0\n")
        .expect_err("short acl");
    assert!(
        err.to_string().contains("line 6") && err.to_string().contains("mode"),
        "{err}"
    );
}
