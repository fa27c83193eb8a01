//! RSA keys and the signatures apk uses: PKCS#1 v1.5 over SHA-1 (`.SIGN.RSA.<key>`) or
//! SHA-256 (`.SIGN.RSA256.<key>`), checked with ring.
//!
//! Keys are apk's `.rsa.pub` files (PEM `PUBLIC KEY`, an SPKI wrapper around the PKCS#1 key).
//! A signature names its key by file name; we look it up with or without the `.rsa.pub`
//! ending, and when no key of that name exists we still try every key we hold: repositories
//! publish keys under names that differ from the one their signatures carry, and a signature
//! either verifies cryptographically or it does not — the name is only a hint.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use base64::Engine;
use ring::signature::{self, UnparsedPublicKey};

/// The digest a signature was made over.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SignatureAlgorithm {
    /// `.SIGN.RSA.`: RSA PKCS#1 v1.5 with SHA-1 (abuild's default).
    RsaSha1,
    /// `.SIGN.RSA256.`: RSA PKCS#1 v1.5 with SHA-256.
    RsaSha256,
}

impl SignatureAlgorithm {
    /// The tar entry prefix that announces this algorithm.
    pub fn entry_prefix(self) -> &'static str {
        match self {
            SignatureAlgorithm::RsaSha1 => ".SIGN.RSA.",
            SignatureAlgorithm::RsaSha256 => ".SIGN.RSA256.",
        }
    }

    /// Splits a signature entry name into its algorithm and key name.
    pub fn from_entry_name(name: &str) -> Option<(SignatureAlgorithm, &str)> {
        // RSA256 first: ".SIGN.RSA." is a prefix of neither, but keep the longer match first.
        for alg in [SignatureAlgorithm::RsaSha256, SignatureAlgorithm::RsaSha1] {
            if let Some(key) = name.strip_prefix(alg.entry_prefix()) {
                return Some((alg, key));
            }
        }
        None
    }
}

/// A signature found in a package or an index.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Signature {
    pub algorithm: SignatureAlgorithm,
    /// The key file name the signer used, e.g. `alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub`.
    pub key_name: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("not signed (no .SIGN.RSA entry)")]
    Unsigned,
    #[error(
        "signed by {}, which is not in the keyring ({})",
        signers.join(", "),
        describe_keys(have)
    )]
    UnknownKey {
        signers: Vec<String>,
        have: Vec<String>,
    },
    #[error(
        "signature by {key} does not verify: the signed content was changed or the signature is corrupt"
    )]
    Invalid { key: String },
}

fn describe_keys(have: &[String]) -> String {
    match have.len() {
        0 => "the keyring is empty".to_owned(),
        n => format!("{n} keys: {}", have.join(", ")),
    }
}

/// A set of trusted public keys, by file name.
#[derive(Clone, Default)]
pub struct Keyring {
    keys: BTreeMap<String, Vec<u8>>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.keys.keys()).finish()
    }
}

impl Keyring {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key from the bytes of a `.rsa.pub` file (PEM or DER, SPKI or PKCS#1).
    pub fn add(&mut self, name: &str, key_file: &[u8]) -> Result<(), crate::Error> {
        let der = pem_or_der(key_file).ok_or_else(|| crate::Error::BadKey {
            name: name.to_owned(),
            reason: "not a PEM or DER public key".to_owned(),
        })?;
        let pkcs1 = strip_spki(&der).unwrap_or(der);
        self.keys.insert(name.to_owned(), pkcs1);
        Ok(())
    }

    /// Adds every file in `dir` (apk's `/etc/apk/keys` layout).
    pub fn add_dir(&mut self, dir: &Path) -> Result<(), crate::Error> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            if path.is_file() {
                let name = entry.file_name().to_string_lossy().into_owned();
                self.add(&name, &std::fs::read(&path)?)?;
            }
        }
        Ok(())
    }

    /// Key names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.keys.keys().cloned().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The public key file (SPKI PEM) for a key, for writing `/etc/apk/keys` in an image.
    pub fn pem(&self, name: &str) -> Option<String> {
        self.keys.get(name).map(|pkcs1| spki_pem(pkcs1))
    }

    /// Verifies `signature` over `message`. Returns the name of the key that verified it.
    pub fn verify(&self, signature: &Signature, message: &[u8]) -> Result<&str, SignatureError> {
        let alg: &dyn signature::VerificationAlgorithm = match signature.algorithm {
            SignatureAlgorithm::RsaSha1 => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            SignatureAlgorithm::RsaSha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        };
        let check = |key: &[u8]| {
            UnparsedPublicKey::new(alg, key)
                .verify(message, &signature.bytes)
                .is_ok()
        };
        if let Some((name, key)) = self.lookup(&signature.key_name) {
            return if check(key) {
                Ok(name)
            } else {
                Err(SignatureError::Invalid {
                    key: signature.key_name.clone(),
                })
            };
        }
        // The named key is absent: a key published under another name may still be the one.
        self.keys
            .iter()
            .find(|(_, key)| check(key))
            .map(|(name, _)| name.as_str())
            .ok_or_else(|| SignatureError::UnknownKey {
                signers: vec![signature.key_name.clone()],
                have: self.names(),
            })
    }

    /// Verifies a list of signatures: any one valid signature is enough (as apk-tools).
    pub fn verify_any(
        &self,
        signatures: &[Signature],
        message: &[u8],
    ) -> Result<&str, SignatureError> {
        let mut last = SignatureError::Unsigned;
        for sig in signatures {
            match self.verify(sig, message) {
                Ok(name) => return Ok(name),
                Err(e) => last = e,
            }
        }
        if let SignatureError::UnknownKey { have, .. } = last {
            last = SignatureError::UnknownKey {
                signers: signatures.iter().map(|s| s.key_name.clone()).collect(),
                have,
            };
        }
        Err(last)
    }

    fn lookup(&self, name: &str) -> Option<(&str, &[u8])> {
        let bare = name.strip_suffix(".rsa.pub").unwrap_or(name);
        [name.to_owned(), bare.to_owned(), format!("{bare}.rsa.pub")]
            .iter()
            .find_map(|n| self.keys.get_key_value(n.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_slice()))
    }
}

