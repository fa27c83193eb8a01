//! Writing one tarball that is both an OCI image layout and a `docker load` archive.
//!
//! Entries, in this fixed order: `oci-layout`, `index.json`, `manifest.json`, the
//! directories `blobs/` and `blobs/sha256/`, then every blob sorted by digest, streamed
//! from the store. Headers are ustar with uid/gid 0, no user or group names, mode 0644
//! (0755 for directories) and one fixed mtime, so equal inputs give equal bytes. The tar
//! is written to a temporary file beside the destination and renamed over it at the
//! end: a failure never leaves a partial output.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;

use tar::{EntryType, Header};

use crate::digest::Digest;
use crate::store::{BlobStore, readable_by_all};

use super::{OCI_LAYOUT, OutputError, Plan, TaggedImage, blob_path};

/// Options of [`write_tarball`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TarballOptions {
    /// Modification time of every entry, seconds since the epoch (0 by default; pass
    /// the build's SOURCE_DATE_EPOCH to date the files like the image).
    pub mtime: u64,
}

/// Writes `images` from `store` as one tar file at `dest` (replaced if it exists).
pub fn write_tarball(
    store: &BlobStore,
    images: &[TaggedImage],
    dest: &Path,
    opts: &TarballOptions,
) -> Result<(), OutputError> {
    let plan = Plan::build(store, images)?;
    let err = |source| OutputError::Write {
        path: dest.to_owned(),
        source,
    };
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = dest
        .file_name()
        .map_or_else(|| "rapko".into(), |n| n.to_string_lossy().into_owned());
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .tempfile_in(dir)
        .map_err(err)?;
    let file = tmp.reopen().map_err(err)?;
    let mut tar = tar::Builder::new(BufWriter::with_capacity(256 * 1024, file));
    write_entries(&mut tar, store, &plan, opts.mtime).map_err(err)?;
    let mut out = tar.into_inner().map_err(err)?;
    out.flush().map_err(err)?;
    readable_by_all(tmp.as_file()).map_err(err)?;
    tmp.persist(dest).map_err(|e| err(e.error))?;
    Ok(())
}

fn write_entries<W: Write>(
    tar: &mut tar::Builder<W>,
    store: &BlobStore,
    plan: &Plan,
    mtime: u64,
) -> io::Result<()> {
    let index = plan.index_json(Vec::new()).map_err(io::Error::other)?;
    let manifest = plan.manifest_json().map_err(io::Error::other)?;
    append_file(tar, "oci-layout", OCI_LAYOUT, mtime)?;
    append_file(tar, "index.json", &index[..], mtime)?;
    append_file(tar, "manifest.json", &manifest[..], mtime)?;
    append_dir(tar, "blobs/", mtime)?;
    append_dir(tar, &format!("blobs/{}/", Digest::ALGORITHM), mtime)?;
    for (digest, &size) in &plan.sizes {
        let path = store.blob_path(digest);
        let file = File::open(&path)?;
        // Never more than the header promised, even if the file grew since the plan.
        let mut data = file.take(size);
        let mut header = header(EntryType::Regular, size, 0o644, mtime);
        tar.append_data(&mut header, blob_path(digest), &mut data)?;
        if data.limit() != 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("blob {} shrank while it was being written", path.display()),
            ));
        }
    }
    tar.finish()
}

fn append_file<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    bytes: &[u8],
    mtime: u64,
) -> io::Result<()> {
    let mut header = header(EntryType::Regular, bytes.len() as u64, 0o644, mtime);
    tar.append_data(&mut header, path, bytes)
}

fn append_dir<W: Write>(tar: &mut tar::Builder<W>, path: &str, mtime: u64) -> io::Result<()> {
    let mut header = header(EntryType::Directory, 0, 0o755, mtime);
    tar.append_data(&mut header, path, io::empty())
}

/// A ustar header with everything but the path set; `append_data` sets the path and
/// checksum.
fn header(kind: EntryType, size: u64, mode: u32, mtime: u64) -> Header {
    let mut h = Header::new_ustar();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    h
}
