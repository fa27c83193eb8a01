//! Writing an OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/`).
//!
//! Blobs are hard-linked from the store when it is on the same filesystem, else copied
//! through a temporary file and renamed, and skipped when already present, so writing
//! into an existing layout only adds what is new. `index.json` is written last, also by
//! rename: a reader never sees an index naming a blob that is not there yet. Entries of
//! an existing `index.json` are kept unless one of the new tags replaces them.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use crate::descriptor::Descriptor;
use crate::digest::Digest;
use crate::manifest::ImageIndex;
use crate::media::annotations;
use crate::store::{BlobStore, readable_by_all};

use super::{OCI_LAYOUT, OutputError, Plan, TaggedImage};

/// Writes `images` from `store` as an OCI image layout in directory `dest` (created if
/// missing; an existing layout is added to).
pub fn write_layout_dir(
    store: &BlobStore,
    images: &[TaggedImage],
    dest: &Path,
) -> Result<(), OutputError> {
    let plan = Plan::build(store, images)?;
    let blobs = dest.join("blobs").join(Digest::ALGORITHM);
    fs::create_dir_all(&blobs).map_err(|source| OutputError::Write {
        path: blobs.clone(),
        source,
    })?;
    let layout_file = dest.join("oci-layout");
    if !layout_file.is_file() {
        write_atomic(&layout_file, OCI_LAYOUT)?;
    }
    for (digest, size) in &plan.sizes {
        place_blob(&store.blob_path(digest), &blobs.join(digest.hex()), *size)?;
    }
    let kept = kept_entries(&dest.join("index.json"), &plan)?;
    write_atomic(&dest.join("index.json"), &plan.index_json(kept)?)
}

/// The entries of an existing `index.json` that none of the new tags replace.
fn kept_entries(path: &Path, plan: &Plan) -> Result<Vec<Descriptor>, OutputError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(OutputError::Write {
                path: path.to_owned(),
                source,
            });
        }
    };
    let existing: ImageIndex =
        serde_json::from_slice(&bytes).map_err(|source| OutputError::ExistingIndex {
            path: path.to_owned(),
            source,
        })?;
    let ref_name = |d: &Descriptor| d.annotations.get(annotations::REF_NAME).cloned();
    let ours: Vec<Option<String>> = plan.index_entries.iter().map(ref_name).collect();
    Ok(existing
        .manifests
        .into_iter()
        .filter(|d| {
            // Unnamed entries stay unless they are exactly one of ours.
            let name = ref_name(d);
            match name {
                Some(_) => !ours.contains(&name),
                None => !plan.index_entries.contains(d),
            }
        })
        .collect())
}

/// Puts blob `src` at `dst` unless a file of the right size is already there.
fn place_blob(src: &Path, dst: &Path, size: u64) -> Result<(), OutputError> {
    if fs::metadata(dst).is_ok_and(|m| m.is_file() && m.len() == size) {
        return Ok(());
    }
    // A link appears atomically with its full content; a wrong-sized file already at
    // `dst` (left by some other tool) makes it fail and is replaced by the copy below.
    if fs::hard_link(src, dst).is_ok() {
        return Ok(());
    }
    let dir = dst.parent().unwrap_or(Path::new("."));
    let write_err = |source| OutputError::Write {
        path: dst.to_owned(),
        source,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(write_err)?;
    let mut from = fs::File::open(src).map_err(|source| OutputError::Write {
        path: src.to_owned(),
        source,
    })?;
    io::copy(&mut from, &mut tmp).map_err(write_err)?;
    readable_by_all(tmp.as_file()).map_err(write_err)?;
    tmp.persist(dst).map_err(|e| write_err(e.error))?;
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let err = |source| OutputError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    readable_by_all(tmp.as_file()).map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}
