//! The HTTP side of talking to a registry: one shared client (connection reuse, rustls
//! with ring), per-registry authentication state, and requests that retry.
//!
//! Authentication is discovered, not configured: the first request to a registry is
//! `GET /v2/`; a 401 there names the scheme. Basic sends the credentials with every
//! request. Bearer asks the challenge's realm for a token for the scopes a request needs
//! (with the credentials, if any) and caches it per scope set until it expires. A 401
//! later on (token expired, or a scope the registry wants that we did not ask for)
//! gets one fresh token and one retry. The lock on a registry's state is held while a
//! token is fetched, so parallel uploads wait for one token instead of each asking.
//!
//! Transport failures, 408, 429 and 5xx are retried with backoff (honouring
//! `Retry-After`), except for requests marked not retryable: upload data, whose retry
//! must go through the upload session (see [`crate::upload`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, Response, StatusCode, Url};

use crate::challenge::{Challenge, Scopes};
use crate::credentials::{Credentials, DockerConfig};
use crate::error::{Error, Result};
use crate::options::{Auth, Options};
use crate::reference::{api_host, is_loopback};

/// The most of an error or token response body read.
const SMALL_BODY: usize = 256 << 10;
/// How long a token lives when the server does not say (the token spec's default).
const DEFAULT_TOKEN_LIFE: Duration = Duration::from_secs(60);
/// The longest a token is kept, whatever the server says.
const MAX_TOKEN_LIFE: Duration = Duration::from_secs(24 * 3600);
/// Tokens are renewed this long before they expire, so one does not lapse in flight.
const TOKEN_MARGIN: Duration = Duration::from_secs(10);

/// One request, rebuilt for each try.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
    /// What is being done, for messages ("upload blob sha256:… to team/app").
    pub action: String,
    /// Whether transient failures are retried here.
    pub retry: bool,
}

impl Call {
    pub(crate) fn new(method: Method, url: Url, action: impl Into<String>) -> Self {
        Self {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            action: action.into(),
            retry: true,
        }
    }

    pub(crate) fn header(mut self, name: header::HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(name, v);
        }
        self
    }

    pub(crate) fn body(mut self, body: Bytes) -> Self {
        self.body = Some(body);
        self
    }

    pub(crate) fn no_retry(mut self) -> Self {
        self.retry = false;
        self
    }
}

/// A registry and what we know about authenticating to it.
#[derive(Debug)]
pub(crate) struct Registry {
    /// The registry as named in references (`docker.io`, `127.0.0.1:5000`).
    pub name: String,
    /// `https://host/` or `http://host/` for loopback and insecure registries.
    pub base: Url,
    state: tokio::sync::Mutex<AuthState>,
}

impl Registry {
    /// `base` joined with `path` (`v2/…`).
    pub(crate) fn url(&self, path: &str) -> Result<Url> {
        self.base.join(path).map_err(|e| Error::InvalidReference {
            reference: format!("{}/{path}", self.name),
            reason: format!("does not make a URL: {e}"),
        })
    }

    /// True if `url` is on this registry's host, so credentials may be sent to it.
    fn owns(&self, url: &Url) -> bool {
        url.host_str() == self.base.host_str()
            && url.port_or_known_default() == self.base.port_or_known_default()
    }
}

#[derive(Debug, Default)]
struct AuthState {
    /// `None` until `/v2/` was asked; then the challenge, if any.
    challenge: Option<Option<Challenge>>,
    /// `None` until looked up.
    credentials: Option<Option<Credentials>>,
    tokens: HashMap<String, Token>,
}

#[derive(Debug)]
struct Token {
    header: HeaderValue,
    renew_at: Instant,
}

/// The shared HTTP client and every registry's state.
#[derive(Debug)]
pub(crate) struct Client {
    http: reqwest::Client,
    options: Options,
    registries: Mutex<HashMap<String, Arc<Registry>>>,
}

