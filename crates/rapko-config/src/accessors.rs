//! What the builder reads from a configuration, computed the way apko does:
//! the OCI `Env`, `Entrypoint`, `Cmd` and `User`, and the repository lists.

use crate::defaults::{DEFAULT_PATH, DEFAULT_SSL_CERT_FILE, SERVICE_BUNDLE_COMMAND};
use crate::shlex;
use crate::{Arch, ConfigError, EntrypointType, ImageConfiguration};

/// `accounts.run-as` resolved against the configured accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAs {
    /// As written; this is what goes in the OCI config's `User` (apko copies it).
    pub spec: String,
    pub uid: u32,
    /// The user's name, when the uid is one of `accounts.users` or is root.
    pub user_name: Option<String>,
    /// From `:group` when given, else the configured user's primary group;
    /// `None` for a bare uid that no configured user has.
    pub gid: Option<u32>,
}

impl ImageConfiguration {
    /// The image's environment as sorted `KEY=VALUE` strings (OCI `Env`),
    /// with `PATH` and `SSL_CERT_FILE` defaulted when absent. apko sorts the
    /// joined strings, not the keys, and so does this.
    pub fn environment_list(&self) -> Vec<String> {
        let mut env: Vec<String> = self
            .environment
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        for (key, value) in [
            ("PATH", DEFAULT_PATH),
            ("SSL_CERT_FILE", DEFAULT_SSL_CERT_FILE),
        ] {
            if !self.environment.contains_key(key) {
                env.push(format!("{key}={value}"));
            }
        }
        env.sort();
        env
    }

    /// The OCI `Entrypoint`: `["/bin/sh", "-c", FRAGMENT]` for a shell fragment
    /// (it wins over `command`, as in apko), else `command` split like a shell
    /// would (go shlex rules), else s6 for a service bundle, else empty.
    pub fn entrypoint_argv(&self) -> Result<Vec<String>, ConfigError> {
        let e = &self.entrypoint;
        if !e.shell_fragment.is_empty() {
            return Ok(vec![
                "/bin/sh".to_string(),
                "-c".to_string(),
                e.shell_fragment.clone(),
            ]);
        }
        if !e.command.is_empty() {
            return split("entrypoint.command", &e.command);
        }
        if e.kind == Some(EntrypointType::ServiceBundle) {
            return split("entrypoint.command", SERVICE_BUNDLE_COMMAND);
        }
        Ok(Vec::new())
    }

    /// The OCI `Cmd`: `cmd` split like a shell would; empty when not set.
    pub fn cmd_argv(&self) -> Result<Vec<String>, ConfigError> {
        split("cmd", &self.cmd)
    }

    /// `accounts.run-as` resolved to a uid (and gid when known); `None` when not set.
    ///
    /// The user part is a uid, a name from `accounts.users`, or `root`; an
    /// optional `:group` part is a gid, a name from `accounts.groups`, or `root`.
    pub fn run_as(&self) -> Result<Option<RunAs>, ConfigError> {
        let spec = self.accounts.run_as.as_str();
        if spec.is_empty() {
            return Ok(None);
        }
        let (user_part, group_part) = match spec.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (spec, None),
        };
        let (uid, user_name, user_gid) = self.resolve_user(spec, user_part)?;
        let gid = match group_part {
            Some(g) => Some(self.resolve_group(spec, g)?),
            None => user_gid,
        };
        Ok(Some(RunAs {
            spec: spec.to_string(),
            uid,
            user_name,
            gid,
        }))
    }

    /// (uid, name, primary gid) of the user part of `run-as`.
    fn resolve_user(
        &self,
        spec: &str,
        part: &str,
    ) -> Result<(u32, Option<String>, Option<u32>), ConfigError> {
        let users = &self.accounts.users;
        let found = match part.parse::<u32>() {
            Ok(uid) => users.iter().find(|u| u.uid == uid),
            Err(_) => users.iter().find(|u| u.username == part),
        };
        if let Some(u) = found {
            return Ok((u.uid, Some(u.username.clone()), Some(u.primary_gid())));
        }
        match part.parse::<u32>() {
            Ok(0) => Ok((0, Some("root".to_string()), Some(0))),
            Ok(uid) => Ok((uid, None, None)),
            // root is in every base layout, so naming it needs no account.
            Err(_) if part == "root" => Ok((0, Some("root".to_string()), Some(0))),
            Err(_) => Err(ConfigError::UnknownRunAs {
                run_as: spec.to_string(),
                users: users.iter().map(|u| u.username.clone()).collect(),
            }),
        }
    }

    fn resolve_group(&self, spec: &str, part: &str) -> Result<u32, ConfigError> {
        if let Ok(gid) = part.parse::<u32>() {
            return Ok(gid);
        }
        let groups = &self.accounts.groups;
        if let Some(g) = groups.iter().find(|g| g.groupname == part) {
            return Ok(g.gid);
        }
        if part == "root" {
            return Ok(0);
        }
        Err(ConfigError::UnknownRunAsGroup {
            run_as: spec.to_string(),
            groups: groups.iter().map(|g| g.groupname.clone()).collect(),
        })
    }

    /// Repositories to fetch packages from: `repositories` and
    /// `build_repositories`, trailing `/` removed, sorted, deduplicated (apko
    /// takes the same set, sorted).
    pub fn build_repositories(&self) -> Vec<String> {
        sorted_set(
            &self.contents.repositories,
            &self.contents.build_repositories,
        )
    }

    /// The lines of the image's `/etc/apk/repositories`: `repositories` and
    /// `runtime_repositories`, trailing `/` removed, sorted, deduplicated.
    pub fn runtime_repositories(&self) -> Vec<String> {
        sorted_set(
            &self.contents.repositories,
            &self.contents.runtime_repositories,
        )
    }

    /// The architectures to build: `archs`, or all of them when not set (apko's default).
    pub fn archs_or_all(&self) -> Vec<Arch> {
        if self.archs.is_empty() {
            Arch::ALL.to_vec()
        } else {
            self.archs.clone()
        }
    }

    /// `vcs-url` split at `@` into the `org.opencontainers.image.source` and
    /// `.revision` annotation values; `None` without an `@`, as in apko.
    pub fn vcs_source_and_revision(&self) -> Option<(&str, &str)> {
        self.vcs_url.split_once('@')
    }
}

