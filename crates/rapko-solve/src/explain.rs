//! Turns the facts behind an unsatisfiable world into sentences a person can act on.
//!
//! [`crate::sat`] reads resolvo's conflict graph into [`Fact`]s, from the world down:
//! who needs what and which packages could give it, who forbids whom. Here each "needs"
//! becomes one line naming packages and versions, and when a need has a single candidate
//! that something else rules out, the reason is chained onto the same line:
//! `network-extras-2.0-r0 needs vlan, provided only by vlan-2.3-r1, which
//! ifupdown-ng-0.12.1-r4 forbids (!vlan)`.

use rapko_apk::Dependency;

use crate::policy::Policy;
use crate::universe::{PkgId, Universe, provide_matches};

/// One statement about why the world cannot be satisfied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fact {
    /// `who` (the world when `None`) needs `atom`; `candidates` could satisfy it.
    Needs {
        who: Option<PkgId>,
        atom: Dependency,
        candidates: Vec<PkgId>,
    },
    /// `who` (the world when `None`) has the conflict `atom`, which rules out `pkg`.
    Forbids {
        who: Option<PkgId>,
        atom: Dependency,
        pkg: PkgId,
    },
    /// `a` and `b` both provide `name`, one of them with a version.
    SameProvide { a: PkgId, b: PkgId, name: String },
    /// `a` and `b` are two versions of one package.
    SameName { a: PkgId, b: PkgId },
    /// `pkg` is ruled out because its name is held at `held`'s version.
    Held { pkg: PkgId, held: PkgId },
    /// `pkg` may not be chosen, for `reason`.
    Excluded { pkg: PkgId, reason: String },
    /// The solver stopped early (never expected).
    Cancelled,
}

/// At most this many lines; a conflict deep in a big world can involve many packages.
const MAX_LINES: usize = 24;

/// The lines of an explanation, in the order of the facts, without repeats.
pub(crate) fn render(u: &Universe<'_>, policy: &Policy<'_>, facts: &[Fact]) -> Vec<String> {
    let mut used = vec![false; facts.len()];
    let mut lines: Vec<String> = Vec::new();
    for fact in facts {
        let Fact::Needs {
            who,
            atom,
            candidates,
        } = fact
        else {
            continue;
        };
        let mut line = match who {
            None => format!("the world asks for {atom}"),
            Some(p) => format!("{} needs {atom}", u.label(*p)),
        };
        match candidates.as_slice() {
            [] => line.push_str(&missing(u, policy, atom)),
            [only] => {
                line.push_str(&format!(", provided only by {}", u.label(*only)));
                let reasons = reasons_against(u, facts, *only, &mut used);
                if !reasons.is_empty() {
                    line.push_str(&format!(", which {}", reasons.join(" and ")));
                }
            }
            several => line.push_str(&format!(", provided by {}", list(u, several))),
        }
        push_unique(&mut lines, line);
    }
    // Forbids left over, grouped by who forbids and with which atom.
    let mut forbidden: Vec<(String, Vec<String>)> = Vec::new();
    for (i, fact) in facts.iter().enumerate() {
        if used[i] {
            continue;
        }
        if let Fact::Forbids { who, atom, pkg } = fact {
            let who = who.map_or("the world".to_owned(), |w| u.label(w));
            add_to_group(&mut forbidden, format!("{who}\u{0}{atom}"), u.label(*pkg));
        } else if let Some(line) = standalone(u, fact) {
            push_unique(&mut lines, line);
        }
    }
    for (key, pkgs) in forbidden {
        let (who, atom) = key.split_once('\u{0}').unwrap_or((&key, ""));
        push_unique(
            &mut lines,
            format!("{who} forbids {} ({atom})", and_list(&pkgs)),
        );
    }
    if lines.len() > MAX_LINES {
        let more = lines.len() - MAX_LINES;
        lines.truncate(MAX_LINES);
        lines.push(format!("… and {more} more"));
    }
    lines
}

fn push_unique(lines: &mut Vec<String>, line: String) {
    if !lines.contains(&line) {
        lines.push(line);
    }
}

/// "a-1, b-2 or c-3", shortened past five.
fn list(u: &Universe<'_>, pkgs: &[PkgId]) -> String {
    let mut labels: Vec<String> = pkgs.iter().take(5).map(|p| u.label(*p)).collect();
    if pkgs.len() > 5 {
        labels.push(format!("{} more", pkgs.len() - 5));
    }
    match labels.split_last() {
        Some((last, init)) if !init.is_empty() => format!("{} or {last}", init.join(", ")),
        _ => labels.join(""),
    }
}

