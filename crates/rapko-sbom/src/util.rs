//! Small deterministic helpers both formats share: unique ids, name-based UUIDs, RFC 3339
//! dates from unix seconds, digest and URL checks.

use std::collections::BTreeSet;

use sha1::{Digest as _, Sha1};

use crate::error::{Error, Result};

/// Hands out ids that are unique within one document: a taken id gets `-2`, `-3`, … so the
/// same inputs always give the same ids.
#[derive(Default)]
pub(crate) struct UniqueIds {
    taken: BTreeSet<String>,
}

impl UniqueIds {
    pub(crate) fn claim(&mut self, wanted: String) -> String {
        let mut id = wanted.clone();
        let mut n = 2;
        while !self.taken.insert(id.clone()) {
            id = format!("{wanted}-{n}");
            n += 1;
        }
        id
    }
}

/// The RFC 4122 namespace for URLs: name-based UUIDs of a URL use it.
const URL_NAMESPACE: [u8; 16] = [
    0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
];

/// A version 5 (SHA-1, name-based) UUID of `url` in the URL namespace, as `urn:uuid:…`.
/// CycloneDX's schema accepts only versions 1 to 5, so a SHA-256-based v8 is not an option.
pub(crate) fn uuid_v5_urn(url: &str) -> String {
    let mut hasher = Sha1::new();
    hasher.update(URL_NAMESPACE);
    hasher.update(url.as_bytes());
    let hash = hasher.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&hash[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Unix seconds as an RFC 3339 UTC timestamp (`2024-01-26T12:00:00Z`).
pub(crate) fn rfc3339(unix_seconds: u64) -> String {
    let days = unix_seconds / 86_400;
    let secs = unix_seconds % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Gregorian date of a day count since 1970-01-01 (proleptic, days ≥ 0), by the usual
/// era arithmetic: 400-year eras of 146097 days, years starting in March.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// The hex part of a `sha256:<64 lowercase hex>` digest.
pub(crate) fn sha256_hex<'a>(what: &'static str, digest: &'a str) -> Result<&'a str> {
    digest
        .strip_prefix("sha256:")
        .filter(|h| {
            h.len() == 64
                && h.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
        .ok_or_else(|| Error::BadDigest {
            what,
            digest: digest.to_owned(),
        })
}

/// True for a URL both formats' validators accept as a location: a known scheme, a DNS
/// host with an alphabetic top-level label, no spaces. The SPDX tools reject IP-literal and
/// `localhost` hosts and `file:` URLs, so those are written as NOASSERTION instead.
pub(crate) fn is_web_url(s: &str) -> bool {
    if s.chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>')
    {
        return false;
    }
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    if !["http", "https", "ftp", "sftp", "ssh", "git", "svn"]
        .contains(&scheme.to_ascii_lowercase().as_str())
    {
        return false;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.rsplit_once(':') {
        Some((h, port))
            if !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            h
        }
        Some(_) => return false,
        None => host_port,
    };
    is_dns_host(host)
}

fn is_dns_host(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && !l.contains("--")
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let tld_ok = labels
        .last()
        .is_some_and(|t| t.len() >= 2 && t.bytes().all(|b| b.is_ascii_alphabetic()));
    labels.len() >= 2 && labels.iter().all(label_ok) && tld_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_ids_count_up() {
        let mut ids = UniqueIds::default();
        assert_eq!(ids.claim("a".into()), "a");
        assert_eq!(ids.claim("a".into()), "a-2");
        assert_eq!(ids.claim("a".into()), "a-3");
        assert_eq!(ids.claim("a-2".into()), "a-2-2");
    }

    #[test]
    fn uuid_v5_matches_rfc_vector() {
        // Python: uuid.uuid5(uuid.NAMESPACE_URL, "https://example.com/")
        assert_eq!(
            uuid_v5_urn("https://example.com/"),
            "urn:uuid:dd2c1780-811a-5296-81c5-178a0ef488bc"
        );
    }

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_706_271_234), "2024-01-26T12:13:54Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn digests() {
        let good = format!("sha256:{}", "a".repeat(64));
        assert_eq!(sha256_hex("image digest", &good).unwrap(), "a".repeat(64));
        for bad in [
            "",
            "sha256:abc",
            &format!("sha512:{}", "a".repeat(64)),
            &format!("sha256:{}", "A".repeat(64)),
        ] {
            assert!(sha256_hex("image digest", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn web_urls() {
        for ok in [
            "https://dl-cdn.alpinelinux.org/alpine/v3.19/main",
            "http://example.com:8080/x?y",
            "https://user@git.example.org/a",
        ] {
            assert!(is_web_url(ok), "{ok}");
        }
        for bad in [
            "",
            "/work/shared/fixtures/alpine-3.19/main",
            "file:///repo",
            "http://127.0.0.1:8080/repo",
            "http://localhost/repo",
            "https://a b.org/",
            "https://example.com:99999999/",
            "https://-x.org/",
        ] {
            assert!(!is_web_url(bad), "{bad}");
        }
    }
}
