//! Integration tests of rapko-sbom against the real fixtures and the real validators
//! (pyspdxtools, check-jsonschema with the SPDX 2.3 schema, cyclonedx-python-lib).

mod alpine;
mod common;
mod licenses;
mod others;
