//! Image references: `[registry/]repository[:tag][@sha256:…]`, parsed the way docker
//! does, so `alpine` means `docker.io/library/alpine` and `localhost:5000/app` is a local
//! registry.
//!
//! The first path component is a registry when it contains a `.` or a `:`, is
//! `localhost`, or has an uppercase letter (which a repository may not); otherwise the
//! registry is Docker Hub, whose one-component names live under `library/`. A reference
//! without tag or digest is valid here: a destination may be pushed by digest only.

use std::fmt;
use std::str::FromStr;

use rapko_oci::Digest;

use crate::error::{Error, Result};

/// Docker Hub's name in references.
pub const DOCKER_HUB: &str = "docker.io";
/// The host that serves Docker Hub's registry API.
const DOCKER_HUB_API: &str = "registry-1.docker.io";
/// The longest repository name (with registry) the Distribution spec allows.
const MAX_NAME: usize = 255;

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// The registry host, with port if one was given (`docker.io`, `127.0.0.1:5000`).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path inside the registry (`library/alpine`, `team/app`).
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, if one was given.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if one was given.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// `registry/repository`, the name without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The same repository with `tag` and no digest.
    pub fn with_tag(&self, tag: &str) -> Result<Self> {
        check_tag(&format!("{}:{tag}", self.name()), tag)?;
        Ok(Self {
            tag: Some(tag.to_owned()),
            digest: None,
            ..self.clone()
        })
    }

    /// The same repository pinned to `digest`, without tag (`registry/repo@sha256:…`).
    pub fn with_digest(&self, digest: Digest) -> Self {
        Self {
            tag: None,
            digest: Some(digest),
            ..self.clone()
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl FromStr for Reference {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let (rest, digest) = match text.split_once('@') {
            Some((rest, d)) => (rest, Some(parse_digest(text, d)?)),
            None => (text, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(tag) = tag {
            check_tag(text, tag)?;
        }
        let (registry, repository) = split_registry(name);
        check_registry(text, &registry)?;
        check_repository(text, &repository)?;
        if registry.len() + 1 + repository.len() > MAX_NAME {
            return Err(invalid(
                text,
                format!("the name is longer than {MAX_NAME} characters"),
            ));
        }
        Ok(Self {
            registry,
            repository,
            tag: tag.map(str::to_owned),
            digest,
        })
    }
}

/// The registry part of a login/logout argument: accepts `host[:port]`, a URL such as
/// `https://host/v2/`, and Docker Hub's aliases (`index.docker.io`, `registry-1.docker.io`,
/// `https://index.docker.io/v1/`), all of which become `docker.io`.
pub fn normalize_registry(text: &str) -> Result<String> {
    let trimmed = text.trim();
    let without_scheme = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .unwrap_or(trimmed);
    let host = without_scheme.split('/').next().unwrap_or_default();
    let host = canonical_registry(host);
    check_registry(text, &host)?;
    Ok(host)
}

/// The host that serves the registry API for `registry` (Docker Hub's API lives on
/// another host than its name).
pub(crate) fn api_host(registry: &str) -> &str {
    if registry == DOCKER_HUB {
        DOCKER_HUB_API
    } else {
        registry
    }
}

/// True for registries on this machine, which are spoken to over plain HTTP.
pub(crate) fn is_loopback(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        // [::1]:5000 → ::1
        rest.split(']').next().unwrap_or_default()
    } else {
        registry.split(':').next().unwrap_or_default()
    };
    host.eq_ignore_ascii_case("localhost")
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn canonical_registry(host: &str) -> String {
    match host {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            DOCKER_HUB.to_owned()
        }
        other => other.to_owned(),
    }
}

/// Splits a name into registry and repository, applying Docker Hub's defaults.
fn split_registry(name: &str) -> (String, String) {
    let looks_like_registry = |first: &str| {
        first.contains(['.', ':'])
            || first == "localhost"
            || first.bytes().any(|b| b.is_ascii_uppercase())
    };
    let (registry, path) = match name.split_once('/') {
        Some((first, rest)) if looks_like_registry(first) => (canonical_registry(first), rest),
        _ => (DOCKER_HUB.to_owned(), name),
    };
    let repository = if registry == DOCKER_HUB && !path.contains('/') {
        format!("library/{path}")
    } else {
        path.to_owned()
    };
    (registry, repository)
}

fn invalid(reference: &str, reason: impl Into<String>) -> Error {
    Error::InvalidReference {
        reference: reference.to_owned(),
        reason: reason.into(),
    }
}

fn parse_digest(reference: &str, digest: &str) -> Result<Digest> {
    digest
        .parse()
        .map_err(|e: rapko_oci::DigestError| invalid(reference, e.to_string()))
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`
fn check_tag(reference: &str, tag: &str) -> Result<()> {
    let ok = (1..=128).contains(&tag.len())
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        && !tag.starts_with(['.', '-']);
    if ok {
        Ok(())
    } else {
        Err(invalid(
            reference,
            format!("tag {tag:?} must be 1-128 of [A-Za-z0-9_.-], not starting with . or -"),
        ))
    }
}

/// `host[:port]` where host is DNS labels or a bracketed IPv6 address.
fn check_registry(reference: &str, registry: &str) -> Result<()> {
    let bad = || {
        invalid(
            reference,
            format!("registry {registry:?} is not a host[:port]"),
        )
    };
    let (host, port) = split_host_port(registry).ok_or_else(bad)?;
    let label_ok = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => host.split('.').all(label_ok),
    };
    let port_ok =
        port.is_none_or(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    if host_ok && port_ok {
        Ok(())
    } else {
        Err(bad())
    }
}

/// `[v6]:port`, `[v6]`, `host:port` or `host`; None when brackets do not close.
fn split_host_port(registry: &str) -> Option<(&str, Option<&str>)> {
    if registry.starts_with('[') {
        let end = registry.find(']')?;
        let (host, after) = registry.split_at(end + 1);
        if after.is_empty() {
            return Some((host, None));
        }
        return after.strip_prefix(':').map(|p| (host, Some(p)));
    }
    Some(match registry.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (registry, None),
    })
}

fn check_repository(reference: &str, repository: &str) -> Result<()> {
    if repository.is_empty() || !repository.split('/').all(valid_component) {
        return Err(invalid(
            reference,
            format!(
                "repository {repository:?} must be lowercase path components of letters and digits separated by . _ __ or -"
            ),
        ));
    }
    Ok(())
}

/// `[a-z0-9]+ (([._]|__|-+) [a-z0-9]+)*`
fn valid_component(component: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = component.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if !alnum(first) || !alnum(last) {
        return false;
    }
    component
        .split(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        .filter(|sep| !sep.is_empty())
        .all(|sep| sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Reference {
        s.parse().unwrap()
    }

    const HEX: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn docker_hub_defaults() {
        let r = parse("alpine");
        assert_eq!(
            (r.registry(), r.repository(), r.tag()),
            ("docker.io", "library/alpine", None)
        );
        assert_eq!(r.to_string(), "docker.io/library/alpine");
        let r = parse("user/app:v1");
        assert_eq!(
            (r.registry(), r.repository(), r.tag()),
            ("docker.io", "user/app", Some("v1"))
        );
        let r = parse("index.docker.io/alpine:3.19");
        assert_eq!(r.to_string(), "docker.io/library/alpine:3.19");
        assert_eq!(api_host(r.registry()), "registry-1.docker.io");
    }

    #[test]
    fn registries_with_ports_and_digests() {
        let r = parse("localhost:5000/team/app:latest");
        assert_eq!(
            (r.registry(), r.repository()),
            ("localhost:5000", "team/app")
        );
        let r = parse("localhost/app");
        assert_eq!((r.registry(), r.repository()), ("localhost", "app"));
        let r = parse(&format!("127.0.0.1:5000/app:v2@sha256:{HEX}"));
        assert_eq!(r.tag(), Some("v2"));
        assert_eq!(r.digest().unwrap().hex(), HEX);
        assert_eq!(r.to_string(), format!("127.0.0.1:5000/app:v2@sha256:{HEX}"));
        let r = parse(&format!("ghcr.io/o/r@sha256:{HEX}"));
        assert_eq!((r.registry(), r.tag()), ("ghcr.io", None));
        let r = parse("[::1]:5000/app:x");
        assert_eq!((r.registry(), r.repository()), ("[::1]:5000", "app"));
        let r = parse("Registry/app");
        assert_eq!(r.registry(), "Registry");
    }

    #[test]
    fn rewrites() {
        let r = parse(&format!("ghcr.io/o/r:t@sha256:{HEX}"));
        let pinned = r.with_digest(Digest::of(b"abc"));
        assert_eq!(pinned.to_string(), format!("ghcr.io/o/r@sha256:{HEX}"));
        assert_eq!(r.with_tag("new").unwrap().to_string(), "ghcr.io/o/r:new");
        assert!(r.with_tag("-bad").is_err());
        assert_eq!(r.name(), "ghcr.io/o/r");
    }

    #[test]
    fn rejects() {
        for bad in [
            "",
            "Alpine/x/Y",
            "app:",
            "app:-x",
            "app@sha256:abc",
            "app@md5:abc",
            "a..b",
            "a/",
            "/a",
            "host:port/x",
            "host:123456/x",
            "[::1/x",
            "[zz]:5000/x",
            "-host.io/x",
        ] {
            let err = bad.parse::<Reference>().unwrap_err();
            assert!(
                matches!(err, Error::InvalidReference { .. }),
                "{bad}: {err}"
            );
            assert!(err.to_string().contains("invalid image reference"), "{err}");
        }
        let long = format!("r.io/{}", "a".repeat(260));
        assert!(long.parse::<Reference>().is_err());
    }

    #[test]
    fn login_registry_forms() {
        assert_eq!(
            normalize_registry("https://index.docker.io/v1/").unwrap(),
            "docker.io"
        );
        assert_eq!(
            normalize_registry("registry-1.docker.io").unwrap(),
            "docker.io"
        );
        assert_eq!(
            normalize_registry("http://localhost:5000/v2/").unwrap(),
            "localhost:5000"
        );
        assert_eq!(normalize_registry(" ghcr.io ").unwrap(), "ghcr.io");
        assert!(normalize_registry("bad host").is_err());
        assert!(normalize_registry("").is_err());
    }

    #[test]
    fn loopback_hosts() {
        for yes in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:1",
            "127.1.2.3",
            "[::1]:5000",
            "[::1]",
        ] {
            assert!(is_loopback(yes), "{yes}");
        }
        for no in [
            "docker.io",
            "10.0.0.1:5000",
            "localhost.example.com",
            "[::2]:1",
        ] {
            assert!(!is_loopback(no), "{no}");
        }
    }
}
