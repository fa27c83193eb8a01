//! SPDX 2.3 and CycloneDX 1.6 SBOMs for images built from APK packages, deterministic.
//!
//! Unlike apko, which lists only packages that ship an SBOM of their own, these documents
//! list every installed APK (name, version, arch, origin, license as an SPDX expression,
//! supplier, purl, download location, SHA-1 of the control member and SHA-256 of the data
//! member, commit), the image itself (digest, purl, layers), the operating system from
//! `/etc/os-release`, and the resolved dependency edges. A package's own SPDX SBOM
//! (`var/lib/db/sbom/*.spdx.json`) is merged under its entry. The crate reads nothing from
//! disk and knows nothing of OCI or HTTP: the builder passes plain data in
//! ([`ImageSbomInput`], [`IndexSbomInput`]) and gets JSON text out.
//!
//! The same input always gives the same bytes: packages are sorted, relationships sorted,
//! fields in a fixed order, `created`/`timestamp` is the build date, and the SPDX namespace
//! ([`NAMESPACE_BASE`]`/<digest>`) and CycloneDX serial number (UUID v5 of
//! `https://rapko.dev/cyclonedx/<digest>`) come from the image (or index) digest.
//!
//! ```
//! use rapko_sbom::{ImageSbom, ImageSbomInput, Layer, SbomPackage, Tool};
//! use rapko_apk::PackageInfo;
//!
//! let info = PackageInfo {
//!     name: "musl".into(),
//!     version: "1.2.4_git20230717-r4".into(),
//!     arch: "x86_64".into(),
//!     license: "MIT".into(),
//!     ..PackageInfo::default()
//! };
//! let digest = |c: char| format!("sha256:{}", c.to_string().repeat(64));
//! let input = ImageSbomInput {
//!     image_name: "ghcr.io/example/base".into(),
//!     image_digest: digest('a'),
//!     config_digest: digest('b'),
//!     layers: vec![Layer { digest: digest('c'), size: 1234 }],
//!     arch: "x86_64".into(),
//!     oci_arch: "amd64".into(),
//!     oci_variant: None,
//!     os_release: Some("ID=alpine\nVERSION_ID=3.19.1\nNAME=\"Alpine Linux\"\n".into()),
//!     packages: vec![SbomPackage::new(info, "https://dl-cdn.alpinelinux.org/alpine/v3.19/main")],
//!     dependencies: vec![],
//!     build_time: 1_700_000_000,
//!     tool: Tool::rapko(),
//! };
//! let sbom = ImageSbom::new(&input)?;
//! let spdx = sbom.spdx_json()?; // write as sbom-x86_64.spdx.json
//! let cdx = sbom.cyclonedx_json()?; // write as sbom-x86_64.cdx.json
//! for warning in sbom.warnings() {
//!     eprintln!("warning: {warning}");
//! }
//! assert!(spdx.contains("pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64&distro=alpine-3.19.1"));
//! assert!(cdx.contains("\"specVersion\": \"1.6\""));
//! # Ok::<(), rapko_sbom::Error>(())
//! ```

mod cyclonedx;
mod embedded;
mod error;
mod input;
pub mod license;
mod model;
mod os_release;
pub mod purl;
mod spdx;
mod util;

pub use error::{Error, Result};
pub use input::{
    EmbeddedSbom, ImageSbomInput, IndexImage, IndexSbomInput, Layer, SbomPackage, Tool,
    dependency_edges, embedded_sbom_paths,
};
pub use license::{LicenseRef, LicenseResult, license_expression};
pub use model::{ImageSbom, NAMESPACE_BASE};
pub use os_release::{OsRelease, parse_os_release};

impl ImageSbom<'_> {
    /// The image's SPDX 2.3 JSON document (`sbom-<arch>.spdx.json`).
    pub fn spdx_json(&self) -> Result<String> {
        spdx::image_document(self)
    }

    /// The image's CycloneDX 1.6 JSON BOM (`sbom-<arch>.cdx.json`).
    pub fn cyclonedx_json(&self) -> Result<String> {
        cyclonedx::image_bom(self)
    }
}

/// The SPDX 2.3 JSON document of one image. Warnings (skipped embedded SBOMs) are dropped;
/// use [`ImageSbom`] to see them.
pub fn spdx_json(input: &ImageSbomInput) -> Result<String> {
    ImageSbom::new(input)?.spdx_json()
}

/// The CycloneDX 1.6 JSON BOM of one image; see [`spdx_json`] about warnings.
pub fn cyclonedx_json(input: &ImageSbomInput) -> Result<String> {
    ImageSbom::new(input)?.cyclonedx_json()
}

/// The SPDX 2.3 JSON document of a multi-arch index (`sbom-index.spdx.json`): the index
/// CONTAINS each platform image.
pub fn index_spdx_json(input: &IndexSbomInput) -> Result<String> {
    spdx::index_document(input)
}

/// The CycloneDX 1.6 JSON BOM of a multi-arch index (`sbom-index.cdx.json`).
pub fn index_cyclonedx_json(input: &IndexSbomInput) -> Result<String> {
    cyclonedx::index_bom(input)
}
