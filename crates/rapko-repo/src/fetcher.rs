//! The fetcher: loads keys, signed indexes and verified packages from local and http(s)
//! repositories through the cache, behind a blocking API (an internal tokio runtime does the
//! I/O; callers are plain threads, e.g. one per architecture).
//!
//! Chain of trust: the index must verify against the keyring (unless signatures are
//! ignored, which warns); a package's control member must hash to the index's `C:`, and its
//! data member to the `.PKGINFO` `datahash`. The per-file SHA-1 inside the data member is
//! checked later, when the files are read ([`rapko_apk::ApkPackage::data_entries`]). Nothing
//! that fails a check is cached.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rapko_apk::{ApkIndex, ApkPackage, ControlChecksum, Keyring, PackageInfo, Trust};
use reqwest::Url;
use tokio::sync::Semaphore;

use crate::auth::{BasicAuth, HostCredentials};
use crate::cache::{self, Cache, Kind};
use crate::error::{Error, Result};
use crate::http::{Fetched, Get, Http, RetryPolicy, Timeouts};
use crate::progress::{Outcome, Progress};
use crate::spec::{self, RepoSpec, Resource};

/// Size limits for what is downloaded (and held in memory).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `APKINDEX.tar.gz` (compressed). Alpine's community index is about 2.5 MB.
    pub index: u64,
    /// One `.apk` file.
    pub package: u64,
    /// One public key file.
    pub key: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            index: 256 << 20,
            package: 2 << 30,
            key: 1 << 20,
        }
    }
}

/// How a [`Fetcher`] behaves. `Default` gives the production settings and reads
/// `HTTP_AUTH` from the environment.
#[derive(Clone)]
pub struct FetchOptions {
    /// The cache directory; `None` for [`crate::default_cache_dir`].
    pub cache_dir: Option<PathBuf>,
    /// Use only the cache (and local repositories); name whatever is missing.
    pub offline: bool,
    /// Accept indexes whose signature is missing or untrusted (warns loudly).
    /// Checksums are still checked.
    pub ignore_signatures: bool,
    /// Refuse a package whose own signature does not verify against the keyring (unknown
    /// key, bad or no signature). Without it such a package is accepted with a warning,
    /// since its signed index vouches for its checksum.
    pub strict_signatures: bool,
    /// Downloads at once, over all calls on this fetcher.
    pub parallelism: usize,
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
    pub limits: Limits,
    /// apko's `HTTP_AUTH` (`basic:HOST:USER:PASSWORD`); `Default` takes it from the environment.
    pub http_auth: Option<String>,
    pub progress: Option<Arc<dyn Progress>>,
    /// Return packages that are on disk (a local repository's file or the cache entry) with
    /// empty `bytes`: the caller reads `path` when it needs them, so a big image never has
    /// all its packages in memory at once. Packages are verified either way.
    pub release_bytes: bool,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            cache_dir: None,
            offline: false,
            ignore_signatures: false,
            strict_signatures: false,
            parallelism: 8,
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            limits: Limits::default(),
            http_auth: std::env::var("HTTP_AUTH").ok(),
            progress: None,
            release_bytes: false,
        }
    }
}

impl std::fmt::Debug for FetchOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchOptions")
            .field("cache_dir", &self.cache_dir)
            .field("offline", &self.offline)
            .field("ignore_signatures", &self.ignore_signatures)
            .field("parallelism", &self.parallelism)
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .field("limits", &self.limits)
            .field("http_auth", &self.http_auth.as_ref().map(|_| "***"))
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// Where an index came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Origin {
    /// Read in place from a local repository.
    Local,
    /// Downloaded in full.
    Downloaded,
    /// The server answered 304: the cached copy is current.
    Revalidated,
    /// Taken from the cache without asking (offline).
    Cached,
}

/// A verified index of one repository and architecture.
#[derive(Clone, Debug)]
pub struct LoadedIndex {
    pub spec: RepoSpec,
    pub arch: String,
    /// The index URL or path, without credentials.
    pub url: String,
    pub index: ApkIndex,
    /// The key that verified the signature (`None` when signatures are ignored).
    pub signed_by: Option<String>,
    pub origin: Origin,
    /// The keys the index was checked with, to check its packages' own signatures too
    /// (`None` when signatures are ignored).
    pub keyring: Option<Arc<Keyring>>,
}

