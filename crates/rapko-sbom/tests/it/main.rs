//! Integration tests of rapko-sbom against the real fixtures and the real validators
//! (pyspdxtools, check-jsonschema with the SPDX 2.3 schema, cyclonedx-python-lib).

// Test code: a panic with the failing value is the report we want.
#![allow(clippy::unwrap_used)]

mod alpine;
mod common;
mod licenses;
mod others;
