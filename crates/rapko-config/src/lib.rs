//! The apko YAML image configuration: types, includes, defaults, validation.
//!
//! [`load`] reads an `apko.yaml`, follows its `include` chain and merges it
//! the way apko does, fills in apko's defaults and checks the result, so the
//! [`ImageConfiguration`] it returns is what will be built. [`ImageConfiguration::apply`]
//! adds the command-line flags, [`ImageConfiguration::to_yaml`] prints the
//! effective config (`rapko show-config`), and the accessors give the builder
//! the OCI `Env`, `Entrypoint`, `Cmd` and `User` computed as apko computes them.
//!
//! Key names are apko's, every key apko knows is accepted (including
//! `certificates`, `options` and the experimental `contents.baseimage`, which
//! are not in the original issue's list), and an unknown key is an error with
//! its file, line and column. This crate does no network or filesystem work
//! beyond reading the config files: resolving packages, fetching keys and
//! applying `paths` are other crates' jobs.
//!
//! Behaviour worth knowing, all following apko unless said otherwise:
//! - includes: looked for beside the including file, then (as apko does) from
//!   the current directory; lists are concatenated included-first, maps merged
//!   with the including file winning per key, scalars and the whole
//!   `entrypoint` taken from the including file when it sets them;
//! - defaults: `PATH` and `SSL_CERT_FILE` ([`DEFAULT_PATH`], [`DEFAULT_SSL_CERT_FILE`]),
//!   `homedir: /home/NAME`, and for `type: service-bundle` the s6 command and package;
//! - integers follow go-yaml: `0755` is octal, like `0o755`;
//! - stricter than apko: unknown architectures, duplicate users/groups/uids/gids,
//!   `run-as` naming no configured user (numbers and `root` excepted), services
//!   without `service-bundle`, `layering.budget: 0`, links without `source` and
//!   commands with unclosed quotes are errors at load time.

mod accessors;
pub mod arch;
mod defaults;
mod error;
mod include;
mod merge;
mod overrides;
mod permissions;
mod shlex;
mod types;
mod validate;
mod yaml;

use std::path::Path;

pub use accessors::RunAs;
pub use arch::Arch;
pub use defaults::{
    DEFAULT_PATH, DEFAULT_SSL_CERT_FILE, SERVICE_BUNDLE_COMMAND, SERVICE_BUNDLE_PACKAGE,
};
pub use error::ConfigError;
pub use overrides::Overrides;
pub use permissions::{MAX_MODE, Permissions};
pub use types::{
    Accounts, AccountsOption, AdditionalCertificate, BaseImage, BuildOption, Certificates,
    Contents, ContentsOption, Entrypoint, EntrypointType, Group, ImageConfiguration, Layering,
    LayeringStrategy, ListOption, PathMutation, PathType, User,
};

/// Loads the configuration at `path`: parses it, follows and merges its
/// includes, fills in defaults and validates the result.
pub fn load(path: &Path) -> Result<ImageConfiguration, ConfigError> {
    let merged = include::load_merged(path)?;
    finish(merged).map_err(|e| e.in_file(path))
}

/// Like [`load`], for text already read (from stdin, say). `origin` names it in
/// errors, and a relative `include` is looked for beside it.
pub fn parse_str(text: &str, origin: &Path) -> Result<ImageConfiguration, ConfigError> {
    let merged = include::parse_merged(text, origin)?;
    finish(merged).map_err(|e| e.in_file(origin))
}

fn finish(mut config: ImageConfiguration) -> Result<ImageConfiguration, ConfigError> {
    defaults::apply(&mut config);
    validate::validate(&config)?;
    Ok(config)
}

impl ImageConfiguration {
    /// Checks the configuration (as [`load`] does); useful after changing fields by hand.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate::validate(self)
    }

    /// The configuration as YAML with apko's key names and order, maps sorted:
    /// what `rapko show-config` prints. Reading it back gives an equal
    /// configuration, except that passwords in repository and key URLs are
    /// replaced by `xxxxx`, as apko's `show-config` does.
    pub fn to_yaml(&self) -> String {
        let mut shown = self.clone();
        let c = &mut shown.contents;
        for url in c
            .repositories
            .iter_mut()
            .chain(&mut c.build_repositories)
            .chain(&mut c.runtime_repositories)
            .chain(&mut c.keyring)
        {
            *url = redact_password(url);
        }
        yaml::write(&shown)
    }
}

/// `https://user:secret@host/...` becomes `https://user:xxxxx@host/...`; other
/// text (including `@tag URL` repository lines) only has its URL part changed.
fn redact_password(text: &str) -> String {
    let Some(scheme_end) = text.find("://") else {
        return text.to_string();
    };
    let rest_start = scheme_end + 3;
    let rest = &text[rest_start..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return text.to_string();
    };
    let Some(colon) = authority[..at].find(':') else {
        return text.to_string();
    };
    format!(
        "{}{}:xxxxx{}",
        &text[..rest_start],
        &authority[..colon],
        &rest[at..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_and_nothing_else() {
        assert_eq!(
            redact_password("https://user:pass@dl.example.org/alpine/main"),
            "https://user:xxxxx@dl.example.org/alpine/main"
        );
        assert_eq!(
            redact_password("@myorg https://u:p@h/x"),
            "@myorg https://u:xxxxx@h/x"
        );
        for unchanged in [
            "https://token@h/x",
            "https://h/x@y",
            "/local/repo",
            "https://h:8080/x",
        ] {
            assert_eq!(redact_password(unchanged), unchanged);
        }
    }
}