impl LoadedIndex {
    /// The package `name` at `version`, if listed.
    pub fn find(&self, name: &str, version: &str) -> Option<&PackageInfo> {
        self.index
            .packages
            .iter()
            .find(|p| p.name == name && p.version == version)
    }

    /// Where a package of this index is fetched from (credentials removed).
    pub fn package_url(&self, info: &PackageInfo) -> String {
        self.spec
            .package_resource(&self.arch, &info.name_version())
            .display()
    }
}

/// A package, verified against its index.
#[derive(Clone)]
pub struct FetchedPackage {
    /// The index record it was asked for by.
    pub info: PackageInfo,
    /// The whole `.apk` file; empty when [`FetchOptions::release_bytes`] is set and `path`
    /// is given (read the file there: cache entries are immutable and replaced only by
    /// identical copies, but `rapko cache clean` may remove them meanwhile).
    pub bytes: Vec<u8>,
    /// Its parsed head (signature and control members; data range).
    pub parsed: ApkPackage,
    /// Downloaded, Cached or Local.
    pub origin: Outcome,
    /// The file on disk holding the same bytes: the local repository's file or the cache
    /// entry (`None` when it could not be cached).
    pub path: Option<PathBuf>,
    /// Where it came from, without credentials.
    pub url: String,
}

impl std::fmt::Debug for FetchedPackage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The bytes would drown everything else.
        f.debug_struct("FetchedPackage")
            .field("package", &self.info.name_version())
            .field("bytes", &self.bytes.len())
            .field("origin", &self.origin)
            .field("path", &self.path)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// Loads keys, indexes and packages. Cheap to clone; usable from many threads at once.
#[derive(Clone)]
pub struct Fetcher {
    shared: Arc<Shared>,
    runtime: Arc<Runtime>,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("cache", &self.shared.cache.root())
            .field("offline", &self.shared.offline)
            .finish_non_exhaustive()
    }
}

/// What the download tasks share (the runtime stays out, so tasks never own it).
struct Shared {
    http: Http,
    cache: Cache,
    offline: bool,
    ignore_signatures: bool,
    strict_signatures: bool,
    limits: Limits,
    downloads: Arc<Semaphore>,
    progress: Option<Arc<dyn Progress>>,
    release_bytes: bool,
}

/// The internal runtime, shut down without blocking when dropped (dropping a tokio runtime
/// the ordinary way panics inside an async context).
struct Runtime(Option<tokio::runtime::Runtime>);

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// One package to fetch, owned so that it can move into a task.
struct Job {
    spec: RepoSpec,
    arch: String,
    info: PackageInfo,
    /// How the package's own signature is checked.
    signatures: PackageTrust,
}

/// The keyring to check a package's own signature with, and whether a failure refuses it.
#[derive(Clone)]
struct PackageTrust {
    keyring: Option<Arc<Keyring>>,
    strict: bool,
}

impl Fetcher {
    pub fn new(options: FetchOptions) -> Result<Fetcher> {
        let credentials = HostCredentials::parse(options.http_auth.as_deref().unwrap_or(""))?;
        let parallelism = options.parallelism.max(1);
        let http = Http::new(credentials, options.retry, options.timeouts, parallelism)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("rapko-fetch")
            .enable_all()
            .build()
            .map_err(|e| Error::Setup {
                reason: format!("cannot start the I/O runtime: {e}"),
            })?;
        let cache_dir = options.cache_dir.unwrap_or_else(cache::default_cache_dir);
        cache::check_cache_dir(&cache_dir)?;
        Ok(Fetcher {
            shared: Arc::new(Shared {
                http,
                cache: Cache::new(cache_dir),
                offline: options.offline,
                ignore_signatures: options.ignore_signatures,
                strict_signatures: options.strict_signatures,
                limits: options.limits,
                downloads: Arc::new(Semaphore::new(parallelism)),
                progress: options.progress,
                release_bytes: options.release_bytes,
            }),
            runtime: Arc::new(Runtime(Some(runtime))),
        })
    }

