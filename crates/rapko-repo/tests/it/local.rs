//! Local repositories (`PATH`, `file://PATH`) are read in place and never copied into the cache.

use rapko_repo::{Error, Fetcher, Origin, Outcome, RepoSpec};

use crate::support::{ALPINE_BASE, alpine_keyring, alpine_repo, chain, count_files, options, pick};

#[test]
fn alpine_base_from_a_local_path_is_read_in_place() {
    let cache = tempfile::tempdir().expect("temp dir");
    let fetcher = Fetcher::new(options(cache.path())).expect("fetcher");
    for text in [
        alpine_repo().display().to_string(),
        format!("file://{}", alpine_repo().display()),
    ] {
        let spec = RepoSpec::parse(&text).expect("spec");
        let index = fetcher
            .load_index(&spec, "x86_64", &alpine_keyring())
            .expect("index");
        assert_eq!(index.origin, Origin::Local);
        let packages = fetcher
            .fetch_packages(&pick(&index, &ALPINE_BASE))
            .expect("packages");
        assert_eq!(packages.len(), 25);
        for p in &packages {
            assert_eq!(p.origin, Outcome::Local);
            let path = p.path.as_ref().expect("local file");
            assert!(path.starts_with(alpine_repo()), "{}", path.display());
        }
    }
    assert_eq!(
        count_files(cache.path()),
        0,
        "local repositories are not cached"
    );
}

#[test]
fn a_missing_file_in_a_local_upstream_index_fails_cleanly() {
    let cache = tempfile::tempdir().expect("temp dir");
    let fetcher = Fetcher::new(options(cache.path())).expect("fetcher");
    let spec = RepoSpec::local(rapko_test::fixture("alpine-3.19-upstream/main"));
    let index = fetcher
        .load_index(&spec, "x86_64", &alpine_keyring())
        .expect("index");
    assert_eq!(index.index.packages.len(), 5443);

    let nginx = pick(&index, &["nginx"]);
    let err = fetcher
        .fetch_packages(&nginx)
        .expect_err("nginx is listed but absent");
    let Error::PackageNotFound { package, url } = &err else {
        panic!("unexpected error: {}", chain(&err));
    };
    assert!(package.starts_with("nginx-"), "{package}");
    assert!(url.ends_with(&format!("x86_64/{package}.apk")), "{url}");
    assert_eq!(url, &index.package_url(nginx[0].1));
    assert!(err.hint().is_some());

    // Present files of the same index still work.
    let present = fetcher
        .fetch_packages(&pick(&index, &["jq", "oniguruma", "sqlite-libs"]))
        .expect("present files");
    assert_eq!(present.len(), 3);
}

#[test]
fn a_missing_local_index_names_its_path() {
    let cache = tempfile::tempdir().expect("temp dir");
    let fetcher = Fetcher::new(options(cache.path())).expect("fetcher");
    let err = fetcher
        .load_index(
            &RepoSpec::local(alpine_repo()),
            "riscv64",
            &alpine_keyring(),
        )
        .expect_err("no riscv64 index");
    assert!(matches!(err, Error::NotFound { .. }), "{}", chain(&err));
    assert!(err.to_string().contains("riscv64/APKINDEX.tar.gz"), "{err}");
    assert!(err.hint().is_some_and(|h| h.contains("architecture")));
}

#[test]
fn several_indexes_load_at_once_in_order() {
    let cache = tempfile::tempdir().expect("temp dir");
    let fetcher = Fetcher::new(options(cache.path())).expect("fetcher");
    let specs = [
        RepoSpec::local(rapko_test::fixture("alpine-3.19-upstream/main")),
        RepoSpec::local(alpine_repo()),
    ];
    let indexes = fetcher
        .load_indexes(&specs, "x86_64", &alpine_keyring())
        .expect("indexes");
    assert_eq!(indexes.len(), 2);
    assert_eq!(indexes[0].index.packages.len(), 5443);
    assert_eq!(indexes[1].spec, specs[1]);

    let with_bad = [specs[0].clone(), RepoSpec::local(cache.path())];
    let err = fetcher
        .load_indexes(&with_bad, "x86_64", &alpine_keyring())
        .expect_err("no index");
    assert!(matches!(err, Error::NotFound { .. }), "{}", chain(&err));
}

#[test]
fn released_bytes_are_read_from_the_path() {
    let cache = tempfile::tempdir().expect("temp dir");
    let fetcher = Fetcher::new(rapko_repo::FetchOptions {
        release_bytes: true,
        ..options(cache.path())
    })
    .expect("fetcher");
    let index = fetcher
        .load_index(&RepoSpec::local(alpine_repo()), "x86_64", &alpine_keyring())
        .expect("index");
    let fetched = fetcher
        .fetch_packages(&pick(&index, &["musl"]))
        .expect("musl");
    assert!(fetched[0].bytes.is_empty());
    let on_disk = std::fs::read(fetched[0].path.as_ref().expect("path")).expect("file");
    assert_eq!(fetched[0].parsed.data.end, on_disk.len());
}