impl Client {
    pub(crate) fn new(options: Options) -> Result<Self> {
        // reqwest is built without a default crypto provider (that would pull aws-lc);
        // install ring for the process. Err means one is installed already, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("rapko/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(options.timeouts.connect)
            .read_timeout(options.timeouts.read)
            .pool_max_idle_per_host(options.parallelism.max(1))
            .build()
            .map_err(|e| Error::Setup {
                reason: error_chain(&e),
            })?;
        Ok(Self {
            http,
            options,
            registries: Mutex::new(HashMap::new()),
        })
    }

    pub(crate) fn options(&self) -> &Options {
        &self.options
    }

    /// The state of registry `name`, created on first use.
    pub(crate) fn registry(&self, name: &str) -> Result<Arc<Registry>> {
        let mut map = self
            .registries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(r) = map.get(name) {
            return Ok(Arc::clone(r));
        }
        let plain = self.options.insecure || is_loopback(name);
        let scheme = if plain { "http" } else { "https" };
        let base = Url::parse(&format!("{scheme}://{}/", api_host(name))).map_err(|e| {
            Error::InvalidReference {
                reference: name.to_owned(),
                reason: format!("the registry does not make a URL: {e}"),
            }
        })?;
        let registry = Arc::new(Registry {
            name: name.to_owned(),
            base,
            state: tokio::sync::Mutex::new(AuthState::default()),
        });
        map.insert(name.to_owned(), Arc::clone(&registry));
        Ok(registry)
    }

    /// Sends `call` with the authorization `scopes` need, answering one 401 with fresh
    /// authorization. Returns any response that is not a 401 or a transient failure.
    pub(crate) async fn send(
        &self,
        reg: &Registry,
        scopes: &Scopes,
        call: &Call,
    ) -> Result<Response> {
        if !reg.owns(&call.url) {
            // An upload URL on another host (a storage backend): no credentials to it.
            return self.execute(reg, call, None).await;
        }
        let auth = self.authorize(reg, scopes, None).await?;
        let response = self.execute(reg, call, auth.as_ref()).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let auth = self
            .authorize(reg, scopes, Some(response.headers()))
            .await?;
        let response = self.execute(reg, call, auth.as_ref()).await?;
        if response.status() == StatusCode::UNAUTHORIZED {
            return Err(self.auth_error(reg, scopes, response).await);
        }
        Ok(response)
    }

    /// Checks that the configured credentials are accepted by `reg` (`GET /v2/` with them).
    pub(crate) async fn check_login(&self, reg: &Registry) -> Result<()> {
        let call = Call::new(Method::GET, reg.url("v2/")?, "check the credentials");
        let response = self.send(reg, &Scopes::default(), &call).await?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(self.unexpected(reg, &call.action, response).await)
    }

    /// The error for a response the caller did not expect.
    pub(crate) async fn unexpected(
        &self,
        reg: &Registry,
        action: &str,
        response: Response,
    ) -> Error {
        let status = response.status().as_u16();
        let detail = error_detail(&read_limited(response).await);
        match status {
            403 => Error::Denied {
                registry: reg.name.clone(),
                action: action.to_owned(),
                detail,
            },
            _ => Error::Status {
                registry: reg.name.clone(),
                action: action.to_owned(),
                status,
                detail,
            },
        }
    }

