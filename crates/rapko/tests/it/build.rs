//! Tests of `rapko build` (filled in by its owner).
