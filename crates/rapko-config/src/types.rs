//! The configuration types, one per YAML mapping, with apko's exact key names.
//!
//! Key spellings follow apko's `pkg/build/types` (it mixes styles: `stop-signal`
//! and `shell-fragment` but `build_repositories`; `username`, `groupname`,
//! `homedir` in one word). Every struct rejects unknown keys. An empty string
//! means "not set", as in apko, so such keys are omitted when written back.
//! A YAML `null` (`cmd:` with nothing after it) reads as "not set" too, as go-yaml does.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::Permissions;
use crate::arch::{self, Arch};

/// A whole apko image configuration (`apko.yaml`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageConfiguration {
    /// What goes in the image: repositories, keys, packages.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Contents::is_empty"
    )]
    pub contents: Contents,
    /// What the container runs (OCI `Entrypoint`).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Entrypoint::is_empty"
    )]
    pub entrypoint: Entrypoint,
    /// Arguments to the entrypoint (OCI `Cmd`), split like a shell would.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub cmd: String,
    /// OCI `StopSignal`, e.g. `SIGQUIT`.
    #[serde(
        rename = "stop-signal",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub stop_signal: String,
    /// OCI `WorkingDir`.
    #[serde(
        rename = "work-dir",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub work_dir: String,
    /// Users and groups to add, and who the container runs as.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Accounts::is_empty"
    )]
    pub accounts: Accounts,
    /// Architectures to build; empty means "not said" (apko then builds all).
    /// Sorted and deduplicated; `all` and `host` are expanded when read.
    #[serde(
        default,
        deserialize_with = "arch::deserialize_archs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub archs: Vec<Arch>,
    /// Environment variables of the image (OCI `Env`).
    #[serde(
        default,
        deserialize_with = "string_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub environment: BTreeMap<String, String>,
    /// Files, directories and links to create or change after installing packages.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub paths: Vec<PathMutation>,
    /// Source repository, `URL@REVISION` giving the `org.opencontainers.image.source`
    /// and `.revision` annotations.
    #[serde(
        rename = "vcs-url",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub vcs_url: String,
    /// Annotations of the manifests and index (and labels of the image config).
    #[serde(
        default,
        deserialize_with = "string_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
    /// A file this one is layered on (resolved by [`crate::load`], then cleared).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub include: String,
    /// OCI `Volumes`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub volumes: Vec<String>,
    /// Split the filesystem into several layers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layering: Option<Layering>,
    /// Extra CA certificates to add to the image's bundle (apko key, not in the list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificates: Option<Certificates>,
    /// Named variants selected with `--build-option NAME` (apko key, deprecated there).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub options: BTreeMap<String, BuildOption>,
}

/// `contents`: where packages come from and which ones to install.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contents {
    /// Used to build, and written to the image's `/etc/apk/repositories`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub repositories: Vec<String>,
    /// Used to build only.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub build_repositories: Vec<String>,
    /// Written to the image only, not used to build.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub runtime_repositories: Vec<String>,
    /// Public keys (paths or URLs) that sign the repositories.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub keyring: Vec<String>,
    /// The world: package names with optional constraints (`busybox>=1.36`, `foo@tag`).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub packages: Vec<String>,
    /// Experimental in apko: build on top of an existing image. Parsed only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseimage: Option<BaseImage>,
}

/// `contents.baseimage` (apko experimental).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaseImage {
    /// Path to the base image's OCI layout.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub image: String,
    /// Path to an APKINDEX listing the packages installed in the base image.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub apkindex: String,
}

/// `entrypoint`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entrypoint {
    /// Only `service-bundle` exists: run `services` under s6.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<EntrypointType>,
    /// The command, split like a shell would (apko uses go shlex).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub command: String,
    /// A shell fragment, run as `/bin/sh -c FRAGMENT`.
    #[serde(
        rename = "shell-fragment",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub shell_fragment: String,
    /// Service name to command, for `type: service-bundle`.
    #[serde(
        default,
        deserialize_with = "string_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub services: BTreeMap<String, String>,
}

/// `entrypoint.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntrypointType {
    /// Run `/bin/s6-svscan /sv` over one directory per service (adds the `s6` package).
    #[serde(rename = "service-bundle")]
    ServiceBundle,
}

/// `accounts`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accounts {
    /// OCI `User`: a user name, a uid, optionally `:group` (name or gid).
    #[serde(
        rename = "run-as",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub run_as: String,
    /// Users added to `/etc/passwd`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub users: Vec<User>,
    /// Groups added to `/etc/group`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub groups: Vec<Group>,
}

/// One of `accounts.users`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    #[serde(default, deserialize_with = "nullable")]
    pub username: String,
    /// Must not be 0 (apko refuses; a missing uid reads as 0 and is refused too).
    #[serde(default, deserialize_with = "nullable")]
    pub uid: u32,
    /// Primary group; apko uses the uid when it is not set, see [`User::primary_gid`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
    /// Login shell; `/bin/sh` when not set, see [`User::login_shell`].
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub shell: String,
    /// Home directory; set to `/home/NAME` when loading if not given (as apko does).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub homedir: String,
}

