//! Content digests (`sha256:<64 hex>`) and one-pass hashing adapters.
//!
//! Every blob in an image is named by the SHA-256 of its bytes. [`Digest`] is that name,
//! parsed strictly (lowercase hex, exact length) so a malformed digest from a manifest
//! or a user is rejected before it becomes a file path. [`HashingWriter`] and
//! [`HashingReader`] compute the digest and size while the bytes pass through, so no blob
//! is ever read twice. Only `sha256` is supported: it is what every registry and tool
//! writes, and the only algorithm rapko produces.

use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};

/// Why a string is not a digest rapko accepts.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DigestError {
    /// No `algorithm:` prefix.
    #[error("invalid digest {0:?}: expected sha256:<64 lowercase hex digits>")]
    Malformed(String),
    /// A well-formed digest with an algorithm other than sha256.
    #[error("unsupported digest algorithm {algorithm:?} in {digest:?}: only sha256 is supported")]
    UnsupportedAlgorithm {
        /// The whole digest string.
        digest: String,
        /// The algorithm part.
        algorithm: String,
    },
    /// The hex part has the wrong length or characters (uppercase is rejected: the spec
    /// requires lowercase, and two spellings of one digest would name two files).
    #[error("invalid sha256 digest {0:?}: expected 64 lowercase hex digits after sha256:")]
    BadHex(String),
}

/// A SHA-256 content digest, displayed and serialized as `sha256:<hex>`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The algorithm name used in the string form and in `blobs/<algorithm>/`.
    pub const ALGORITHM: &'static str = "sha256";

    /// Wraps a raw SHA-256 value.
    pub fn from_sha256(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 64 lowercase hex digits, without the `sha256:` prefix (the blob's file name).
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The algorithm name, always `sha256`.
    pub fn algorithm(&self) -> &'static str {
        Self::ALGORITHM
    }

    /// Parses a bare 64-digit lowercase hex string (a blob file name).
    pub fn from_hex(hex_digits: &str) -> Result<Self, DigestError> {
        let bad = || DigestError::BadHex(format!("sha256:{hex_digits}"));
        let lowercase = hex_digits
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if hex_digits.len() != 64 || !lowercase {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(hex_digits, &mut out).map_err(|_| bad())?;
        Ok(Self(out))
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", Self::ALGORITHM, self.hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some((algorithm, hex_digits)) = s.split_once(':') else {
            return Err(DigestError::Malformed(s.to_owned()));
        };
        // The spec's grammar: algorithm = [a-z0-9]+ ([+._-] [a-z0-9]+)*, encoded = [a-zA-Z0-9=_-]+.
        let algorithm_ok = !algorithm.is_empty()
            && algorithm
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b));
        if !algorithm_ok || hex_digits.is_empty() {
            return Err(DigestError::Malformed(s.to_owned()));
        }
        if algorithm != Self::ALGORITHM {
            return Err(DigestError::UnsupportedAlgorithm {
                digest: s.to_owned(),
                algorithm: algorithm.to_owned(),
            });
        }
        Self::from_hex(hex_digits).map_err(|_| DigestError::BadHex(s.to_owned()))
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A running SHA-256 with a byte count: the state both hashing adapters share.
#[derive(Clone, Default)]
pub struct DigestHasher {
    sha: Sha256,
    size: u64,
}

impl DigestHasher {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        self.sha.update(bytes);
        self.size += bytes.len() as u64;
    }

    /// Bytes hashed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The digest and size of everything added.
    pub fn finish(self) -> (Digest, u64) {
        (Digest(self.sha.finalize().into()), self.size)
    }
}

impl fmt::Debug for DigestHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DigestHasher")
            .field("size", &self.size)
            .finish()
    }
}

/// A writer that hashes and counts what it passes on to `W`.
#[derive(Debug)]
pub struct HashingWriter<W> {
    inner: W,
    hasher: DigestHasher,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: DigestHasher::new(),
        }
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.hasher.size()
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The inner writer, mutably (writing to it directly bypasses the hash).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Returns the inner writer, the digest and the size of everything written.
    pub fn finish(self) -> (W, Digest, u64) {
        let (digest, size) = self.hasher.finish();
        (self.inner, digest, size)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        // Hash only what the inner writer accepted, so a short write is not counted twice.
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that hashes and counts what is read through it.
#[derive(Debug)]
pub struct HashingReader<R> {
    inner: R,
    hasher: DigestHasher,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: DigestHasher::new(),
        }
    }

    /// Bytes read so far.
    pub fn size(&self) -> u64 {
        self.hasher.size()
    }

    /// Returns the inner reader, the digest and the size of everything read.
    pub fn finish(self) -> (R, Digest, u64) {
        let (digest, size) = self.hasher.finish();
        (self.inner, digest, size)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Digest and size of everything `reader` yields, in one pass.
pub fn digest_reader(reader: impl Read) -> io::Result<(Digest, u64)> {
    let mut hashing = HashingReader::new(reader);
    io::copy(&mut hashing, &mut io::sink())?;
    let (_, digest, size) = hashing.finish();
    Ok((digest, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    // sha256("") and sha256("abc"), from FIPS 180-2.
    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const ABC: &str = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn known_values() {
        assert_eq!(Digest::of(b"").to_string(), EMPTY);
        assert_eq!(Digest::of(b"abc").to_string(), ABC);
    }

    #[test]
    fn parse_round_trip() {
        let d: Digest = ABC.parse().unwrap();
        assert_eq!(d, Digest::of(b"abc"));
        assert_eq!(d.to_string(), ABC);
        assert_eq!(Digest::from_hex(&d.hex()).unwrap(), d);
    }

    #[test]
    fn parse_rejects() {
        let upper = ABC.to_uppercase().replace("SHA256", "sha256");
        assert!(matches!(
            upper.parse::<Digest>(),
            Err(DigestError::BadHex(_))
        ));
        assert!(matches!(
            "sha256:abc".parse::<Digest>(),
            Err(DigestError::BadHex(_))
        ));
        assert!(matches!(
            "ba7816bf".parse::<Digest>(),
            Err(DigestError::Malformed(_))
        ));
        assert!(matches!(
            "sha512:abcd".parse::<Digest>(),
            Err(DigestError::UnsupportedAlgorithm { .. })
        ));
        assert!(matches!(
            ":abcd".parse::<Digest>(),
            Err(DigestError::Malformed(_))
        ));
        let with_path = format!("sha256:../{}", &ABC[10..]);
        assert!(with_path.parse::<Digest>().is_err());
    }

    #[test]
    fn serde_as_string() {
        let d = Digest::of(b"abc");
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, format!("\"{ABC}\""));
        let back: Digest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
        assert!(serde_json::from_str::<Digest>("\"sha256:zz\"").is_err());
    }

    #[test]
    fn hashing_adapters_agree() {
        let data = b"hello, layers".repeat(1000);
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(&data).unwrap();
        let (out, digest, size) = w.finish();
        assert_eq!(out, data);
        assert_eq!(digest, Digest::of(&data));
        assert_eq!(size, data.len() as u64);
        assert_eq!(
            digest_reader(&data[..]).unwrap(),
            (Digest::of(&data), data.len() as u64)
        );
    }
}
