//! Gzip member splitting and small tar members, shared by packages and indexes.
//!
//! An `.apk` and an `APKINDEX.tar.gz` are several gzip members back to back; signatures cover
//! the raw compressed bytes of later members, so we must know where each member ends. Only the
//! small leading members (signature, control) are inflated to find that out.

use std::io::Read;

use flate2::bufread::GzDecoder;

use crate::error::{Error, Result};

/// Inflates the gzip member starting at `bytes[offset..]`. Returns its content and the offset
/// just past it. Content over `limit` bytes is an error (a bomb or a mislabelled file).
pub fn inflate_member(
    bytes: &[u8],
    offset: usize,
    limit: u64,
    what: &str,
) -> Result<(Vec<u8>, usize)> {
    inflate_member_into(bytes, offset, limit, what, Vec::new())
}

/// [`inflate_member`] for the last member of `bytes`: its gzip trailer gives the inflated
/// size, so the output is allocated once instead of grown (and copied) a dozen times.
pub fn inflate_last_member(
    bytes: &[u8],
    offset: usize,
    limit: u64,
    what: &str,
) -> Result<(Vec<u8>, usize)> {
    let input = bytes.get(offset..).unwrap_or_default();
    let isize_trailer = input
        .len()
        .checked_sub(4)
        .and_then(|at| input.get(at..))
        .and_then(|t| <[u8; 4]>::try_from(t).ok())
        .map_or(0, u32::from_le_bytes);
    // The trailer is only a hint (it is the size mod 4 GiB, and the input may lie): never
    // reserve more than the limit or than deflate could produce from this input.
    let hint = u64::from(isize_trailer)
        .min(limit)
        .min((input.len() as u64).saturating_mul(1032));
    let out = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    inflate_member_into(bytes, offset, limit, what, out)
}

fn inflate_member_into(
    bytes: &[u8],
    offset: usize,
    limit: u64,
    what: &str,
    mut out: Vec<u8>,
) -> Result<(Vec<u8>, usize)> {
    let input = bytes.get(offset..).unwrap_or_default();
    let mut decoder = GzDecoder::new(input);
    (&mut decoder)
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|source| Error::Gzip { offset, source })?;
    if out.len() as u64 > limit {
        return Err(Error::TooLarge {
            what: what.to_owned(),
            actual: out.len() as u64,
            limit,
        });
    }
    let rest = decoder.into_inner().len();
    Ok((out, bytes.len() - rest))
}

/// A regular file in a small tar member.
#[derive(Clone, Debug)]
pub struct TarFile {
    pub name: String,
    pub content: Vec<u8>,
}

/// A regular file of a tar held in memory, borrowed from it.
#[derive(Clone, Debug)]
pub struct TarSlice<'a> {
    pub name: String,
    pub content: &'a [u8],
}

/// Reads the regular files of a tar stream held in memory (it may lack the end-of-archive
/// blocks, as apk's leading members do).
pub fn tar_files(tar: &[u8]) -> Result<Vec<TarFile>> {
    Ok(tar_slices(tar)?
        .into_iter()
        .map(|f| TarFile {
            name: f.name,
            content: f.content.to_vec(),
        })
        .collect())
}

/// [`tar_files`] without copying the contents out of `tar`.
pub fn tar_slices(tar: &[u8]) -> Result<Vec<TarSlice<'_>>> {
    // A seekable reader lets the tar crate skip over contents instead of copying them out.
    let mut archive = tar::Archive::new(std::io::Cursor::new(tar));
    let mut files = Vec::new();
    let entries = archive
        .entries_with_seek()
        .map_err(|e| Error::Tar(e.to_string()))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::Tar(e.to_string()))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let size = entry
            .header()
            .size()
            .map_err(|e| Error::Tar(e.to_string()))?;
        let start = entry.raw_file_position();
        let content = start
            .checked_add(size)
            .and_then(|end| tar.get(usize::try_from(start).ok()?..usize::try_from(end).ok()?))
            .ok_or_else(|| {
                Error::Truncated(format!(
                    "tar entry {name} claims {size} bytes but the member holds {}",
                    tar.len()
                ))
            })?;
        files.push(TarSlice { name, content });
    }
    Ok(files)
}
