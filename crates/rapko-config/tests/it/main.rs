//! Integration tests of rapko-config, on the configs under `tests/data`
//! (written for these tests in the shape of apko's own examples) and on
//! small inline documents for each error.

mod accessors;
mod arch;
mod errors;
mod hostile;
mod includes;
mod keys;
mod overrides;
mod permissions;
mod show_config;

use std::path::{Path, PathBuf};

use rapko_config::{ConfigError, ImageConfiguration};

/// A file under `tests/data`.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// The same path relative to the crate (the tests' current directory), as it appears in errors.
pub fn rel(name: &str) -> String {
    format!("tests/data/{name}")
}

/// Loads a file under `tests/data`, failing the test with the error's text.
pub fn load(name: &str) -> ImageConfiguration {
    match rapko_config::load(&data(name)) {
        Ok(c) => c,
        Err(e) => panic!("{name}: {e}"),
    }
}

/// Parses an inline document named `test.yaml`.
pub fn parse(yaml: &str) -> Result<ImageConfiguration, ConfigError> {
    rapko_config::parse_str(yaml, Path::new("test.yaml"))
}

/// The error message of an inline document that must not load.
pub fn error(yaml: &str) -> String {
    match parse(yaml) {
        Ok(c) => panic!("expected an error, parsed {c:?}"),
        Err(e) => e.to_string(),
    }
}

/// Strings from string literals.
pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}
