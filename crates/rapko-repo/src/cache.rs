//! The on-disk cache: packages by control checksum (`packages/<sha1 hex>.apk`, immutable, so
//! never revalidated), indexes and keys by the SHA-256 of their URL (`indexes/<hex>`,
//! `keys/<hex>`), stored with the `ETag`/`Last-Modified` they came with.
//!
//! Nothing here is trusted: every read is verified again by the caller, and an entry that
//! fails is dropped. Writes go to a temporary file in the same directory and are renamed into
//! place, so processes sharing a cache never see half a file and need no locks: when two
//! write the same entry, both copies are complete and the last rename wins.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use rapko_apk::ControlChecksum;
use reqwest::Url;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::http::Validators;

const PACKAGES: &str = "packages";
const INDEXES: &str = "indexes";
const KEYS: &str = "keys";
/// First line of an index or key entry; bump when the layout changes.
const MAGIC: &str = "rapko-cache 1";
/// `tempfile`'s prefix for files not yet renamed into place.
const TEMP_PREFIX: &str = ".tmp";

/// The default cache directory: `$XDG_CACHE_HOME/rapko` (or the platform's equivalent),
/// else a directory under the system temporary directory.
pub fn default_cache_dir() -> PathBuf {
    dirs::cache_dir()
        .unwrap_or_else(|| std::env::temp_dir().join("rapko-cache"))
        .join("rapko")
}

/// A cache directory.
#[derive(Clone, Debug)]
pub(crate) struct Cache {
    root: PathBuf,
}

/// A cached index or key and the validators to revalidate it with.
#[derive(Debug)]
pub(crate) struct CachedFile {
    pub validators: Validators,
    pub bytes: Vec<u8>,
}

/// Which kind of revalidated entry.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    Index,
    Key,
}

impl Cache {
    pub(crate) fn new(root: PathBuf) -> Cache {
        Cache { root }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn package_path(&self, checksum: &ControlChecksum) -> PathBuf {
        self.root
            .join(PACKAGES)
            .join(format!("{}.apk", hex::encode(checksum.0)))
    }

    pub(crate) fn entry_path(&self, kind: Kind, url: &Url) -> PathBuf {
        let dir = match kind {
            Kind::Index => INDEXES,
            Kind::Key => KEYS,
        };
        // The URL holds no credentials (they are split off at parse time), so the same
        // repository with other credentials shares an entry: the content is the same.
        self.root
            .join(dir)
            .join(hex::encode(Sha256::digest(url.as_str().as_bytes())))
    }

    /// Reads an index or key entry; `None` when absent or unreadable (a damaged entry is
    /// the same as a missing one: it is fetched again).
    pub(crate) fn read_entry(&self, path: &Path) -> Option<CachedFile> {
        let raw = match fs::read(path) {
            Ok(raw) => raw,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!("ignoring unreadable cache entry {}: {e}", path.display());
                return None;
            }
        };
        let parsed = parse_entry(raw);
        if parsed.is_none() {
            tracing::warn!("ignoring damaged cache entry {}", path.display());
        }
        parsed
    }

    pub(crate) fn write_entry(
        &self,
        path: &Path,
        url: &Url,
        validators: &Validators,
        bytes: &[u8],
    ) -> Result<()> {
        let mut out = format!("{MAGIC}\nurl {url}\n");
        if let Some(etag) = &validators.etag {
            out.push_str(&format!("etag {etag}\n"));
        }
        if let Some(date) = &validators.last_modified {
            out.push_str(&format!("last-modified {date}\n"));
        }
        out.push('\n');
        let mut data = out.into_bytes();
        data.extend_from_slice(bytes);
        write_atomic(path, &data)
    }
}

/// Splits an entry into its header lines and body.
fn parse_entry(mut raw: Vec<u8>) -> Option<CachedFile> {
    let end = raw.windows(2).position(|w| w == b"\n\n")?;
    let header = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = header.lines();
    if lines.next()? != MAGIC {
        return None;
    }
    let mut validators = Validators::default();
    for line in lines {
        let (key, value) = line.split_once(' ')?;
        match key {
            "etag" => validators.etag = Some(value.to_owned()),
            "last-modified" => validators.last_modified = Some(value.to_owned()),
            _ => {}
        }
    }
    let bytes = raw.split_off(end + 2);
    Some(CachedFile { validators, bytes })
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let fail = |source| Error::CacheWrite {
        path: path.to_owned(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(fail)?;
    let mut file = tempfile::NamedTempFile::with_prefix_in(TEMP_PREFIX, dir).map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

/// Removes a cache entry that failed verification; another process may have removed it.
pub(crate) fn discard(path: &Path) {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!("cannot remove bad cache entry {}: {e}", path.display()),
    }
}

/// What a cache holds (or, from [`cache_clean`], what was removed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CacheInfo {
    pub dir: PathBuf,
    /// Bytes in all entries.
    pub size: u64,
    /// Entries in all: packages + indexes + keys.
    pub entries: u64,
    pub packages: u64,
    pub indexes: u64,
    pub keys: u64,
}

/// Refuses a cache directory that is something else (a file): one clear error wherever the
/// cache is used, rather than a different "Not a directory" for each file inside it.
pub fn check_cache_dir(dir: &Path) -> Result<()> {
    match fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => Err(Error::CacheNotADirectory {
            path: dir.to_owned(),
        }),
        _ => Ok(()),
    }
}

