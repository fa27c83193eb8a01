//! HTTP basic credentials: from `user:password@` in a repository URL, or from apko's
//! `HTTP_AUTH=basic:HOST:USER:PASSWORD` convention. Neither `Debug` nor any message ever
//! shows a password.

use std::fmt;

use reqwest::Url;

use crate::error::{Error, Result};

/// A user name and password for HTTP basic authentication.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicAuth {
    user: String,
    password: String,
}

impl BasicAuth {
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> BasicAuth {
        BasicAuth {
            user: user.into(),
            password: password.into(),
        }
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn password(&self) -> &str {
        &self.password
    }

    /// The credentials written in a URL, percent-decoded.
    pub(crate) fn from_url(url: &Url) -> Option<BasicAuth> {
        if url.username().is_empty() && url.password().is_none() {
            return None;
        }
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        Some(BasicAuth::new(
            decode(url.username()),
            decode(url.password().unwrap_or_default()),
        ))
    }
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BasicAuth(***)")
    }
}

/// Credentials for hosts, as given by `HTTP_AUTH`.
#[derive(Clone, Default, Debug)]
pub struct HostCredentials {
    entries: Vec<(String, BasicAuth)>,
}

impl HostCredentials {
    /// Parses `basic:HOST:USER:PASSWORD` (apko's `HTTP_AUTH`). The password is everything
    /// after the third colon, so it may contain colons; HOST is matched against the URL's
    /// host with or without its port. Empty text means no credentials.
    pub fn parse(text: &str) -> Result<HostCredentials> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(HostCredentials::default());
        }
        let bad = |reason: &str| Error::BadAuth {
            reason: reason.to_owned(),
        };
        let mut parts = text.splitn(4, ':');
        let (Some(kind), Some(host), Some(user), Some(password)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("too few fields"));
        };
        if !kind.eq_ignore_ascii_case("basic") {
            return Err(bad("only basic authentication is supported"));
        }
        if host.is_empty() {
            return Err(bad("empty host"));
        }
        Ok(HostCredentials {
            entries: vec![(host.to_ascii_lowercase(), BasicAuth::new(user, password))],
        })
    }

    /// Reads `HTTP_AUTH` from the environment.
    pub fn from_env() -> Result<HostCredentials> {
        match std::env::var("HTTP_AUTH") {
            Ok(text) => HostCredentials::parse(&text),
            Err(_) => Ok(HostCredentials::default()),
        }
    }

    /// The credentials for `url`'s host, if any.
    pub(crate) fn for_url(&self, url: &Url) -> Option<&BasicAuth> {
        let host = url.host_str()?.to_ascii_lowercase();
        let with_port = url.port().map(|p| format!("{host}:{p}"));
        self.entries
            .iter()
            .find(|(h, _)| *h == host || Some(h) == with_port.as_ref())
            .map(|(_, auth)| auth)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL parses")
    }

    #[test]
    fn parses_apko_convention() {
        let creds = HostCredentials::parse("basic:Repo.Example:alice:pa:ss").expect("valid");
        let auth = creds
            .for_url(&url("https://repo.example/os"))
            .expect("host matches");
        assert_eq!((auth.user(), auth.password()), ("alice", "pa:ss"));
        assert!(creds.for_url(&url("https://other.example/os")).is_none());
        // The port does not matter when HOST has none.
        assert!(creds.for_url(&url("http://repo.example:8080/os")).is_some());
    }

    #[test]
    fn refuses_malformed_without_echoing_the_password() {
        for bad in ["basic:host:user", "bearer:host:u:p", "basic::u:p"] {
            let err = HostCredentials::parse(bad).expect_err(bad).to_string();
            assert!(err.contains("HTTP_AUTH"), "{err}");
        }
        let err = HostCredentials::parse("digest:h:u:hunter2")
            .expect_err("digest")
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(
            HostCredentials::parse("  ")
                .expect("empty is none")
                .is_empty()
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let shown = format!("{:?}", BasicAuth::new("u", "hunter2"));
        assert!(!shown.contains("hunter2"));
    }
}
