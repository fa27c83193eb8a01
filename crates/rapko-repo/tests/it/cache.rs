//! The cache shared between fetchers (as between processes): concurrent fetches of the same
//! packages both succeed; offline mode names what is missing; info and clean.

use rapko_repo::{Error, FetchOptions, Fetcher, Outcome, RepoSpec, cache_clean, cache_info};

use crate::support::{ALPINE_BASE, TestServer, alpine_keyring, alpine_repo, chain, options, pick};

#[test]
fn two_fetchers_share_one_cache_at_the_same_time() {
    let server = TestServer::serve_dir(alpine_repo());
    let cache = tempfile::tempdir().expect("temp dir");
    let spec = RepoSpec::parse(&server.url()).expect("spec");
    let keyring = alpine_keyring();
    let results: Vec<_> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let fetcher = Fetcher::new(options(cache.path()))?;
                    let index = fetcher.load_index(&spec, "x86_64", &keyring)?;
                    fetcher.fetch_packages(&pick(&index, &ALPINE_BASE))
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("worker thread"))
            .collect()
    });
    for result in results {
        let packages = result.unwrap_or_else(|e| panic!("fetch failed: {}", chain(&e)));
        assert_eq!(packages.len(), 25);
    }
    let info = cache_info(cache.path()).expect("info");
    assert_eq!((info.packages, info.indexes), (25, 1));

    // A third fetcher finds everything verified in the cache.
    let fetcher = Fetcher::new(options(cache.path())).expect("fetcher");
    let index = fetcher
        .load_index(&spec, "x86_64", &keyring)
        .expect("index");
    let again = fetcher
        .fetch_packages(&pick(&index, &ALPINE_BASE))
        .expect("cached");
    assert!(again.iter().all(|p| p.origin == Outcome::Cached));
}

#[test]
fn one_fetcher_used_from_several_threads() {
    let server = TestServer::serve_dir(alpine_repo());
    let cache = tempfile::tempdir().expect("temp dir");
    let fetcher = Fetcher::new(options(cache.path())).expect("fetcher");
    let spec = RepoSpec::parse(&server.url()).expect("spec");
    let keyring = alpine_keyring();
    std::thread::scope(|s| {
        for half in ALPINE_BASE.chunks(13) {
            let (fetcher, spec, keyring) = (&fetcher, &spec, &keyring);
            s.spawn(move || {
                let index = fetcher.load_index(spec, "x86_64", keyring).expect("index");
                let got = fetcher
                    .fetch_packages(&pick(&index, half))
                    .expect("packages");
                assert_eq!(got.len(), half.len());
            });
        }
    });
}

#[test]
fn offline_names_what_is_missing() {
    let cache = tempfile::tempdir().expect("temp dir");
    let offline = Fetcher::new(FetchOptions {
        offline: true,
        ..options(cache.path())
    })
    .expect("fetcher");
    let spec = RepoSpec::parse("https://mirror.invalid/alpine/v3.19/main").expect("spec");
    let err = offline
        .load_index(&spec, "x86_64", &alpine_keyring())
        .expect_err("empty cache");
    assert!(matches!(err, Error::Offline { .. }), "{}", chain(&err));
    let text = err.to_string();
    assert!(
        text.contains("https://mirror.invalid/alpine/v3.19/main/x86_64/APKINDEX.tar.gz"),
        "{text}"
    );
    assert!(text.contains(&cache.path().display().to_string()), "{text}");
    assert!(err.hint().is_some_and(|h| h.contains("--offline")));

    // With the index cached but not the packages, each missing package is named.
    let server = TestServer::serve_dir(alpine_repo());
    let spec = RepoSpec::parse(&server.url()).expect("spec");
    let online = Fetcher::new(options(cache.path())).expect("fetcher");
    let index = online
        .load_index(&spec, "x86_64", &alpine_keyring())
        .expect("index");
    online
        .fetch_packages(&pick(&index, &["musl"]))
        .expect("musl cached");
    let index = offline
        .load_index(&spec, "x86_64", &alpine_keyring())
        .expect("cached index");
    let err = offline
        .fetch_packages(&pick(&index, &["musl", "zlib", "busybox"]))
        .expect_err("two are not cached");
    let Error::Packages { total: 3, errors } = &err else {
        panic!("unexpected error: {}", chain(&err));
    };
    assert_eq!(errors.len(), 2);
    let text = err.to_string();
    assert!(
        text.contains("package zlib-")
            && text.contains("package busybox-")
            && !text.contains("musl"),
        "{text}"
    );
}

#[test]
fn info_and_clean() {
    let server = TestServer::serve_dir(alpine_repo());
    let cache = tempfile::tempdir().expect("temp dir");
    let fetcher = Fetcher::new(options(cache.path())).expect("fetcher");
    let spec = RepoSpec::parse(&server.url()).expect("spec");
    let index = fetcher
        .load_index(&spec, "x86_64", &alpine_keyring())
        .expect("index");
    let fetched = fetcher
        .fetch_packages(&pick(&index, &["musl", "zlib"]))
        .expect("packages");
    let info = cache_info(cache.path()).expect("info");
    assert_eq!((info.entries, info.packages, info.indexes), (3, 2, 1));
    let package_bytes: u64 = fetched.iter().map(|p| p.bytes.len() as u64).sum();
    assert!(
        info.size > package_bytes,
        "{} <= {package_bytes}",
        info.size
    );

    let removed = cache_clean(cache.path()).expect("clean");
    assert_eq!(removed, info);
    assert_eq!(cache_info(cache.path()).expect("info").entries, 0);
    // And it fills again.
    let again = fetcher
        .fetch_packages(&pick(&index, &["musl"]))
        .expect("refetch");
    assert_eq!(again[0].origin, Outcome::Downloaded);
}