/// Counts the entries of the cache at `dir`. A missing directory is an empty cache.
pub fn cache_info(dir: &Path) -> Result<CacheInfo> {
    check_cache_dir(dir)?;
    let mut info = CacheInfo {
        dir: dir.to_owned(),
        ..CacheInfo::default()
    };
    for sub in [PACKAGES, INDEXES, KEYS] {
        for (_, size) in entries(&dir.join(sub), false)? {
            info.size += size;
            info.entries += 1;
            match sub {
                PACKAGES => info.packages += 1,
                INDEXES => info.indexes += 1,
                _ => info.keys += 1,
            }
        }
    }
    Ok(info)
}

/// Empties the cache at `dir` (only what rapko put there, leftover temporary files included)
/// and says what was removed. Safe while another process uses the cache: it just fetches again.
pub fn cache_clean(dir: &Path) -> Result<CacheInfo> {
    let before = cache_info(dir)?;
    for sub in [PACKAGES, INDEXES, KEYS] {
        let path = dir.join(sub);
        for (file, _) in entries(&path, true)? {
            match fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => return Err(Error::CacheWrite { path: file, source }),
            }
        }
        // Fails harmlessly when another process has just added a file.
        let _ = fs::remove_dir(&path);
    }
    Ok(before)
}

/// The files directly in `dir` with their sizes; temporary files only when asked.
fn entries(dir: &Path, with_temp: bool) -> Result<Vec<(PathBuf, u64)>> {
    let read_err = |source| Error::Read {
        path: dir.to_owned(),
        source,
    };
    let listing = match fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(read_err(e)),
    };
    let mut out = Vec::new();
    for entry in listing {
        let entry = entry.map_err(read_err)?;
        let is_temp = entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX);
        // A file renamed or removed meanwhile by another process is simply skipped.
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_file() && (with_temp || !is_temp) {
            out.push((entry.path(), meta.len()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL parses")
    }

    #[test]
    fn entry_round_trips_with_validators() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = Cache::new(dir.path().to_owned());
        let u = url("https://repo.example/main/x86_64/APKINDEX.tar.gz");
        let path = cache.entry_path(Kind::Index, &u);
        let validators = Validators {
            etag: Some("\"abc\"".to_owned()),
            last_modified: Some("Mon, 01 Jan 2024 00:00:00 GMT".to_owned()),
        };
        let body = b"\x1f\x8b binary\n\nwith blank lines".to_vec();
        cache
            .write_entry(&path, &u, &validators, &body)
            .expect("write");
        let back = cache.read_entry(&path).expect("entry reads back");
        assert_eq!(back.validators, validators);
        assert_eq!(back.bytes, body);
    }

    #[test]
    fn damaged_entry_reads_as_missing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = Cache::new(dir.path().to_owned());
        let path = cache.entry_path(Kind::Key, &url("https://k.example/key.rsa.pub"));
        write_atomic(&path, b"not a cache entry").expect("write");
        assert!(cache.read_entry(&path).is_none());
        assert!(cache.read_entry(&dir.path().join("absent")).is_none());
    }

    #[test]
    fn info_and_clean_count_only_our_entries() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = Cache::new(dir.path().to_owned());
        write_atomic(&cache.package_path(&ControlChecksum([1; 20])), b"12345").expect("write");
        write_atomic(&cache.package_path(&ControlChecksum([2; 20])), b"123").expect("write");
        let u = url("https://r.example/x/APKINDEX.tar.gz");
        let index = cache.entry_path(Kind::Index, &u);
        cache
            .write_entry(&index, &u, &Validators::default(), b"idx")
            .expect("write");
        fs::write(dir.path().join(PACKAGES).join(".tmpleftover"), b"x").expect("write");
        fs::write(dir.path().join("unrelated"), b"keep").expect("write");

        let info = cache_info(dir.path()).expect("info");
        assert_eq!(
            (info.packages, info.indexes, info.keys, info.entries),
            (2, 1, 0, 3)
        );
        assert!(info.size >= 8);

        let removed = cache_clean(dir.path()).expect("clean");
        assert_eq!(removed, info);
        assert_eq!(cache_info(dir.path()).expect("info").entries, 0);
        assert!(
            !dir.path().join(PACKAGES).exists(),
            "temp files are cleaned too"
        );
        assert!(
            dir.path().join("unrelated").exists(),
            "only our entries are removed"
        );
    }

    #[test]
    fn missing_cache_is_empty() {
        let dir = tempfile::tempdir().expect("temp dir");
        let info = cache_info(&dir.path().join("none")).expect("info");
        assert_eq!(info.entries, 0);
        assert_eq!(
            cache_clean(&dir.path().join("none"))
                .expect("clean")
                .entries,
            0
        );
    }
}
