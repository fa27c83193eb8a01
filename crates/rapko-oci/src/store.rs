//! A content-addressed blob store on disk: where a build puts layers, configs and
//! manifests as it produces them, before they are assembled into an output.
//!
//! Blobs live at `<root>/blobs/sha256/<hex>` (the image-layout naming, so a store can be
//! linked or copied into a layout as is). Every write goes to a temporary file in the same
//! directory and is renamed into place once complete and hashed, so a blob path never
//! holds partial content, and concurrent writers of the same blob (two architectures
//! sharing a config, say) cannot corrupt it. A store is either temporary (removed when
//! dropped) or a persistent directory such as a cache.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use tempfile::{NamedTempFile, TempDir};

use crate::config::ImageConfig;
use crate::descriptor::{Descriptor, to_json_blob};
use crate::digest::{Digest, HashingWriter};
use crate::gzip::{GzipError, GzipOptions, LayerInfo, LayerWriter};
use crate::manifest::{ImageIndex, ImageManifest};

/// Errors of the blob store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store directory could not be created.
    #[error(
        "cannot create blob store directory {path}: {source}; check that its parent exists and is writable"
    )]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Writing a blob failed.
    #[error("cannot write blob into {path}: {source}")]
    Write {
        /// The file or directory written to.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Reading a blob failed.
    #[error("cannot read blob {digest} from {path}: {source}")]
    Read {
        /// The blob.
        digest: Digest,
        /// Its path.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A blob's bytes are not the JSON they were expected to be.
    #[error("blob {digest} at {path} is not a valid {what}: {source}")]
    Json {
        /// The blob.
        digest: Digest,
        /// Its path.
        path: PathBuf,
        /// What was expected ("image manifest", …).
        what: &'static str,
        /// The parse error.
        source: serde_json::Error,
    },
    /// A value could not be serialized (only possible for foreign `Serialize` impls).
    #[error("cannot serialize a {what} to JSON: {source}")]
    Serialize {
        /// What was being serialized.
        what: &'static str,
        /// The cause.
        source: serde_json::Error,
    },
    /// Compressing a layer failed.
    #[error("cannot write layer into blob store {root}: {source}")]
    Layer {
        /// The store root.
        root: PathBuf,
        /// The cause.
        source: GzipError,
    },
}

/// A directory of blobs named by digest.
#[derive(Debug)]
pub struct BlobStore {
    root: PathBuf,
    blobs: PathBuf,
    /// Keeps a temporary store alive; removes it on drop.
    _temp: Option<TempDir>,
}

impl BlobStore {
    /// A new, empty store in the system temporary directory, removed when dropped.
    pub fn temporary() -> Result<Self, StoreError> {
        Self::temporary_in(&std::env::temp_dir())
    }

    /// A new, empty store inside `parent`, removed when dropped. Put it on the same
    /// filesystem as the output so that writing a layout directory can hard-link blobs
    /// instead of copying them.
    pub fn temporary_in(parent: &Path) -> Result<Self, StoreError> {
        let temp = tempfile::Builder::new()
            .prefix(".rapko-blobs-")
            .tempdir_in(parent)
            .map_err(|source| StoreError::CreateDir {
                path: parent.to_owned(),
                source,
            })?;
        let mut store = Self::open(temp.path())?;
        store._temp = Some(temp);
        Ok(store)
    }

    /// A persistent store at `dir`, created if missing; existing blobs are kept.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let blobs = dir.join("blobs").join(Digest::ALGORITHM);
        fs::create_dir_all(&blobs).map_err(|source| StoreError::CreateDir {
            path: blobs.clone(),
            source,
        })?;
        Ok(Self {
            root: dir.to_owned(),
            blobs,
            _temp: None,
        })
    }

    /// The store's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where blob `digest` is (or would be) stored.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.blobs.join(digest.hex())
    }

    /// True if blob `digest` is present.
    pub fn contains(&self, digest: &Digest) -> bool {
        self.blob_path(digest).is_file()
    }

    /// Stores `bytes` and returns their descriptor.
    pub fn put_bytes(&self, bytes: &[u8], media_type: &str) -> Result<Descriptor, StoreError> {
        let digest = Digest::of(bytes);
        let descriptor = Descriptor::new(media_type, digest, bytes.len() as u64);
        if self.contains(&digest) {
            return Ok(descriptor);
        }
        let mut tmp = self.temp_file()?;
        tmp.write_all(bytes)
            .map_err(|source| self.write_error(source))?;
        self.persist(tmp, &digest)?;
        Ok(descriptor)
    }

    /// Serializes `value` as compact JSON ([`to_json_blob`]) and stores it.
    pub fn put_json<T: Serialize + ?Sized>(
        &self,
        value: &T,
        media_type: &str,
    ) -> Result<Descriptor, StoreError> {
        let (bytes, descriptor) =
            to_json_blob(value, media_type).map_err(|source| StoreError::Serialize {
                what: "json blob",
                source,
            })?;
        self.put_bytes(&bytes, &descriptor.media_type)
    }

    /// Stores an image config; the descriptor goes into the manifest's `config`.
    pub fn put_config(&self, config: &ImageConfig) -> Result<Descriptor, StoreError> {
        let (bytes, d) = config.to_blob().map_err(|source| StoreError::Serialize {
            what: "image config",
            source,
        })?;
        self.put_bytes(&bytes, &d.media_type)
    }

    /// Stores an image manifest; add a platform to the descriptor to list it in an index.
    pub fn put_manifest(&self, manifest: &ImageManifest) -> Result<Descriptor, StoreError> {
        let (bytes, d) = manifest.to_blob().map_err(|source| StoreError::Serialize {
            what: "image manifest",
            source,
        })?;
        self.put_bytes(&bytes, &d.media_type)
            .map(|stored| Descriptor {
                artifact_type: d.artifact_type,
                ..stored
            })
    }

    /// Stores an image index.
    pub fn put_index(&self, index: &ImageIndex) -> Result<Descriptor, StoreError> {
        let (bytes, d) = index.to_blob().map_err(|source| StoreError::Serialize {
            what: "image index",
            source,
        })?;
        self.put_bytes(&bytes, &d.media_type)
    }

    /// Stores everything `reader` yields, streamed (for SBOMs and other large blobs).
    pub fn put_reader(
        &self,
        mut reader: impl Read,
        media_type: &str,
    ) -> Result<Descriptor, StoreError> {
        let mut w = self.blob_writer()?;
        io::copy(&mut reader, &mut w).map_err(|source| self.write_error(source))?;
        w.finish(media_type)
    }

    /// A writer for a blob of unknown digest; [`BlobWriter::finish`] stores it.
    pub fn blob_writer(&self) -> Result<BlobWriter<'_>, StoreError> {
        Ok(BlobWriter {
            store: self,
            out: HashingWriter::new(self.temp_file()?),
        })
    }

    /// A layer writer whose compressed output becomes a blob of this store: write the
    /// uncompressed tar into it, then call [`StoreLayerWriter::finish`].
    pub fn layer_writer(&self, opts: GzipOptions) -> Result<StoreLayerWriter<'_>, StoreError> {
        let tmp = self.temp_file()?;
        let file = tmp.reopen().map_err(|source| self.write_error(source))?;
        let inner = LayerWriter::new(file, opts).map_err(|source| StoreError::Layer {
            root: self.root.clone(),
            source,
        })?;
        Ok(StoreLayerWriter {
            store: self,
            tmp,
            inner,
        })
    }

    /// Opens blob `digest` for streaming.
    pub fn open_blob(&self, digest: &Digest) -> Result<File, StoreError> {
        let path = self.blob_path(digest);
        File::open(&path).map_err(|source| StoreError::Read {
            digest: *digest,
            path,
            source,
        })
    }

    /// Reads a whole blob (meant for JSON blobs, which are small).
    pub fn read(&self, digest: &Digest) -> Result<Vec<u8>, StoreError> {
        let path = self.blob_path(digest);
        fs::read(&path).map_err(|source| StoreError::Read {
            digest: *digest,
            path,
            source,
        })
    }

    /// Reads and parses a JSON blob; `what` names it in errors.
    pub fn read_json<T: DeserializeOwned>(
        &self,
        digest: &Digest,
        what: &'static str,
    ) -> Result<T, StoreError> {
        let bytes = self.read(digest)?;
        serde_json::from_slice(&bytes).map_err(|source| StoreError::Json {
            digest: *digest,
            path: self.blob_path(digest),
            what,
            source,
        })
    }

    fn temp_file(&self) -> Result<NamedTempFile, StoreError> {
        tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&self.blobs)
            .map_err(|source| self.write_error(source))
    }

    fn write_error(&self, source: io::Error) -> StoreError {
        StoreError::Write {
            path: self.blobs.clone(),
            source,
        }
    }

    /// Moves a complete temporary file to its content address.
    fn persist(&self, tmp: NamedTempFile, digest: &Digest) -> Result<(), StoreError> {
        let path = self.blob_path(digest);
        if path.is_file() {
            // Same digest, same bytes: keep the existing file (it may be hard-linked).
            return Ok(());
        }
        readable_by_all(tmp.as_file()).map_err(|source| self.write_error(source))?;
        tmp.persist(&path).map_err(|e| StoreError::Write {
            path,
            source: e.error,
        })?;
        Ok(())
    }
}