    /// The cache directory in use.
    pub fn cache_dir(&self) -> &Path {
        self.shared.cache.root()
    }

    /// Loads keys from files, directories (every file in it), `file://` and http(s) URLs.
    /// A key is named by its file name, as apk names it.
    pub fn load_keyring<S: AsRef<str>>(&self, entries: &[S]) -> Result<Keyring> {
        let mut keyring = Keyring::new();
        self.add_keys(&mut keyring, entries)?;
        Ok(keyring)
    }

    /// Adds keys to an existing keyring (see [`Fetcher::load_keyring`]).
    pub fn add_keys<S: AsRef<str>>(&self, keyring: &mut Keyring, entries: &[S]) -> Result<()> {
        for entry in entries {
            let entry = entry.as_ref().trim();
            match spec::local_path(entry) {
                Some(path) if path.is_dir() => add_key_dir(keyring, path)?,
                Some(path) => add_key_file(keyring, path)?,
                None => {
                    let (name, url, bytes) = self.block_on(self.shared.fetch_key(entry))??;
                    keyring.add(&name, &bytes).map_err(|source| Error::BadKey {
                        name,
                        url: url.to_string(),
                        source: Box::new(source),
                    })?;
                }
            }
        }
        Ok(())
    }

    /// Loads and verifies `<repo>/<arch>/APKINDEX.tar.gz`: in place for a local repository;
    /// over http(s) revalidated against the cached copy (or from the cache alone, offline).
    pub fn load_index(
        &self,
        spec: &RepoSpec,
        arch: &str,
        keyring: &Keyring,
    ) -> Result<LoadedIndex> {
        let resource = spec.index_resource(arch);
        let url = resource.display();
        let trust = if self.shared.ignore_signatures {
            tracing::warn!(
                "NOT verifying the signature of {url}: --ignore-signatures is set, \
                 anyone who can alter this repository or the connection can alter the image"
            );
            Trust::Ignore
        } else {
            Trust::Keyring(keyring)
        };
        let read = |bytes: &[u8]| {
            ApkIndex::read(bytes, trust).map_err(|source| Error::Index {
                url: url.clone(),
                source: Box::new(source),
            })
        };
        let ((index, signed_by), origin) = match &resource {
            Resource::File(path) => (read(&read_local(path, "index")?)?, Origin::Local),
            Resource::Http(http_url) => self.block_on(self.shared.fetch_revalidated(
                Kind::Index,
                http_url,
                spec.auth(),
                self.shared.limits.index,
                read,
            ))??,
        };
        if let Some(key) = &signed_by {
            tracing::debug!("{url}: {} packages, signed by {key}", index.packages.len());
        }
        Ok(LoadedIndex {
            spec: spec.clone(),
            arch: arch.to_owned(),
            url,
            index,
            signed_by,
            origin,
            keyring: (!self.shared.ignore_signatures).then(|| Arc::new(keyring.clone())),
        })
    }

    /// Loads the indexes of several repositories at once (one thread each; downloads share
    /// the fetcher's connections). Results come in the order given; the first failure in
    /// that order is returned.
    pub fn load_indexes(
        &self,
        specs: &[RepoSpec],
        arch: &str,
        keyring: &Keyring,
    ) -> Result<Vec<LoadedIndex>> {
        std::thread::scope(|s| {
            let loads: Vec<_> = specs
                .iter()
                .map(|spec| s.spawn(move || self.load_index(spec, arch, keyring)))
                .collect();
            loads
                .into_iter()
                .map(|load| match load.join() {
                    Ok(result) => result,
                    Err(panic) => std::panic::resume_unwind(panic),
                })
                .collect()
        })
    }

