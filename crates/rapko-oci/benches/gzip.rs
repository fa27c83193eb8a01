//! Layer compression speed: `cargo bench -p rapko-oci --bench gzip`.
//!
//! Tars up to ~10 MB of this machine's /usr/bin (real executables and scripts, like an
//! image's files), then times the layer writer at several levels and thread counts, the
//! single-threaded flate2 encoder, and `gzip` itself, and prints MB/s of uncompressed
//! input, the process CPU time per run (all threads; from /proc, 10 ms ticks, averaged),
//! and the compressed size. Wall-clock speedups need idle cores: the first line probes
//! how many are really free by running two single-threaded compressions at once. Set
//! RAPKO_BENCH_DIR to tar another directory, RAPKO_BENCH_MB for another size,
//! RAPKO_BENCH_RUNS for more runs (the best of many finds the moments a busy machine
//! leaves both cores free), and RAPKO_BENCH_QUICK=1 for levels 1 and 6 only.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rapko_oci::{Digest, GzipOptions, LayerWriter};

/// Runs per figure (RAPKO_BENCH_RUNS, default 5).
fn runs() -> usize {
    std::env::var("RAPKO_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
}

fn quick() -> bool {
    std::env::var("RAPKO_BENCH_QUICK").is_ok_and(|v| v == "1")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::var("RAPKO_BENCH_DIR").unwrap_or_else(|_| "/usr/bin".into());
    let mb: usize = std::env::var("RAPKO_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let data = tar_of(Path::new(&dir), mb << 20)?;
    println!(
        "input: tar of {dir}, {:.1} MB; best of {} runs",
        data.len() as f64 / 1e6,
        runs()
    );
    probe_free_cores(&data)?;
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>10}",
        "", "wall ms", "MB/s", "cpu ms", "out bytes"
    );

    let t = best(|| {
        Digest::of(&data);
        Ok(0)
    })?;
    report("sha256 only", &data, t);

    let sweep: &[u32] = if quick() { &[] } else { &[1, 6] };
    for &level in sweep {
        for kib in [64, 512] {
            let opts = GzipOptions::default()
                .with_level(level)
                .with_threads(1)
                .with_block_size(kib << 10);
            let t = best(|| {
                let mut w = LayerWriter::new(std::io::sink(), opts)?;
                w.write_all(&data)?;
                Ok(w.finish()?.size)
            })?;
            report(
                &format!("level {level}, 1 thread, {kib} KiB blocks"),
                &data,
                t,
            );
        }
    }
    let middle: &[u32] = if quick() { &[] } else { &[2, 3, 4, 5] };
    for &level in middle {
        let opts = GzipOptions::default().with_level(level).with_threads(1);
        let t = best(|| {
            let mut w = LayerWriter::new(std::io::sink(), opts)?;
            w.write_all(&data)?;
            Ok(w.finish()?.size)
        })?;
        report(&format!("LayerWriter level {level}, 1 thread"), &data, t);
    }
    let main_levels: &[u32] = if quick() { &[1, 6] } else { &[1, 6, 9] };
    for &level in main_levels {
        for threads in [1, 2] {
            let opts = GzipOptions::default()
                .with_level(level)
                .with_threads(threads);
            let t = best(|| {
                let mut w = LayerWriter::new(std::io::sink(), opts)?;
                w.write_all(&data)?;
                Ok(w.finish()?.size)
            })?;
            report(
                &format!("LayerWriter level {level}, {threads} thread(s)"),
                &data,
                t,
            );
        }
        let t = best(|| {
            let mut e = flate2::write::GzEncoder::new(
                Vec::with_capacity(data.len() / 2),
                flate2::Compression::new(level),
            );
            e.write_all(&data)?;
            Ok(e.finish()?.len() as u64)
        })?;
        report(
            &format!("flate2 GzEncoder level {level} (1 thread)"),
            &data,
            t,
        );
        match best(|| external(&["gzip", &format!("-{level}"), "-c"], &data)) {
            Ok(t) => report(
                &format!("gzip -{level} (process, cpu not counted)"),
                &data,
                t,
            ),
            Err(e) => println!("gzip -{level}: skipped ({e})"),
        }
    }
    Ok(())
}

/// A tar of the regular files under `dir` (not recursive), stopping near `limit` bytes.
fn tar_of(dir: &Path, limit: usize) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    let mut b = tar::Builder::new(Vec::with_capacity(limit + (1 << 20)));
    b.follow_symlinks(false);
    for path in entries {
        let meta = std::fs::symlink_metadata(&path)?;
        if !meta.is_file() || meta.len() > (limit / 4) as u64 {
            continue;
        }
        let name = path.strip_prefix("/").unwrap_or(&path);
        b.append_path_with_name(&path, name)?;
        if b.get_ref().len() >= limit {
            break;
        }
    }
    Ok(b.into_inner()?)
}

/// Compares one single-threaded level-6 compression with two running at once: about 1.0
/// means two cores are free, about 2.0 means the machine is busy and parallel figures
/// below mean little.
fn probe_free_cores(data: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    let opts = GzipOptions::default().with_level(6).with_threads(1);
    let one = || -> Result<(), std::io::Error> {
        let mut w = LayerWriter::new(std::io::sink(), opts)?;
        w.write_all(data)?;
        w.finish()?;
        Ok(())
    };
    let start = Instant::now();
    one()?;
    let alone = start.elapsed();
    let start = Instant::now();
    std::thread::scope(|s| {
        let other = s.spawn(one);
        let mine = one();
        mine.and(other.join().unwrap_or(Ok(())))
    })?;
    let both = start.elapsed();
    println!(
        "free-core probe: two concurrent runs took {:.2}x one run (1.0 = 2 free cores)",
        both.as_secs_f64() / alone.as_secs_f64()
    );
    Ok(())
}

/// Wall time of the fastest of [`runs`] runs of `f`, mean process CPU time per run, and
/// `f`'s output size.
fn best(
    mut f: impl FnMut() -> Result<u64, Box<dyn std::error::Error>>,
) -> Result<(Duration, Duration, u64), Box<dyn std::error::Error>> {
    let mut fastest = Duration::MAX;
    let mut size = 0;
    let cpu_start = cpu_time();
    let runs = runs();
    for _ in 0..runs {
        let start = Instant::now();
        size = f()?;
        fastest = fastest.min(start.elapsed());
    }
    let cpu = cpu_time().saturating_sub(cpu_start) / runs as u32;
    Ok((fastest, cpu, size))
}

/// User + system CPU time of this process (all threads), from /proc/self/stat; zero
/// where that is unavailable. Assumes the usual 100 ticks per second.
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    Duration::from_millis(ticks * 10)
}

/// Runs `argv` with `input` on stdin; returns its stdout length.
fn external(argv: &[&str], input: &[u8]) -> Result<u64, Box<dyn std::error::Error>> {
    let mut child = Command::new(argv[0])
        .args(&argv[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output()?;
    feeder.join().map_err(|_| "feeder panicked")??;
    if !out.status.success() {
        return Err(format!("{} failed", argv[0]).into());
    }
    Ok(out.stdout.len() as u64)
}

fn report(label: &str, data: &[u8], (wall, cpu, size): (Duration, Duration, u64)) {
    let ms = wall.as_secs_f64() * 1e3;
    let mbps = data.len() as f64 / 1e6 / wall.as_secs_f64();
    let cpu_ms = cpu.as_secs_f64() * 1e3;
    println!("{label:<34} {ms:>9.1} {mbps:>9.1} {cpu_ms:>9.0} {size:>10}");
}
