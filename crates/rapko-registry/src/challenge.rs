//! `WWW-Authenticate` challenges (RFC 7235) and bearer-token scopes.
//!
//! A registry answers 401 with `Basic realm="…"` or with `Bearer realm="…",service="…",
//! scope="…"`: the realm is a token server that, given the service and scopes (and basic
//! credentials when we have them), returns a token to send as `Authorization: Bearer`.
//! One header may carry several challenges; a Bearer one is preferred.

use std::collections::BTreeSet;

/// A challenge rapko can answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// Send basic credentials with every request.
    Basic,
    /// Get a token from `realm`.
    Bearer {
        /// The token endpoint.
        realm: String,
        /// The `service` parameter for the token request.
        service: Option<String>,
        /// Scopes the registry says the request needs (space separated).
        scope: Option<String>,
    },
}

impl Challenge {
    /// The preferred challenge of a header value: Bearer if offered, else Basic.
    pub(crate) fn parse(header: &str) -> Option<Self> {
        let all = parse_challenges(header);
        let bearer = all.iter().find_map(|(scheme, params)| {
            let param = |name: &str| {
                params
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
                    .filter(|v| !v.is_empty())
            };
            scheme.eq_ignore_ascii_case("bearer").then(|| {
                param("realm").map(|realm| Challenge::Bearer {
                    realm,
                    service: param("service"),
                    scope: param("scope"),
                })
            })?
        });
        bearer.or_else(|| {
            all.iter()
                .any(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
                .then_some(Challenge::Basic)
        })
    }
}

/// A set of token scopes such as `repository:team/app:pull,push`, kept sorted so that
/// the same set is the same cache key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Scopes(BTreeSet<String>);

impl Scopes {
    /// Pull and push access to `repository`, plus pull access to each of `mount_from`.
    pub(crate) fn push(repository: &str, mount_from: &[String]) -> Self {
        let mut set = BTreeSet::from([format!("repository:{repository}:pull,push")]);
        set.extend(
            mount_from
                .iter()
                .filter(|r| *r != repository)
                .map(|r| format!("repository:{r}:pull")),
        );
        Self(set)
    }

    /// These scopes and those of a challenge's `scope` parameter.
    pub(crate) fn with(&self, extra: Option<&str>) -> Self {
        let mut set = self.0.clone();
        set.extend(
            extra
                .unwrap_or_default()
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
        Self(set)
    }

    /// The scopes, one per `scope` query parameter.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// The cache key.
    pub(crate) fn key(&self) -> String {
        self.0.iter().cloned().collect::<Vec<_>>().join(" ")
    }

    /// For messages: the repositories, or "the registry" when there is none.
    pub(crate) fn describe(&self) -> String {
        let repos: Vec<&str> = self
            .0
            .iter()
            .filter(|s| s.ends_with("push"))
            .filter_map(|s| s.split(':').nth(1))
            .collect();
        if repos.is_empty() {
            "the registry".to_owned()
        } else {
            format!("repository {}", repos.join(", "))
        }
    }
}

/// Every `scheme param=value, …` in a header, parameter names lowercased.
fn parse_challenges(header: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut p = Cursor {
        s: header.as_bytes(),
        i: 0,
    };
    let mut out = Vec::new();
    loop {
        p.skip(|b| b == b',' || b.is_ascii_whitespace());
        let scheme = p.token();
        if scheme.is_empty() {
            return out;
        }
        out.push((scheme, p.params()));
    }
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip(&mut self, what: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&what) {
            self.i += 1;
        }
    }

    /// An RFC 7230 token.
    fn token(&mut self) -> String {
        let start = self.i;
        self.skip(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    /// `name=value` pairs up to the next challenge (a token not followed by `=`).
    fn params(&mut self) -> Vec<(String, String)> {
        let mut params = Vec::new();
        loop {
            self.skip(|b| b.is_ascii_whitespace());
            let save = self.i;
            let name = self.token();
            self.skip(|b| b == b' ' || b == b'\t');
            if name.is_empty() || self.peek() != Some(b'=') {
                self.i = save;
                return params;
            }
            self.i += 1;
            self.skip(|b| b == b' ' || b == b'\t');
            let value = if self.peek() == Some(b'"') {
                self.quoted()
            } else {
                let start = self.i;
                self.skip(|b| b != b',' && !b.is_ascii_whitespace());
                String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
            };
            params.push((name.to_ascii_lowercase(), value));
            self.skip(|b| b.is_ascii_whitespace());
            if self.peek() != Some(b',') {
                return params;
            }
            self.i += 1;
        }
    }

    /// A quoted string with backslash escapes; an unterminated one ends at the end.
    fn quoted(&mut self) -> String {
        self.i += 1;
        let mut value = Vec::new();
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(next) = self.peek() {
                        value.push(next);
                        self.i += 1;
                    }
                }
                _ => value.push(b),
            }
        }
        String::from_utf8_lossy(&value).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_bearer() {
        let h = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push""#;
        assert_eq!(
            Challenge::parse(h),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/alpine:pull,push".into()),
            })
        );
    }

    #[test]
    fn basic_and_mixed() {
        assert_eq!(
            Challenge::parse(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(Challenge::parse("basic"), Some(Challenge::Basic));
        let both = r#"Basic realm="x", Bearer realm="http://t/token", service=reg"#;
        assert_eq!(
            Challenge::parse(both),
            Some(Challenge::Bearer {
                realm: "http://t/token".into(),
                service: Some("reg".into()),
                scope: None
            })
        );
        let escaped = r#"Bearer  realm = "http://t/\"q\"" , error="insufficient_scope""#;
        assert!(
            matches!(Challenge::parse(escaped), Some(Challenge::Bearer { realm, .. }) if realm == r#"http://t/"q""#)
        );
    }

    #[test]
    fn unusable_challenges() {
        assert_eq!(Challenge::parse(""), None);
        assert_eq!(Challenge::parse("Negotiate abc=="), None);
        assert_eq!(Challenge::parse("Bearer service=x"), None, "no realm");
        assert_eq!(
            Challenge::parse(r#"Bearer realm="unterminated"#),
            Some(Challenge::Bearer {
                realm: "unterminated".into(),
                service: None,
                scope: None
            })
        );
    }

    #[test]
    fn scopes() {
        let s = Scopes::push("team/app", &["base/img".into(), "team/app".into()]);
        assert_eq!(
            s.key(),
            "repository:base/img:pull repository:team/app:pull,push"
        );
        assert_eq!(s.describe(), "repository team/app");
        let more = s.with(Some("repository:x:pull  repository:team/app:pull,push"));
        assert_eq!(more.iter().count(), 3);
        assert_eq!(Scopes::default().describe(), "the registry");
        assert_eq!(Scopes::default().key(), "");
    }
}
