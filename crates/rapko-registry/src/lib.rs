//! Push OCI images, indexes and SBOM artifacts to registries over the Distribution API.
