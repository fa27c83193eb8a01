//! Why a world could not be resolved, in words a person can act on.

use std::fmt;

/// The resolver's error. Every variant names the packages and versions involved and says
/// what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// A world atom names something no repository provides.
    #[error("unknown package {name:?}{}", did_you_mean(suggestions))]
    UnknownPackage {
        name: String,
        /// Close names that do exist, best first (at most three).
        suggestions: Vec<String>,
    },

    /// A world atom's version constraint matches none of the available versions.
    #[error(
        "no version of {name} matches {atom} (available: {}); relax the constraint or add a \
         repository that has it",
        list_or_none(available)
    )]
    NoMatchingVersion {
        atom: String,
        name: String,
        /// `name-version` of every provider of the name.
        available: Vec<String>,
    },

    /// A world atom asks for a repository tag that no repository carries.
    #[error(
        "{atom} asks for the repository tagged @{tag}, but no repository has that tag{}; \
         tag a repository @{tag} or drop the tag",
        known_tags(known)
    )]
    UnknownTag {
        atom: String,
        tag: String,
        known: Vec<String>,
    },

    /// The requirements contradict each other: no set of packages satisfies them all.
    #[error("{}", Unsatisfiable { world, reasons })]
    Unsatisfiable {
        /// The world, as atoms separated by spaces.
        world: String,
        /// The chain of requirements that conflict, one statement each, from the world
        /// down (`a-1.0 needs so:libfoo.so.1, provided only by libfoo-2.0, which b-3.1
        /// forbids (!libfoo)`).
        reasons: Vec<String>,
    },

    /// `resolve_consistent`: some package cannot have the same version on every
    /// architecture.
    #[error(
        "{name} cannot have the same version on every architecture ({}); pin a version \
         available everywhere, or build the architectures separately",
        versions.iter().map(|(arch, v)| format!("{arch}: {v}")).collect::<Vec<_>>().join(", ")
    )]
    InconsistentVersions {
        name: String,
        /// Per architecture, the version chosen or `none available`.
        versions: Vec<(String, String)>,
    },

    /// An error while resolving one architecture (from `resolve_consistent`).
    #[error("{arch}: {source}")]
    Arch {
        arch: String,
        #[source]
        source: Box<ResolveError>,
    },
}

/// Formats the unsatisfiable case: a headline, one indented line per reason, a hint.
struct Unsatisfiable<'e> {
    world: &'e str,
    reasons: &'e [String],
}

impl fmt::Display for Unsatisfiable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no set of packages satisfies the world ({}):",
            self.world
        )?;
        for reason in self.reasons {
            write!(f, "\n  {reason}")?;
        }
        write!(
            f,
            "\n  hint: remove or change one of the packages named above in the world, or add \
             a repository with versions that fit together"
        )
    }
}

fn did_you_mean(suggestions: &[String]) -> String {
    match suggestions {
        [] => "; check the name, or add the repository that has it".to_owned(),
        [one] => format!("; did you mean {one}?"),
        [init @ .., last] => format!("; did you mean {} or {last}?", init.join(", ")),
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

fn known_tags(known: &[String]) -> String {
    if known.is_empty() {
        " (no repository is tagged)".to_owned()
    } else {
        format!(
            " (tags: {})",
            known
                .iter()
                .map(|t| format!("@{t}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_problem_and_what_to_do() {
        let e = ResolveError::UnknownPackage {
            name: "pyhton3".into(),
            suggestions: vec!["python3".into()],
        };
        assert_eq!(
            e.to_string(),
            r#"unknown package "pyhton3"; did you mean python3?"#
        );
        let e = ResolveError::UnknownPackage {
            name: "zzz".into(),
            suggestions: vec![],
        };
        assert!(e.to_string().contains("check the name"), "{e}");
        let e = ResolveError::UnknownPackage {
            name: "gti".into(),
            suggestions: vec!["git".into(), "gt".into(), "tig".into()],
        };
        assert!(
            e.to_string().ends_with("did you mean git, gt or tig?"),
            "{e}"
        );

        let e = ResolveError::NoMatchingVersion {
            atom: "busybox>1.36.1-r15".into(),
            name: "busybox".into(),
            available: vec!["busybox-1.36.1-r15".into()],
        };
        assert!(e.to_string().starts_with(
            "no version of busybox matches busybox>1.36.1-r15 (available: busybox-1.36.1-r15)"
        ));

        let e = ResolveError::Unsatisfiable {
            world: "a b".into(),
            reasons: vec!["a-1 needs x".into(), "b-1 forbids x".into()],
        };
        let text = e.to_string();
        assert!(text.starts_with("no set of packages satisfies the world (a b):\n  a-1 needs x\n  b-1 forbids x\n  hint:"), "{text}");

        let e = ResolveError::UnknownTag {
            atom: "foo@edge".into(),
            tag: "edge".into(),
            known: vec!["testing".into()],
        };
        assert!(e.to_string().contains("(tags: @testing)"), "{e}");
    }
}
