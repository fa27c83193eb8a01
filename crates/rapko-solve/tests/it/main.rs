//! Integration tests of the resolver: real Alpine indexes (the 3.19 ISO repository against
//! what apk-tools 2.14.10 really installs, and the full 3.19 main + community indexes
//! judged by the referee) and synthetic repositories built to trap a greedy solver.

mod iso;
mod others;
mod props;
mod synthetic;
mod upstream;

use std::sync::OnceLock;

use rapko_apk::{ApkIndex, Dependency, Keyring, PackageInfo, Trust, parse_index_text};
use rapko_solve::{Repository, Resolution, ResolveError, Resolver, check};

/// Reads a signed fixture index (keys/alpine).
fn load_index(rel: &str) -> Vec<PackageInfo> {
    let mut keys = Keyring::new();
    keys.add_dir(&rapko_test::fixture("keys/alpine"))
        .unwrap_or_else(|e| panic!("keys/alpine: {e}"));
    read_index(rel, &keys)
}

/// Reads a fixture index signed by the single key file `key` (a fixture path).
fn load_index_signed_by(rel: &str, key: &str) -> Vec<PackageInfo> {
    let mut keys = Keyring::new();
    let path = rapko_test::fixture(key);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{key}: {e}"));
    keys.add(&name, &bytes)
        .unwrap_or_else(|e| panic!("{key}: {e}"));
    read_index(rel, &keys)
}

fn read_index(rel: &str, keys: &Keyring) -> Vec<PackageInfo> {
    let bytes = std::fs::read(rapko_test::fixture(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let (index, _) =
        ApkIndex::read(&bytes, Trust::Keyring(keys)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    index.packages
}

/// The 100-package repository of the Alpine 3.19.1 ISO.
fn iso() -> &'static [Repository] {
    static REPOS: OnceLock<Vec<Repository>> = OnceLock::new();
    REPOS.get_or_init(|| {
        vec![Repository::new(load_index(
            "alpine-3.19/main/x86_64/APKINDEX.tar.gz",
        ))]
    })
}

/// Alpine 3.19 main + community, 23 000 packages.
fn upstream() -> &'static [Repository] {
    static REPOS: OnceLock<Vec<Repository>> = OnceLock::new();
    REPOS.get_or_init(|| {
        ["main", "community"]
            .iter()
            .map(|r| {
                let rel = format!("alpine-3.19-upstream/{r}/x86_64/APKINDEX.tar.gz");
                Repository::new(load_index(&rel))
            })
            .collect()
    })
}

/// Packages from lines such as `P:foo V:1.0-r0 D:bar>=2|so:libc.so p:cmd:foo=1.0-r0 k:10`:
/// one package a line, fields separated by spaces, list items by `|`.
fn index(text: &str) -> Vec<PackageInfo> {
    let mut real = String::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        for field in line.split_whitespace() {
            real.push_str(&field.replace('|', " "));
            real.push('\n');
        }
        real.push('\n');
    }
    parse_index_text(&real).unwrap_or_else(|e| panic!("bad test index: {e}\n{real}"))
}

fn world(s: &str) -> Vec<Dependency> {
    s.split_whitespace()
        .map(|a| a.parse().unwrap_or_else(|e| panic!("bad atom {a:?}: {e}")))
        .collect()
}

/// Resolves, checks the result with the referee, and returns it.
fn resolve<'a>(repos: &'a [Repository], w: &str) -> Result<Resolution<'a>, ResolveError> {
    let w = world(w);
    let resolution = Resolver::new(repos).resolve(&w)?;
    let violations = check::verify_resolution(repos, &w, &resolution);
    assert!(
        violations.is_empty(),
        "the referee found, for {w:?}:\n{}",
        violations
            .iter()
            .map(|v| format!("  {v}\n"))
            .collect::<String>()
    );
    Ok(resolution)
}

/// `name-version` of every chosen package, sorted.
fn sorted(resolution: &Resolution<'_>) -> Vec<String> {
    let mut all = resolution.name_versions();
    all.sort();
    all
}

fn ok<'a>(repos: &'a [Repository], w: &str) -> Resolution<'a> {
    resolve(repos, w).unwrap_or_else(|e| panic!("{w}: {e}"))
}

fn err(repos: &[Repository], w: &str) -> ResolveError {
    match resolve(repos, w) {
        Ok(r) => panic!("{w} should fail, got {:?}", r.name_versions()),
        Err(e) => e,
    }
}
