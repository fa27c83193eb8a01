//! Writes a signed synthetic x86_64 repository for memory and speed benchmarks:
//!
//! ```text
//! cargo run --release -p rapko-test --example bigrepo -- DIR [TOTAL_MB] [PACKAGES] [SEED]
//! ```
//!
//! `DIR/x86_64/` gets `big-0000` … `big-NNNN` (from [`rapko_test::big_package_set`]: poorly
//! compressible content, `big-0000` depends on all the others) and a signed
//! `APKINDEX.tar.gz`. Prints the public key file a config's `contents.keyring` should name.
//! Defaults: 300 MB in 100 packages, seed 1.

use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: bigrepo DIR [TOTAL_MB] [PACKAGES] [SEED]");
        std::process::exit(2);
    };
    let number = |what: &str, default: u64, arg: Option<String>| -> u64 {
        arg.map_or(default, |a| {
            a.parse().unwrap_or_else(|_| {
                eprintln!("bigrepo: {what} {a:?} is not a number");
                std::process::exit(2);
            })
        })
    };
    let total_mb = number("TOTAL_MB", 300, args.next());
    let packages = number("PACKAGES", 100, args.next()).max(1);
    let seed = number("SEED", 1, args.next());
    let start = std::time::Instant::now();
    let apks = rapko_test::big_package_set(
        total_mb * 1_000_000,
        usize::try_from(packages).unwrap_or(usize::MAX),
        seed,
    );
    let arch_dir = rapko_test::write_repo(&dir, "x86_64", &apks);
    let bytes: u64 = apks.iter().map(|a| a.bytes.len() as u64).sum();
    eprintln!(
        "bigrepo: {} packages, {:.1} MB of .apk files in {} ({:.1} s)",
        apks.len(),
        bytes as f64 / 1e6,
        arch_dir.display(),
        start.elapsed().as_secs_f64()
    );
    println!("{}", rapko_test::test_public_key_path().display());
}