/// tempfile creates files readable by the owner only; blobs are meant to be shared.
pub(crate) fn readable_by_all(file: &File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// A blob being streamed into a [`BlobStore`].
#[derive(Debug)]
pub struct BlobWriter<'a> {
    store: &'a BlobStore,
    out: HashingWriter<NamedTempFile>,
}

impl BlobWriter<'_> {
    /// Stores the blob under its digest and returns its descriptor.
    pub fn finish(mut self, media_type: &str) -> Result<Descriptor, StoreError> {
        self.out
            .flush()
            .map_err(|source| self.store.write_error(source))?;
        let (tmp, digest, size) = self.out.finish();
        self.store.persist(tmp, &digest)?;
        Ok(Descriptor::new(media_type, digest, size))
    }
}

impl Write for BlobWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// A gzip layer being written into a [`BlobStore`] (see [`LayerWriter`]).
#[derive(Debug)]
pub struct StoreLayerWriter<'a> {
    store: &'a BlobStore,
    tmp: NamedTempFile,
    inner: LayerWriter<File>,
}

impl StoreLayerWriter<'_> {
    /// See [`LayerWriter::append_gzip_member`].
    pub fn append_gzip_member(
        &mut self,
        member: impl Read,
        uncompressed: impl Read,
    ) -> Result<(), StoreError> {
        self.inner
            .append_gzip_member(member, uncompressed)
            .map_err(|source| StoreError::Layer {
                root: self.store.root.clone(),
                source,
            })
    }

    /// Ends the layer, stores it under its digest, and reports it; the descriptor for the
    /// manifest is [`LayerInfo::descriptor`].
    pub fn finish(self) -> Result<LayerInfo, StoreError> {
        let Self { store, tmp, inner } = self;
        let info = inner.finish().map_err(|source| StoreError::Layer {
            root: store.root.clone(),
            source,
        })?;
        store.persist(tmp, &info.digest)?;
        Ok(info)
    }
}

