//! Hostile input found by testing (issue #19): a body that stalls after the headers, a
//! server that stalls on every try, a body that never ends, an index version that is not
//! one, a cache directory that is a file.

use std::time::Duration;

use rapko_repo::{Error, FetchOptions, Fetcher, RepoSpec, RetryPolicy, Timeouts};

use crate::support::{
    Fault, Reply, TestServer, alpine_keyring, alpine_repo, chain, file_reply, options, pick,
};

/// The Alpine fixture, with every `.apk` reply passed through `fault`.
fn serve(fault: impl Fn(Reply) -> Reply + Send + Sync + 'static) -> TestServer {
    let root = alpine_repo();
    TestServer::start(move |req, _| {
        let reply = file_reply(&root, &req.path);
        if req.path.ends_with(".apk") {
            fault(reply)
        } else {
            reply
        }
    })
}

fn fetch(server: &TestServer, options: FetchOptions) -> Error {
    let fetcher = Fetcher::new(options).expect("fetcher");
    let spec = RepoSpec::parse(&server.url()).expect("spec");
    let index = fetcher
        .load_index(&spec, "x86_64", &alpine_keyring())
        .expect("index");
    fetcher
        .fetch_packages(&pick(&index, &["zlib"]))
        .expect_err("the package cannot be fetched")
}

fn with(cache: &std::path::Path, read: Duration, total: Duration, attempts: u32) -> FetchOptions {
    let base = options(cache);
    FetchOptions {
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            read,
            total,
        },
        retry: RetryPolicy {
            attempts,
            ..base.retry
        },
        ..base
    }
}

#[test]
fn a_body_that_stalls_after_the_headers_says_so() {
    let server = serve(|r| r.fault(Fault::StallAfter(100, Duration::from_secs(3))));
    let cache = tempfile::tempdir().expect("temp dir");
    let err = fetch(
        &server,
        with(
            cache.path(),
            Duration::from_millis(200),
            Duration::from_secs(30),
            2,
        ),
    );
    let text = err.to_string();
    assert!(
        matches!(
            err,
            Error::Stalled {
                got: 100,
                attempts: 2,
                ..
            }
        ),
        "{}",
        chain(&err)
    );
    assert!(
        text.contains("stopped sending after 100 bytes") && !text.contains("did not answer"),
        "{text}"
    );
}

#[test]
fn one_deadline_bounds_all_the_tries_of_a_request() {
    // Ten tries of a 300 ms stall would take 3 s; the 1 s deadline ends it after a few.
    let server = serve(|r| r.fault(Fault::StallAfter(10, Duration::from_secs(5))));
    let cache = tempfile::tempdir().expect("temp dir");
    let err = fetch(
        &server,
        with(
            cache.path(),
            Duration::from_millis(300),
            Duration::from_secs(1),
            10,
        ),
    );
    match &err {
        Error::Deadline { attempts, .. } | Error::Stalled { attempts, .. } => {
            assert!(
                *attempts < 10,
                "the deadline cut the tries short: {}",
                chain(&err)
            )
        }
        other => panic!("expected a deadline, got {}", chain(other)),
    }
    assert!(server.requests(".apk").len() < 10);
}

#[test]
fn an_endless_body_stops_at_the_size_the_index_announces() {
    let server = serve(|r| r.fault(Fault::Endless));
    let cache = tempfile::tempdir().expect("temp dir");
    let err = fetch(
        &server,
        with(
            cache.path(),
            Duration::from_secs(5),
            Duration::from_secs(60),
            3,
        ),
    );
    assert!(matches!(err, Error::Oversized { .. }), "{}", chain(&err));
    assert!(
        err.to_string().contains("bytes its index announces (S:)"),
        "{err}"
    );
    // Refused at once, not retried: more bytes than the signed index lists is not a glitch.
    assert_eq!(server.requests(".apk").len(), 1);
}

#[test]
fn an_invalid_version_whose_file_is_missing_says_the_version_is_the_problem() {
    let repo = tempfile::tempdir().expect("temp dir");
    let good = rapko_test::ApkBuilder::new("x", "1.0-r0").build();
    let index = rapko_test::IndexBuilder::new().raw_record(
        &good
            .index_record(Some("x86_64"))
            .replace("V:1.0-r0", "V:1.0-r0-bogus"),
    );
    rapko_test::write_repo_with(repo.path(), "x86_64", &[good], index);
    let mut keyring = rapko_apk::Keyring::new();
    keyring
        .add(
            rapko_test::TEST_KEY_NAME,
            rapko_test::test_public_key_pem().as_bytes(),
        )
        .expect("test key");
    let cache = tempfile::tempdir().expect("temp dir");
    let fetcher = Fetcher::new(options(cache.path())).expect("fetcher");
    let spec = RepoSpec::parse(&repo.path().display().to_string()).expect("spec");
    let index = fetcher
        .load_index(&spec, "x86_64", &keyring)
        .expect("index");
    let bogus = index
        .index
        .packages
        .iter()
        .find(|p| p.version == "1.0-r0-bogus")
        .expect("the bogus record");
    let err = fetcher
        .fetch_packages(&[(&index, bogus)])
        .expect_err("no such file");
    let text = err.to_string();
    assert!(
        matches!(err, Error::InvalidVersion { .. })
            && text.contains("\"1.0-r0-bogus\", which is not a valid apk version"),
        "{}",
        chain(&err)
    );
}

#[test]
fn a_cache_dir_that_is_a_file_gives_one_error_everywhere() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let file = tmp.path().join("cache");
    std::fs::write(&file, "not a directory").expect("write");
    let expected = format!(
        "the cache directory {} exists and is not a directory",
        file.display()
    );
    let fetcher = Fetcher::new(options(&file))
        .expect_err("refused")
        .to_string();
    let info = rapko_repo::cache_info(&file)
        .expect_err("refused")
        .to_string();
    let clean = rapko_repo::cache_clean(&file)
        .expect_err("refused")
        .to_string();
    for text in [&fetcher, &info, &clean] {
        assert!(text.starts_with(&expected), "{text}");
    }
}
