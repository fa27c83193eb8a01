//! Servers that fail on purpose: transient errors are retried, bad data is refused and never
//! cached, a stalled server times out, credentials work and never show.

use std::time::Duration;

use base64::Engine;
use rapko_repo::{
    Error, FetchOptions, Fetcher, Limits, Origin, Outcome, RepoSpec, RetryPolicy, Timeouts,
};

use crate::support::{
    Fault, Reply, TestServer, alpine_keyring, alpine_repo, chain, count_files, file_reply, options,
    pick,
};

const PACKAGE: &str = "zlib";

/// A server over the Alpine fixture whose replies for paths ending in `target` come from
/// `fault(nth request of that path, the normal reply)`.
fn faulty(
    target: &'static str,
    fault: impl Fn(usize, Reply) -> Reply + Send + Sync + 'static,
) -> TestServer {
    let root = alpine_repo();
    TestServer::start(move |req, seen| {
        let reply = file_reply(&root, &req.path);
        if req.path.ends_with(target) {
            fault(seen, reply)
        } else {
            reply
        }
    })
}

fn fetch_zlib(
    server: &TestServer,
    options: FetchOptions,
) -> Result<Vec<rapko_repo::FetchedPackage>, Error> {
    let fetcher = Fetcher::new(options).expect("fetcher");
    let spec = RepoSpec::parse(&server.url()).expect("spec");
    let index = fetcher.load_index(&spec, "x86_64", &alpine_keyring())?;
    fetcher.fetch_packages(&pick(&index, &[PACKAGE]))
}

#[test]
fn server_errors_are_retried() {
    let server = faulty(
        ".apk",
        |seen, reply| if seen < 2 { Reply::status(500) } else { reply },
    );
    let cache = tempfile::tempdir().expect("temp dir");
    let fetched = fetch_zlib(&server, options(cache.path())).expect("third try succeeds");
    assert_eq!(fetched[0].origin, Outcome::Downloaded);
    assert_eq!(server.requests(".apk").len(), 3);
}

#[test]
fn server_errors_give_up_after_the_attempts() {
    let server = faulty(".apk", |_, _| Reply::status(503));
    let cache = tempfile::tempdir().expect("temp dir");
    let err = fetch_zlib(&server, options(cache.path())).expect_err("always 503");
    assert!(
        matches!(
            err,
            Error::Status {
                status: 503,
                attempts: 3,
                ..
            }
        ),
        "{}",
        chain(&err)
    );
    assert!(err.to_string().contains("/x86_64/zlib-"), "{err}");
    assert_eq!(server.requests(".apk").len(), 3);
}

#[test]
fn too_many_requests_honours_retry_after() {
    let server = faulty(".apk", |seen, reply| {
        if seen == 0 {
            Reply::status(429).header("Retry-After", "0")
        } else {
            reply
        }
    });
    let cache = tempfile::tempdir().expect("temp dir");
    fetch_zlib(&server, options(cache.path())).expect("second try succeeds");
    assert_eq!(server.requests(".apk").len(), 2);

    // A wait beyond reason fails at once rather than stalling the build.
    let server = faulty(".apk", |_, _| {
        Reply::status(429).header("Retry-After", "3600")
    });
    let cache = tempfile::tempdir().expect("temp dir");
    let err = fetch_zlib(&server, options(cache.path())).expect_err("asked to wait an hour");
    assert!(
        matches!(err, Error::RetryTooLate { seconds: 3600, .. }),
        "{}",
        chain(&err)
    );
    assert_eq!(server.requests(".apk").len(), 1);
}

#[test]
fn a_connection_dropped_mid_body_is_retried() {
    let server = faulty(".apk", |seen, reply| {
        if seen == 0 {
            let half = reply.body.len() / 2;
            reply.fault(Fault::CutAfter(half))
        } else {
            reply
        }
    });
    let cache = tempfile::tempdir().expect("temp dir");
    let fetched = fetch_zlib(&server, options(cache.path())).expect("retry completes");
    assert_eq!(server.requests(".apk").len(), 2);
    let on_disk = std::fs::read(
        alpine_repo()
            .join("x86_64")
            .join(format!("{}.apk", fetched[0].info.name_version())),
    )
    .expect("fixture");
    assert!(fetched[0].bytes == on_disk);
}

