//! Fetching Alpine 3.19's `alpine-base` (25 packages, 3.6 MB) from a loopback HTTP server:
//! into an empty cache (download + verify + store), then warm (index revalidated with a 304,
//! packages read from the cache and verified again), then offline (cache only), then from
//! the repository as a local path; and loading the full Alpine 3.19 main index (5443
//! packages: signature check, inflate, parse). Prints the median, min and max of several runs.
//!
//! Run: `cargo bench -p rapko-repo --bench fetch` (RAPKO_BENCH_RUNS sets the run count,
//! RAPKO_BENCH_PARALLELISM the downloads at once, 8 by default).

#[allow(dead_code)]
#[path = "../tests/it/support.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use rapko_repo::{FetchOptions, Fetcher, Origin, Outcome, RepoSpec};
use support::{
    ALPINE_BASE, PythonServer, Reply, TestServer, alpine_keyring, alpine_repo, file_reply, pick,
};

fn main() {
    let runs = env_number("RAPKO_BENCH_RUNS").unwrap_or(9);
    let server = etag_server();
    println!("alpine-base, 25 packages, {runs} runs each; median (min..max)");
    bench_server(
        "loopback server (HTTP/1.1 keep-alive, ETag)",
        &server.url(),
        runs,
    );
    if let Some(python) = PythonServer::start(&alpine_repo()) {
        bench_server(
            "python3 -m http.server (HTTP/1.0, Last-Modified)",
            &python.url(),
            runs,
        );
    }
    let local = alpine_repo().display().to_string();
    let times = repeat(runs, || {
        let cache = tempfile::tempdir().expect("temp dir");
        fetch(&local, cache.path(), false, Outcome::Local)
    });
    report("local path (read in place)", &times);

    // Index verification and parsing alone: the full Alpine 3.19 main index.
    let upstream = RepoSpec::local(rapko_test::fixture("alpine-3.19-upstream/main"));
    let fetcher = Fetcher::new(FetchOptions {
        http_auth: None,
        ..FetchOptions::default()
    })
    .expect("fetcher");
    let keyring = alpine_keyring();
    let times = repeat(runs, || {
        let start = Instant::now();
        let index = fetcher
            .load_index(&upstream, "x86_64", &keyring)
            .expect("index");
        assert_eq!(index.index.packages.len(), 5443);
        start.elapsed()
    });
    report("index: alpine 3.19 main, 5443 pkgs", &times);
}

fn bench_server(name: &str, url: &str, runs: usize) {
    println!("{name}:");
    let cold = repeat(runs, || {
        let cache = tempfile::tempdir().expect("temp dir");
        fetch(url, cache.path(), false, Outcome::Downloaded)
    });
    report("  cold (empty cache)", &cold);
    let cache = tempfile::tempdir().expect("temp dir");
    fetch(url, cache.path(), false, Outcome::Downloaded);
    let warm = repeat(runs, || fetch(url, cache.path(), false, Outcome::Cached));
    report("  warm (304 + cache)", &warm);
    let offline = repeat(runs, || fetch(url, cache.path(), true, Outcome::Cached));
    report("  offline (cache only)", &offline);
}

/// A new fetcher (as a new process would have), the index, then the 25 packages.
fn fetch(repo: &str, cache: &Path, offline: bool, expect: Outcome) -> Duration {
    let start = Instant::now();
    let fetcher = Fetcher::new(FetchOptions {
        cache_dir: Some(cache.to_owned()),
        offline,
        http_auth: None,
        parallelism: env_number("RAPKO_BENCH_PARALLELISM").unwrap_or(8),
        ..FetchOptions::default()
    })
    .expect("fetcher");
    let spec = RepoSpec::parse(repo).expect("spec");
    let index = fetcher
        .load_index(&spec, "x86_64", &alpine_keyring())
        .expect("index");
    let packages = fetcher
        .fetch_packages(&pick(&index, &ALPINE_BASE))
        .expect("packages");
    let elapsed = start.elapsed();
    assert!(
        packages.iter().all(|p| p.origin == expect),
        "expected {expect:?}"
    );
    if expect == Outcome::Cached && !offline {
        assert_eq!(index.origin, Origin::Revalidated);
    }
    elapsed
}

fn env_number(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn repeat(runs: usize, mut once: impl FnMut() -> Duration) -> Vec<Duration> {
    let mut times: Vec<Duration> = (0..runs.max(1)).map(|_| once()).collect();
    times.sort();
    times
}

fn report(name: &str, sorted: &[Duration]) {
    let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
    let (Some(min), Some(max)) = (sorted.first(), sorted.last()) else {
        return;
    };
    let median = &sorted[sorted.len() / 2];
    println!(
        "{name:<34} {:>8.1} ms  ({:.1}..{:.1})",
        ms(median),
        ms(min),
        ms(max)
    );
}

/// Serves the fixture with an ETag per file (its size and mtime) and answers 304 to a
/// matching If-None-Match, as a CDN would.
fn etag_server() -> TestServer {
    let root = alpine_repo();
    TestServer::start(move |req, _| {
        let rel = req.path.trim_start_matches('/');
        let Ok(meta) = std::fs::metadata(root.join(rel)) else {
            return Reply::status(404);
        };
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let etag = format!("\"{:x}-{mtime:x}\"", meta.len());
        if req.header("if-none-match") == Some(etag.as_str()) {
            return Reply::status(304).header("ETag", &etag);
        }
        file_reply(&root, &req.path).header("ETag", &etag)
    })
}
