//! SBOMs attached to pushed images, two ways at once.
//!
//! The OCI 1.1 way: an artifact manifest whose `artifactType` is the SBOM's media type,
//! whose config is the empty descriptor (the 2-byte `{}` blob), whose one layer is the
//! SBOM, and whose `subject` is the image; registries with the referrers API list it
//! under the image. Registries without that API (Distribution 2.8 among them) are served
//! by the tag fallback: the artifact is also tagged `sha256-<image hex>.sbom` in the
//! same repository, the name cosign and others look for. One SBOM per image gets the
//! tag, SPDX preferred.
//!
//! The artifact manifests are deterministic (no timestamps), so pushing the same SBOM
//! again yields the same digest and uploads nothing.

use bytes::Bytes;
use rapko_oci::media::{self, annotations};
use rapko_oci::{Descriptor, Digest, ImageManifest};

use crate::error::{Error, Result};
use crate::layout::{Blob, Graph, Manifest};

/// SPDX JSON.
pub const SPDX_JSON: &str = "application/spdx+json";
/// CycloneDX JSON.
pub const CYCLONEDX_JSON: &str = "application/vnd.cyclonedx+json";

/// An SBOM document to attach to one manifest (or index) of the pushed image.
#[derive(Clone, PartialEq, Eq)]
pub struct Sbom {
    /// The manifest or index it describes.
    pub subject: Digest,
    /// [`SPDX_JSON`], [`CYCLONEDX_JSON`] or another SBOM media type.
    pub media_type: String,
    /// The document.
    pub bytes: Bytes,
}

impl Sbom {
    /// An SBOM of any media type.
    pub fn new(subject: Digest, media_type: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        Self {
            subject,
            media_type: media_type.into(),
            bytes: bytes.into(),
        }
    }

    /// An SPDX JSON document.
    pub fn spdx(subject: Digest, bytes: impl Into<Bytes>) -> Self {
        Self::new(subject, SPDX_JSON, bytes)
    }

    /// A CycloneDX JSON document.
    pub fn cyclonedx(subject: Digest, bytes: impl Into<Bytes>) -> Self {
        Self::new(subject, CYCLONEDX_JSON, bytes)
    }

    /// The file name given to the layer (`org.opencontainers.image.title`).
    fn title(&self) -> &'static str {
        match self.media_type.as_str() {
            SPDX_JSON => "sbom.spdx.json",
            CYCLONEDX_JSON => "sbom.cdx.json",
            _ => "sbom.json",
        }
    }
}

impl std::fmt::Debug for Sbom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sbom")
            .field("subject", &self.subject)
            .field("media_type", &self.media_type)
            .field("size", &self.bytes.len())
            .finish()
    }
}

/// One SBOM ready to push: its blob, its artifact manifest, and the fallback tag if it
/// gets one.
#[derive(Debug, Clone)]
pub(crate) struct Attachment {
    pub blob: Blob,
    pub manifest: Manifest,
    pub fallback_tag: Option<String>,
}

/// The `{}` blob every artifact manifest uses as its config.
pub(crate) fn empty_blob() -> Blob {
    Blob::in_memory(Bytes::from_static(b"{}"))
}

/// The fallback tag for SBOMs of `subject`.
pub fn fallback_tag(subject: &Digest) -> String {
    format!("{}-{}.sbom", subject.algorithm(), subject.hex())
}

/// Builds the artifact manifests for `sboms`, each checked to describe part of `graph`.
pub(crate) fn attach(sboms: &[Sbom], graph: &Graph) -> Result<Vec<Attachment>> {
    let mut attachments = Vec::with_capacity(sboms.len());
    for sbom in sboms {
        let subject = graph
            .manifest(&sbom.subject)
            .ok_or_else(|| Error::SbomSubject {
                subject: sbom.subject,
                media_type: sbom.media_type.clone(),
            })?;
        let blob = Blob::in_memory(sbom.bytes.clone());
        let manifest = artifact_manifest(sbom, &subject.descriptor, &blob)?;
        attachments.push(Attachment {
            blob,
            manifest,
            fallback_tag: tag_owner(sboms, sbom).then(|| fallback_tag(&sbom.subject)),
        });
    }
    Ok(attachments)
}

