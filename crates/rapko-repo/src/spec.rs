//! Where a repository lives: `PATH`, `file://PATH`, `http(s)://…`, each optionally tagged
//! `@name URL` (apk's pinned repositories). Credentials written in a URL (`user:pass@host`)
//! are taken out of it at parse time and kept apart, so every way of showing a spec or a URL
//! derived from it is free of them.

use std::fmt;
use std::path::{Path, PathBuf};

use reqwest::Url;

use crate::auth::BasicAuth;
use crate::error::{Error, Result};

/// A repository as written in a config or on the command line.
#[derive(Clone, PartialEq, Eq)]
pub struct RepoSpec {
    /// The `@name` tag, without the `@`.
    pub tag: Option<String>,
    pub location: Location,
}

/// The place a repository is read from. `Debug` is safe: the URL holds no credentials and
/// [`BasicAuth`] hides its own.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Location {
    /// A directory, read in place.
    Local(PathBuf),
    /// An http(s) URL without credentials, and the credentials that were written in it.
    Remote { url: Url, auth: Option<BasicAuth> },
}

/// One file of a repository.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum Resource {
    File(PathBuf),
    Http(Url),
}

impl Resource {
    /// The text shown to users: a path, or a URL without credentials.
    pub(crate) fn display(&self) -> String {
        match self {
            Resource::File(p) => p.display().to_string(),
            Resource::Http(u) => u.to_string(),
        }
    }
}

impl RepoSpec {
    /// Parses `[@tag] LOCATION`.
    pub fn parse(text: &str) -> Result<RepoSpec> {
        let bad = |reason: &str| Error::BadRepository {
            spec: redact_url(text),
            reason: reason.to_owned(),
        };
        let text = text.trim();
        let (tag, rest) = match text.strip_prefix('@') {
            Some(tagged) => {
                let (tag, rest) = tagged
                    .split_once(char::is_whitespace)
                    .ok_or_else(|| bad("a tag must be followed by a URL: @name URL"))?;
                if tag.is_empty() {
                    return Err(bad("empty tag after @"));
                }
                (Some(tag.to_owned()), rest.trim())
            }
            None => (None, text),
        };
        if rest.is_empty() {
            return Err(bad("no repository location"));
        }
        let location = parse_location(rest).map_err(|reason| bad(&reason))?;
        Ok(RepoSpec { tag, location })
    }

    /// A local repository at `dir`.
    pub fn local(dir: impl Into<PathBuf>) -> RepoSpec {
        RepoSpec {
            tag: None,
            location: Location::Local(dir.into()),
        }
    }

    /// The repository location shown to users (no tag, no credentials).
    pub fn location_display(&self) -> String {
        match &self.location {
            Location::Local(p) => p.display().to_string(),
            Location::Remote { url, .. } => url.to_string(),
        }
    }

    pub fn is_local(&self) -> bool {
        matches!(self.location, Location::Local(_))
    }

    /// `<repo>/<arch>/APKINDEX.tar.gz`
    pub(crate) fn index_resource(&self, arch: &str) -> Resource {
        self.file(arch, "APKINDEX.tar.gz")
    }

    /// `<repo>/<arch>/<name>-<version>.apk`
    pub(crate) fn package_resource(&self, arch: &str, name_version: &str) -> Resource {
        self.file(arch, &format!("{name_version}.apk"))
    }

    fn file(&self, arch: &str, name: &str) -> Resource {
        match &self.location {
            Location::Local(dir) => Resource::File(dir.join(arch).join(name)),
            Location::Remote { url, .. } => Resource::Http(join_segments(url, &[arch, name])),
        }
    }

    pub(crate) fn auth(&self) -> Option<&BasicAuth> {
        match &self.location {
            Location::Remote { auth, .. } => auth.as_ref(),
            Location::Local(_) => None,
        }
    }
}

/// Appends path segments (each percent-encoded as needed). `Url::join` would instead
/// replace the last segment of a repository URL that has no trailing slash.
pub(crate) fn join_segments(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

fn parse_location(text: &str) -> Result<Location, String> {
    if let Some(path) = text.strip_prefix("file://") {
        return if path.is_empty() {
            Err("file:// needs a path".to_owned())
        } else {
            Ok(Location::Local(PathBuf::from(path)))
        };
    }
    if !text.contains("://") {
        return Ok(Location::Local(PathBuf::from(text)));
    }
    let (url, auth) = parse_remote(text)?;
    Ok(Location::Remote { url, auth })
}

/// Parses an http(s) URL and takes its credentials out.
pub(crate) fn parse_remote(text: &str) -> Result<(Url, Option<BasicAuth>), String> {
    let mut url = Url::parse(text).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "unsupported scheme {}://; use a path, file://, http:// or https://",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("no host in the URL".to_owned());
    }
    let auth = BasicAuth::from_url(&url);
    // Neither call can fail on an http(s) URL with a host.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Ok((url, auth))
}