fn split(key: &'static str, value: &str) -> Result<Vec<String>, ConfigError> {
    shlex::split(value).map_err(|e| ConfigError::BadCommandLine {
        key,
        value: value.to_string(),
        problem: e.describe(),
    })
}

fn sorted_set(a: &[String], b: &[String]) -> Vec<String> {
    let mut out: Vec<String> = a
        .iter()
        .chain(b)
        .map(|r| r.trim_end_matches('/').to_string())
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Group, User};

    fn with_accounts(run_as: &str) -> ImageConfiguration {
        let mut c = ImageConfiguration::default();
        c.accounts.run_as = run_as.to_string();
        c.accounts.users.push(User {
            username: "nonroot".into(),
            uid: 65532,
            ..User::default()
        });
        c.accounts.users.push(User {
            username: "www".into(),
            uid: 100,
            gid: Some(101),
            ..User::default()
        });
        c.accounts.groups.push(Group {
            groupname: "web".into(),
            gid: 101,
            members: vec![],
        });
        c
    }

    fn resolved(run_as: &str) -> Option<(u32, Option<String>, Option<u32>)> {
        with_accounts(run_as)
            .run_as()
            .ok()
            .flatten()
            .map(|r| (r.uid, r.user_name, r.gid))
    }

    #[test]
    fn run_as_by_name_uid_and_with_group() {
        assert_eq!(
            resolved("nonroot"),
            Some((65532, Some("nonroot".into()), Some(65532)))
        );
        assert_eq!(resolved("100"), Some((100, Some("www".into()), Some(101))));
        assert_eq!(resolved("4242"), Some((4242, None, None)));
        assert_eq!(resolved("0"), Some((0, Some("root".into()), Some(0))));
        assert_eq!(resolved("root"), Some((0, Some("root".into()), Some(0))));
        assert_eq!(
            resolved("nonroot:web"),
            Some((65532, Some("nonroot".into()), Some(101)))
        );
        assert_eq!(resolved("4242:7"), Some((4242, None, Some(7))));
        assert_eq!(with_accounts("").run_as().ok(), Some(None));
    }

    #[test]
    fn run_as_errors_name_the_value_and_the_known_names() {
        let e = with_accounts("nobody")
            .run_as()
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some(
                "accounts.run-as \"nobody\" names no user of accounts.users (known: nonroot, www); add the user or give a numeric uid"
            )
        );
        let e = with_accounts("www:staff")
            .run_as()
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some(
                "accounts.run-as \"www:staff\" names no group of accounts.groups (known: web); add the group or give a numeric gid"
            )
        );
    }

    #[test]
    fn shell_fragment_wins_over_command() {
        let mut c = ImageConfiguration::default();
        c.entrypoint.command = "/bin/true".into();
        c.entrypoint.shell_fragment = "echo $HOME".into();
        assert_eq!(
            c.entrypoint_argv().ok(),
            Some(vec!["/bin/sh".into(), "-c".into(), "echo $HOME".into()])
        );
    }

    #[test]
    fn bad_cmd_is_reported_with_the_key() {
        let c = ImageConfiguration {
            cmd: "echo 'oops".into(),
            ..ImageConfiguration::default()
        };
        assert_eq!(
            c.cmd_argv().err().map(|e| e.to_string()).as_deref(),
            Some(
                "cmd \"echo 'oops\" cannot be split into arguments: a quote is not closed; close it or escape it with \\"
            )
        );
    }

    #[test]
    fn environment_list_sorts_joined_strings_like_apko() {
        let mut c = ImageConfiguration::default();
        c.environment.insert("A".into(), "1".into());
        c.environment.insert("A-B".into(), "2".into());
        assert_eq!(
            c.environment_list(),
            [
                "A-B=2".to_string(),
                "A=1".to_string(),
                format!("PATH={DEFAULT_PATH}"),
                format!("SSL_CERT_FILE={DEFAULT_SSL_CERT_FILE}"),
            ]
        );
    }

    #[test]
    fn repositories_are_merged_as_sets() {
        let mut c = ImageConfiguration::default();
        c.contents.repositories = vec!["b/".into(), "a".into()];
        c.contents.build_repositories = vec!["a".into(), "c".into()];
        c.contents.runtime_repositories = vec!["z".into()];
        assert_eq!(c.build_repositories(), ["a", "b", "c"]);
        assert_eq!(c.runtime_repositories(), ["a", "b", "z"]);
    }

    #[test]
    fn vcs_url_splits_at_the_at_sign() {
        let mut c = ImageConfiguration::default();
        assert_eq!(c.vcs_source_and_revision(), None);
        c.vcs_url = "https://example.com/r.git@abc123".into();
        assert_eq!(
            c.vcs_source_and_revision(),
            Some(("https://example.com/r.git", "abc123"))
        );
    }
}
