//! Cross-checks against rapko-test's independent writer: synthetic packages and indexes with
//! every feature apk uses (and every defect rapko-test can inject) read back as built.

use rapko_apk::installed::write_installed;
use rapko_apk::{
    ApkIndex, ApkPackage, EntryKind, Error, InstalledPackage, Keyring, SignatureError, Trust,
    index::write_index_record,
};
use rapko_test::{ApkBuilder, BuiltApk, Entry, Fault, IndexBuilder, IndexFault, SignatureKind};
use sha1::{Digest, Sha1};

use crate::common::{entries_of, test_keyring};

fn hello(kind: SignatureKind) -> ApkBuilder {
    ApkBuilder::new("hello", "1.2.3-r4")
        .description("hello, world")
        .url("https://example.org/hello")
        .license("MIT AND Apache-2.0")
        .origin("hello-src")
        .maintainer("A. Person <a@example.org>")
        .commit("0123456789abcdef")
        .depends(["so:libc.musl-x86_64.so.1", "foo>=1.2", "!bar"])
        .provides(["cmd:hello=1.2.3-r4", "so:libhello.so.1=1"])
        .install_if(["hello-base", "baz"])
        .replaces(["old-hello"])
        .triggers(["/usr/share/hello"])
        .provider_priority(10)
        .replaces_priority(5)
        .executable("usr/bin/hello", "#!/bin/sh\necho hello\n")
        .symlink("usr/bin/hi", "hello")
        .hardlink("usr/bin/hello2", "usr/bin/hello")
        .entry(
            Entry::file("etc/hello.conf", "x=1\n")
                .mode(0o600)
                .owner(0, 42),
        )
        .script(".post-install", "#!/bin/sh\nexit 0\n")
        .script(".trigger", "#!/bin/sh\necho trigger\n")
        .signature(kind)
}

#[test]
fn synthetic_packages_read_back_as_built() {
    for kind in [SignatureKind::RsaSha1, SignatureKind::RsaSha256] {
        let apk = hello(kind).build();
        let pkg = ApkPackage::parse(&apk.bytes).expect("parses");
        let info = &pkg.info;
        assert_eq!(
            (info.name.as_str(), info.version.as_str()),
            ("hello", "1.2.3-r4")
        );
        assert_eq!(info.origin.as_deref(), Some("hello-src"));
        assert_eq!(info.provider_priority, Some(10));
        assert_eq!(info.replaces_priority, Some(5));
        let atoms =
            |v: &[rapko_apk::Dependency]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(
            atoms(&info.depends),
            ["so:libc.musl-x86_64.so.1", "foo>=1.2", "!bar"]
        );
        assert_eq!(atoms(&info.install_if), ["hello-base", "baz"]);
        assert_eq!(atoms(&info.replaces), ["old-hello"]);
        assert_eq!(info.triggers, ["/usr/share/hello"]);
        assert_eq!(info.datahash, Some(apk.datahash));
        assert_eq!(pkg.control_checksum.0, apk.control_sha1);
        assert_eq!(pkg.control, apk.control_range);
        let keyring = test_keyring();
        let key = pkg
            .verify_signature(&apk.bytes, &keyring)
            .expect("signature verifies");
        assert_eq!(key, rapko_test::TEST_KEY_NAME);
        pkg.verify_datahash(&apk.bytes, true)
            .expect("datahash verifies");
        let scripts: Vec<&str> = pkg.scripts.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(scripts, [".post-install", ".trigger"]);

        let (_, entries) = entries_of(&apk.bytes);
        let find = |p: &str| {
            entries
                .iter()
                .find(|e| e.path == p)
                .unwrap_or_else(|| panic!("{p}"))
        };
        let hello = find("usr/bin/hello");
        assert_eq!((hello.kind.clone(), hello.mode), (EntryKind::File, 0o755));
        assert_eq!(
            hello.sha1,
            Some(Sha1::digest(b"#!/bin/sh\necho hello\n").into())
        );
        assert_eq!(
            find("usr/bin/hi").kind,
            EntryKind::Symlink("hello".to_owned())
        );
        assert_eq!(
            find("usr/bin/hello2").kind,
            EntryKind::Hardlink("usr/bin/hello".to_owned())
        );
        let conf = find("etc/hello.conf");
        assert_eq!((conf.mode, conf.uid, conf.gid), (0o600, 0, 42));
        assert_eq!(find("usr/bin").kind, EntryKind::Directory);
    }
}