/// A URL or spec with any `user:password@` removed, for messages and logs. Works on text
/// that does not parse as a URL too, since such text is exactly what ends up in errors.
pub fn redact_url(text: &str) -> String {
    let Some(scheme_end) = text.find("://") else {
        return text.to_owned();
    };
    let authority_start = scheme_end + 3;
    let authority_end = text[authority_start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| authority_start + i);
    match text[authority_start..authority_end].rfind('@') {
        Some(at) => format!(
            "{}***@{}",
            &text[..authority_start],
            &text[authority_start + at + 1..]
        ),
        None => text.to_owned(),
    }
}

impl fmt::Display for RepoSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(tag) = &self.tag {
            write!(f, "@{tag} ")?;
        }
        f.write_str(&self.location_display())
    }
}

impl fmt::Debug for RepoSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Display already hides credentials; say whether there were any.
        let with_auth = if self.auth().is_some() {
            " (with credentials)"
        } else {
            ""
        };
        write!(f, "RepoSpec({self}{with_auth})")
    }
}

impl std::str::FromStr for RepoSpec {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        RepoSpec::parse(s)
    }
}

/// The local path of a `file://` or plain-path keyring entry, or `None` for http(s).
pub(crate) fn local_path(text: &str) -> Option<&Path> {
    if let Some(path) = text.strip_prefix("file://") {
        return Some(Path::new(path));
    }
    (!text.contains("://")).then(|| Path::new(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        let local = RepoSpec::parse("/srv/repo").expect("test value");
        assert_eq!(local.location, Location::Local("/srv/repo".into()));
        assert_eq!(local.tag, None);

        let file = RepoSpec::parse("file:///srv/repo").expect("test value");
        assert_eq!(file.location, Location::Local("/srv/repo".into()));

        let rel = RepoSpec::parse("./packages").expect("test value");
        assert_eq!(rel.location, Location::Local("./packages".into()));

        let tagged =
            RepoSpec::parse("@edge  https://dl-cdn.example/alpine/edge/main").expect("test value");
        assert_eq!(tagged.tag.as_deref(), Some("edge"));
        assert_eq!(
            tagged.to_string(),
            "@edge https://dl-cdn.example/alpine/edge/main"
        );
    }

    #[test]
    fn refuses_bad_specs() {
        for bad in [
            "",
            "@edge",
            "@ https://x",
            "ftp://host/repo",
            "https://",
            "file://",
        ] {
            assert!(RepoSpec::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn credentials_never_show() {
        let spec = RepoSpec::parse("https://alice:s3cret@repo.example/os").expect("test value");
        let shown = format!("{spec} {spec:?} {}", spec.location_display());
        assert!(
            !shown.contains("s3cret") && !shown.contains("alice"),
            "{shown}"
        );
        let auth = spec.auth().expect("test value");
        assert_eq!((auth.user(), auth.password()), ("alice", "s3cret"));
        let Resource::Http(url) = spec.index_resource("x86_64") else {
            panic!("remote spec gave a local resource")
        };
        assert_eq!(
            url.as_str(),
            "https://repo.example/os/x86_64/APKINDEX.tar.gz"
        );
    }

    #[test]
    fn percent_encoded_credentials_are_decoded() {
        let spec = RepoSpec::parse("https://a%40b:p%3Aw@repo.example/os").expect("test value");
        let auth = spec.auth().expect("test value");
        assert_eq!((auth.user(), auth.password()), ("a@b", "p:w"));
    }

    #[test]
    fn appends_segments_with_or_without_slash() {
        for base in [
            "https://h/alpine/v3.19/main",
            "https://h/alpine/v3.19/main/",
        ] {
            let spec = RepoSpec::parse(base).expect("test value");
            let Resource::Http(url) = spec.package_resource("x86_64", "g++-13.2.1-r0") else {
                panic!("remote spec gave a local resource")
            };
            assert_eq!(
                url.as_str(),
                "https://h/alpine/v3.19/main/x86_64/g++-13.2.1-r0.apk"
            );
        }
    }

    #[test]
    fn redacts_text_that_is_not_a_url() {
        assert_eq!(redact_url("https://u:p@host/x"), "https://***@host/x");
        assert_eq!(
            redact_url("https://u:p@host:bad/x@y"),
            "https://***@host:bad/x@y"
        );
        assert_eq!(redact_url("https://host/x@y"), "https://host/x@y");
        assert_eq!(redact_url("/a/b"), "/a/b");
    }
}
