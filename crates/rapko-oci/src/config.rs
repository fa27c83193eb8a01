//! The image configuration blob: platform, run-time defaults, layer diff IDs and history.
//!
//! Field order follows the OCI image spec's Go types (`created`, `author`, `architecture`,
//! `os`, `variant`, `config`, `rootfs`, `history`; inside `config`: `User`, `ExposedPorts`,
//! `Env`, `Entrypoint`, `Cmd`, `Volumes`, `WorkingDir`, `Labels`, `StopSignal`). Empty
//! optional fields are omitted, so an image with no labels has no `Labels` key rather than
//! `"Labels":{}` or `null`. The config's digest is the image ID, so its bytes must not
//! depend on anything but the inputs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::descriptor::{Descriptor, Platform, to_json_blob};
use crate::digest::Digest;
use crate::media;

/// `{}`: the value type of `Volumes` and `ExposedPorts`, which are sets written as maps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmptyObject {}

/// The image configuration (OCI image spec, "Image Configuration").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    /// Creation time, RFC 3339 (see [`rfc3339_utc`]); omitted for "no date".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Who or what built the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// CPU architecture (`amd64`, `arm64`, …), as in [`crate::Platform`].
    pub architecture: String,
    /// Operating system, `linux`.
    pub os: String,
    /// CPU variant (`v7`, `v8`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Run-time defaults for containers.
    #[serde(default, skip_serializing_if = "ContainerConfig::is_empty")]
    pub config: ContainerConfig,
    /// The layers' diff IDs.
    pub rootfs: RootFs,
    /// One entry per layer (and per metadata-only step), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
}

impl ImageConfig {
    /// A config for `architecture`/`os` whose layers have `diff_ids`, with no defaults set.
    pub fn new(
        architecture: impl Into<String>,
        os: impl Into<String>,
        diff_ids: Vec<Digest>,
    ) -> Self {
        Self {
            created: None,
            author: None,
            architecture: architecture.into(),
            os: os.into(),
            variant: None,
            config: ContainerConfig::default(),
            rootfs: RootFs::layers(diff_ids),
            history: Vec::new(),
        }
    }

    /// A config whose architecture, OS and variant are `platform`'s, so the config and the
    /// index entry cannot disagree.
    pub fn for_platform(platform: &Platform, diff_ids: Vec<Digest>) -> Self {
        let mut c = Self::new(platform.architecture.clone(), platform.os.clone(), diff_ids);
        c.variant.clone_from(&platform.variant);
        c
    }

    /// The config's JSON bytes and its descriptor (media type [`media::OCI_CONFIG`]).
    pub fn to_blob(&self) -> Result<(Vec<u8>, Descriptor), serde_json::Error> {
        to_json_blob(self, media::OCI_CONFIG)
    }
}

/// Defaults for containers run from the image (the `config` object; Docker's names).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    /// `user`, `uid`, `user:group` or `uid:gid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Ports as `port/proto` (`8080/tcp`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub exposed_ports: BTreeMap<String, EmptyObject>,
    /// `NAME=value` entries, in the order given (later entries win at run time).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// The executable and its first arguments. `Some(vec![])` is written as `[]`, which
    /// clears an inherited entrypoint; `None` is omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// Default arguments (or command when there is no entrypoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    /// Paths to mount volumes on.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<String, EmptyObject>,
    /// Working directory of the process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// Arbitrary metadata.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Signal to stop the container (`SIGTERM`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
}

impl ContainerConfig {
    /// True when nothing is set, so the whole `config` object is omitted.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// The `rootfs` object: always of type `layers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "type")]
    pub kind: String,
    /// SHA-256 of each layer's uncompressed tar, in layer order.
    pub diff_ids: Vec<Digest>,
}

impl RootFs {
    /// A `layers` rootfs.
    pub fn layers(diff_ids: Vec<Digest>) -> Self {
        Self {
            kind: "layers".to_owned(),
            diff_ids,
        }
    }
}

/// One step of the image's history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// When, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The command or tool that made the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Who.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// True when the step made no layer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

