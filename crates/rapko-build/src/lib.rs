//! Orchestration: config to per-arch pipeline to image, index and SBOM.
