//! Image manifests and image indexes (OCI image spec v1.1), with deterministic JSON.
//!
//! A manifest names one platform's config and layers; an index lists manifests (one per
//! platform, or the images of an image layout). Both serialize in the spec's field order
//! with empty optional fields omitted; `layers` and `manifests` are always present because
//! the schemas require them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::descriptor::{Descriptor, to_json_blob};
use crate::media;

/// An image manifest: one platform's config and ordered layers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u32,
    /// [`media::OCI_MANIFEST`]; optional when reading others' manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Set for artifacts (SBOMs, signatures), absent for images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The image configuration blob.
    pub config: Descriptor,
    /// Layers, base first.
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to (an SBOM attached to an image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Arbitrary metadata.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ImageManifest {
    /// An OCI image manifest for `config` and `layers`.
    pub fn new(config: Descriptor, layers: Vec<Descriptor>) -> Self {
        Self {
            schema_version: 2,
            media_type: Some(media::OCI_MANIFEST.to_owned()),
            artifact_type: None,
            config,
            layers,
            subject: None,
            annotations: BTreeMap::new(),
        }
    }

    /// The manifest's JSON bytes and its descriptor (media type [`media::OCI_MANIFEST`],
    /// or the manifest's own media type when it has one).
    pub fn to_blob(&self) -> Result<(Vec<u8>, Descriptor), serde_json::Error> {
        let media_type = self.media_type.as_deref().unwrap_or(media::OCI_MANIFEST);
        let (bytes, mut d) = to_json_blob(self, media_type)?;
        // An index lists artifacts by their artifactType, so carry it over.
        d.artifact_type.clone_from(&self.artifact_type);
        Ok((bytes, d))
    }
}

/// An image index: a list of manifests, usually one per platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u32,
    /// [`media::OCI_INDEX`]; optional when reading others' indexes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Set for artifact indexes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The listed manifests (or nested indexes).
    pub manifests: Vec<Descriptor>,
    /// The manifest this index refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Arbitrary metadata.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ImageIndex {
    /// An OCI image index listing `manifests`.
    pub fn new(manifests: Vec<Descriptor>) -> Self {
        Self {
            schema_version: 2,
            media_type: Some(media::OCI_INDEX.to_owned()),
            artifact_type: None,
            manifests,
            subject: None,
            annotations: BTreeMap::new(),
        }
    }

    /// The index's JSON bytes and its descriptor.
    pub fn to_blob(&self) -> Result<(Vec<u8>, Descriptor), serde_json::Error> {
        let media_type = self.media_type.as_deref().unwrap_or(media::OCI_INDEX);
        to_json_blob(self, media_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::Platform;
    use crate::digest::Digest;

    fn desc(media_type: &str, content: &[u8]) -> Descriptor {
        Descriptor::new(media_type, Digest::of(content), content.len() as u64)
    }

    #[test]
    fn manifest_bytes() {
        let m = ImageManifest::new(
            desc(media::OCI_CONFIG, b"cfg"),
            vec![desc(media::OCI_LAYER_GZIP, b"layer")],
        );
        let (bytes, d) = m.to_blob().unwrap();
        let expected = format!(
            concat!(
                r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
                r#""config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":3}},"#,
                r#""layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":5}}]}}"#
            ),
            Digest::of(b"cfg"),
            Digest::of(b"layer")
        );
        assert_eq!(String::from_utf8(bytes.clone()).unwrap(), expected);
        assert_eq!(d.media_type, media::OCI_MANIFEST);
        assert_eq!(d.digest, Digest::of(&bytes));
        let back: ImageManifest = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn empty_layers_are_still_written() {
        let m = ImageManifest::new(desc(media::OCI_EMPTY, b"{}"), vec![]);
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.ends_with(r#""layers":[]}"#), "{json}");
    }

    #[test]
    fn index_bytes_with_subject_and_annotations() {
        let mut idx = ImageIndex::new(vec![
            desc(media::OCI_MANIFEST, b"a").with_platform(Platform::new("amd64", "linux")),
        ]);
        idx.annotations.insert("k".into(), "v".into());
        idx.subject = Some(desc(media::OCI_MANIFEST, b"s"));
        let json = serde_json::to_string(&idx).unwrap();
        let expected = format!(
            concat!(
                r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","#,
                r#""manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":1,"platform":{{"architecture":"amd64","os":"linux"}}}}],"#,
                r#""subject":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":1}},"#,
                r#""annotations":{{"k":"v"}}}}"#
            ),
            Digest::of(b"a"),
            Digest::of(b"s")
        );
        assert_eq!(json, expected);
    }

    #[test]
    fn reads_docker_manifest_without_media_type_field() {
        let json = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"{}","digest":"{}","size":3}},"layers":[],"extra":true}}"#,
            media::DOCKER_CONFIG,
            Digest::of(b"cfg")
        );
        let m: ImageManifest = serde_json::from_str(&json).unwrap();
        assert_eq!(m.media_type, None);
        assert_eq!(m.config.size, 3);
    }
}
