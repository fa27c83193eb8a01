//! Resolution speed on the full Alpine 3.19 indexes: `cargo bench -p rapko-solve`.
//!
//! Loads main + community (23 000 packages, signature-checked) once, then times building
//! the resolver (indexing every name) and resolving a few worlds, and prints the median
//! and the fastest of several runs. The headline world is
//! `build-base python3 nodejs npm nginx postgresql16`.

use std::time::{Duration, Instant};

use rapko_apk::{ApkIndex, Dependency, Keyring, Trust};
use rapko_solve::{Repository, Resolver};

const RUNS: usize = 21;

const WORLDS: &[&str] = &[
    "build-base python3 nodejs npm nginx postgresql16",
    "alpine-base",
    "python3",
    "ffmpeg imagemagick",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut keys = Keyring::new();
    keys.add_dir(&rapko_test::fixture("keys/alpine"))?;
    let mut repos = Vec::new();
    for r in ["main", "community"] {
        let path = rapko_test::fixture(&format!("alpine-3.19-upstream/{r}/x86_64/APKINDEX.tar.gz"));
        let (index, _) = ApkIndex::read(&std::fs::read(path)?, Trust::Keyring(&keys))?;
        repos.push(Repository::new(index.packages));
    }
    let total: usize = repos.iter().map(|r| r.packages.len()).sum();
    println!("alpine 3.19 main + community: {total} packages; {RUNS} runs each");
    println!(
        "{:<52} {:>10} {:>10} {:>9}",
        "", "median", "fastest", "packages"
    );

    let (median, fastest) = time(|| Resolver::new(&repos).repositories().len());
    println!(
        "{:<52} {:>10} {:>10} {:>9}",
        "Resolver::new (index every name)",
        ms(median),
        ms(fastest),
        ""
    );

    let resolver = Resolver::new(&repos);
    for w in WORLDS {
        let world: Vec<Dependency> = w
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()?;
        let count = resolver.resolve(&world)?.packages.len();
        let (median, fastest) = time(|| {
            resolver
                .resolve(&world)
                .map(|r| r.packages.len())
                .unwrap_or(0)
        });
        println!(
            "{:<52} {:>10} {:>10} {count:>9}",
            format!("resolve {w}"),
            ms(median),
            ms(fastest)
        );
    }
    let world: Vec<Dependency> = WORLDS[0]
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let (median, fastest) = time(|| {
        let resolver = Resolver::new(&repos);
        resolver
            .resolve(&world)
            .map(|r| r.packages.len())
            .unwrap_or(0)
    });
    println!(
        "{:<52} {:>10} {:>10}",
        "new + resolve (headline world)",
        ms(median),
        ms(fastest)
    );
    Ok(())
}

/// Median and fastest of RUNS timed runs (after one warm-up).
fn time<T>(mut f: impl FnMut() -> T) -> (Duration, Duration) {
    std::hint::black_box(f());
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[RUNS / 2], times[0])
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}
