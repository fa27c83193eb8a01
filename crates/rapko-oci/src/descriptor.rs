//! Content descriptors and platforms, and the helper that turns any JSON value into a blob.
//!
//! A descriptor is how one blob points at another: media type, digest, size, and for
//! entries of an index the platform. Serialization is deterministic: fields in the order
//! of the OCI image spec's Go types, maps as `BTreeMap` (sorted keys), empty optional
//! fields omitted, compact JSON. The same value always gives the same bytes and therefore
//! the same digest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;

/// A typed reference to a blob (OCI image spec, "Content Descriptors").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// What the blob is, e.g. [`crate::media::OCI_MANIFEST`].
    pub media_type: String,
    /// The blob's digest.
    pub digest: Digest,
    /// The blob's size in bytes.
    pub size: u64,
    /// Alternative download locations (foreign layers); rarely used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// Arbitrary metadata, e.g. the tag in an image layout's `index.json`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// The platform of a manifest listed in an index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// The artifact type of an artifact manifest listed in an index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
}

impl Descriptor {
    /// A descriptor with no annotations, platform or artifact type.
    pub fn new(media_type: impl Into<String>, digest: Digest, size: u64) -> Self {
        Self {
            media_type: media_type.into(),
            digest,
            size,
            urls: Vec::new(),
            annotations: BTreeMap::new(),
            platform: None,
            artifact_type: None,
        }
    }

    /// The same descriptor with `platform` set (for an entry of an index).
    pub fn with_platform(mut self, platform: Platform) -> Self {
        self.platform = Some(platform);
        self
    }

    /// The same descriptor with one more annotation.
    pub fn with_annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }
}

/// The platform an image runs on (OCI `architecture`/`os`/`variant`, Go's GOARCH/GOOS names).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Platform {
    /// CPU architecture: `amd64`, `arm64`, `arm`, `386`, `ppc64le`, `s390x`, `riscv64`, …
    pub architecture: String,
    /// Operating system, `linux` for everything rapko builds.
    pub os: String,
    /// OS version (Windows only).
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// Required OS features (Windows only).
    #[serde(rename = "os.features", default, skip_serializing_if = "Vec::is_empty")]
    pub os_features: Vec<String>,
    /// CPU variant: `v6`, `v7` for arm, `v8` for arm64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// A platform without variant.
    pub fn new(architecture: impl Into<String>, os: impl Into<String>) -> Self {
        Self {
            architecture: architecture.into(),
            os: os.into(),
            os_version: None,
            os_features: Vec::new(),
            variant: None,
        }
    }

    /// The same platform with a CPU variant.
    pub fn with_variant(mut self, variant: impl Into<String>) -> Self {
        self.variant = Some(variant.into());
        self
    }
}

impl std::fmt::Display for Platform {
    /// `os/architecture[/variant]`, the spelling of `--platform` flags.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// Serializes `value` to compact JSON and describes the bytes with `media_type`.
///
/// This is the one place image JSON becomes bytes, so digests are always of exactly the
/// bytes that get written.
pub fn to_json_blob<T: Serialize + ?Sized>(
    value: &T,
    media_type: &str,
) -> Result<(Vec<u8>, Descriptor), serde_json::Error> {
    let bytes = serde_json::to_vec(value)?;
    let descriptor = Descriptor::new(media_type, Digest::of(&bytes), bytes.len() as u64);
    Ok((bytes, descriptor))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media;

    #[test]
    fn minimal_descriptor_bytes() {
        let d = Descriptor::new(media::OCI_CONFIG, Digest::of(b"{}"), 2);
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(
            json,
            r#"{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}"#
        );
    }

    #[test]
    fn full_descriptor_field_order() {
        let d = Descriptor::new(media::OCI_MANIFEST, Digest::of(b"x"), 1)
            .with_annotation("z", "last")
            .with_annotation("a", "first")
            .with_platform(Platform::new("arm", "linux").with_variant("v7"));
        let json = serde_json::to_string(&d).unwrap();
        let expected = format!(
            r#"{{"mediaType":"{}","digest":"{}","size":1,"annotations":{{"a":"first","z":"last"}},"platform":{{"architecture":"arm","os":"linux","variant":"v7"}}}}"#,
            media::OCI_MANIFEST,
            Digest::of(b"x")
        );
        assert_eq!(json, expected);
        let back: Descriptor = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn json_blob_digest_is_of_the_bytes() {
        let (bytes, d) = to_json_blob(&BTreeMap::from([("k", 1)]), "x/y").unwrap();
        assert_eq!(bytes, br#"{"k":1}"#);
        assert_eq!(d.digest, Digest::of(&bytes));
        assert_eq!(d.size, 7);
        assert_eq!(d.media_type, "x/y");
    }

    #[test]
    fn platform_display() {
        assert_eq!(Platform::new("amd64", "linux").to_string(), "linux/amd64");
        let arm = Platform::new("arm", "linux").with_variant("v6");
        assert_eq!(arm.to_string(), "linux/arm/v6");
    }
}
