//! Image names (`[registry/]repository:tag`), parsed and validated before they are
//! written into `index.json`, `manifest.json` or sent to a registry.
//!
//! The grammar is the distribution reference grammar without digests: an optional
//! registry host (recognised by a `.` or `:` or being `localhost`), lowercase path
//! components, and a tag that defaults to `latest`.

use std::fmt;
use std::str::FromStr;

/// Why a string is not a usable image name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Digest references cannot name an output.
    #[error("invalid image name {0:?}: a digest (@sha256:…) cannot be a tag; use repository:tag")]
    Digest(String),
    /// The tag part is invalid.
    #[error(
        "invalid tag in image name {name:?}: {tag:?} must be 1-128 of [A-Za-z0-9_.-], not starting with . or -"
    )]
    Tag {
        /// The whole name.
        name: String,
        /// The tag part.
        tag: String,
    },
    /// The repository part is invalid.
    #[error(
        "invalid repository in image name {name:?}: path components must be lowercase letters, digits and single . _ __ or - separators"
    )]
    Repository {
        /// The whole name.
        name: String,
    },
}

/// A tagged image name such as `alpine:3.19` or `registry.example:5000/team/app:v1`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImageName {
    repository: String,
    tag: String,
}

impl ImageName {
    /// The repository, with the registry if one was given (`alpine`, `ghcr.io/x/y`).
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// The same repository with `suffix` appended to the tag (`latest` → `latest-arm64`).
    pub fn with_tag_suffix(&self, suffix: &str) -> Result<Self, NameError> {
        let tag = format!("{}{suffix}", self.tag);
        check_tag(&self.repository, &tag)?;
        Ok(Self {
            repository: self.repository.clone(),
            tag,
        })
    }

    /// The fully qualified form Docker and containerd use: `alpine:3.19` becomes
    /// `docker.io/library/alpine:3.19`.
    pub fn normalized(&self) -> String {
        let (domain, path) = split_domain(&self.repository);
        match domain {
            Some(_) => self.to_string(),
            None if path.contains('/') => format!("docker.io/{}:{}", path, self.tag),
            None => format!("docker.io/library/{}:{}", path, self.tag),
        }
    }
}

impl fmt::Display for ImageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.repository, self.tag)
    }
}

impl FromStr for ImageName {
    type Err = NameError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        if name.contains('@') {
            return Err(NameError::Digest(name.to_owned()));
        }
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match name[last_slash..].rfind(':') {
            Some(i) => (&name[..last_slash + i], &name[last_slash + i + 1..]),
            None => (name, "latest"),
        };
        check_tag(name, tag)?;
        check_repository(name, repository)?;
        Ok(Self {
            repository: repository.to_owned(),
            tag: tag.to_owned(),
        })
    }
}

/// Splits `registry/path` into the registry (if the first component looks like one) and
/// the path.
fn split_domain(repository: &str) -> (Option<&str>, &str) {
    match repository.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (Some(first), rest)
        }
        _ => (None, repository),
    }
}

fn check_tag(name: &str, tag: &str) -> Result<(), NameError> {
    let ok = (1..=128).contains(&tag.len())
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        && !tag.starts_with(['.', '-']);
    if ok {
        Ok(())
    } else {
        Err(NameError::Tag {
            name: name.to_owned(),
            tag: tag.to_owned(),
        })
    }
}

fn check_repository(name: &str, repository: &str) -> Result<(), NameError> {
    let bad = || NameError::Repository {
        name: name.to_owned(),
    };
    let (domain, path) = split_domain(repository);
    if let Some(domain) = domain {
        let (host, port) = domain.split_once(':').unwrap_or((domain, "0"));
        let host_ok = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-".contains(&b));
        if !host_ok || port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
    }
    if path.is_empty() || !path.split('/').all(valid_component) {
        return Err(bad());
    }
    Ok(())
}

/// `[a-z0-9]+ (([._]|__|-+) [a-z0-9]+)*`
fn valid_component(c: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = c.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if !alnum(first) || !alnum(last) {
        return false;
    }
    // Separators between alphanumeric runs: one '.', one or two '_', or any run of '-'.
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<ImageName, NameError> {
        s.parse()
    }

    #[test]
    fn parses_common_names() {
        let n = parse("alpine:3.19").unwrap();
        assert_eq!((n.repository(), n.tag()), ("alpine", "3.19"));
        assert_eq!(n.normalized(), "docker.io/library/alpine:3.19");
        let n = parse("localhost:5000/team/app").unwrap();
        assert_eq!(
            (n.repository(), n.tag()),
            ("localhost:5000/team/app", "latest")
        );
        assert_eq!(n.normalized(), "localhost:5000/team/app:latest");
        let n = parse("cgr.dev/chainguard/wolfi-base:latest").unwrap();
        assert_eq!(n.normalized(), "cgr.dev/chainguard/wolfi-base:latest");
        assert_eq!(
            parse("user/app:v1").unwrap().normalized(),
            "docker.io/user/app:v1"
        );
        assert_eq!(parse("a__b/c-d--e.f:x").unwrap().tag(), "x");
    }

    #[test]
    fn rejects_bad_names() {
        assert!(matches!(
            parse("alpine@sha256:abcd"),
            Err(NameError::Digest(_))
        ));
        assert!(matches!(
            parse("Alpine:1"),
            Err(NameError::Repository { .. })
        ));
        assert!(matches!(parse("alpine:"), Err(NameError::Tag { .. })));
        assert!(matches!(parse("alpine:-x"), Err(NameError::Tag { .. })));
        assert!(matches!(parse(":tag"), Err(NameError::Repository { .. })));
        assert!(matches!(parse("a..b:1"), Err(NameError::Repository { .. })));
        assert!(matches!(parse("a/:1"), Err(NameError::Repository { .. })));
        assert!(matches!(
            parse("host:port/x:1"),
            Err(NameError::Repository { .. })
        ));
        assert!(parse(&format!("a:{}", "t".repeat(129))).is_err());
    }

    #[test]
    fn tag_suffix() {
        let n = parse("alpine:3.19").unwrap();
        assert_eq!(
            n.with_tag_suffix("-arm64").unwrap().to_string(),
            "alpine:3.19-arm64"
        );
        assert!(n.with_tag_suffix("/x").is_err());
    }
}