/// Why the only candidate for a need is ruled out, as phrases after "which".
fn reasons_against(u: &Universe<'_>, facts: &[Fact], pkg: PkgId, used: &mut [bool]) -> Vec<String> {
    let mut reasons = Vec::new();
    // Everyone forbidding the package with one atom goes in one phrase.
    let mut forbidders: Vec<(String, Vec<String>)> = Vec::new();
    for (i, fact) in facts.iter().enumerate() {
        let phrase = match fact {
            Fact::Forbids { who, atom, pkg: p } if *p == pkg => {
                let who = who.map_or("the world".to_owned(), |w| u.label(w));
                add_to_group(&mut forbidders, atom.to_string(), who);
                if let Some(flag) = used.get_mut(i) {
                    *flag = true;
                }
                continue;
            }
            Fact::SameProvide { a, b, name } if *b == pkg => {
                format!(
                    "cannot be installed beside {}: both provide {name}",
                    u.label(*a)
                )
            }
            Fact::SameName { a, b } if *b == pkg => {
                format!(
                    "cannot be installed beside {}, another version",
                    u.label(*a)
                )
            }
            Fact::Held { pkg: p, held } if *p == pkg => {
                format!(
                    "is held at {} to match the other architectures",
                    u.label(*held)
                )
            }
            Fact::Excluded { pkg: p, reason } if *p == pkg => format!("is not allowed: {reason}"),
            _ => continue,
        };
        if let Some(flag) = used.get_mut(i) {
            *flag = true;
        }
        if !reasons.contains(&phrase) {
            reasons.push(phrase);
        }
    }
    let mut forbidding: Vec<String> = forbidders
        .into_iter()
        .map(|(atom, whos)| {
            let verb = if whos.len() == 1 { "forbids" } else { "forbid" };
            format!("{} {verb} ({atom})", and_list(&whos))
        })
        .collect();
    forbidding.append(&mut reasons);
    forbidding
}

/// Adds `item` to the group keyed `key`, keeping first-seen order and no repeats.
fn add_to_group(groups: &mut Vec<(String, Vec<String>)>, key: String, item: String) {
    match groups.iter_mut().find(|(k, _)| *k == key) {
        Some((_, items)) => {
            if !items.contains(&item) {
                items.push(item);
            }
        }
        None => groups.push((key, vec![item])),
    }
}

/// "a", "a and b", "a, b and c".
fn and_list(items: &[String]) -> String {
    match items.split_last() {
        Some((last, init)) if !init.is_empty() => format!("{} and {last}", init.join(", ")),
        _ => items.join(""),
    }
}

/// A fact on a line of its own, when no need chained it.
fn standalone(u: &Universe<'_>, fact: &Fact) -> Option<String> {
    Some(match fact {
        Fact::Needs { .. } | Fact::Forbids { .. } => return None,
        Fact::SameProvide { a, b, name } => format!(
            "{} and {} cannot be installed together: both provide {name}",
            u.label(*a),
            u.label(*b)
        ),
        Fact::SameName { a, b } => format!(
            "{} and {} are versions of one package; only one can be installed",
            u.label(*a),
            u.label(*b)
        ),
        Fact::Held { pkg, held } => format!(
            "{} is ruled out: {} is held to match the other architectures",
            u.label(*pkg),
            u.label(*held)
        ),
        Fact::Excluded { pkg, reason } => format!("{} is not allowed: {reason}", u.label(*pkg)),
        Fact::Cancelled => "the solver stopped before finishing".to_owned(),
    })
}

/// Why a need has no candidate at all.
fn missing(u: &Universe<'_>, policy: &Policy<'_>, atom: &Dependency) -> String {
    let Some(name) = u.lookup(&atom.name) else {
        return ", which no repository provides".to_owned();
    };
    let providers = u.providers(name);
    let matching: Vec<PkgId> = providers
        .iter()
        .filter(|p| provide_matches(atom, p.version))
        .map(|p| p.pkg)
        .collect();
    if matching.is_empty() {
        let available: Vec<String> = providers
            .iter()
            .map(|p| match (u.pkg(p.pkg).name == name, p.version) {
                (true, _) => u.label(p.pkg),
                (false, Some(v)) => format!("{} (as {}={v})", u.label(p.pkg), atom.name),
                (false, None) => format!("{} (as {}, unversioned)", u.label(p.pkg), atom.name),
            })
            .collect();
        if available.is_empty() {
            return ", which no repository provides".to_owned();
        }
        return format!(
            ", but no version matches (there is {})",
            available.join(", ")
        );
    }
    if let Some(&pinned) = matching.iter().find(|&&p| !policy.allowed(u, p)) {
        let tag = u.tag(pinned).unwrap_or_default();
        return format!(
            ", which only {} provides, from the repository tagged @{tag}; ask for it as {}@{tag}",
            list(u, &matching),
            atom.name
        );
    }
    format!(
        ", which {} would provide, but cannot be chosen",
        list(u, &matching)
    )
}
