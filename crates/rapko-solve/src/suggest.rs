//! "Did you mean …?" for names no repository has.
//!
//! Candidates are scored by optimal-string-alignment distance (a swap of two neighbouring
//! letters counts one, so `pyhton3` is one step from `python3`); a name is suggested when
//! it is at most a third of the typed length away (at least one step, at most three).
//! Names with a prefix (`so:`, `cmd:`, `pc:`) are only suggested for a typed name with
//! the same prefix, so a typo in a package name does not suggest `cmd:` entries.

/// Up to three names from `names` close to `typed`, closest first, ties by name.
pub(crate) fn close_names(names: &[&str], typed: &str) -> Vec<String> {
    let limit = (typed.chars().count() / 3).clamp(1, 3);
    let prefix = |s: &str| s.split_once(':').map(|(p, _)| p.to_owned());
    let typed_prefix = prefix(typed);
    let mut scored: Vec<(usize, &str)> = names
        .iter()
        .copied()
        .filter(|n| prefix(n) == typed_prefix && *n != typed)
        .filter(|n| n.len().abs_diff(typed.len()) <= limit)
        .map(|n| (strsim::osa_distance(n, typed), n))
        .filter(|(d, _)| *d <= limit)
        .collect();
    scored.sort();
    scored.dedup();
    scored
        .into_iter()
        .take(3)
        .map(|(_, n)| n.to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &[
        "python3",
        "python3-dev",
        "py3-pip",
        "cmd:python3",
        "nginx",
        "git",
        "gti-tool",
        "tig",
        "so:libssl.so.3",
        "so:libssl.so.1",
    ];

    #[test]
    fn close_names_are_suggested_best_first() {
        assert_eq!(close_names(NAMES, "pyhton3"), ["python3"]);
        assert_eq!(close_names(NAMES, "ngnix"), ["nginx"]);
        assert_eq!(close_names(NAMES, "gti"), ["git"]);
        assert_eq!(
            close_names(NAMES, "so:libssl.so.2"),
            ["so:libssl.so.1", "so:libssl.so.3"]
        );
    }

    #[test]
    fn far_names_and_other_prefixes_are_not() {
        assert!(close_names(NAMES, "rust").is_empty());
        assert!(close_names(NAMES, "x").is_empty());
        // `cmd:python3` is not suggested for a package name.
        assert!(!close_names(NAMES, "python").contains(&"cmd:python3".to_owned()));
    }
}