    /// The `Authorization` header for `scopes`; `challenged` is the 401 that says the
    /// current one is not good enough.
    async fn authorize(
        &self,
        reg: &Registry,
        scopes: &Scopes,
        challenged: Option<&HeaderMap>,
    ) -> Result<Option<HeaderValue>> {
        let mut state = reg.state.lock().await;
        let mut extra_scope = None;
        if let Some(headers) = challenged {
            let challenge = parse_challenge(reg, headers)?;
            if let Challenge::Bearer { scope, .. } = &challenge {
                extra_scope = scope.clone();
            }
            state.challenge = Some(Some(challenge));
            state.tokens.remove(&scopes.key());
        }
        if state.challenge.is_none() {
            state.challenge = Some(self.ping(reg).await?);
        }
        // Credentials are looked up only for a registry that asks for them, so a broken
        // credential helper does not stand in the way of pushing to an open registry.
        let Some(challenge) = state.challenge.clone().flatten() else {
            return Ok(None);
        };
        let credentials = self.credentials(reg, &mut state).await?;
        match challenge {
            Challenge::Basic => Ok(credentials.as_ref().and_then(basic_header)),
            Challenge::Bearer { realm, service, .. } => {
                let key = scopes.key();
                if let Some(token) = state
                    .tokens
                    .get(&key)
                    .filter(|t| t.renew_at > Instant::now())
                {
                    return Ok(Some(token.header.clone()));
                }
                let wanted = scopes.with(extra_scope.as_deref());
                let token = self
                    .fetch_token(
                        reg,
                        &realm,
                        service.as_deref(),
                        &wanted,
                        credentials.as_ref(),
                    )
                    .await?;
                let header = token.header.clone();
                state.tokens.insert(key, token);
                Ok(Some(header))
            }
        }
    }

    /// `GET /v2/` without credentials: which challenge, if any, the registry sends.
    async fn ping(&self, reg: &Registry) -> Result<Option<Challenge>> {
        let call = Call::new(Method::GET, reg.url("v2/")?, "check the registry API");
        let response = self.execute(reg, &call, None).await?;
        match response.status() {
            s if s.is_success() => Ok(None),
            StatusCode::UNAUTHORIZED => parse_challenge(reg, response.headers()).map(Some),
            _ => Err(self.unexpected(reg, &call.action, response).await),
        }
    }

    /// The credentials for `reg`, looked up once.
    async fn credentials(
        &self,
        reg: &Registry,
        state: &mut AuthState,
    ) -> Result<Option<Credentials>> {
        if let Some(known) = &state.credentials {
            return Ok(known.clone());
        }
        let config = match &self.options.auth {
            Auth::Anonymous => None,
            Auth::Basic(c) => {
                state.credentials = Some(Some(c.clone()));
                return Ok(Some(c.clone()));
            }
            Auth::Config(config) => Some(config.clone()),
            // No home and no DOCKER_CONFIG: anonymous, as docker would be.
            Auth::DockerConfig => DockerConfig::load_default()
                .map(Some)
                .or_else(|e| match e {
                    Error::NoDockerConfig => Ok(None),
                    e => Err(e),
                })?,
        };
        let found = match config {
            None => None,
            Some(config) => {
                let name = reg.name.clone();
                // Credential helpers are programs: keep them off the async workers.
                tokio::task::spawn_blocking(move || config.credentials(&name))
                    .await
                    .map_err(|e| Error::Setup {
                        reason: format!("credential lookup did not finish: {e}"),
                    })??
            }
        };
        tracing::debug!(
            registry = %reg.name,
            user = found.as_ref().map(Credentials::username),
            "credentials looked up"
        );
        state.credentials = Some(found.clone());
        Ok(found)
    }

