//! Command-line changes to a loaded configuration (`rapko build` flags), and
//! apko's named build options (`options:` selected with `--build-option`).
//!
//! Like apko's `--package-append`, `--repository-append`, `--keyring-append`
//! and `--annotations`, list flags append and annotations override the
//! config's values; `--arch` replaces `archs`.

use std::collections::BTreeMap;

use crate::{Arch, ConfigError, ImageConfiguration, defaults, validate};

/// Changes asked for on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Replaces `archs` when not empty (parse with [`crate::arch::parse_list`]).
    pub archs: Vec<Arch>,
    /// Appended to `contents.packages`.
    pub packages_append: Vec<String>,
    /// Appended to `contents.repositories` (used to build and written to the image).
    pub repositories_append: Vec<String>,
    /// Appended to `contents.build_repositories`.
    pub build_repositories_append: Vec<String>,
    /// Appended to `contents.runtime_repositories`.
    pub runtime_repositories_append: Vec<String>,
    /// Appended to `contents.keyring`.
    pub keyring_append: Vec<String>,
    /// Set in `annotations`, replacing the config's value for the same key.
    pub annotations: BTreeMap<String, String>,
    /// Names of `options:` entries to apply, in order.
    pub build_options: Vec<String>,
}

impl Overrides {
    /// Parses one `--annotations` value: `KEY=VALUE`, or apko's `KEY:VALUE`.
    /// The first `=` splits when there is one, so `a=https://x` keeps its URL.
    pub fn parse_annotation(text: &str) -> Result<(String, String), ConfigError> {
        let split = text.split_once('=').or_else(|| text.split_once(':'));
        match split {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(ConfigError::BadAnnotation {
                value: text.to_string(),
            }),
        }
    }
}

impl ImageConfiguration {
    /// Applies command-line overrides, then fills defaults and validates again
    /// (a build option may change `run-as` or the entrypoint).
    pub fn apply(&mut self, overrides: &Overrides) -> Result<(), ConfigError> {
        for name in &overrides.build_options {
            self.apply_build_option(name)?;
        }
        if !overrides.archs.is_empty() {
            let mut archs = overrides.archs.clone();
            archs.sort();
            archs.dedup();
            self.archs = archs;
        }
        let c = &mut self.contents;
        c.packages.extend_from_slice(&overrides.packages_append);
        c.repositories
            .extend_from_slice(&overrides.repositories_append);
        c.build_repositories
            .extend_from_slice(&overrides.build_repositories_append);
        c.runtime_repositories
            .extend_from_slice(&overrides.runtime_repositories_append);
        c.keyring.extend_from_slice(&overrides.keyring_append);
        self.annotations.extend(overrides.annotations.clone());
        defaults::apply(self);
        validate::validate(self)
    }

    /// Applies `options.NAME` the way apko's `BuildOption.Apply` does: packages
    /// added then removed (keeping order, where apko swaps), `run-as` and the
    /// environment set, the entrypoint replaced when the option gives a type.
    fn apply_build_option(&mut self, name: &str) -> Result<(), ConfigError> {
        let Some(option) = self.options.get(name).cloned() else {
            return Err(ConfigError::UnknownBuildOption {
                name: name.to_string(),
                known: self.options.keys().cloned().collect(),
            });
        };
        let list = &option.contents.packages;
        let packages = &mut self.contents.packages;
        packages.extend(list.add.iter().cloned());
        packages.retain(|p| !list.remove.contains(p));
        if !option.accounts.run_as.is_empty() {
            self.accounts.run_as = option.accounts.run_as;
        }
        self.environment.extend(option.environment);
        if option.entrypoint.kind.is_some() {
            self.entrypoint = option.entrypoint;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_split_at_equals_first_then_colon() {
        let ok = |t: &str| Overrides::parse_annotation(t).ok();
        assert_eq!(ok("a=b"), Some(("a".into(), "b".into())));
        assert_eq!(
            ok("org.opencontainers.image.url=https://x.dev"),
            Some((
                "org.opencontainers.image.url".into(),
                "https://x.dev".into()
            ))
        );
        assert_eq!(ok("a:b"), Some(("a".into(), "b".into())));
        assert_eq!(ok("a="), Some(("a".into(), String::new())));
        assert_eq!(
            Overrides::parse_annotation("novalue")
                .err()
                .map(|e| e.to_string())
                .as_deref(),
            Some("annotation \"novalue\" must be KEY=VALUE (or KEY:VALUE)")
        );
        assert!(Overrides::parse_annotation("=v").is_err());
    }
}
