//! A large, deterministic package set for memory and speed benchmarks.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::apk::{ApkBuilder, BuiltApk};

/// Largest file written into a big package; bigger shares are split across files.
const MAX_FILE: u64 = 4 << 20;

/// `n_packages` signed x86_64 packages `big-0000`, `big-0001`, … whose files hold
/// `total_bytes` of content in all (split evenly, the remainder in the last one), in files of
/// at most 4 MiB under `usr/share/<name>/`. `big-0000` depends on every other package, so a
/// world of `big-0000` installs the whole set.
///
/// The content is pseudo-random from `seed` over a 64-symbol alphabet (6 bits of entropy a
/// byte): gzip -6 gets it to about 75–80 % of its size, and the level 1 used here (to keep
/// generation fast) barely shrinks it, so the compressed set is as large as the content.
/// Same arguments, same bytes. Packages are built on all cores: 300 MB in 100 packages
/// takes about 6 s on 2 cores in the dev profile.
pub fn big_package_set(total_bytes: u64, n_packages: usize, seed: u64) -> Vec<BuiltApk> {
    assert!(n_packages > 0, "big_package_set needs at least one package");
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<BuiltApk>>> = Mutex::new(vec![None; n_packages]);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..workers.min(n_packages) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n_packages {
                        break;
                    }
                    let apk = big_package(i, share(total_bytes, n_packages, i), n_packages, seed);
                    lock(&results)[i] = Some(apk);
                }
            });
        }
    });
    let results = results
        .into_inner()
        .unwrap_or_else(|_| panic!("a big_package_set worker panicked"));
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| panic!("a big_package_set worker did not finish")))
        .collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock()
        .unwrap_or_else(|_| panic!("a big_package_set worker panicked"))
}

/// Content bytes of package `i`: an even split, the remainder going to the last one.
fn share(total: u64, n: usize, i: usize) -> u64 {
    let n = n as u64;
    let base = total / n;
    if i as u64 == n - 1 {
        base + total % n
    } else {
        base
    }
}

fn big_name(i: usize) -> String {
    format!("big-{i:04}")
}

fn big_package(i: usize, bytes: u64, n: usize, seed: u64) -> BuiltApk {
    let name = big_name(i);
    let mut b = ApkBuilder::new(&name, "1.0-r0")
        .description("synthetic large package for benchmarks")
        .compression(1);
    if i == 0 {
        b = b.depends((1..n).map(big_name));
    }
    let mut rng = SplitMix64(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut left = bytes;
    let mut file = 0;
    while left > 0 {
        let len = left.min(MAX_FILE);
        let content = rng.fill(len);
        b = b.file(&format!("usr/share/{name}/blob-{file:03}.bin"), content);
        left -= len;
        file += 1;
    }
    b.build()
}

/// SplitMix64: tiny, fast, and fully determined by its seed.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// `len` bytes over 64 printable-ish symbols (6 bits of entropy per byte).
    fn fill(&mut self, len: u64) -> Vec<u8> {
        let len = usize::try_from(len).unwrap_or_else(|_| panic!("file of {len} bytes"));
        let mut v = Vec::with_capacity(len + 8);
        while v.len() < len {
            let x = self.next();
            v.extend(x.to_le_bytes().iter().map(|b| (b & 0x3f) | 0x40));
        }
        v.truncate(len);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up() {
        let total: u64 = (0..7).map(|i| share(1000, 7, i)).sum();
        assert_eq!(total, 1000);
    }

    #[test]
    fn content_is_deterministic_and_poorly_compressible() {
        let a = SplitMix64(7).fill(1 << 20);
        assert_eq!(a, SplitMix64(7).fill(1 << 20));
        assert_ne!(a, SplitMix64(8).fill(1 << 20));
        let gz = crate::member::gzip(&a, 6);
        let ratio = gz.len() as f64 / a.len() as f64;
        assert!(ratio > 0.7, "compresses too well: {ratio}");
    }
}
