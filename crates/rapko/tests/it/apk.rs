//! Tests of `rapko apk` (filled in by its owner).