/// One of `accounts.groups`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    #[serde(default, deserialize_with = "nullable")]
    pub groupname: String,
    #[serde(default, deserialize_with = "nullable")]
    pub gid: u32,
    /// User names listed in the `/etc/group` line.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub members: Vec<String>,
}

/// One of `paths`: something to create or change in the filesystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathMutation {
    /// The path in the image (apko joins it to the root, so a leading `/` is optional).
    #[serde(default, deserialize_with = "nullable")]
    pub path: String,
    #[serde(rename = "type")]
    pub kind: PathType,
    /// Owner; not set means "leave as is" (for `permissions`) or root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
    /// Mode bits; apko uses 0 when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Permissions>,
    /// Link target, for `hardlink` and `symlink`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub source: String,
    /// Apply to everything below the path too.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_false"
    )]
    pub recursive: bool,
}

/// `paths[].type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PathType {
    Directory,
    EmptyFile,
    Hardlink,
    Symlink,
    Permissions,
}

impl PathType {
    /// The YAML spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PathType::Directory => "directory",
            PathType::EmptyFile => "empty-file",
            PathType::Hardlink => "hardlink",
            PathType::Symlink => "symlink",
            PathType::Permissions => "permissions",
        }
    }
}

/// `layering`: split packages into extra layers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layering {
    pub strategy: LayeringStrategy,
    /// How many extra layers to use; at least 1.
    #[serde(default, deserialize_with = "nullable")]
    pub budget: u32,
}

/// `layering.strategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LayeringStrategy {
    /// Group packages by their origin (source package).
    Origin,
}

/// `certificates`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificates {
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub additional: Vec<AdditionalCertificate>,
}

/// One of `certificates.additional`: a PEM certificate appended to the bundle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdditionalCertificate {
    /// File name under the certificates directory: `[A-Za-z0-9_-][A-Za-z0-9_.-]*`.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub content: String,
}

/// One of `options`: changes applied when selected by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildOption {
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "ContentsOption::is_empty"
    )]
    pub contents: ContentsOption,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "AccountsOption::is_empty"
    )]
    pub accounts: AccountsOption,
    /// Variables set (overriding the config's).
    #[serde(
        default,
        deserialize_with = "string_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub environment: BTreeMap<String, String>,
    /// Replaces the entrypoint when its `type` is set (apko's rule).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Entrypoint::is_empty"
    )]
    pub entrypoint: Entrypoint,
}

/// `options.NAME.contents`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentsOption {
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "ListOption::is_empty"
    )]
    pub packages: ListOption,
}

/// `options.NAME.contents.packages`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListOption {
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub add: Vec<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub remove: Vec<String>,
}

/// `options.NAME.accounts`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountsOption {
    #[serde(
        rename = "run-as",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub run_as: String,
}

impl Contents {
    fn is_empty(&self) -> bool {
        *self == Contents::default()
    }
}

impl Entrypoint {
    /// True when nothing is set (apko then leaves the OCI entrypoint empty).
    pub fn is_empty(&self) -> bool {
        *self == Entrypoint::default()
    }
}

impl Accounts {
    fn is_empty(&self) -> bool {
        *self == Accounts::default()
    }
}

impl ContentsOption {
    fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }
}

impl ListOption {
    fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }
}

impl AccountsOption {
    fn is_empty(&self) -> bool {
        self.run_as.is_empty()
    }
}

impl User {
    /// The primary gid: `gid`, or the uid when not set (apko's guess).
    pub fn primary_gid(&self) -> u32 {
        self.gid.unwrap_or(self.uid)
    }

    /// The login shell: `shell`, or `/bin/sh` (apko's default).
    pub fn login_shell(&self) -> &str {
        if self.shell.is_empty() {
            "/bin/sh"
        } else {
            &self.shell
        }
    }

    /// The home directory: `homedir`, or `/home/NAME`.
    pub fn home_dir(&self) -> String {
        if self.homedir.is_empty() {
            format!("/home/{}", self.username)
        } else {
            self.homedir.clone()
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Reads a YAML `null` as the type's default, as go-yaml does.
fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A string-to-string mapping whose values may be `null` (read as `""`).
fn string_map<'de, D>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error>
where
    D: Deserializer<'de>,
{
    let map = Option::<BTreeMap<String, Option<String>>>::deserialize(deserializer)?;
    Ok(map
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_defaults_follow_apko() {
        let u = User {
            username: "nonroot".into(),
            uid: 65532,
            ..User::default()
        };
        assert_eq!(u.primary_gid(), 65532);
        assert_eq!(u.login_shell(), "/bin/sh");
        assert_eq!(u.home_dir(), "/home/nonroot");
        let v = User {
            gid: Some(10),
            shell: "/bin/bash".into(),
            homedir: "/var/empty".into(),
            ..u
        };
        assert_eq!(v.primary_gid(), 10);
        assert_eq!(v.login_shell(), "/bin/bash");
        assert_eq!(v.home_dir(), "/var/empty");
    }

    #[test]
    fn path_type_spelling_matches_serde() {
        for t in [
            PathType::Directory,
            PathType::EmptyFile,
            PathType::Hardlink,
            PathType::Symlink,
            PathType::Permissions,
        ] {
            let yaml = serde_saphyr::to_string(&t).unwrap_or_default();
            assert_eq!(yaml.trim(), t.as_str());
        }
    }
}