#[test]
fn a_body_shorter_than_the_index_says_is_retried() {
    // No fault at the HTTP level: the server sends a consistent but short file.
    let server = faulty(".apk", |seen, mut reply| {
        if seen == 0 {
            reply.body.truncate(reply.body.len() - 100);
        }
        reply
    });
    let cache = tempfile::tempdir().expect("temp dir");
    fetch_zlib(&server, options(cache.path())).expect("retry completes");
    assert_eq!(server.requests(".apk").len(), 2);
}

#[test]
fn a_tampered_package_is_refused_and_not_cached() {
    // Flip a byte near the end: inside the data member, so only the datahash can tell.
    let server = faulty(".apk", |_, mut reply| {
        let at = reply.body.len() - 20;
        reply.body[at] ^= 0x55;
        reply
    });
    let cache = tempfile::tempdir().expect("temp dir");
    let err = fetch_zlib(&server, options(cache.path())).expect_err("tampered");
    let text = chain(&err);
    assert!(matches!(err, Error::Refused { .. }), "{text}");
    assert!(
        text.contains("zlib-") && text.contains("datahash"),
        "{text}"
    );
    assert!(err.hint().is_some_and(|h| h.contains("nothing was cached")));
    assert_eq!(
        count_files(&cache.path().join("packages")),
        0,
        "a refused package is never cached"
    );
    assert_eq!(
        server.requests(".apk").len(),
        1,
        "a checksum mismatch is not retried"
    );
}

#[test]
fn a_package_with_a_changed_control_member_is_refused() {
    // Serve another package's bytes under zlib's name: its control member differs.
    let root = alpine_repo();
    let server = TestServer::start(move |req, _| {
        if req.path.contains("/zlib-") {
            file_reply(&root, "/x86_64/alpine-release-3.19.1-r0.apk")
        } else {
            file_reply(&root, &req.path)
        }
    });
    let cache = tempfile::tempdir().expect("temp dir");
    let err = fetch_zlib(&server, options(cache.path())).expect_err("wrong package");
    assert!(chain(&err).contains("index C:"), "{}", chain(&err));
    assert_eq!(count_files(&cache.path().join("packages")), 0);
}

#[test]
fn a_stalled_server_times_out_clearly() {
    let server = faulty(".apk", |_, reply| {
        reply.fault(Fault::Delay(Duration::from_secs(2)))
    });
    let cache = tempfile::tempdir().expect("temp dir");
    let err = fetch_zlib(
        &server,
        FetchOptions {
            timeouts: Timeouts {
                connect: Duration::from_secs(1),
                read: Duration::from_millis(200),
                total: Duration::from_secs(30),
            },
            retry: RetryPolicy {
                attempts: 2,
                ..options(cache.path()).retry
            },
            ..options(cache.path())
        },
    )
    .expect_err("server stalls");
    assert!(
        matches!(err, Error::Timeout { attempts: 2, .. }),
        "{}",
        chain(&err)
    );
    let text = err.to_string();
    assert!(
        text.contains("did not answer") && text.contains("/x86_64/zlib-"),
        "{text}"
    );
}

#[test]
fn size_limits_are_enforced() {
    let server = TestServer::serve_dir(alpine_repo());
    let cache = tempfile::tempdir().expect("temp dir");
    let limits = Limits {
        package: 1000,
        ..Limits::default()
    };
    let err = fetch_zlib(
        &server,
        FetchOptions {
            limits,
            ..options(cache.path())
        },
    )
    .expect_err("over the limit");
    assert!(
        matches!(err, Error::TooLarge { limit: 1000, .. }),
        "{}",
        chain(&err)
    );
}