    /// Fetches packages in parallel (at most `parallelism` at once), each verified against
    /// its index record. Results come in the order asked. When any fails, the error lists
    /// every failure; packages that did verify are cached all the same.
    pub fn fetch_packages(
        &self,
        wanted: &[(&LoadedIndex, &PackageInfo)],
    ) -> Result<Vec<FetchedPackage>> {
        let jobs: Vec<Job> = wanted
            .iter()
            .map(|(index, info)| Job {
                spec: index.spec.clone(),
                arch: index.arch.clone(),
                info: (*info).clone(),
                signatures: PackageTrust {
                    keyring: index.keyring.clone(),
                    strict: self.shared.strict_signatures,
                },
            })
            .collect();
        if let Some(progress) = &self.shared.progress {
            progress.batch(jobs.len(), jobs.iter().map(|j| j.info.file_size).sum());
        }
        let total = jobs.len();
        let shared = self.shared.clone();
        let results = self.block_on(async move {
            let tasks: Vec<_> = jobs
                .into_iter()
                .map(|job| tokio::spawn(shared.clone().fetch_one(job)))
                .collect();
            let mut results = Vec::with_capacity(tasks.len());
            for task in tasks {
                results.push(task.await);
            }
            results
        })?;
        let mut fetched = Vec::with_capacity(total);
        let mut errors = Vec::new();
        for result in results {
            match result {
                Ok(Ok(package)) => fetched.push(package),
                Ok(Err(e)) => errors.push(e),
                // A task panicked: a bug, not bad data. Carry the panic to the caller.
                Err(join) => std::panic::resume_unwind(join.into_panic()),
            }
        }
        match errors.len() {
            0 => Ok(fetched),
            1 if total == 1 => Err(errors.remove(0)),
            _ => Err(Error::Packages { total, errors }),
        }
    }

    /// Runs `fut` to completion on the internal runtime. From inside another runtime
    /// (where blocking would panic) it blocks a helper thread instead.
    fn block_on<F>(&self, fut: F) -> Result<F::Output>
    where
        F: Future + Send,
        F::Output: Send,
    {
        // Only `Drop` takes the runtime out, after which no method can run.
        let rt = self.runtime.0.as_ref().ok_or_else(|| Error::Setup {
            reason: "the I/O runtime is shut down".to_owned(),
        })?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Ok(rt.block_on(fut));
        }
        std::thread::scope(|s| match s.spawn(|| rt.block_on(fut)).join() {
            Ok(output) => Ok(output),
            Err(panic) => std::panic::resume_unwind(panic),
        })
    }
}

impl Shared {
    /// Gets an index or key over HTTP through the cache: the cached copy is revalidated
    /// (`If-None-Match`/`If-Modified-Since`) and used on 304; offline it is used as is.
    /// `check` verifies whatever bytes are used; what fails it is never cached.
    async fn fetch_revalidated<T>(
        &self,
        kind: Kind,
        url: &Url,
        auth: Option<&BasicAuth>,
        limit: u64,
        check: impl Fn(&[u8]) -> Result<T>,
    ) -> Result<(T, Origin)> {
        let path = self.cache.entry_path(kind, url);
        let cached = self.cache.read_entry(&path);
        let what = match kind {
            Kind::Index => "index",
            Kind::Key => "key",
        };
        if self.offline {
            let cached = cached.ok_or_else(|| Error::Offline {
                what: what.to_owned(),
                url: url.to_string(),
                cache: self.cache.root().to_owned(),
            })?;
            return Ok((check(&cached.bytes)?, Origin::Cached));
        }
        let mut get = Get {
            url,
            auth,
            what,
            limit,
            expected_size: None,
            conditional: cached.as_ref().map(|c| &c.validators),
            progress: None,
        };
        let mut fetched = self.http.get(&get).await?;
        if let Fetched::NotModified = fetched {
            let cached = cached.as_ref().map_or(&[][..], |c| &c.bytes);
            match check(cached) {
                Ok(value) => return Ok((value, Origin::Revalidated)),
                Err(e) => {
                    tracing::warn!("cached copy of {url} is not valid ({e}); fetching it again");
                    cache::discard(&path);
                    get.conditional = None;
                    fetched = self.http.get(&get).await?;
                }
            }
        }
        let Fetched::Body { bytes, validators } = fetched else {
            return Err(Error::Status {
                url: url.to_string(),
                status: 304,
                attempts: 1,
            });
        };
        let value = check(&bytes)?;
        if let Err(e) = self.cache.write_entry(&path, url, &validators, &bytes) {
            tracing::warn!("{e}; continuing without caching it");
        }
        Ok((value, Origin::Downloaded))
    }

