//! Merging an included configuration under the including one.
//!
//! The rules are apko's `ImageConfiguration.MergeInto` (the including file is
//! the "target" and wins):
//! - scalars (`cmd`, `stop-signal`, `work-dir`, `accounts.run-as`) and the
//!   whole `entrypoint` and `archs`: the including file's value when set,
//!   otherwise the included file's;
//! - maps (`environment`, `annotations`): merged key by key, the including
//!   file winning on a key both set;
//! - lists (`contents.*`, `paths`, `volumes`, `accounts.users`, `accounts.groups`):
//!   the included file's items first, then the including file's, without
//!   removing duplicates (so a user defined in both files is reported as a
//!   duplicate by validation rather than silently picked).
//!
//! apko's `MergeInto` drops `vcs-url`, `layering` and `contents.baseimage` of
//! the included file; here they are kept when the including file does not set
//! them, like the other scalars. `certificates.additional` and `options` merge
//! like the other lists and maps.

use std::collections::BTreeMap;

use crate::{Accounts, Certificates, Contents, ImageConfiguration};

/// Layers `top` over `base` (the file `top` includes) and returns the result.
pub(crate) fn merge(base: ImageConfiguration, top: ImageConfiguration) -> ImageConfiguration {
    ImageConfiguration {
        contents: merge_contents(base.contents, top.contents),
        entrypoint: if top.entrypoint.is_empty() {
            base.entrypoint
        } else {
            top.entrypoint
        },
        cmd: or_base(top.cmd, base.cmd),
        stop_signal: or_base(top.stop_signal, base.stop_signal),
        work_dir: or_base(top.work_dir, base.work_dir),
        accounts: merge_accounts(base.accounts, top.accounts),
        archs: if top.archs.is_empty() {
            base.archs
        } else {
            top.archs
        },
        environment: merge_map(base.environment, top.environment),
        paths: concat(base.paths, top.paths),
        vcs_url: or_base(top.vcs_url, base.vcs_url),
        annotations: merge_map(base.annotations, top.annotations),
        // Both includes have been followed by now.
        include: String::new(),
        volumes: concat(base.volumes, top.volumes),
        layering: top.layering.or(base.layering),
        certificates: merge_certificates(base.certificates, top.certificates),
        options: merge_map(base.options, top.options),
    }
}

fn merge_contents(base: Contents, top: Contents) -> Contents {
    Contents {
        repositories: concat(base.repositories, top.repositories),
        build_repositories: concat(base.build_repositories, top.build_repositories),
        runtime_repositories: concat(base.runtime_repositories, top.runtime_repositories),
        keyring: concat(base.keyring, top.keyring),
        packages: concat(base.packages, top.packages),
        baseimage: top.baseimage.or(base.baseimage),
    }
}

fn merge_accounts(base: Accounts, top: Accounts) -> Accounts {
    Accounts {
        run_as: or_base(top.run_as, base.run_as),
        users: concat(base.users, top.users),
        groups: concat(base.groups, top.groups),
    }
}

fn merge_certificates(
    base: Option<Certificates>,
    top: Option<Certificates>,
) -> Option<Certificates> {
    match (base, top) {
        (Some(b), Some(t)) => Some(Certificates {
            additional: concat(b.additional, t.additional),
        }),
        (b, t) => t.or(b),
    }
}

/// The including file's string unless it is empty ("not set" in apko).
fn or_base(top: String, base: String) -> String {
    if top.is_empty() { base } else { top }
}

fn concat<T>(mut base: Vec<T>, top: Vec<T>) -> Vec<T> {
    base.extend(top);
    base
}

fn merge_map<V>(mut base: BTreeMap<String, V>, top: BTreeMap<String, V>) -> BTreeMap<String, V> {
    base.extend(top);
    base
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Entrypoint, Layering, LayeringStrategy};

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn lists_put_the_included_items_first() {
        let base = ImageConfiguration {
            contents: Contents {
                packages: vec!["a".into()],
                keyring: vec!["k1".into()],
                ..Contents::default()
            },
            volumes: vec!["/v1".into()],
            ..ImageConfiguration::default()
        };
        let top = ImageConfiguration {
            contents: Contents {
                packages: vec!["b".into(), "a".into()],
                ..Contents::default()
            },
            volumes: vec!["/v2".into()],
            ..ImageConfiguration::default()
        };
        let m = merge(base, top);
        assert_eq!(m.contents.packages, ["a", "b", "a"]);
        assert_eq!(m.contents.keyring, ["k1"]);
        assert_eq!(m.volumes, ["/v1", "/v2"]);
    }

    #[test]
    fn maps_merge_key_by_key_with_the_including_file_winning() {
        let base = ImageConfiguration {
            environment: env(&[("A", "base"), ("B", "base")]),
            ..ImageConfiguration::default()
        };
        let top = ImageConfiguration {
            environment: env(&[("B", "top"), ("C", "top")]),
            ..ImageConfiguration::default()
        };
        let m = merge(base, top);
        assert_eq!(
            m.environment,
            env(&[("A", "base"), ("B", "top"), ("C", "top")])
        );
    }

    #[test]
    fn scalars_fall_back_to_the_included_file() {
        let base = ImageConfiguration {
            cmd: "base".into(),
            work_dir: "/base".into(),
            entrypoint: Entrypoint {
                command: "/base".into(),
                ..Entrypoint::default()
            },
            layering: Some(Layering {
                strategy: LayeringStrategy::Origin,
                budget: 3,
            }),
            include: "x.yaml".into(),
            ..ImageConfiguration::default()
        };
        let top = ImageConfiguration {
            cmd: "top".into(),
            ..ImageConfiguration::default()
        };
        let m = merge(base, top);
        assert_eq!(m.cmd, "top");
        assert_eq!(m.work_dir, "/base");
        assert_eq!(m.entrypoint.command, "/base");
        assert_eq!(m.layering.map(|l| l.budget), Some(3));
        assert_eq!(m.include, "");
    }

    #[test]
    fn an_entrypoint_is_taken_whole() {
        let base = ImageConfiguration {
            entrypoint: Entrypoint {
                command: "/base".into(),
                ..Entrypoint::default()
            },
            ..ImageConfiguration::default()
        };
        let top = ImageConfiguration {
            entrypoint: Entrypoint {
                shell_fragment: "echo top".into(),
                ..Entrypoint::default()
            },
            ..ImageConfiguration::default()
        };
        let m = merge(base, top);
        assert_eq!(m.entrypoint.command, "");
        assert_eq!(m.entrypoint.shell_fragment, "echo top");
    }
}