/// Formats seconds since the Unix epoch as RFC 3339 UTC (`2024-02-29T12:00:00Z`), the form
/// of `created` fields. Works for any year the proleptic Gregorian calendar can name.
pub fn rfc3339_utc(unix_seconds: i64) -> String {
    let days = unix_seconds.div_euclid(86_400);
    let secs = unix_seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Converts days since 1970-01-01 to (year, month, day): the standard era-based algorithm
/// (400-year cycles of 146 097 days, years starting in March so leap days come last).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // month is 1..=12 and day 1..=31 by construction.
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_config_bytes() {
        let c = ImageConfig::new("amd64", "linux", vec![Digest::of(b"tar")]);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#,
                Digest::of(b"tar")
            )
        );
    }

    #[test]
    fn full_config_bytes_and_digest() {
        let mut c = ImageConfig::new("arm64", "linux", vec![Digest::of(b"tar")]);
        c.created = Some(rfc3339_utc(1_700_000_000));
        c.author = Some("rapko".into());
        c.variant = Some("v8".into());
        c.config = ContainerConfig {
            user: Some("65532".into()),
            exposed_ports: BTreeMap::from([("8080/tcp".into(), EmptyObject {})]),
            env: vec!["PATH=/usr/bin:/bin".into(), "A=b".into()],
            entrypoint: Some(vec!["/bin/sh".into(), "-c".into()]),
            cmd: Some(vec![]),
            volumes: BTreeMap::from([
                ("/var/lib/b".into(), EmptyObject {}),
                ("/data".into(), EmptyObject {}),
            ]),
            working_dir: Some("/home".into()),
            labels: BTreeMap::from([("z".into(), "1".into()), ("a".into(), "2".into())]),
            stop_signal: Some("SIGTERM".into()),
        };
        c.history = vec![History {
            created: c.created.clone(),
            created_by: Some("rapko".into()),
            comment: Some("packages".into()),
            ..History::default()
        }];
        let (bytes, d) = c.to_blob().unwrap();
        let expected = concat!(
            r#"{"created":"2023-11-14T22:13:20Z","author":"rapko","architecture":"arm64","os":"linux","variant":"v8","#,
            r#""config":{"User":"65532","ExposedPorts":{"8080/tcp":{}},"Env":["PATH=/usr/bin:/bin","A=b"],"#,
            r#""Entrypoint":["/bin/sh","-c"],"Cmd":[],"Volumes":{"/data":{},"/var/lib/b":{}},"WorkingDir":"/home","#,
            r#""Labels":{"a":"2","z":"1"},"StopSignal":"SIGTERM"},"#,
            r#""rootfs":{"type":"layers","diff_ids":["sha256:"#
        );
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with(expected), "{text}");
        assert!(
            text.ends_with(r#""history":[{"created":"2023-11-14T22:13:20Z","created_by":"rapko","comment":"packages"}]}"#),
            "{text}"
        );
        assert_eq!(d.digest, Digest::of(&bytes));
        assert_eq!(d.media_type, media::OCI_CONFIG);
        let back: ImageConfig = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn config_for_platform() {
        let p = Platform::new("arm", "linux").with_variant("v7");
        let c = ImageConfig::for_platform(&p, vec![]);
        assert_eq!((c.architecture.as_str(), c.os.as_str()), ("arm", "linux"));
        assert_eq!(c.variant.as_deref(), Some("v7"));
    }

    #[test]
    fn empty_layer_flag_written_only_when_true() {
        let h = History {
            empty_layer: true,
            ..History::default()
        };
        assert_eq!(
            serde_json::to_string(&h).unwrap(),
            r#"{"empty_layer":true}"#
        );
        assert_eq!(serde_json::to_string(&History::default()).unwrap(), "{}");
    }

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(951_825_600), "2000-02-29T12:00:00Z");
        assert_eq!(rfc3339_utc(1_709_164_799), "2024-02-28T23:59:59Z");
        assert_eq!(rfc3339_utc(1_709_164_800), "2024-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(-1), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339_utc(4_102_444_800), "2100-01-01T00:00:00Z");
    }
}
