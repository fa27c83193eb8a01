//! Integration tests of rapko-config.