    /// Fetches a key from an http(s) URL; returns its name (the last path segment).
    async fn fetch_key(&self, text: &str) -> Result<(String, Url, Vec<u8>)> {
        let (url, auth) = spec::parse_remote(text).map_err(|reason| Error::BadRepository {
            spec: spec::redact_url(text),
            reason,
        })?;
        let name = key_name(&url).ok_or_else(|| Error::BadRepository {
            spec: url.to_string(),
            reason: "a key URL must end with the key's file name".to_owned(),
        })?;
        let check = |bytes: &[u8]| {
            // Parse it here too, so a broken download is never cached.
            Keyring::new()
                .add(&name, bytes)
                .map(|()| bytes.to_vec())
                .map_err(|source| Error::BadKey {
                    name: name.clone(),
                    url: url.to_string(),
                    source: Box::new(source),
                })
        };
        let (bytes, _) = self
            .fetch_revalidated(Kind::Key, &url, auth.as_ref(), self.limits.key, check)
            .await?;
        Ok((name, url, bytes))
    }

    /// Fetches one package and reports its progress.
    async fn fetch_one(self: Arc<Self>, job: Job) -> Result<FetchedPackage> {
        // The semaphore is never closed, so acquiring only fails if it were; go on then.
        let _permit = self.downloads.clone().acquire_owned().await.ok();
        let package = job.info.name_version();
        let progress = self.progress.as_deref();
        if let Some(p) = progress {
            p.started(&package, Some(job.info.file_size).filter(|&n| n > 0));
        }
        let result = self.obtain(&job, &package).await;
        if let Some(p) = progress {
            let outcome = result.as_ref().map_or(Outcome::Failed, |f| f.origin);
            p.finished(&package, outcome);
        }
        result
    }

    async fn obtain(&self, job: &Job, package: &str) -> Result<FetchedPackage> {
        let checksum = match job.info.checksum {
            Some(c) => Some(c),
            None if self.ignore_signatures => None,
            None => {
                return Err(Error::NoChecksum {
                    package: package.to_owned(),
                });
            }
        };
        let result = match job.spec.package_resource(&job.arch, package) {
            Resource::File(path) => self.obtain_local(job, package, checksum, path).await,
            Resource::Http(url) => self.obtain_remote(job, package, checksum, url).await,
        };
        // A missing file named after an invalid version: the version is the problem.
        match (result, rapko_apk::version::validate(&job.info.version)) {
            (Err(Error::PackageNotFound { url, .. }), Err(invalid)) => Err(Error::InvalidVersion {
                package: job.info.name.clone(),
                version: job.info.version.clone(),
                reason: invalid.reason,
                url,
            }),
            (result, _) => result,
        }
    }

    async fn obtain_local(
        &self,
        job: &Job,
        package: &str,
        checksum: Option<ControlChecksum>,
        path: PathBuf,
    ) -> Result<FetchedPackage> {
        let url = path.display().to_string();
        let task = {
            let (path, package, url) = (path.clone(), package.to_owned(), url.clone());
            let trust = job.signatures.clone();
            move || {
                let bytes = std::fs::read(&path).map_err(|source| match source.kind() {
                    std::io::ErrorKind::NotFound => Error::PackageNotFound {
                        package: package.clone(),
                        url: url.clone(),
                    },
                    _ => Error::Read { path, source },
                })?;
                let parsed = verify(&bytes, checksum.as_ref())
                    .and_then(|p| check_signature(p, &bytes, &trust, &package))
                    .map_err(|source| Error::Refused {
                        package,
                        url,
                        source: Box::new(source),
                    })?;
                Ok((bytes, parsed))
            }
        };
        let (bytes, parsed) = blocking(task).await?;
        self.report_bytes(package, bytes.len());
        Ok(self.fetched(job, bytes, parsed, Outcome::Local, Some(path), url))
    }

