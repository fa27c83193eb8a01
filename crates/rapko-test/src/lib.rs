//! Test support for rapko's crates (dev-only): finds the shared real-package fixtures, decides
//! whether a test that needs an external tool runs, skips or fails, and builds synthetic
//! signed `.apk` files, `APKINDEX.tar.gz` files and whole repositories so tests need no
//! external files.
//!
//! It writes the APK format on its own and depends on no other rapko crate (it is a
//! dev-dependency of `rapko-apk`, and an independent writer is a real cross-check of the
//! readers). It is test code: misuse panics with a message saying what was wrong.
//!
//! ```
//! use rapko_test::{ApkBuilder, Entry, IndexBuilder, SignatureKind, TEST_KEY_NAME};
//!
//! let apk = ApkBuilder::new("hello", "1.0-r0")
//!     .depends(["so:libc.musl-x86_64.so.1"])
//!     .executable("usr/bin/hello", b"#!/bin/sh\necho hi\n".to_vec())
//!     .symlink("usr/bin/hi", "hello")
//!     .entry(Entry::file("etc/hello.conf", "x=1\n").mode(0o600).owner(0, 0))
//!     .script(".post-install", "#!/bin/sh\nexit 0\n")
//!     .signature(SignatureKind::RsaSha256)
//!     .build();
//! assert!(apk.q1_checksum().starts_with("Q1"));
//! let index = IndexBuilder::new().arch("x86_64").package(&apk).build();
//! assert!(!index.is_empty());
//! // Readers verify it with the keyring directory rapko_test::test_keyring_dir().
//! # let _ = TEST_KEY_NAME;
//! ```

mod apk;
mod big;
mod entry;
mod index;
mod keys;
mod member;
mod tarw;
mod tools;

pub use apk::{ApkBuilder, BuiltApk, DEFAULT_BUILDDATE, Fault, PackageMeta};
pub use big::big_package_set;
pub use entry::{Entry, EntryKind};
pub use index::{IndexBuilder, IndexFault, write_repo, write_repo_with};
pub use keys::{
    SignatureKind, TEST_KEY_NAME, sign, test_key_dir, test_keyring_dir, test_public_key_path,
    test_public_key_pem,
};
pub use tools::{fixture, fixtures, require_tool, tools_required};

/// What apk-tools 2.14 installs for the world `alpine-base` on the Alpine 3.19 repository in
/// the fixtures (`alpine-3.19/main`), sorted by name: the reference many tests compare with.
pub const ALPINE_BASE_PACKAGES: [&str; 25] = [
    "alpine-base",
    "alpine-baselayout",
    "alpine-baselayout-data",
    "alpine-conf",
    "alpine-keys",
    "alpine-release",
    "apk-tools",
    "busybox",
    "busybox-binsh",
    "busybox-mdev-openrc",
    "busybox-openrc",
    "busybox-suid",
    "ca-certificates-bundle",
    "ifupdown-ng",
    "libc-utils",
    "libcap2",
    "libcrypto3",
    "libssl3",
    "mdev-conf",
    "musl",
    "musl-utils",
    "openrc",
    "scanelf",
    "ssl_client",
    "zlib",
];