/// What each defect must trip: (signature, datahash, data entries) ok?
#[test]
fn every_injected_defect_is_caught_where_it_should_be() {
    let base = || ApkBuilder::new("v", "1.0-r0").file("usr/share/v/a", "content\n");
    let keyring = test_keyring();
    let cases = [
        (Fault::TamperData, true, false, false),
        (Fault::WrongDatahash, true, false, true),
        (Fault::WrongFileChecksum, true, true, false),
        (Fault::Truncated, true, false, false),
        (Fault::BadSignature, false, true, true),
    ];
    for (fault, sig_ok, hash_ok, entries_ok) in cases {
        let apk = base().fault(fault).build();
        let pkg =
            ApkPackage::parse(&apk.bytes).unwrap_or_else(|e| panic!("{fault:?}: head parses: {e}"));
        let sig = pkg.verify_signature(&apk.bytes, &keyring);
        assert_eq!(sig.is_ok(), sig_ok, "{fault:?}: signature {sig:?}");
        let hash = pkg.verify_datahash(&apk.bytes, true);
        assert_eq!(hash.is_ok(), hash_ok, "{fault:?}: datahash {hash:?}");
        let entries = pkg.data_entries(&apk.bytes, |_| Ok(()));
        assert_eq!(
            entries.is_ok(),
            entries_ok,
            "{fault:?}: entries {entries:?}"
        );
        if fault == Fault::WrongFileChecksum {
            let text = entries.expect_err("refused").to_string();
            assert!(
                text.contains("usr/share/v/a") && text.contains("checksum"),
                "{text}"
            );
        }
        if fault == Fault::BadSignature {
            assert!(matches!(sig, Err(SignatureError::Invalid { .. })));
        }
    }
}

#[test]
fn unsigned_and_misnamed_key_packages() {
    let base = || ApkBuilder::new("v", "1.0-r0").file("a", "x");
    let unsigned = base().signature(SignatureKind::Unsigned).build();
    let pkg = ApkPackage::parse(&unsigned.bytes).expect("parses");
    assert_eq!(
        pkg.verify_signature(&unsigned.bytes, &test_keyring()),
        Err(SignatureError::Unsigned)
    );
    assert_eq!(pkg.control.start, 0, "no signature member");
    // A signature naming a key we do not have still verifies with a key we do: the name is
    // only a hint (repositories publish keys under other names).
    let misnamed = base().key_name("someone-else.rsa.pub").build();
    let pkg = ApkPackage::parse(&misnamed.bytes).expect("parses");
    let keyring = test_keyring();
    assert_eq!(
        pkg.verify_signature(&misnamed.bytes, &keyring),
        Ok(rapko_test::TEST_KEY_NAME)
    );
    let err = pkg
        .verify_signature(&misnamed.bytes, &Keyring::new())
        .expect_err("empty keyring");
    assert!(
        err.to_string().contains("someone-else.rsa.pub") && err.to_string().contains("empty"),
        "{err}"
    );
}

fn set() -> Vec<BuiltApk> {
    vec![
        hello(SignatureKind::RsaSha1).build(),
        ApkBuilder::new("libhello", "2.0-r1")
            .arch("noarch")
            .provides(["so:libhello.so.2=2.0"])
            .file("usr/lib/libhello.so.2", "not really a library")
            .build(),
        ApkBuilder::new("empty", "0-r0").build(),
    ]
}

