//! Property tests that feed the parsers arbitrary bytes and mutated real packages, indexes
//! and texts: any input may be refused, none may panic. 256 cases per property by default;
//! `PROPTEST_CASES=200000 cargo test -p rapko-apk --release --test it fuzz` runs the long
//! session. Crashes found that way are kept as inline regressions at the end.

use std::io::{Read, Write};
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::Config;
use rapko_apk::installed::{
    Acl, InstalledDir, InstalledFile, InstalledPackage, parse_installed, parse_triggers,
    read_scripts_tar, write_installed,
};
use rapko_apk::{
    ApkIndex, ApkPackage, ControlChecksum, PackageInfo, Trust, parse_index_text, parse_pkginfo,
};

use crate::common::{read, test_keyring};

fn config() -> Config {
    Config {
        // Regressions live in this file, as small inline byte arrays, not in side files.
        failure_persistence: None,
        ..Config::default()
    }
}

/// Small real inputs: mutating them reaches deep into the parsers quickly.
struct Seeds {
    packages: Vec<Vec<u8>>,
    indexes: Vec<Vec<u8>>,
    texts: Vec<String>,
}

fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let file = |rel: &str| read(&rapko_test::fixture(rel));
        let packages = vec![
            file("small/misc/hello-0.1.0-r0.apk"),
            file("small/misc/replaces-0.0.1-r0.apk"),
            file("small/melange-rsa256/x86_64/pretend-baselayout-1.0.0-r0.apk"),
            file("alpine-3.19/main/x86_64/alpine-base-3.19.1-r0.apk"),
            file("alpine-3.19/main/x86_64/alpine-release-3.19.1-r0.apk"),
        ];
        let indexes = vec![
            file("small/misc/APKINDEX.tar.gz"),
            file("small/melange-rsa256/x86_64/APKINDEX.tar.gz"),
            file("small/multi-signature-index/x86_64/APKINDEX.tar.gz"),
        ];
        let mut texts = Vec::new();
        for bytes in &indexes {
            if let Ok((index, _)) = ApkIndex::read(bytes, Trust::Ignore) {
                let mut text = String::new();
                for pkg in &index.packages {
                    rapko_apk::index::write_index_record(pkg, &mut text);
                    text.push('\n');
                }
                texts.push(text);
            }
        }
        for bytes in &packages {
            if let Ok(pkg) = ApkPackage::parse(bytes) {
                texts.push(rapko_apk::write_pkginfo(&pkg.info));
            }
        }
        texts.push(INSTALLED.to_owned());
        Seeds {
            packages,
            indexes,
            texts,
        }
    })
}

const INSTALLED: &str = "C:Q1kqFQHSGzXGq3k7gQTqb+GxbmnOw=\nP:musl\nV:1.2.4-r4\nA:x86_64\nS:1\nI:2\n\
T:libc\nU:\nL:MIT\np:so:libc.musl-x86_64.so.1=1\nr:old\nq:1\nF:lib\nM:0:0:700\n\
R:ld-musl-x86_64.so.1\na:0:0:755:Q1kqFQHSGzXGq3k7gQTqb+GxbmnOw=\nZ:Q1+zEJiG53Cxy7DkV5oZQqeWnzybY=\n\n";

/// Every parser on one input; errors are fine, panics are not.
fn parse_everything(bytes: &[u8]) {
    if let Ok(pkg) = ApkPackage::parse(bytes) {
        let keyring = test_keyring();
        let _ = pkg.verify_signature(bytes, &keyring);
        let _ = pkg.verify_datahash(bytes, true);
        let _ = pkg.verify_checksum(&ControlChecksum([0; 20]));
        let _ = pkg.data_entries(bytes, |_| Ok(()));
    }
    let _ = ApkIndex::read(bytes, Trust::Ignore);
    let _ = ApkIndex::read(bytes, Trust::Keyring(&test_keyring()));
    let _ = read_scripts_tar(bytes);
    parse_texts(&String::from_utf8_lossy(bytes));
}

fn parse_texts(text: &str) {
    let _ = parse_pkginfo(text);
    let _ = parse_index_text(text);
    let _ = parse_installed(text);
    let _ = parse_triggers(text);
}

fn gunzip_members(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut members = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let mut decoder = flate2::bufread::GzDecoder::new(rest);
        let mut out = Vec::new();
        if decoder.read_to_end(&mut out).is_err() {
            break;
        }
        members.push(out);
        rest = decoder.into_inner();
    }
    members
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// A mutation: flip, set or delete bytes, or cut the input short.
#[derive(Clone, Debug)]
enum Mutation {
    Xor { at: usize, mask: u8 },
    Set { at: usize, byte: u8 },
    Delete { at: usize, len: usize },
    Insert { at: usize, bytes: Vec<u8> },
    Truncate { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..).prop_map(|(at, mask)| Mutation::Xor { at, mask }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        (any::<usize>(), 1usize..600).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..64))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
    ]
}

fn apply(data: &mut Vec<u8>, mutations: &[Mutation]) {
    for m in mutations {
        let len = data.len().max(1);
        match m {
            Mutation::Xor { at, mask } => {
                if let Some(b) = data.get_mut(at % len) {
                    *b ^= mask;
                }
            }
            Mutation::Set { at, byte } => {
                if let Some(b) = data.get_mut(at % len) {
                    *b = *byte;
                }
            }
            Mutation::Delete { at, len: n } => {
                let start = (at % len).min(data.len());
                let end = (start + n).min(data.len());
                data.drain(start..end);
            }
            Mutation::Insert { at, bytes } => {
                let at = (at % len).min(data.len());
                data.splice(at..at, bytes.iter().copied());
            }
            Mutation::Truncate { at } => data.truncate(at % len),
        }
    }
}

