//! Reading and verifying the full Alpine 3.19 community index (17,587 packages) into memory,
//! on one core. Target: under 60 ms. Prints the median of 10 runs of the whole read, then
//! the same for its three parts: inflating both gzip members, checking the signature over
//! the compressed content member, parsing the `APKINDEX` text.
//!
//! `cargo bench -p rapko-apk --bench index`

use std::hint::black_box;
use std::time::{Duration, Instant};

use rapko_apk::gz::{inflate_member, tar_files};
use rapko_apk::{ApkIndex, Keyring, Signature, SignatureAlgorithm, Trust, parse_index_text};

const INDEX: &str = "alpine-3.19-upstream/community/x86_64/APKINDEX.tar.gz";
const RUNS: usize = 10;

/// Median wall-clock and on-CPU time of `f` over [`RUNS`] runs. The CPU time (Linux
/// `schedstat`) leaves out time spent waiting for a core, so it stays meaningful on a busy
/// machine. Results are kept until all runs are done, so freeing one run's index is not
/// timed as part of the next one.
fn median<T>(mut f: impl FnMut() -> T) -> (Duration, Option<Duration>) {
    drop(f()); // warm up caches and the allocator
    let mut results = Vec::with_capacity(RUNS);
    let mut wall = Vec::with_capacity(RUNS);
    let mut cpu = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let (start, start_cpu) = (Instant::now(), cpu_time());
        results.push(black_box(f()));
        wall.push(start.elapsed());
        cpu.push(
            cpu_time()
                .zip(start_cpu)
                .map(|(end, start)| end.saturating_sub(start)),
        );
    }
    drop(results);
    wall.sort();
    cpu.sort();
    (wall[RUNS / 2], cpu[RUNS / 2])
}

/// Time this thread has spent on a CPU, from `/proc/thread-self/schedstat` (nanoseconds).
fn cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

fn ms((wall, cpu): (Duration, Option<Duration>)) -> String {
    let cpu = cpu.map_or(String::new(), |c| {
        format!(", {:6.2} ms on CPU", c.as_secs_f64() * 1000.0)
    });
    format!("{:7.2} ms{cpu}", wall.as_secs_f64() * 1000.0)
}

fn main() {
    let bytes = std::fs::read(rapko_test::fixture(INDEX)).expect("read the fixture index");
    let mut keyring = Keyring::new();
    keyring
        .add_dir(&rapko_test::fixture("keys/alpine"))
        .expect("load the Alpine keys");

    let (index, by) = ApkIndex::read(&bytes, Trust::Keyring(&keyring)).expect("index verifies");
    println!(
        "{INDEX}: {} bytes, {} packages, verified by {}",
        bytes.len(),
        index.packages.len(),
        by.unwrap_or_default()
    );

    let total =
        median(|| ApkIndex::read(black_box(&bytes), Trust::Keyring(&keyring)).expect("reads"));

    // The parts, done the way ApkIndex::read does them.
    let (signature_tar, end) = inflate_member(&bytes, 0, 1 << 20, "signature").expect("inflate");
    let signatures: Vec<Signature> = tar_files(&signature_tar)
        .expect("signature tar")
        .into_iter()
        .filter_map(|f| {
            let (algorithm, key) = SignatureAlgorithm::from_entry_name(&f.name)?;
            Some(Signature {
                algorithm,
                key_name: key.to_owned(),
                bytes: f.content,
            })
        })
        .collect();
    let (content, _) = inflate_member(&bytes, end, 512 << 20, "index").expect("inflate");
    let text = tar_files(&content)
        .expect("content tar")
        .into_iter()
        .find(|f| f.name == "APKINDEX")
        .map(|f| String::from_utf8(f.content).expect("UTF-8"))
        .expect("APKINDEX entry");

    let inflate = median(|| {
        let (_, end) = inflate_member(black_box(&bytes), 0, 1 << 20, "signature").expect("inflate");
        inflate_member(&bytes, end, 512 << 20, "index").expect("inflate")
    });
    let verify = median(|| {
        let by = keyring.verify_any(&signatures, black_box(&bytes[end..]));
        by.expect("verifies").len()
    });
    let untar = median(|| tar_files(black_box(&content)).expect("tar"));
    let parse = median(|| parse_index_text(black_box(&text)).expect("parses"));

    println!("median of {RUNS} runs, one core:");
    println!("  read + verify + parse {}  (target < 60 ms)", ms(total));
    println!(
        "  inflate               {}  ({} -> {} bytes)",
        ms(inflate),
        bytes.len() - end,
        content.len()
    );
    println!("  verify signature      {}", ms(verify));
    println!("  untar                 {}", ms(untar));
    println!(
        "  parse APKINDEX text   {}  ({} bytes)",
        ms(parse),
        text.len()
    );
}
