//! The image's root filesystem, built in memory from verified packages and the config, the
//! way `apk add` would lay it out but without running anything: package files under apk's
//! ownership rules, the apk database, busybox applet links, the CA bundle, `/etc/ld.so.cache`,
//! accounts and path mutations. Also the deterministic tar writer that turns a tree (or part
//! of one) into a layer stream.
//!
//! It knows nothing of networks, registries or OCI manifests.

pub mod accounts;
pub mod busybox;
pub mod error;
pub mod install;
pub mod layer;
pub mod ldcache;
pub mod ldcache_view;
pub mod paths;
pub mod rootfs;
pub mod scripts;
pub mod tree;

pub use error::{FsError, Result};
pub use install::{PackageToInstall, install_packages};
pub use rootfs::{Rootfs, RootfsOptions, Writer, build_rootfs};
pub use tree::{Content, Node, NodeKind, Tree};