/// True if `sbom` is the one of its subject that gets the fallback tag: the first SPDX
/// one, or the first one when there is no SPDX.
fn tag_owner(sboms: &[Sbom], sbom: &Sbom) -> bool {
    let same_subject = || sboms.iter().filter(|s| s.subject == sbom.subject);
    let owner = same_subject()
        .find(|s| s.media_type == SPDX_JSON)
        .or_else(|| same_subject().next());
    owner.is_some_and(|o| std::ptr::eq(o, sbom))
}

fn artifact_manifest(sbom: &Sbom, subject: &Descriptor, blob: &Blob) -> Result<Manifest> {
    let empty = empty_blob();
    let config = Descriptor::new(media::OCI_EMPTY, empty.digest, empty.size);
    let layer = Descriptor::new(sbom.media_type.clone(), blob.digest, blob.size)
        .with_annotation(annotations::TITLE, sbom.title());
    let mut manifest = ImageManifest::new(config, vec![layer]);
    manifest.artifact_type = Some(sbom.media_type.clone());
    manifest.subject = Some(Descriptor::new(
        subject.media_type.clone(),
        subject.digest,
        subject.size,
    ));
    let (bytes, descriptor) = manifest.to_blob().map_err(|e| Error::Setup {
        reason: format!(
            "cannot serialize the SBOM manifest for {}: {e}",
            sbom.subject
        ),
    })?;
    Ok(Manifest {
        descriptor,
        bytes: Bytes::from(bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph() -> Graph {
        let image = Manifest {
            descriptor: Descriptor::new(media::OCI_MANIFEST, Digest::of(b"image"), 5),
            bytes: Bytes::from_static(b"image"),
        };
        Graph {
            root: image.descriptor.clone(),
            blobs: vec![],
            manifests: vec![image],
        }
    }

    #[test]
    fn artifact_manifest_shape() {
        let g = graph();
        let subject = Digest::of(b"image");
        let sboms = [
            Sbom::cyclonedx(subject, &b"{\"bomFormat\":\"CycloneDX\"}"[..]),
            Sbom::spdx(subject, &b"{\"spdxVersion\":\"SPDX-2.3\"}"[..]),
        ];
        let a = attach(&sboms, &g).unwrap();
        assert_eq!(
            a[0].fallback_tag, None,
            "SPDX gets the tag when there is one"
        );
        assert_eq!(
            a[1].fallback_tag.as_deref(),
            Some(format!("sha256-{}.sbom", subject.hex()).as_str())
        );
        let m: serde_json::Value = serde_json::from_slice(&a[1].manifest.bytes).unwrap();
        assert_eq!(m["mediaType"], media::OCI_MANIFEST);
        assert_eq!(m["artifactType"], SPDX_JSON);
        assert_eq!(m["config"]["mediaType"], media::OCI_EMPTY);
        assert_eq!(m["config"]["digest"], Digest::of(b"{}").to_string());
        assert_eq!(m["config"]["size"], 2);
        assert_eq!(m["layers"][0]["mediaType"], SPDX_JSON);
        assert_eq!(m["layers"][0]["digest"], a[1].blob.digest.to_string());
        assert_eq!(
            m["layers"][0]["annotations"][annotations::TITLE],
            "sbom.spdx.json"
        );
        assert_eq!(
            m["subject"],
            serde_json::json!({"mediaType": media::OCI_MANIFEST, "digest": subject.to_string(), "size": 5})
        );
        assert_eq!(
            a[1].manifest.descriptor.artifact_type.as_deref(),
            Some(SPDX_JSON)
        );
        assert_eq!(
            a[1].manifest.descriptor.digest,
            Digest::of(&a[1].manifest.bytes)
        );
        // Deterministic: the same SBOM gives the same manifest.
        assert_eq!(
            attach(&sboms, &g).unwrap()[1].manifest.bytes,
            a[1].manifest.bytes
        );
    }

    #[test]
    fn only_cyclonedx_still_gets_the_tag() {
        let subject = Digest::of(b"image");
        let a = attach(&[Sbom::cyclonedx(subject, &b"{}"[..])], &graph()).unwrap();
        assert!(a[0].fallback_tag.is_some());
    }

    #[test]
    fn subject_must_be_in_the_image() {
        let err = attach(&[Sbom::spdx(Digest::of(b"other"), &b"{}"[..])], &graph()).unwrap_err();
        assert!(matches!(err, Error::SbomSubject { .. }), "{err}");
        assert!(format!("{:?}", Sbom::spdx(Digest::of(b"x"), &b"secret-ish"[..])).contains("size"));
    }
}
