//! Tests of `rapko rootfs` (filled in by its owner).
