//! Signatures: an index must verify against the keyring unless signatures are ignored,
//! which works but warns loudly.

use std::io::Write;
use std::sync::{Arc, Mutex};

use rapko_repo::{Error, FetchOptions, Fetcher, RepoSpec};

use crate::support::{alpine_keyring, alpine_repo, chain, options, pick};

fn wolfi_keyring(fetcher: &Fetcher) -> rapko_apk::Keyring {
    let dir = rapko_test::fixture("keys/wolfi");
    fetcher
        .load_keyring(&[dir.display().to_string()])
        .expect("wolfi keys")
}

#[test]
fn an_untrusted_index_names_the_keys() {
    let cache = tempfile::tempdir().expect("temp dir");
    let fetcher = Fetcher::new(options(cache.path())).expect("fetcher");
    let err = fetcher
        .load_index(
            &RepoSpec::local(alpine_repo()),
            "x86_64",
            &wolfi_keyring(&fetcher),
        )
        .expect_err("alpine index, wolfi key");
    assert!(matches!(err, Error::Index { .. }), "{}", chain(&err));
    let text = chain(&err);
    assert!(
        text.contains("cannot verify APKINDEX for") && text.contains("x86_64/APKINDEX.tar.gz"),
        "{text}"
    );
    assert!(
        text.contains("alpine-devel@lists.alpinelinux.org-"),
        "names the signer: {text}"
    );
    assert!(
        text.contains("wolfi-signing.rsa.pub"),
        "names the keys we have: {text}"
    );
    let hint = err.hint().unwrap_or_default();
    assert!(
        hint.contains("--keyring-append") && hint.contains("contents.keyring"),
        "{hint}"
    );
}

#[test]
fn an_empty_keyring_says_so() {
    let cache = tempfile::tempdir().expect("temp dir");
    let fetcher = Fetcher::new(options(cache.path())).expect("fetcher");
    let empty = fetcher.load_keyring::<&str>(&[]).expect("empty keyring");
    let err = fetcher
        .load_index(&RepoSpec::local(alpine_repo()), "x86_64", &empty)
        .expect_err("no keys");
    assert!(chain(&err).contains("keyring is empty"), "{}", chain(&err));
}

/// Collects what tracing writes on this thread.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut out) = self.0.lock() {
            out.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn ignoring_signatures_works_and_warns() {
    let cache = tempfile::tempdir().expect("temp dir");
    let fetcher = Fetcher::new(FetchOptions {
        ignore_signatures: true,
        ..options(cache.path())
    })
    .expect("fetcher");
    let keyring = wolfi_keyring(&fetcher);
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::WARN)
        .finish();
    let index = tracing::subscriber::with_default(subscriber, || {
        fetcher.load_index(&RepoSpec::local(alpine_repo()), "x86_64", &keyring)
    })
    .expect("index loads without trusted keys");
    assert_eq!(index.signed_by, None);
    let log = String::from_utf8_lossy(&captured.0.lock().map(|l| l.clone()).unwrap_or_default())
        .into_owned();
    assert!(
        log.contains("WARN")
            && log.contains("ignore-signatures")
            && log.contains("APKINDEX.tar.gz"),
        "{log}"
    );

    // Checksums are still checked below the index.
    let fetched = fetcher
        .fetch_packages(&pick(&index, &["musl"]))
        .expect("musl");
    assert_eq!(fetched[0].parsed.info.name, "musl");
}

#[test]
fn keys_load_from_files_dirs_and_file_urls() {
    let cache = tempfile::tempdir().expect("temp dir");
    let fetcher = Fetcher::new(options(cache.path())).expect("fetcher");
    let dir = rapko_test::fixture("keys/alpine");
    let one = dir.join("alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub");
    let entries = [
        dir.display().to_string(),
        format!("file://{}", one.display()),
        one.display().to_string(),
    ];
    let keyring = fetcher.load_keyring(&entries).expect("keys");
    assert_eq!(keyring.len(), 17);
    assert_eq!(keyring.names(), alpine_keyring().names());

    let err = fetcher
        .load_keyring(&["/nonexistent/key.rsa.pub"])
        .expect_err("missing key file");
    assert!(
        err.to_string().contains("/nonexistent/key.rsa.pub"),
        "{err}"
    );
    let not_a_key = rapko_test::fixture("alpine-3.19/main/x86_64/APKINDEX.tar.gz");
    let err = fetcher
        .load_keyring(&[not_a_key.display().to_string()])
        .expect_err("not a key");
    assert!(matches!(err, Error::BadKey { .. }), "{}", chain(&err));
}
