//! Integration tests of rapko-oci: images built in-test, written as layout directories
//! and tarballs, and checked with the real tools (gzip, skopeo, umoci, oci-image-tool,
//! check-jsonschema, podman). A missing tool skips its test (see `rapko_test::require_tool`).

// A panic is how a test fails; unwrapping is the point here.
#![allow(clippy::unwrap_used)]

mod gzip_tools;
mod outputs;
mod support;