fn basic(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

fn auth_server() -> TestServer {
    let root = alpine_repo();
    let expected = basic("alice", "s3cr:et");
    TestServer::start(move |req, _| {
        if req.header("authorization") == Some(expected.as_str()) {
            file_reply(&root, &req.path)
        } else {
            Reply::status(401).header("WWW-Authenticate", "Basic realm=\"repo\"")
        }
    })
}

#[test]
fn basic_auth_from_http_auth() {
    let server = auth_server();
    let cache = tempfile::tempdir().expect("temp dir");
    let with_auth = FetchOptions {
        http_auth: Some("basic:127.0.0.1:alice:s3cr:et".to_owned()),
        ..options(cache.path())
    };
    fetch_zlib(&server, with_auth).expect("authorized");

    let err = fetch_zlib(&server, options(cache.path())).expect_err("no credentials");
    assert!(
        matches!(err, Error::Unauthorized { status: 401, .. }),
        "{}",
        chain(&err)
    );
    assert!(err.hint().is_some_and(|h| h.contains("HTTP_AUTH")));
    assert!(err.to_string().contains("/x86_64/APKINDEX.tar.gz"), "{err}");
}

#[test]
fn basic_auth_from_the_url_never_shows() {
    let server = auth_server();
    let cache = tempfile::tempdir().expect("temp dir");
    let fetcher = Fetcher::new(options(cache.path())).expect("fetcher");
    let good = RepoSpec::parse(&format!(
        "http://alice:s3cr%3Aet@127.0.0.1:{}",
        server.port()
    ))
    .expect("spec");
    let index = fetcher
        .load_index(&good, "x86_64", &alpine_keyring())
        .expect("authorized");
    assert!(
        !index.url.contains("s3cr") && !index.url.contains("alice"),
        "{}",
        index.url
    );
    let fetched = fetcher
        .fetch_packages(&pick(&index, &[PACKAGE]))
        .expect("package authorized");
    assert!(!fetched[0].url.contains("s3cr"));

    let bad = RepoSpec::parse(&format!(
        "http://alice:wrong-pw@127.0.0.1:{}",
        server.port()
    ))
    .expect("spec");
    let err = fetcher
        .load_index(&bad, "x86_64", &alpine_keyring())
        .expect_err("wrong password");
    let shown = format!("{} {err:?} {bad} {bad:?}", chain(&err));
    assert!(!shown.contains("wrong-pw"), "{shown}");
}

#[test]
fn etag_revalidation_sends_if_none_match() {
    let root = alpine_repo();
    let server = TestServer::start(move |req, _| {
        let reply = file_reply(&root, &req.path);
        if !req.path.ends_with("APKINDEX.tar.gz") {
            return reply;
        }
        if req.header("if-none-match") == Some("\"v1\"") {
            Reply::status(304).header("ETag", "\"v1\"")
        } else {
            reply.header("ETag", "\"v1\"")
        }
    });
    let cache = tempfile::tempdir().expect("temp dir");
    let fetcher = Fetcher::new(options(cache.path())).expect("fetcher");
    let spec = RepoSpec::parse(&server.url()).expect("spec");
    let keyring = alpine_keyring();
    let first = fetcher
        .load_index(&spec, "x86_64", &keyring)
        .expect("first load");
    assert_eq!(first.origin, Origin::Downloaded);
    let second = fetcher
        .load_index(&spec, "x86_64", &keyring)
        .expect("second load");
    assert_eq!(second.origin, Origin::Revalidated);
    assert_eq!(second.index.packages.len(), first.index.packages.len());

    let requests = server.requests("APKINDEX.tar.gz");
    assert_eq!(requests.len(), 2, "{requests:#?}");
    assert_eq!(requests[0].header("if-none-match"), None);
    assert_eq!(requests[1].header("if-none-match"), Some("\"v1\""));
    let agent = requests[0].header("user-agent").unwrap_or_default();
    assert!(agent.starts_with("rapko/"), "{agent}");
}

#[test]
fn a_damaged_cached_index_is_fetched_again() {
    let root = alpine_repo();
    // Always 304 when asked conditionally: only a fresh fetch can repair the cache.
    let server = TestServer::start(move |req, _| {
        if req.header("if-none-match").is_some() {
            Reply::status(304)
        } else {
            file_reply(&root, &req.path).header("ETag", "\"v1\"")
        }
    });
    let cache = tempfile::tempdir().expect("temp dir");
    let fetcher = Fetcher::new(options(cache.path())).expect("fetcher");
    let spec = RepoSpec::parse(&server.url()).expect("spec");
    let keyring = alpine_keyring();
    fetcher
        .load_index(&spec, "x86_64", &keyring)
        .expect("first load");
    let entry = std::fs::read_dir(cache.path().join("indexes"))
        .expect("index cached")
        .filter_map(Result::ok)
        .next()
        .expect("one entry")
        .path();
    let mut raw = std::fs::read(&entry).expect("entry");
    let last = raw.len() - 10;
    raw[last] ^= 0xff;
    std::fs::write(&entry, raw).expect("damage entry");

    let again = fetcher
        .load_index(&spec, "x86_64", &keyring)
        .expect("repaired");
    assert_eq!(again.origin, Origin::Downloaded);
    assert_eq!(server.requests("APKINDEX.tar.gz").len(), 3);
}

#[test]
fn a_damaged_cached_package_is_fetched_again() {
    let server = TestServer::serve_dir(alpine_repo());
    let cache = tempfile::tempdir().expect("temp dir");
    let fetched = fetch_zlib(&server, options(cache.path())).expect("first fetch");
    let path = fetched[0].path.clone().expect("cached");
    let mut raw = std::fs::read(&path).expect("cached file");
    let last = raw.len() - 10;
    raw[last] ^= 0xff;
    std::fs::write(&path, raw).expect("damage");

    let again = fetch_zlib(&server, options(cache.path())).expect("second fetch");
    assert_eq!(again[0].origin, Outcome::Downloaded);
    let third = fetch_zlib(&server, options(cache.path())).expect("third fetch");
    assert_eq!(third[0].origin, Outcome::Cached);
    assert_eq!(server.requests(".apk").len(), 2);
}

#[test]
fn keys_over_http_are_cached_for_offline_use() {
    let keys = rapko_test::fixture("keys");
    let server = TestServer::serve_dir(keys);
    let cache = tempfile::tempdir().expect("temp dir");
    let url = format!("{}/wolfi/wolfi-signing.rsa.pub", server.url());
    let fetcher = Fetcher::new(options(cache.path())).expect("fetcher");
    let keyring = fetcher
        .load_keyring(&[url.as_str()])
        .expect("key over http");
    assert_eq!(keyring.names(), ["wolfi-signing.rsa.pub"]);
    drop(server);

    let offline = Fetcher::new(FetchOptions {
        offline: true,
        ..options(cache.path())
    })
    .expect("fetcher");
    let keyring = offline
        .load_keyring(&[url.as_str()])
        .expect("key from cache");
    assert_eq!(keyring.len(), 1);
    let missing = format!("{url}.other");
    let err = offline
        .load_keyring(&[missing.as_str()])
        .expect_err("not cached");
    assert!(matches!(err, Error::Offline { .. }), "{}", chain(&err));
    assert!(err.to_string().contains(&missing), "{err}");
}

#[test]
fn a_key_url_that_is_not_a_key_is_refused() {
    let server = TestServer::start(|_, _| Reply::ok(b"<html>not a key</html>".to_vec()));
    let cache = tempfile::tempdir().expect("temp dir");
    let fetcher = Fetcher::new(options(cache.path())).expect("fetcher");
    let url = format!("{}/keys/bogus.rsa.pub", server.url());
    let err = fetcher
        .load_keyring(&[url.as_str()])
        .expect_err("html is no key");
    assert!(matches!(err, Error::BadKey { .. }), "{}", chain(&err));
    assert!(err.to_string().contains("bogus.rsa.pub"), "{err}");
    assert_eq!(count_files(&cache.path().join("keys")), 0);
}