impl Write for StoreLayerWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        // LayerWriter consumes whole buffers; skip the default loop's per-call overhead.
        self.inner.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media;

    #[test]
    fn put_and_read_back() {
        let store = BlobStore::temporary().unwrap();
        let d = store.put_bytes(b"hello", "text/plain").unwrap();
        assert_eq!(d.digest, Digest::of(b"hello"));
        assert_eq!(d.size, 5);
        assert_eq!(store.read(&d.digest).unwrap(), b"hello");
        assert!(
            store
                .blob_path(&d.digest)
                .ends_with(format!("blobs/sha256/{}", d.digest.hex()))
        );
        // Storing again is a no-op with the same answer.
        assert_eq!(store.put_bytes(b"hello", "text/plain").unwrap(), d);
    }

    #[test]
    fn no_temporary_files_left_behind() {
        let store = BlobStore::temporary().unwrap();
        store.put_bytes(b"a", "x/y").unwrap();
        let mut w = store.layer_writer(GzipOptions::default()).unwrap();
        w.write_all(b"tar").unwrap();
        let info = w.finish().unwrap();
        let names: Vec<_> = fs::read_dir(store.root().join("blobs/sha256"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(
            names.iter().all(|n| Digest::from_hex(n).is_ok()),
            "{names:?}"
        );
        let gz = store.read(&info.digest).unwrap();
        assert_eq!(Digest::of(&gz), info.digest);
        assert_eq!(info.descriptor().media_type, media::OCI_LAYER_GZIP);
    }

    #[test]
    fn dropped_layer_writer_leaves_nothing() {
        let store = BlobStore::temporary().unwrap();
        {
            let mut w = store.layer_writer(GzipOptions::default()).unwrap();
            w.write_all(&[7u8; 300_000]).unwrap();
        }
        assert_eq!(
            fs::read_dir(store.root().join("blobs/sha256"))
                .unwrap()
                .count(),
            0
        );
    }

    #[test]
    fn temporary_store_is_removed_on_drop() {
        let store = BlobStore::temporary().unwrap();
        let root = store.root().to_owned();
        assert!(root.is_dir());
        drop(store);
        assert!(!root.exists());
    }

    #[test]
    fn read_json_reports_the_blob() {
        let store = BlobStore::temporary().unwrap();
        let d = store.put_bytes(b"not json", "x/y").unwrap();
        let err = store
            .read_json::<ImageManifest>(&d.digest, "image manifest")
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(&d.digest.to_string()) && msg.contains("image manifest"),
            "{msg}"
        );
    }

    #[test]
    fn streamed_blob() {
        let store = BlobStore::temporary().unwrap();
        let d = store
            .put_reader(&b"sbom"[..], "application/spdx+json")
            .unwrap();
        assert_eq!(d.digest, Digest::of(b"sbom"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(store.blob_path(&d.digest))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o644);
        }
    }
}
