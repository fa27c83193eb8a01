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
pub fn inflate_member(bytes: &[u8], offset: usize, limit: u64, what: &str) -> Result<(Vec<u8>, usize)> {
    let input = bytes.get(offset..).unwrap_or_default();
    let mut decoder = GzDecoder::new(input);
    let mut out = Vec::new();
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

/// Reads the regular files of a tar stream held in memory (it may lack the end-of-archive
/// blocks, as apk's leading members do).
pub fn tar_files(tar: &[u8]) -> Result<Vec<TarFile>> {
    let mut archive = tar::Archive::new(tar);
    let mut files = Vec::new();
    let entries = archive.entries().map_err(|e| Error::Tar(e.to_string()))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| Error::Tar(e.to_string()))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let size = entry.header().size().map_err(|e| Error::Tar(e.to_string()))?;
        if size > tar.len() as u64 {
            return Err(Error::Truncated(format!(
                "tar entry {name} claims {size} bytes but the member holds {}",
                tar.len()
            )));
        }
        let mut content = Vec::with_capacity(size as usize);
        entry
            .read_to_end(&mut content)
            .map_err(|e| Error::Tar(format!("{name}: {e}")))?;
        files.push(TarFile { name, content });
    }
    Ok(files)
}