#[test]
fn synthetic_indexes_read_back_and_our_records_match_theirs() {
    let apks = set();
    for kind in [SignatureKind::RsaSha1, SignatureKind::RsaSha256] {
        let bytes = IndexBuilder::new()
            .arch("x86_64")
            .signature(kind)
            .packages(&apks)
            .build();
        let (index, by) =
            ApkIndex::read(&bytes, Trust::Keyring(&test_keyring())).expect("verifies");
        assert_eq!(by.as_deref(), Some(rapko_test::TEST_KEY_NAME));
        assert_eq!(index.packages.len(), apks.len());
        for (record, apk) in index.packages.iter().zip(&apks) {
            assert_eq!(record.checksum.map(|c| c.0), Some(apk.control_sha1));
            assert_eq!(record.file_size, apk.indexed_size);
            assert_eq!(
                record.arch, "x86_64",
                "noarch is the repository's arch in an index"
            );
            // Our record writer, field for field, against rapko-test's, which adds r: and q:
            // (apk-tools 2 leaves them out of indexes) and leaves out empty T:, U: and L:
            // (apk-tools 2 always writes them).
            let mut written = String::new();
            write_index_record(record, &mut written);
            let ours: String = written
                .lines()
                .filter(|l| !matches!(*l, "T:" | "U:" | "L:"))
                .map(|l| format!("{l}\n"))
                .collect();
            assert!(written.contains("\nU:"), "apk writes U: even when empty");
            let theirs: String = apk
                .index_record(Some("x86_64"))
                .lines()
                .filter(|l| !l.starts_with("r:") && !l.starts_with("q:"))
                .map(|l| format!("{l}\n"))
                .collect();
            assert_eq!(ours, theirs, "{}", apk.name());
        }
    }
}

#[test]
fn synthetic_index_defects_are_refused() {
    let apks = set();
    let keyring = test_keyring();
    for fault in [
        IndexFault::BadSignature,
        IndexFault::TamperAfterSigning,
        IndexFault::Truncated,
    ] {
        let bytes = IndexBuilder::new().packages(&apks).fault(fault).build();
        let err = ApkIndex::read(&bytes, Trust::Keyring(&keyring)).expect_err("refused");
        let expected = match fault {
            IndexFault::Truncated => matches!(
                err,
                Error::Gzip { .. } | Error::Truncated(_) | Error::Tar(_)
            ),
            _ => matches!(err, Error::Signature(SignatureError::Invalid { .. })),
        };
        assert!(expected, "{fault:?}: {err}");
    }
    let unsigned = IndexBuilder::new()
        .packages(&apks)
        .signature(SignatureKind::Unsigned)
        .build();
    let err = ApkIndex::read(&unsigned, Trust::Keyring(&keyring)).expect_err("unsigned refused");
    assert!(
        matches!(err, Error::Signature(SignatureError::Unsigned)),
        "{err}"
    );
    assert!(ApkIndex::read(&unsigned, Trust::Ignore).is_ok());
}

#[test]
fn synthetic_package_installs_into_the_expected_database_record() {
    let apk = hello(SignatureKind::RsaSha1).build();
    let (pkg, entries) = entries_of(&apk.bytes);
    let index = IndexBuilder::new().package(&apk).build();
    let (index, _) = ApkIndex::read(&index, Trust::Ignore).expect("reads");
    let mut installed = InstalledPackage::from_package(index.packages[0].clone(), &pkg);
    for entry in &entries {
        installed.add_entry(entry);
    }
    assert!(!installed.flags.broken_files);
    let text = write_installed([&installed]).expect("writes");
    let hello_sum = format!("Q1{}", base64_sha1(b"#!/bin/sh\necho hello\n"));
    let expected_tail = format!(
        "r:old-hello\nq:5\nF:etc\nR:hello.conf\na:0:42:600\nZ:Q1{conf}\nF:usr\nF:usr/bin\n\
         R:hello\na:0:0:755\nZ:{hello_sum}\nR:hello2\na:0:0:755\nZ:{hello_sum}\n\
         R:hi\na:0:0:777\nZ:Q1{hi}\n\n",
        conf = base64_sha1(b"x=1\n"),
        hi = base64_sha1(b"hello"),
    );
    assert!(text.ends_with(&expected_tail), "{text}");
    assert_eq!(installed.scripts.len(), 2);
}

fn base64_sha1(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(Sha1::digest(data))
}