/// Mutates one decompressed member of `bytes` and puts the members back together, so the
/// mutation reaches the tar and text parsers instead of stopping at a gzip CRC.
fn mutate_inside(bytes: &[u8], member: usize, mutations: &[Mutation]) -> Vec<u8> {
    let mut members = gunzip_members(bytes);
    if members.is_empty() {
        return bytes.to_vec();
    }
    let index = member % members.len();
    apply(&mut members[index], mutations);
    members.iter().flat_map(|m| gzip(m)).collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        parse_everything(&bytes);
    }

    #[test]
    fn arbitrary_gzip_members(members in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..1536), 1..4)) {
        let bytes: Vec<u8> = members.iter().flat_map(|m| gzip(m)).collect();
        parse_everything(&bytes);
    }

    #[test]
    fn mutated_real_packages(seed in 0usize..5, mutations in prop::collection::vec(mutation(), 1..4)) {
        let mut bytes = seeds().packages[seed].clone();
        apply(&mut bytes, &mutations);
        parse_everything(&bytes);
    }

    #[test]
    fn mutated_package_members(seed in 0usize..5, member in 0usize..3, mutations in prop::collection::vec(mutation(), 1..4)) {
        let bytes = mutate_inside(&seeds().packages[seed], member, &mutations);
        parse_everything(&bytes);
    }

    #[test]
    fn mutated_real_indexes(seed in 0usize..3, member in 0usize..2, mutations in prop::collection::vec(mutation(), 1..4)) {
        let original = &seeds().indexes[seed];
        let mut bytes = original.clone();
        apply(&mut bytes, &mutations);
        parse_everything(&bytes);
        parse_everything(&mutate_inside(original, member, &mutations));
    }

    #[test]
    fn mutated_texts(seed in 0usize..16, mutations in prop::collection::vec(mutation(), 1..6)) {
        let texts = &seeds().texts;
        let mut bytes = texts[seed % texts.len()].clone().into_bytes();
        apply(&mut bytes, &mutations);
        parse_texts(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn installed_records_round_trip(pkgs in prop::collection::vec(installed_package(), 1..4)) {
        let text = write_installed(&pkgs).expect("generated records are writable");
        let back = parse_installed(&text).expect("what we write we read");
        prop_assert_eq!(back.len(), pkgs.len());
        if pkgs.iter().all(|p| !p.dirs.is_empty()) {
            prop_assert_eq!(&back, &pkgs);
        }
        // Directory-less records hand their r: lines to the next record (as apk does), so in
        // general a second round trip must change nothing more.
        let again = write_installed(&back).expect("writes");
        let third = parse_installed(&again).expect("reads");
        prop_assert_eq!(write_installed(&third).expect("writes"), again);
    }
}

fn word() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9._+-]{0,12}"
}

fn acl() -> impl Strategy<Value = Acl> {
    (
        0u32..0o10000,
        0u32..70000,
        0u32..70000,
        prop::option::of(any::<[u8; 20]>()),
    )
        .prop_map(|(mode, uid, gid, xattr_sha1)| Acl {
            xattr_sha1,
            ..Acl::new(mode, uid, gid)
        })
}

fn installed_package() -> impl Strategy<Value = InstalledPackage> {
    let file =
        (word(), acl(), prop::option::of(any::<[u8; 20]>())).prop_map(|(name, acl, checksum)| {
            InstalledFile {
                name,
                acl,
                checksum,
            }
        });
    let dir = (
        "[a-z]{1,6}(/[a-z]{1,6}){0,2}",
        acl(),
        prop::collection::vec(file, 0..4),
    )
        .prop_map(|(path, acl, files)| InstalledDir { path, acl, files });
    // A directory listed twice is one directory to apk (and to our reader).
    let dirs = prop::collection::vec(dir, 0..4).prop_map(|mut dirs| {
        let mut seen = std::collections::BTreeSet::new();
        dirs.retain(|d| seen.insert(d.path.clone()));
        dirs
    });
    (
        word(),
        "[0-9]{1,3}(\\.[0-9]{1,3}){0,2}-r[0-9]{1,2}",
        any::<[u8; 20]>(),
        "[ -~]{0,40}",
        prop::collection::vec(word(), 0..3),
        prop::option::of(1u32..1000),
        dirs,
    )
        .prop_map(
            |(name, version, sum, description, replaces, priority, dirs)| {
                let info = PackageInfo {
                    name,
                    version,
                    description,
                    checksum: Some(ControlChecksum(sum)),
                    replaces: replaces.iter().filter_map(|r| r.parse().ok()).collect(),
                    replaces_priority: priority,
                    ..PackageInfo::default()
                };
                InstalledPackage {
                    dirs,
                    ..InstalledPackage::new(info)
                }
            },
        )
}

/// Found by `installed_records_round_trip`: two directory-less records before one with a
/// directory give it two `r:` lines; apk appends both, and so must we.
#[test]
fn regression_held_back_replaces_lines_accumulate() {
    let text = "C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\nP:a\nV:0-r0\nA:\nS:0\nI:0\nT:\nU:\nL:\n\n\
                C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\nP:a\nV:0-r0\nA:\nS:0\nI:0\nT:\nU:\nL:\n\
                r:a\nr:b\nF:a\nM:0:0:0\n\n";
    let packages = parse_installed(text).expect("parses");
    let replaces: Vec<String> = packages[1]
        .info
        .replaces
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(replaces, ["a", "b"]);
    assert!(
        write_installed(&packages)
            .expect("writes")
            .contains("r:a b\nF:a\n")
    );
}
