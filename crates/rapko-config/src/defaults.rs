//! The values apko fills in when a config leaves them out.
//!
//! apko sets these at different moments (the environment when it writes the
//! OCI config, home directories and the service bundle in `Validate`); they
//! are all applied when loading here, so that `show-config` prints what will
//! be built. Applying them twice changes nothing.

use crate::{EntrypointType, ImageConfiguration};

/// `PATH` when the config does not set it (apko's value, `/usr/bin` before `/usr/sbin`).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/sbin:/bin";

/// `SSL_CERT_FILE` when the config does not set it.
pub const DEFAULT_SSL_CERT_FILE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The entrypoint of a `service-bundle` image: s6 supervising `/sv/*`.
pub const SERVICE_BUNDLE_COMMAND: &str = "/bin/s6-svscan /sv";

/// The package that provides `s6-svscan`.
pub const SERVICE_BUNDLE_PACKAGE: &str = "s6";

/// Fills in every default.
pub(crate) fn apply(config: &mut ImageConfiguration) {
    environment(config);
    home_directories(config);
    service_bundle(config);
}

fn environment(config: &mut ImageConfiguration) {
    for (key, value) in [
        ("PATH", DEFAULT_PATH),
        ("SSL_CERT_FILE", DEFAULT_SSL_CERT_FILE),
    ] {
        config
            .environment
            .entry(key.to_string())
            .or_insert_with(|| value.to_string());
    }
}

fn home_directories(config: &mut ImageConfiguration) {
    for user in &mut config.accounts.users {
        if user.homedir.is_empty() && !user.username.is_empty() {
            user.homedir = user.home_dir();
        }
    }
}

/// apko overwrites the command and adds `s6` to the world for service bundles.
fn service_bundle(config: &mut ImageConfiguration) {
    if config.entrypoint.kind != Some(EntrypointType::ServiceBundle) {
        return;
    }
    config.entrypoint.command = SERVICE_BUNDLE_COMMAND.to_string();
    let packages = &mut config.contents.packages;
    // apko appends it unconditionally; once is enough for the world and keeps this idempotent.
    if !packages.iter().any(|p| p == SERVICE_BUNDLE_PACKAGE) {
        packages.push(SERVICE_BUNDLE_PACKAGE.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::User;

    #[test]
    fn environment_defaults_do_not_replace_set_values() {
        let mut c = ImageConfiguration::default();
        c.environment.insert("PATH".into(), "/bin".into());
        apply(&mut c);
        assert_eq!(c.environment["PATH"], "/bin");
        assert_eq!(c.environment["SSL_CERT_FILE"], DEFAULT_SSL_CERT_FILE);
    }

    #[test]
    fn applying_twice_changes_nothing() {
        let mut c = ImageConfiguration::default();
        c.entrypoint.kind = Some(EntrypointType::ServiceBundle);
        c.accounts.users.push(User {
            username: "www".into(),
            uid: 100,
            ..User::default()
        });
        apply(&mut c);
        let once = c.clone();
        apply(&mut c);
        assert_eq!(c, once);
        assert_eq!(c.contents.packages, ["s6"]);
        assert_eq!(c.entrypoint.command, SERVICE_BUNDLE_COMMAND);
        assert_eq!(c.accounts.users[0].homedir, "/home/www");
    }
}