/// Decodes PEM (any label) to DER, or passes DER through.
fn pem_or_der(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.first() == Some(&0x30) {
        return Some(bytes.to_vec());
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let start = text.find("-----BEGIN ")?;
    let body_start = start + text[start..].find('\n')? + 1;
    let body_end = body_start + text[body_start..].find("-----END ")?;
    let b64: String = text[body_start..body_end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// A DER element: (tag, content, rest).
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// SubjectPublicKeyInfo → the PKCS#1 RSAPublicKey inside its BIT STRING. `None` when the
/// input is not SPKI (it may already be PKCS#1).
fn strip_spki(der: &[u8]) -> Option<Vec<u8>> {
    let (0x30, spki, _) = der_element(der)? else {
        return None;
    };
    let (0x30, _algorithm, rest) = der_element(spki)? else {
        return None;
    };
    let (0x03, bits, _) = der_element(rest)? else {
        return None;
    };
    let (0, key) = bits.split_first()? else {
        return None;
    };
    Some(key.to_vec())
}

/// Wraps a PKCS#1 RSA public key back into SPKI PEM (the `.rsa.pub` file form).
fn spki_pem(pkcs1: &[u8]) -> String {
    // AlgorithmIdentifier for rsaEncryption with NULL parameters.
    const RSA_ALG: [u8; 15] = [
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut bits = vec![0u8];
    bits.extend_from_slice(pkcs1);
    let mut body = RSA_ALG.to_vec();
    body.extend(der_wrap(0x03, &bits));
    let der = der_wrap(0x30, &body);
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    pem
}

fn der_wrap(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// A private key for signing indexes (what `abuild-sign` does), always with SHA-256
/// (`.SIGN.RSA256.`): ring signs no SHA-1, and apk-tools verifies RSA256 since 2.12.
pub struct Signer {
    key: signature::RsaKeyPair,
    /// The public key file name the signature will name (`<keyname>.rsa.pub`).
    pub key_name: String,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signer({})", self.key_name)
    }
}

impl Signer {
    /// Loads a PEM private key (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`). The key name
    /// is the file name with `.pub` appended, as abuild-sign names it.
    pub fn from_pem(key_file_name: &str, pem: &[u8]) -> Result<Signer, crate::Error> {
        let bad = |reason: String| crate::Error::BadKey {
            name: key_file_name.to_owned(),
            reason,
        };
        let der = pem_or_der(pem).ok_or_else(|| bad("not a PEM private key".to_owned()))?;
        let key = signature::RsaKeyPair::from_pkcs8(&der)
            .or_else(|_| signature::RsaKeyPair::from_der(&der))
            .map_err(|e| bad(format!("not an RSA private key: {e}")))?;
        let base = key_file_name.strip_suffix(".pub").unwrap_or(key_file_name);
        Ok(Signer {
            key,
            key_name: format!("{base}.pub"),
        })
    }

    /// Signs `message` (RSA PKCS#1 v1.5, SHA-256).
    pub fn sign(&self, message: &[u8]) -> Result<Signature, crate::Error> {
        let rng = ring::rand::SystemRandom::new();
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut sig)
            .map_err(|_| crate::Error::BadKey {
                name: self.key_name.clone(),
                reason: "signing failed".to_owned(),
            })?;
        Ok(Signature {
            algorithm: SignatureAlgorithm::RsaSha256,
            key_name: self.key_name.clone(),
            bytes: sig,
        })
    }

    /// The public half as a `.rsa.pub` PEM file.
    pub fn public_key_pem(&self) -> String {
        spki_pem(self.key.public().as_ref())
    }
}
