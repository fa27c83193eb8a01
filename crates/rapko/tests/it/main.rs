//! End-to-end tests of the `rapko` binary against the real packages in ../shared/fixtures,
//! checked with real tools (umoci, skopeo, runc, podman, bwrap, apk itself).

// Tests unwrap freely: a panic is a failure with a backtrace, which is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod apk;
mod build;
mod hostile;
mod publish;
mod rootfs;
mod sbom;
mod show;
mod support;
