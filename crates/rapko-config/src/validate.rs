//! Checks on a merged configuration, beyond what parsing already refuses
//! (unknown keys, bad types, unknown enum values and architectures, and
//! permissions above `0o7777` are parse errors, with a position).
//!
//! apko itself only refuses users without a name or with uid 0 and groups
//! without a name; the other checks catch at load time what would otherwise
//! fail (or silently do the wrong thing) in the middle of a build.

use std::collections::BTreeMap;

use crate::{ConfigError, EntrypointType, ImageConfiguration, PathType};

/// Runs every check; the first problem found is returned.
pub(crate) fn validate(config: &ImageConfiguration) -> Result<(), ConfigError> {
    packages(config)?;
    users(config)?;
    groups(config)?;
    config.run_as()?;
    entrypoint(config)?;
    paths(config)?;
    layering(config)?;
    certificates(config)?;
    environment(config)?;
    annotations(config)
}

fn packages(config: &ImageConfiguration) -> Result<(), ConfigError> {
    match config
        .contents
        .packages
        .iter()
        .position(|p| p.trim().is_empty())
    {
        Some(index) => Err(ConfigError::EmptyPackage { index }),
        None => Ok(()),
    }
}

fn users(config: &ImageConfiguration) -> Result<(), ConfigError> {
    let mut names = BTreeMap::new();
    let mut uids = BTreeMap::new();
    for (index, user) in config.accounts.users.iter().enumerate() {
        let name = user.username.as_str();
        if name.is_empty() {
            return Err(ConfigError::UserWithoutName { index });
        }
        if user.uid == 0 {
            return Err(ConfigError::UserUidZero { user: name.into() });
        }
        if names.insert(name, ()).is_some() {
            return Err(ConfigError::DuplicateUserName { user: name.into() });
        }
        if let Some(first) = uids.insert(user.uid, name) {
            return Err(ConfigError::DuplicateUid {
                uid: user.uid,
                first: first.into(),
                second: name.into(),
            });
        }
    }
    Ok(())
}

fn groups(config: &ImageConfiguration) -> Result<(), ConfigError> {
    let mut names = BTreeMap::new();
    let mut gids = BTreeMap::new();
    for (index, group) in config.accounts.groups.iter().enumerate() {
        let name = group.groupname.as_str();
        if name.is_empty() {
            return Err(ConfigError::GroupWithoutName { index });
        }
        if names.insert(name, ()).is_some() {
            return Err(ConfigError::DuplicateGroupName { group: name.into() });
        }
        if let Some(first) = gids.insert(group.gid, name) {
            return Err(ConfigError::DuplicateGid {
                gid: group.gid,
                first: first.into(),
                second: name.into(),
            });
        }
    }
    Ok(())
}

fn entrypoint(config: &ImageConfiguration) -> Result<(), ConfigError> {
    let e = &config.entrypoint;
    let bundle = e.kind == Some(EntrypointType::ServiceBundle);
    if bundle && e.services.is_empty() {
        return Err(ConfigError::ServiceBundleWithoutServices);
    }
    if !bundle && !e.services.is_empty() {
        return Err(ConfigError::ServicesWithoutServiceBundle);
    }
    for (name, command) in &e.services {
        if !is_file_name(name) {
            return Err(ConfigError::BadServiceName { name: name.clone() });
        }
        if command.trim().is_empty() {
            return Err(ConfigError::EmptyService { name: name.clone() });
        }
    }
    if !e.command.is_empty() && !e.shell_fragment.is_empty() {
        return Err(ConfigError::CommandAndShellFragment);
    }
    config.entrypoint_argv()?;
    config.cmd_argv()?;
    Ok(())
}

/// A usable single path component: not empty, not `.`/`..`, no `/` or NUL.
fn is_file_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

fn paths(config: &ImageConfiguration) -> Result<(), ConfigError> {
    for (index, m) in config.paths.iter().enumerate() {
        if m.path.trim().is_empty() {
            return Err(ConfigError::PathWithoutPath { index });
        }
        let is_link = matches!(m.kind, PathType::Hardlink | PathType::Symlink);
        if is_link && m.source.is_empty() {
            return Err(ConfigError::PathWithoutSource {
                path: m.path.clone(),
                kind: m.kind.as_str(),
            });
        }
    }
    Ok(())
}

fn layering(config: &ImageConfiguration) -> Result<(), ConfigError> {
    match &config.layering {
        Some(l) if l.budget == 0 => Err(ConfigError::LayeringBudgetZero),
        _ => Ok(()),
    }
}

fn certificates(config: &ImageConfiguration) -> Result<(), ConfigError> {
    let Some(certs) = &config.certificates else {
        return Ok(());
    };
    let mut seen = BTreeMap::new();
    for (index, cert) in certs.additional.iter().enumerate() {
        let name = cert.name.as_str();
        if name.is_empty() {
            return Err(ConfigError::CertificateWithoutName { index });
        }
        if !is_certificate_name(name) {
            return Err(ConfigError::BadCertificateName { name: name.into() });
        }
        if cert.content.trim().is_empty() {
            return Err(ConfigError::CertificateWithoutContent { name: name.into() });
        }
        if seen.insert(name, ()).is_some() {
            return Err(ConfigError::DuplicateCertificate { name: name.into() });
        }
    }
    Ok(())
}

/// apko's `^[a-zA-Z0-9_-]+[a-zA-Z0-9_.-]*$`: no leading dot, no slash.
fn is_certificate_name(name: &str) -> bool {
    let ok =
        |c: char, dot: bool| c.is_ascii_alphanumeric() || c == '_' || c == '-' || (dot && c == '.');
    let mut chars = name.chars();
    chars.next().is_some_and(|c| ok(c, false)) && chars.all(|c| ok(c, true))
}

fn environment(config: &ImageConfiguration) -> Result<(), ConfigError> {
    match config
        .environment
        .keys()
        .find(|k| k.is_empty() || k.contains('='))
    {
        Some(name) => Err(ConfigError::BadEnvironmentName { name: name.clone() }),
        None => Ok(()),
    }
}

fn annotations(config: &ImageConfiguration) -> Result<(), ConfigError> {
    if config.annotations.keys().any(String::is_empty) {
        return Err(ConfigError::EmptyAnnotationKey);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_names_follow_apkos_pattern() {
        for good in ["a", "my-cert.pem", "_x", "-x", "A0.b.c"] {
            assert!(is_certificate_name(good), "{good}");
        }
        for bad in ["", ".hidden", "a/b", "my-cert@123!", "trying/../x"] {
            assert!(!is_certificate_name(bad), "{bad}");
        }
    }

    #[test]
    fn service_names_must_be_single_components() {
        assert!(is_file_name("nginx"));
        for bad in ["", ".", "..", "a/b"] {
            assert!(!is_file_name(bad), "{bad}");
        }
    }
}