    /// Asks the token server `realm` for a token for `scopes`.
    async fn fetch_token(
        &self,
        reg: &Registry,
        realm: &str,
        service: Option<&str>,
        scopes: &Scopes,
        credentials: Option<&Credentials>,
    ) -> Result<Token> {
        let token_error = |reason: String| Error::Token {
            registry: reg.name.clone(),
            realm: realm.to_owned(),
            reason,
        };
        let url =
            Url::parse(realm).map_err(|e| token_error(format!("the realm is not a URL ({e})")))?;
        let plain_ok = self.options.insecure || url.host_str().is_some_and(is_loopback);
        if url.scheme() != "https" && !plain_ok && credentials.is_some() {
            return Err(token_error(
                "the token server is not HTTPS and rapko sends credentials only over HTTPS; use --insecure if this is intended".into(),
            ));
        }
        let call = token_call(url, service, scopes, credentials, &reg.name);
        let response = self.execute(reg, &call, None).await?;
        let status = response.status();
        if matches!(status.as_u16(), 401 | 403) {
            let detail = error_detail(&read_limited(response).await);
            return Err(match credentials {
                Some(c) => Error::AuthRejected {
                    registry: reg.name.clone(),
                    username: c.username().to_owned(),
                    scope: scopes.describe(),
                    detail,
                },
                None => Error::AuthRequired {
                    registry: reg.name.clone(),
                    scope: scopes.describe(),
                    detail,
                },
            });
        }
        if !status.is_success() {
            let detail = error_detail(&read_limited(response).await);
            return Err(token_error(format!("HTTP {}{detail}", status.as_u16())));
        }
        parse_token(&read_limited(response).await).map_err(token_error)
    }

    /// The error for a second 401: credentials missing or rejected.
    async fn auth_error(&self, reg: &Registry, scopes: &Scopes, response: Response) -> Error {
        let detail = error_detail(&read_limited(response).await);
        let username = reg
            .state
            .lock()
            .await
            .credentials
            .clone()
            .flatten()
            .map(|c| c.username().to_owned());
        match username {
            Some(username) => Error::AuthRejected {
                registry: reg.name.clone(),
                username,
                scope: scopes.describe(),
                detail,
            },
            None => Error::AuthRequired {
                registry: reg.name.clone(),
                scope: scopes.describe(),
                detail,
            },
        }
    }

    /// Sends `call` with `auth`, retrying transient failures when the call allows.
    async fn execute(
        &self,
        reg: &Registry,
        call: &Call,
        auth: Option<&HeaderValue>,
    ) -> Result<Response> {
        let retry = &self.options.retry;
        let attempts = if call.retry { retry.attempts.max(1) } else { 1 };
        let mut failed = 0;
        loop {
            let outcome = self.build(call, auth).send().await;
            failed += 1;
            let (reason, wait) = match outcome {
                Ok(r) if !is_transient(r.status()) => return Ok(r),
                Ok(r) if failed >= attempts => {
                    return Err(self.unexpected(reg, &call.action, r).await);
                }
                Ok(r) => (
                    format!("HTTP {}", r.status().as_u16()),
                    retry_after(r.headers()),
                ),
                Err(e) if failed >= attempts => {
                    // The query of an upload URL is a long opaque state token: not shown.
                    let mut shown = call.url.clone();
                    shown.set_query(None);
                    return Err(Error::Network {
                        registry: reg.name.clone(),
                        action: format!("{}: {} {shown}", call.action, call.method),
                        attempts: failed,
                        reason: error_chain(&e.without_url()),
                    });
                }
                Err(e) => (error_chain(&e.without_url()), None),
            };
            let delay =
                wait.map_or_else(|| retry.backoff(failed), |w| w.min(retry.max_retry_after));
            tracing::debug!(registry = %reg.name, action = %call.action, failed, delay_ms = delay.as_millis() as u64, "retrying: {reason}");
            tokio::time::sleep(delay).await;
        }
    }

    fn build(&self, call: &Call, auth: Option<&HeaderValue>) -> reqwest::RequestBuilder {
        let mut builder = self
            .http
            .request(call.method.clone(), call.url.clone())
            .headers(call.headers.clone());
        if let Some(auth) = auth {
            builder = builder.header(header::AUTHORIZATION, auth.clone());
        }
        match &call.body {
            Some(body) => builder
                .header(header::CONTENT_LENGTH, body.len())
                .body(body.clone()),
            // Distribution wants a length on every PUT/PATCH, even an empty one.
            None if matches!(call.method, Method::PUT | Method::PATCH | Method::POST) => {
                builder.header(header::CONTENT_LENGTH, 0)
            }
            None => builder,
        }
    }
}

