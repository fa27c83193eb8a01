//! Push speed against a real `docker-registry` on loopback:
//! `cargo bench -p rapko-registry --bench push`.
//!
//! Builds a single-arch image with one ~10 MB incompressible layer, then times, over
//! several runs: a first push into a fresh repository (everything uploaded; the default
//! 8 MiB limit makes the layer a chunked upload), the same with the whole layer in one
//! request, and a push of the same image again (HEADs only). For scale it also times
//! `skopeo copy` of a layout to a fresh repository, when skopeo is installed; each skopeo
//! run gets an image of its own, because skopeo remembers where it pushed blobs before
//! and would mount them instead of uploading. Set RAPKO_BENCH_MB for another layer size
//! and RAPKO_BENCH_RUNS for another number of runs.

#![allow(clippy::unwrap_used)]

#[path = "../tests/it/support.rs"]
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use rapko_registry::{Options, PushReport, PushRequest, Root, blocking};

fn main() {
    let Some(reg) = support::Registry::start() else {
        return;
    };
    let mb: usize = env_or("RAPKO_BENCH_MB", 10);
    let runs: usize = env_or("RAPKO_BENCH_RUNS", 5);
    let image = support::big_image(mb << 20, 42);
    let layer_bytes = dir_size(&image.layout.join("blobs/sha256"));
    println!(
        "image: {:.1} MB of blobs in the layout, {runs} runs each, registry {}",
        layer_bytes as f64 / 1e6,
        reg.addr()
    );

    let chunked = Options::default();
    let one_request = Options {
        monolithic_limit: 1 << 30,
        ..Options::default()
    };
    let mut n = 0;
    let mut fresh = |options: &Options| {
        n += 1;
        let dest = format!("{}/bench{n}:v1", reg.addr());
        let (took, report) = push(&image.layout, &dest, options);
        assert!(
            report.bytes_uploaded >= layer_bytes - 4096,
            "everything uploaded: {report:?}"
        );
        (took, report)
    };
    // Interleaved, so that load from elsewhere on the machine hits both alike.
    let (mut first, mut mono) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        first.push(fresh(&chunked).0);
        mono.push(fresh(&one_request).0);
    }
    report("first push (8 MiB chunks)", &first, layer_bytes);
    report("first push (one request per blob)", &mono, layer_bytes);

    let again_dest = format!("{}/bench1:v1", reg.addr());
    let again = time(runs, || {
        let (took, report) = push(&image.layout, &again_dest, &chunked);
        assert_eq!(report.bytes_uploaded, 0, "{report:?}");
        (took, report)
    });
    report("push again (nothing new)", &again, layer_bytes);

    if rapko_test::require_tool("skopeo").is_some() {
        let skopeo: Vec<Duration> = (1..=runs)
            .map(|k| {
                let own = support::big_image(mb << 20, 1000 + k as u64);
                let start = Instant::now();
                support::run(Command::new("skopeo").args([
                    "copy",
                    "-q",
                    "--dest-tls-verify=false",
                    "--preserve-digests",
                    &format!("oci:{}:v1", own.layout.display()),
                    &format!("docker://{}/skopeo{k}:v1", reg.addr()),
                ]));
                start.elapsed()
            })
            .collect();
        report("skopeo copy, first push (reference)", &skopeo, layer_bytes);
    }
}

fn push(layout: &std::path::Path, dest: &str, options: &Options) -> (Duration, PushReport) {
    let request = PushRequest::new(layout, Root::Tag("v1".into()), vec![dest.parse().unwrap()]);
    let start = Instant::now();
    let report = blocking::push(&request, options).unwrap();
    (start.elapsed(), report)
}

fn time<T>(runs: usize, mut f: impl FnMut() -> (Duration, T)) -> Vec<Duration> {
    (0..runs).map(|_| f().0).collect()
}

fn report(what: &str, times: &[Duration], bytes: u64) {
    let mut sorted = times.to_vec();
    sorted.sort();
    let median = sorted[sorted.len() / 2];
    let best = sorted[0];
    println!(
        "{what:<38} median {:>7.1} ms  best {:>7.1} ms  ({:.0} MB/s of image at the median)",
        median.as_secs_f64() * 1e3,
        best.as_secs_f64() * 1e3,
        bytes as f64 / 1e6 / median.as_secs_f64()
    );
}

fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum()
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