    async fn obtain_remote(
        &self,
        job: &Job,
        package: &str,
        checksum: Option<ControlChecksum>,
        url: Url,
    ) -> Result<FetchedPackage> {
        let cache_path = checksum.map(|c| self.cache.package_path(&c));
        let cached = match (&cache_path, checksum) {
            (Some(path), Some(checksum)) => read_cached_package(path.clone(), checksum).await?,
            _ => None,
        };
        if let Some((bytes, parsed)) = cached {
            let parsed =
                check_signature(parsed, &bytes, &job.signatures, package).map_err(|source| {
                    Error::Refused {
                        package: package.to_owned(),
                        url: url.to_string(),
                        source: Box::new(source),
                    }
                })?;
            self.report_bytes(package, bytes.len());
            return Ok(self.fetched(job, bytes, parsed, Outcome::Cached, cache_path, &url));
        }
        if self.offline {
            return Err(Error::Offline {
                what: format!("package {package}"),
                url: url.to_string(),
                cache: self.cache.root().to_owned(),
            });
        }
        let bytes = self.download_package(job, package, &url).await?;
        let task = {
            let (package, url_text, store) =
                (package.to_owned(), url.to_string(), cache_path.clone());
            let trust = job.signatures.clone();
            move || verify_and_store(bytes, checksum, &trust, store.as_deref(), package, url_text)
        };
        let (bytes, parsed, stored) = blocking(task).await?;
        let path = if stored { cache_path } else { None };
        Ok(self.fetched(job, bytes, parsed, Outcome::Downloaded, path, &url))
    }

    async fn download_package(&self, job: &Job, package: &str, url: &Url) -> Result<Vec<u8>> {
        let progress = self.progress.as_deref().map(|p| (p, package));
        let get = Get {
            url,
            auth: job.spec.auth(),
            what: "package",
            limit: self.limits.package,
            expected_size: Some(job.info.file_size).filter(|&n| n > 0),
            conditional: None,
            progress,
        };
        match self.http.get(&get).await {
            Ok(Fetched::Body { bytes, .. }) => Ok(bytes),
            Ok(Fetched::NotModified) => Err(Error::Status {
                url: url.to_string(),
                status: 304,
                attempts: 1,
            }),
            Err(Error::NotFound { url, .. }) => Err(Error::PackageNotFound {
                package: package.to_owned(),
                url,
            }),
            Err(e) => Err(e),
        }
    }

    fn fetched(
        &self,
        job: &Job,
        bytes: Vec<u8>,
        parsed: ApkPackage,
        origin: Outcome,
        path: Option<PathBuf>,
        url: impl ToString,
    ) -> FetchedPackage {
        let bytes = if self.release_bytes && path.is_some() {
            Vec::new()
        } else {
            bytes
        };
        FetchedPackage {
            info: job.info.clone(),
            bytes,
            parsed,
            origin,
            path,
            url: url.to_string(),
        }
    }

    fn report_bytes(&self, package: &str, len: usize) {
        if let Some(p) = &self.progress {
            p.advanced(package, len as u64);
        }
    }
}

/// The chain of trust below the index: control member → `C:`, data member → `datahash`.
/// Packages without a datahash are refused: nothing would then cover their files.
fn verify(bytes: &[u8], checksum: Option<&ControlChecksum>) -> rapko_apk::Result<ApkPackage> {
    let parsed = ApkPackage::parse(bytes)?;
    if let Some(expected) = checksum {
        parsed.verify_checksum(expected)?;
    }
    parsed.verify_datahash(bytes, true)?;
    Ok(parsed)
}

/// The package's own signature. The index already vouches for the package (its `C:`), so
/// a signature that does not verify (an unknown key, say) is a warning, as apk-tools
/// reports an untrusted signature; with `strict` it refuses the package.
fn check_signature(
    parsed: ApkPackage,
    bytes: &[u8],
    trust: &PackageTrust,
    package: &str,
) -> rapko_apk::Result<ApkPackage> {
    let Some(keyring) = &trust.keyring else {
        return Ok(parsed);
    };
    match parsed.verify_signature(bytes, keyring) {
        Ok(_) => Ok(parsed),
        Err(e) if trust.strict => Err(rapko_apk::Error::Signature(e)),
        Err(rapko_apk::SignatureError::Unsigned) => Ok(parsed),
        Err(e) => {
            tracing::warn!(
                "package {package}: UNTRUSTED signature ({e}); accepted because its signed \
                 index lists its checksum; --strict-signatures refuses such packages"
            );
            Ok(parsed)
        }
    }
}