/// The token request: GET with basic credentials, or the OAuth2 refresh-token grant
/// when the credentials are an identity token.
fn token_call(
    mut url: Url,
    service: Option<&str>,
    scopes: &Scopes,
    credentials: Option<&Credentials>,
    registry: &str,
) -> Call {
    let action = format!("get a token for {}", scopes.describe());
    if let Some(refresh) = credentials.and_then(Credentials::refresh_token) {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "refresh_token")
            .append_pair("client_id", "rapko")
            .append_pair("refresh_token", refresh)
            .append_pair("service", service.unwrap_or(registry));
        let scope = scopes.key();
        if !scope.is_empty() {
            form.append_pair("scope", &scope);
        }
        return Call::new(Method::POST, url, action)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Bytes::from(form.finish()));
    }
    {
        let mut query = url.query_pairs_mut();
        if let Some(service) = service {
            query.append_pair("service", service);
        }
        for scope in scopes.iter() {
            query.append_pair("scope", scope);
        }
    }
    let mut call = Call::new(Method::GET, url, action);
    if let Some(header) = credentials.and_then(basic_header) {
        call.headers.insert(header::AUTHORIZATION, header);
    }
    call
}

/// A token response: `token` or `access_token`, and `expires_in` seconds.
fn parse_token(body: &[u8]) -> std::result::Result<Token, String> {
    #[derive(serde::Deserialize)]
    struct Answer {
        token: Option<String>,
        access_token: Option<String>,
        expires_in: Option<u64>,
    }
    let answer: Answer = serde_json::from_slice(body)
        .map_err(|e| format!("the answer is not a token response ({e})"))?;
    let token = answer
        .token
        .or(answer.access_token)
        .filter(|t| !t.is_empty())
        .ok_or("the answer has no token")?;
    let mut header = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| "the token has characters not allowed in a header".to_owned())?;
    header.set_sensitive(true);
    // Capped, so that an absurd expires_in cannot overflow the clock arithmetic.
    let life = answer
        .expires_in
        .map_or(DEFAULT_TOKEN_LIFE, Duration::from_secs)
        .min(MAX_TOKEN_LIFE);
    // A short-lived token is kept for half its life rather than not at all.
    let margin = TOKEN_MARGIN.min(life / 2);
    Ok(Token {
        header,
        renew_at: Instant::now() + life - margin,
    })
}

fn parse_challenge(reg: &Registry, headers: &HeaderMap) -> Result<Challenge> {
    let text = headers
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ");
    Challenge::parse(&text).ok_or_else(|| Error::Challenge {
        registry: reg.name.clone(),
        challenge: text,
    })
}

fn basic_header(credentials: &Credentials) -> Option<HeaderValue> {
    let pair = format!("{}:{}", credentials.username(), credentials.password());
    let mut value = HeaderValue::from_str(&format!("Basic {}", BASE64.encode(pair))).ok()?;
    value.set_sensitive(true);
    Some(value)
}

fn is_transient(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500..=599)
}

/// `Retry-After` as delta-seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(SystemTime::now()).unwrap_or_default())
}

/// Up to [`SMALL_BODY`] bytes of a response body; a body that breaks off is cut there.
pub(crate) async fn read_limited(mut response: Response) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = SMALL_BODY.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= SMALL_BODY {
            break;
        }
    }
    body
}

/// `: CODE: message; CODE: message` from a Distribution error body, else the start of
/// the text, else nothing.
pub(crate) fn error_detail(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<ErrorEntry>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorEntry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    if let Ok(parsed) = serde_json::from_slice::<Errors>(body) {
        let parts: Vec<String> = parsed
            .errors
            .iter()
            .map(|e| match (e.code.is_empty(), e.message.is_empty()) {
                (false, false) => format!("{}: {}", e.code, e.message),
                (false, true) => e.code.clone(),
                _ => e.message.clone(),
            })
            .filter(|s| !s.is_empty())
            .collect();
        if !parts.is_empty() {
            return format!(": {}", parts.join("; "));
        }
    }
    let text = String::from_utf8_lossy(body);
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.is_empty() {
        return String::new();
    }
    let short: String = line.chars().take(200).collect();
    format!(": {short}")
}

