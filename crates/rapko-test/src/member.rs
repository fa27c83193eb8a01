//! Gzip members and the signature member shared by packages and indexes.

use std::io::Write;

use flate2::{Compression, GzBuilder};

use crate::keys::{SignatureKind, sign};
use crate::tarw::{Header, Magic, TarWriter};

/// Compresses `data` as one gzip member the way `gzip -n` does: no name, mtime 0, OS byte
/// 3 (Unix). flate2 sets XFL itself (2 at level 9, like `gzip -9`).
pub(crate) fn gzip(data: &[u8], level: u32) -> Vec<u8> {
    let mut enc = GzBuilder::new().operating_system(3).write(
        Vec::with_capacity(data.len() / 2 + 64),
        Compression::new(level),
    );
    enc.write_all(data)
        .unwrap_or_else(|e| panic!("gzip into memory failed: {e}"));
    enc.finish()
        .unwrap_or_else(|e| panic!("gzip into memory failed: {e}"))
}

/// What goes into a signature member.
pub(crate) struct SignatureSpec<'a> {
    pub kind: SignatureKind,
    pub key_name: &'a str,
    pub mtime: u64,
    pub level: u32,
    /// Flip a bit of the signature after signing, to make it invalid.
    pub corrupt: bool,
}

/// The gzipped signature tar (one entry, no end-of-archive blocks) over `signed`, or `None`
/// for unsigned. Its header is old-GNU style with empty user and group names, as abuild-sign
/// writes it.
pub(crate) fn signature_member(spec: &SignatureSpec<'_>, signed: &[u8]) -> Option<Vec<u8>> {
    let name = spec.kind.entry_name(spec.key_name)?;
    assert!(
        name.len() <= 100,
        "signature entry name {name} is longer than a tar name field (100 bytes)"
    );
    let mut sig = sign(spec.kind, signed);
    if spec.corrupt {
        let mid = sig.len() / 2;
        sig[mid] ^= 0x01;
    }
    let mut tar = TarWriter::default();
    tar.entry(
        &Header {
            name: name.as_bytes(),
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: sig.len() as u64,
            mtime: spec.mtime,
            typeflag: b'0',
            linkname: b"",
            uname: "",
            gname: "",
            magic: Magic::Gnu,
        },
        &sig,
    );
    Some(gzip(&tar.buf, spec.level))
}
