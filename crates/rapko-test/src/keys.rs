//! The committed test signing key and RSA PKCS#1 v1.5 signatures made with it.
//!
//! `keys/rapko-test.rsa` (PKCS#8 PEM private key) and `keys/rapko-test.rsa.pub` (SPKI PEM, the
//! shape of every apk key file) were generated once with `openssl genrsa 2048`. They protect
//! nothing: they exist so that tests can build packages that verify against a known keyring.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rsa::pkcs8::DecodePrivateKey;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sha1::{Digest, Sha1};
use sha2::Sha256;

/// File name of the test public key, as it appears in `.SIGN.RSA.<name>` entries and in
/// keyrings.
pub const TEST_KEY_NAME: &str = "rapko-test.rsa.pub";

/// The private key, compiled in so signing needs no file access at test time.
const PRIVATE_PEM: &str = include_str!("../keys/rapko-test.rsa");

/// The public key PEM (SPKI), compiled in.
const PUBLIC_PEM: &str = include_str!("../keys/rapko-test.rsa.pub");

/// The directory holding the test key pair: `rapko-test.rsa` (private, PKCS#8 PEM) and
/// [`TEST_KEY_NAME`] (public). Because it holds a private key too, a loader that reads every
/// file of a directory as a public key fails on it: use [`test_keyring_dir`] as a keyring.
pub fn test_key_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("keys")
}

/// A keyring directory (`/etc/apk/keys` layout) holding only the test public key,
/// [`TEST_KEY_NAME`].
pub fn test_keyring_dir() -> PathBuf {
    test_key_dir().join("keyring")
}

/// The full path of the test public key file.
pub fn test_public_key_path() -> PathBuf {
    test_key_dir().join(TEST_KEY_NAME)
}

/// The test public key as PEM text (`-----BEGIN PUBLIC KEY-----`, SPKI).
pub fn test_public_key_pem() -> &'static str {
    PUBLIC_PEM
}

/// How a package or index is signed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SignatureKind {
    /// No signature member at all.
    Unsigned,
    /// `.SIGN.RSA.<key>`: RSA PKCS#1 v1.5 over SHA-1 (what Alpine's abuild makes).
    #[default]
    RsaSha1,
    /// `.SIGN.RSA256.<key>`: RSA PKCS#1 v1.5 over SHA-256 (what melange makes).
    RsaSha256,
}

impl SignatureKind {
    /// The signature entry name for a key file name, or `None` when unsigned.
    pub fn entry_name(self, key_name: &str) -> Option<String> {
        match self {
            Self::Unsigned => None,
            Self::RsaSha1 => Some(format!(".SIGN.RSA.{key_name}")),
            Self::RsaSha256 => Some(format!(".SIGN.RSA256.{key_name}")),
        }
    }
}

/// The parsed private key, parsed once per test process.
fn private_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        RsaPrivateKey::from_pkcs8_pem(PRIVATE_PEM)
            .unwrap_or_else(|e| panic!("keys/rapko-test.rsa is not a PKCS#8 RSA key: {e}"))
    })
}

/// Signs `message` with the test key: RSA PKCS#1 v1.5 over its SHA-1 or SHA-256, the
/// signature apk verifies. Panics for [`SignatureKind::Unsigned`].
pub fn sign(kind: SignatureKind, message: &[u8]) -> Vec<u8> {
    let key = private_key();
    let result = match kind {
        SignatureKind::RsaSha1 => key.sign(Pkcs1v15Sign::new::<Sha1>(), &Sha1::digest(message)),
        SignatureKind::RsaSha256 => {
            key.sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message))
        }
        SignatureKind::Unsigned => panic!("sign() called with SignatureKind::Unsigned"),
    };
    result.unwrap_or_else(|e| panic!("RSA signing with the test key failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::RsaPublicKey;
    use rsa::pkcs8::DecodePublicKey;

    #[test]
    fn committed_public_key_matches_private_key() {
        let public = RsaPublicKey::from_public_key_pem(PUBLIC_PEM).expect("public key parses");
        assert_eq!(public, private_key().to_public_key());
        assert!(test_public_key_path().is_file());
    }

    #[test]
    fn keyring_dir_holds_only_the_public_key() {
        let names: Vec<_> = std::fs::read_dir(test_keyring_dir())
            .expect("keys/keyring exists")
            .map(|e| e.expect("dir entry").file_name())
            .collect();
        assert_eq!(names, [TEST_KEY_NAME]);
        let copy = std::fs::read_to_string(test_keyring_dir().join(TEST_KEY_NAME)).expect("read");
        assert_eq!(
            copy, PUBLIC_PEM,
            "keys/keyring/ must hold the same public key"
        );
    }

    #[test]
    fn signatures_verify_with_the_public_key() {
        let public = private_key().to_public_key();
        let msg = b"control member bytes";
        let s1 = sign(SignatureKind::RsaSha1, msg);
        assert_eq!(s1.len(), 256, "2048-bit key");
        public
            .verify(Pkcs1v15Sign::new::<Sha1>(), &Sha1::digest(msg), &s1)
            .expect("sha1 signature verifies");
        let s256 = sign(SignatureKind::RsaSha256, msg);
        public
            .verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(msg), &s256)
            .expect("sha256 signature verifies");
    }

    #[test]
    fn entry_names() {
        assert_eq!(
            SignatureKind::RsaSha1.entry_name(TEST_KEY_NAME).as_deref(),
            Some(".SIGN.RSA.rapko-test.rsa.pub")
        );
        assert_eq!(
            SignatureKind::RsaSha256.entry_name("k.rsa.pub").as_deref(),
            Some(".SIGN.RSA256.k.rsa.pub")
        );
        assert_eq!(SignatureKind::Unsigned.entry_name("k"), None);
    }
}