/// An error and its causes on one line, repeats dropped (hyper and reqwest often wrap an
/// error in one that says the same).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cause = c.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_details() {
        let body = br#"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry","detail":"sha256:x"},{"code":"DENIED","message":""}]}"#;
        assert_eq!(
            error_detail(body),
            ": BLOB_UNKNOWN: blob unknown to registry; DENIED"
        );
        assert_eq!(
            error_detail(b"<html>\n  bad gateway\n</html>"),
            ": <html> bad gateway </html>"
        );
        assert_eq!(error_detail(b""), "");
        assert_eq!(error_detail(&[b'x'; 1000]).len(), 202);
    }

    #[test]
    fn tokens() {
        let t = parse_token(br#"{"token":"abc","expires_in":300}"#).unwrap();
        assert_eq!(t.header.to_str().unwrap(), "Bearer abc");
        assert!(t.header.is_sensitive());
        assert!(t.renew_at > Instant::now() + Duration::from_secs(280));
        let short = parse_token(br#"{"token":"s","expires_in":4}"#).unwrap();
        assert!(
            short.renew_at > Instant::now() + Duration::from_secs(1),
            "kept for half its life"
        );
        let t = parse_token(br#"{"access_token":"xyz"}"#).unwrap();
        assert_eq!(t.header.to_str().unwrap(), "Bearer xyz");
        assert!(parse_token(br#"{"token":"x","expires_in":18446744073709551615}"#).is_ok());
        assert!(parse_token(br#"{"token":""}"#).is_err());
        assert!(parse_token(b"nope").is_err());
        assert!(parse_token(br#"{"token":"a\nb"}"#).is_err());
    }

    #[test]
    fn token_requests() {
        let scopes = Scopes::push("team/app", &[]);
        let url = Url::parse("https://auth.example/token").unwrap();
        let creds = Credentials::new("u", "p");
        let call = token_call(url.clone(), Some("reg"), &scopes, Some(&creds), "r.io");
        assert_eq!(call.method, Method::GET);
        assert_eq!(
            call.url.as_str(),
            "https://auth.example/token?service=reg&scope=repository%3Ateam%2Fapp%3Apull%2Cpush"
        );
        assert_eq!(call.headers[header::AUTHORIZATION], "Basic dTpw");
        let refresh = Credentials::identity_token("<token>", "rt");
        let call = token_call(url, None, &scopes, Some(&refresh), "r.io");
        assert_eq!(call.method, Method::POST);
        let body = String::from_utf8(call.body.unwrap().to_vec()).unwrap();
        assert!(
            body.contains("grant_type=refresh_token")
                && body.contains("refresh_token=rt")
                && body.contains("service=r.io"),
            "{body}"
        );
    }

    #[test]
    fn retry_after_forms() {
        let mut headers = HeaderMap::new();
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn loopback_registries_use_plain_http() {
        let client = Client::new(Options::default()).unwrap();
        assert_eq!(
            client.registry("127.0.0.1:5000").unwrap().base.as_str(),
            "http://127.0.0.1:5000/"
        );
        assert_eq!(
            client.registry("[::1]:5000").unwrap().base.as_str(),
            "http://[::1]:5000/"
        );
        assert_eq!(
            client.registry("ghcr.io").unwrap().base.as_str(),
            "https://ghcr.io/"
        );
        assert_eq!(
            client.registry("docker.io").unwrap().base.as_str(),
            "https://registry-1.docker.io/"
        );
        let insecure = Client::new(Options {
            insecure: true,
            ..Options::default()
        })
        .unwrap();
        assert_eq!(
            insecure.registry("r.lan:5000").unwrap().base.as_str(),
            "http://r.lan:5000/"
        );
    }
}
