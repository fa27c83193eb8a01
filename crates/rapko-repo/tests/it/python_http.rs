//! Against a real, independent HTTP server: `python3 -m http.server` serving the fixtures.

use std::sync::Arc;

use rapko_repo::{Error, FetchOptions, Fetcher, Origin, Outcome, RepoSpec, cache_info};

use crate::support::{
    ALPINE_BASE, PythonServer, Recorder, alpine_keyring, alpine_repo, chain, options, pick,
};

#[test]
fn alpine_base_over_http_then_offline_from_the_cache() {
    let Some(server) = PythonServer::start(&alpine_repo()) else {
        return;
    };
    let cache = tempfile::tempdir().expect("temp dir");
    let keyring = alpine_keyring();
    let spec = RepoSpec::parse(&server.url()).expect("spec");
    let recorder = Arc::new(Recorder::default());
    let online = Fetcher::new(FetchOptions {
        progress: Some(recorder.clone()),
        // python's server listens with a backlog of 5: more connections at once lose their
        // SYN and wait a second for the retransmit.
        parallelism: 4,
        ..options(cache.path())
    })
    .expect("fetcher");

    let index = online
        .load_index(&spec, "x86_64", &keyring)
        .expect("index loads");
    assert_eq!(index.origin, Origin::Downloaded);
    assert!(
        index
            .signed_by
            .as_deref()
            .is_some_and(|k| k.starts_with("alpine-devel@"))
    );
    let wanted = pick(&index, &ALPINE_BASE);
    let packages = online.fetch_packages(&wanted).expect("alpine-base fetches");
    assert_eq!(packages.len(), 25);
    for (package, (_, info)) in packages.iter().zip(&wanted) {
        assert_eq!(&package.info, *info, "results come in the order asked");
        assert_eq!(package.origin, Outcome::Downloaded);
        let on_disk = std::fs::read(
            alpine_repo()
                .join("x86_64")
                .join(format!("{}.apk", info.name_version())),
        )
        .expect("fixture file");
        assert!(
            package.bytes == on_disk,
            "{} differs from the served file",
            info.name_version()
        );
        assert_eq!(package.parsed.info.name, info.name);
    }
    let events = recorder.events();
    assert!(events[0].starts_with("batch 25 "), "{events:?}");
    assert_eq!(
        events.iter().filter(|e| e.ends_with(" Downloaded")).count(),
        25
    );

    // python's server answers If-Modified-Since with 304.
    let again = online
        .load_index(&spec, "x86_64", &keyring)
        .expect("index revalidates");
    assert_eq!(again.origin, Origin::Revalidated);
    assert_eq!(again.index.packages.len(), index.index.packages.len());
    let info = cache_info(cache.path()).expect("cache info");
    assert_eq!((info.packages, info.indexes), (25, 1));

    drop(server);
    let offline = Fetcher::new(FetchOptions {
        offline: true,
        ..options(cache.path())
    })
    .expect("fetcher");
    let index = offline
        .load_index(&spec, "x86_64", &keyring)
        .expect("index from cache");
    assert_eq!(index.origin, Origin::Cached);
    let packages = offline
        .fetch_packages(&pick(&index, &ALPINE_BASE))
        .expect("packages from cache");
    assert!(packages.iter().all(|p| p.origin == Outcome::Cached));
    assert!(
        packages
            .iter()
            .all(|p| p.path.as_ref().is_some_and(|p| p.starts_with(cache.path())))
    );

    // Online with the server gone: a clear network error naming the URL.
    let err = online
        .load_index(&spec, "x86_64", &keyring)
        .expect_err("server is stopped");
    assert!(matches!(err, Error::Network { .. }), "{}", chain(&err));
    assert!(err.to_string().contains(&spec.location_display()), "{err}");
}

#[test]
fn upstream_index_with_missing_files_over_http() {
    let upstream = rapko_test::fixture("alpine-3.19-upstream/main");
    let Some(server) = PythonServer::start(&upstream) else {
        return;
    };
    let cache = tempfile::tempdir().expect("temp dir");
    let fetcher = Fetcher::new(options(cache.path())).expect("fetcher");
    let spec = RepoSpec::parse(&server.url()).expect("spec");
    let index = fetcher
        .load_index(&spec, "x86_64", &alpine_keyring())
        .expect("index");
    assert_eq!(index.index.packages.len(), 5443);

    let err = fetcher
        .fetch_packages(&pick(&index, &["jq", "nginx"]))
        .expect_err("nginx is listed but absent");
    let Error::Packages { total: 2, errors } = &err else {
        panic!("unexpected error: {}", chain(&err));
    };
    assert_eq!(errors.len(), 1, "only the missing package fails: {err}");
    let text = err.to_string();
    assert!(
        text.contains("package nginx-")
            && text.contains(&format!("{}/x86_64/nginx-", server.url())),
        "{text}"
    );

    // Nothing else broke: jq verified and was cached, and fetches alone.
    let jq = fetcher
        .fetch_packages(&pick(&index, &["jq"]))
        .expect("jq fetches");
    assert_eq!(jq[0].origin, Outcome::Cached);
}
