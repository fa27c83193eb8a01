//! Helpers for unit tests: packages written as one compact index line each.

use rapko_apk::{Dependency, PackageInfo, parse_index_text};

/// Packages from lines such as `P:foo V:1.0-r0 D:bar>=2|so:libc.so p:cmd:foo=1.0-r0 k:10`:
/// one package a line, fields separated by spaces, list items by `|`.
pub(crate) fn index(text: &str) -> Vec<PackageInfo> {
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

pub(crate) fn dep(s: &str) -> Dependency {
    s.parse().unwrap_or_else(|e| panic!("bad atom {s:?}: {e}"))
}

/// A world from space-separated atoms.
pub(crate) fn world(s: &str) -> Vec<Dependency> {
    s.split_whitespace().map(dep).collect()
}
