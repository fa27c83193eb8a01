//! OCI and Docker image formats: config, manifest, index, image layout and docker-load tarballs.
