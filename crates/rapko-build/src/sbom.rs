//! The SBOMs of a build: per architecture `sbom-<arch>.spdx.json` and `sbom-<arch>.cdx.json`
//! listing every installed package, and for multi-arch builds `sbom-index.*` relating the
//! index to each image. Documents are returned as (file name, text); writing them, or
//! attaching them to a pushed image, is the caller's business.

use rapko_sbom::{
    EmbeddedSbom, ImageSbom, ImageSbomInput, IndexImage, IndexSbomInput, Layer, SbomPackage, Tool,
};

use crate::Build;
use crate::error::{BuildError, Result};
use crate::image::ArchImage;

/// Which documents to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SbomFormats {
    pub spdx: bool,
    pub cyclonedx: bool,
}

impl Default for SbomFormats {
    fn default() -> Self {
        SbomFormats {
            spdx: true,
            cyclonedx: true,
        }
    }
}

impl SbomFormats {
    /// Parses `spdx`, `cyclonedx` (or `cdx`), comma separated.
    pub fn parse(list: &[String]) -> Result<SbomFormats> {
        let mut formats = SbomFormats {
            spdx: false,
            cyclonedx: false,
        };
        for f in list.iter().flat_map(|s| s.split(',')).map(str::trim) {
            match f {
                "spdx" => formats.spdx = true,
                "cyclonedx" | "cdx" => formats.cyclonedx = true,
                other => {
                    return Err(BuildError::Other(format!(
                        "unknown SBOM format {other:?}: use spdx and/or cyclonedx"
                    )));
                }
            }
        }
        Ok(formats)
    }
}

/// One SBOM document of an image.
#[derive(Clone, Debug)]
pub struct SbomDocument {
    pub file_name: String,
    /// `application/spdx+json` or `application/vnd.cyclonedx+json`.
    pub media_type: &'static str,
    pub text: String,
    /// The manifest it describes (the index for index SBOMs).
    pub subject: rapko_oci::Descriptor,
}

const SPDX: &str = "application/spdx+json";
const CYCLONEDX: &str = "application/vnd.cyclonedx+json";

/// The SBOMs of `build`, for an image called `image_name` (a repository, no tag).
pub fn documents(
    build: &Build,
    image_name: &str,
    formats: SbomFormats,
) -> Result<Vec<SbomDocument>> {
    let sbom_err = |e: rapko_sbom::Error| BuildError::Other(format!("cannot write the SBOM: {e}"));
    let mut docs = Vec::new();
    for image in &build.images {
        let input = image_input(image, image_name, build.build_time);
        let sbom = ImageSbom::new(&input).map_err(sbom_err)?;
        for warning in sbom.warnings() {
            tracing::warn!("SBOM for {}: {warning}", image.arch);
        }
        let arch = image.arch.apk_name();
        if formats.spdx {
            docs.push(doc(
                format!("sbom-{arch}.spdx.json"),
                SPDX,
                sbom.spdx_json().map_err(sbom_err)?,
                &image.manifest,
            ));
        }
        if formats.cyclonedx {
            docs.push(doc(
                format!("sbom-{arch}.cdx.json"),
                CYCLONEDX,
                sbom.cyclonedx_json().map_err(sbom_err)?,
                &image.manifest,
            ));
        }
    }
    if build.images.len() > 1 {
        let input = IndexSbomInput {
            image_name: image_name.to_owned(),
            index_digest: build.root.digest.to_string(),
            images: build
                .images
                .iter()
                .map(|i| IndexImage {
                    digest: i.manifest.digest.to_string(),
                    arch: i.arch.apk_name().to_owned(),
                    oci_arch: i.arch.oci_architecture().to_owned(),
                    oci_variant: i.arch.oci_variant().map(str::to_owned),
                })
                .collect(),
            build_time: build.build_time,
            tool: Tool::rapko(),
        };
        if formats.spdx {
            let text = rapko_sbom::index_spdx_json(&input).map_err(sbom_err)?;
            docs.push(doc(
                "sbom-index.spdx.json".to_owned(),
                SPDX,
                text,
                &build.root,
            ));
        }
        if formats.cyclonedx {
            let text = rapko_sbom::index_cyclonedx_json(&input).map_err(sbom_err)?;
            docs.push(doc(
                "sbom-index.cdx.json".to_owned(),
                CYCLONEDX,
                text,
                &build.root,
            ));
        }
    }
    Ok(docs)
}

fn doc(
    file_name: String,
    media_type: &'static str,
    text: String,
    subject: &rapko_oci::Descriptor,
) -> SbomDocument {
    SbomDocument {
        file_name,
        media_type,
        text,
        subject: subject.clone(),
    }
}

fn image_input(image: &ArchImage, image_name: &str, build_time: u64) -> ImageSbomInput {
    let packages = image
        .packages
        .iter()
        .enumerate()
        .map(|(i, info)| {
            let extras = image.extras.get(i);
            let mut info = info.clone();
            if info.datahash.is_none() {
                info.datahash = extras
                    .and_then(|e| e.datahash.as_deref())
                    .and_then(|h| rapko_apk::pkginfo::parse_hex32(h).ok());
            }
            let url = image.repository_urls.get(i).cloned().unwrap_or_default();
            let mut package = SbomPackage::new(info, url);
            package.embedded_sboms = extras
                .map(|e| {
                    e.embedded_sboms
                        .iter()
                        .map(|(path, text)| EmbeddedSbom {
                            path: path.clone(),
                            content: text.clone().into_bytes(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            package
        })
        .collect();
    let mut dependencies: Vec<(usize, usize)> = image
        .depends_on
        .iter()
        .enumerate()
        .flat_map(|(from, tos)| {
            tos.iter()
                .filter(move |&&to| to != from)
                .map(move |&to| (from, to))
        })
        .collect();
    if dependencies.is_empty() {
        // A build from a lockfile has no resolution to tell the edges: match them again.
        let infos: Vec<&rapko_apk::PackageInfo> = image.packages.iter().collect();
        dependencies = rapko_sbom::dependency_edges(&infos);
    }
    ImageSbomInput {
        image_name: image_name.to_owned(),
        image_digest: image.manifest.digest.to_string(),
        config_digest: image.config.digest.to_string(),
        layers: image
            .layers
            .iter()
            .map(|l| Layer {
                digest: l.digest.to_string(),
                size: l.size,
            })
            .collect(),
        arch: image.arch.apk_name().to_owned(),
        oci_arch: image.arch.oci_architecture().to_owned(),
        oci_variant: image.arch.oci_variant().map(str::to_owned),
        os_release: image.os_release.clone(),
        packages,
        dependencies,
        build_time,
        tool: Tool::rapko(),
    }
}
