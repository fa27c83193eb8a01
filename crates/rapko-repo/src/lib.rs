//! Reads apk repositories over file and http(s): the keyring (keys from files or URLs),
//! signed `APKINDEX.tar.gz` files, and packages verified against them, through a
//! content-addressed cache shared safely between processes, with bounded parallel downloads,
//! retries, revalidation and an offline mode.
//!
//! It does not resolve dependencies (that is `rapko-solve`) nor unpack packages (`rapko-fs`
//! reads the data member, checking each file's SHA-1); the formats themselves are
//! `rapko-apk`'s. Network and async stay inside this crate: its API is blocking and meant to
//! be called from plain threads.
//!
//! ```no_run
//! use rapko_repo::{FetchOptions, Fetcher, RepoSpec};
//!
//! # fn main() -> Result<(), rapko_repo::Error> {
//! let fetcher = Fetcher::new(FetchOptions::default())?;
//! let keyring = fetcher.load_keyring(&["https://packages.wolfi.dev/os/wolfi-signing.rsa.pub"])?;
//! let repo = RepoSpec::parse("https://packages.wolfi.dev/os")?;
//! let index = fetcher.load_index(&repo, "x86_64", &keyring)?;
//! let wanted: Vec<_> = index.index.packages.iter().take(2).map(|p| (&index, p)).collect();
//! for package in fetcher.fetch_packages(&wanted)? {
//!     println!("{} ({} bytes)", package.info.name_version(), package.bytes.len());
//! }
//! # Ok(())
//! # }
//! ```

mod auth;
mod cache;
mod error;
mod fetcher;
mod http;
mod progress;
mod spec;

pub use auth::{BasicAuth, HostCredentials};
pub use cache::{CacheInfo, cache_clean, cache_info, default_cache_dir};
pub use error::{Error, Result};
pub use fetcher::{FetchOptions, FetchedPackage, Fetcher, Limits, LoadedIndex, Origin};
pub use http::{RetryPolicy, Timeouts};
pub use progress::{Outcome, Progress};
pub use spec::{Location, RepoSpec, redact_url};
