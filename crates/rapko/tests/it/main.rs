//! End-to-end tests of the `rapko` binary against the real packages in ../shared/fixtures,
//! checked with real tools (umoci, skopeo, runc, podman, bwrap, apk itself).

mod apk;
mod build;
mod rootfs;
mod support;