/// Verifies a download and, only if it passes, stores it in the cache. A failed store is
/// not an error (the bytes are good); it says so and reports `false`.
fn verify_and_store(
    bytes: Vec<u8>,
    checksum: Option<ControlChecksum>,
    trust: &PackageTrust,
    store: Option<&Path>,
    package: String,
    url: String,
) -> Result<(Vec<u8>, ApkPackage, bool)> {
    let parsed =
        verify(&bytes, checksum.as_ref()).and_then(|p| check_signature(p, &bytes, trust, &package));
    let parsed = parsed.map_err(|source| Error::Refused {
        package,
        url,
        source: Box::new(source),
    })?;
    let stored = match store {
        Some(path) => match cache::write_atomic(path, &bytes) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!("{e}; continuing without caching it");
                false
            }
        },
        None => false,
    };
    Ok((bytes, parsed, stored))
}

/// Reads and re-verifies a cached package; a damaged entry is removed and reads as absent.
async fn read_cached_package(
    path: PathBuf,
    checksum: ControlChecksum,
) -> Result<Option<(Vec<u8>, ApkPackage)>> {
    blocking(move || {
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(Error::Read { path, source }),
        };
        match verify(&bytes, Some(&checksum)) {
            Ok(parsed) => Ok(Some((bytes, parsed))),
            Err(e) => {
                tracing::warn!(
                    "cached {} fails verification ({e}); fetching it again",
                    path.display()
                );
                cache::discard(&path);
                Ok(None)
            }
        }
    })
    .await
}

/// Runs CPU or file work off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(join) => std::panic::resume_unwind(join.into_panic()),
    }
}

fn read_local(path: &Path, what: &'static str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => Error::NotFound {
            what,
            url: path.display().to_string(),
        },
        _ => Error::Read {
            path: path.to_owned(),
            source,
        },
    })
}

fn add_key_file(keyring: &mut Keyring, path: &Path) -> Result<()> {
    let bytes = read_local(path, "key")?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    keyring.add(&name, &bytes).map_err(|source| Error::BadKey {
        name,
        url: path.display().to_string(),
        source: Box::new(source),
    })
}

/// Every file in `dir` (apk's `/etc/apk/keys` layout), in name order.
fn add_key_dir(keyring: &mut Keyring, dir: &Path) -> Result<()> {
    let read_err = |source| Error::Read {
        path: dir.to_owned(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let path = entry.map_err(read_err)?.path();
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    files
        .iter()
        .try_for_each(|path| add_key_file(keyring, path))
}

/// The last path segment of a key URL, percent-decoded.
fn key_name(url: &Url) -> Option<String> {
    let last = url.path_segments()?.next_back().filter(|s| !s.is_empty())?;
    Some(
        percent_encoding::percent_decode_str(last)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_come_from_the_url() {
        let url = Url::parse("https://packages.wolfi.dev/os/wolfi-signing.rsa.pub").expect("url");
        assert_eq!(key_name(&url).as_deref(), Some("wolfi-signing.rsa.pub"));
        let dir = Url::parse("https://packages.wolfi.dev/os/").expect("url");
        assert_eq!(key_name(&dir), None);
    }

    #[test]
    fn options_debug_hides_http_auth() {
        let options = FetchOptions {
            http_auth: Some("basic:h:u:hunter2".to_owned()),
            ..FetchOptions::default()
        };
        assert!(!format!("{options:?}").contains("hunter2"));
    }

    #[test]
    fn bad_http_auth_is_refused_at_construction() {
        let options = FetchOptions {
            http_auth: Some("basic:only-host".to_owned()),
            ..FetchOptions::default()
        };
        let err = Fetcher::new(options).expect_err("malformed HTTP_AUTH");
        assert!(err.to_string().contains("HTTP_AUTH"), "{err}");
    }
}
