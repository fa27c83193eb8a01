//! HTTP GET with the care a package manager needs: one shared client (connection reuse,
//! HTTP/2 when the server offers it over TLS, rustls with the ring provider), connect and
//! read timeouts, size limits, conditional requests (`If-None-Match`, `If-Modified-Since`),
//! and bounded retries with exponential backoff on 5xx, 408, 429 (honouring `Retry-After`
//! up to a limit), dropped connections and truncated bodies.

use std::time::{Duration, SystemTime};

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{StatusCode, Url};

use crate::auth::{BasicAuth, HostCredentials};
use crate::error::{Error, Result};
use crate::progress::Progress;

/// Connect, read and total timeouts.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// Time allowed to open a connection (TCP and TLS).
    pub connect: Duration,
    /// Time allowed between two reads of a response (headers or body): a stalled server
    /// fails after this, a slow but moving download does not.
    pub read: Duration,
    /// Time allowed for one request in all, every retry included: a server that keeps
    /// stalling cannot hold a build for attempts × `read`, and none can hold it forever.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(15),
            read: Duration::from_secs(30),
            total: Duration::from_secs(300),
        }
    }
}

/// How often and how patiently to retry.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Tries in all, the first included (at least 1).
    pub attempts: u32,
    /// The wait before the first retry; doubled for each further one.
    pub base_delay: Duration,
    /// The longest wait between two tries, backoff included.
    pub max_delay: Duration,
    /// The longest `Retry-After` we honour; a server asking for more fails at once.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff with up to 25% jitter, so parallel downloads that failed together
    /// do not retry in lockstep.
    fn backoff(&self, failed_attempts: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << failed_attempts.saturating_sub(1).min(16));
        let capped = exp.min(self.max_delay);
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let jitter = capped.mul_f64(f64::from(nanos % 1000) / 4000.0);
        (capped + jitter).min(self.max_delay.max(self.base_delay))
    }
}

/// The validators of a cached copy, for a conditional request.
#[derive(Clone, Default, Debug, PartialEq, Eq)]
pub(crate) struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Validators {
    fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }

    fn from_headers(headers: &HeaderMap) -> Validators {
        let text = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        Validators {
            etag: text(header::ETAG),
            last_modified: text(header::LAST_MODIFIED),
        }
    }
}

/// What a GET gave.
#[derive(Debug)]
pub(crate) enum Fetched {
    /// 304: the cached copy is current.
    NotModified,
    Body {
        bytes: Vec<u8>,
        validators: Validators,
    },
}

/// One GET.
pub(crate) struct Get<'a> {
    pub url: &'a Url,
    /// Credentials from the repository URL; `HTTP_AUTH` is the fallback.
    pub auth: Option<&'a BasicAuth>,
    /// What is fetched, for messages: "index", "package", "key".
    pub what: &'static str,
    pub limit: u64,
    /// The size the signed index announces, to tell a truncated body from a bad one.
    pub expected_size: Option<u64>,
    pub conditional: Option<&'a Validators>,
    /// Progress sink and the package name it is reported under.
    pub progress: Option<(&'a dyn Progress, &'a str)>,
}

/// The shared client and the policies applied to every request.
pub(crate) struct Http {
    client: reqwest::Client,
    credentials: HostCredentials,
    retry: RetryPolicy,
    timeouts: Timeouts,
}

/// Why one try failed.
enum Failure {
    /// Worth another try, after `wait` if the server said so.
    Transient {
        cause: Transient,
        wait: Option<Duration>,
    },
    /// A complete response shorter than the index announced: likely cut short by a proxy or
    /// a dropped connection without a length, so worth another try; but when every try says
    /// the same it is what the server has, and the caller's verification tells what is wrong.
    Short {
        bytes: Vec<u8>,
        validators: Validators,
    },
    Fatal(Box<Error>),
}

enum Transient {
    /// No answer (headers) in time.
    Timeout,
    /// The body stopped after this many bytes.
    Stalled(u64),
    Network(String),
    Status(u16),
}

impl Http {
    pub(crate) fn new(
        credentials: HostCredentials,
        retry: RetryPolicy,
        timeouts: Timeouts,
        parallelism: usize,
    ) -> Result<Http> {
        // reqwest is built without a default crypto provider (that would pull aws-lc);
        // install ring for the process. Err means one is installed already, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .user_agent(concat!("rapko/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeouts.connect)
            .read_timeout(timeouts.read)
            .pool_max_idle_per_host(parallelism.max(1))
            .build()
            .map_err(|e| Error::Setup {
                reason: error_chain(&e),
            })?;
        Ok(Http {
            client,
            credentials,
            retry,
            timeouts,
        })
    }

    /// GETs `req.url`, retrying transient failures, all within the total deadline.
    pub(crate) async fn get(&self, req: &Get<'_>) -> Result<Fetched> {
        let deadline = tokio::time::Instant::now() + self.timeouts.total;
        let tries = std::sync::atomic::AtomicU32::new(0);
        match tokio::time::timeout_at(deadline, self.get_until(req, deadline, &tries)).await {
            Ok(result) => result,
            Err(_) => {
                report_discard(req, 0);
                Err(Error::Deadline {
                    url: req.url.to_string(),
                    seconds: self.timeouts.total.as_secs_f64(),
                    attempts: tries.load(std::sync::atomic::Ordering::Relaxed),
                })
            }
        }
    }

    async fn get_until(
        &self,
        req: &Get<'_>,
        deadline: tokio::time::Instant,
        tries: &std::sync::atomic::AtomicU32,
    ) -> Result<Fetched> {
        let attempts = self.retry.attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            tries.store(attempt, std::sync::atomic::Ordering::Relaxed);
            let failure = match self.try_once(req).await {
                Ok(fetched) => return Ok(fetched),
                Err(failure) => failure,
            };
            let (cause, wait) = match failure {
                Failure::Fatal(e) => return Err(*e),
                Failure::Short { bytes, validators } if attempt >= attempts => {
                    return Ok(Fetched::Body { bytes, validators });
                }
                Failure::Short { bytes, .. } => (short(req, bytes.len()), None),
                Failure::Transient { cause, wait } => (cause, wait),
            };
            let delay = wait.unwrap_or_else(|| self.retry.backoff(attempt));
            // No retry that could not even start before the deadline: the cause is the
            // accurate message then.
            if attempt >= attempts || tokio::time::Instant::now() + delay >= deadline {
                return Err(self.give_up(req.url, cause, attempt));
            }
            tracing::debug!(
                url = %req.url,
                attempt,
                delay_ms = delay.as_millis() as u64,
                "retrying: {}",
                describe(&cause)
            );
            tokio::time::sleep(delay).await;
        }
    }

    fn give_up(&self, url: &Url, cause: Transient, attempts: u32) -> Error {
        let url = url.to_string();
        match cause {
            Transient::Timeout => Error::Timeout {
                url,
                seconds: self.timeouts.read.as_secs_f64(),
                attempts,
            },
            Transient::Stalled(got) => Error::Stalled {
                url,
                got,
                seconds: self.timeouts.read.as_secs_f64(),
                attempts,
            },
            Transient::Network(reason) => Error::Network {
                url,
                attempts,
                reason,
            },
            Transient::Status(status) => Error::Status {
                url,
                status,
                attempts,
            },
        }
    }

    async fn try_once(&self, req: &Get<'_>) -> Result<Fetched, Failure> {
        let response = self.build(req).send().await.map_err(transport_failure)?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED && req.conditional.is_some() {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            return Err(self.status_failure(req, &response));
        }
        if let Some(len) = response.content_length() {
            check_limit(req, len)?;
            check_expected(req, len)?;
        }
        let validators = Validators::from_headers(response.headers());
        let bytes = read_body(req, response).await?;
        // Without a Content-Length a dropped connection looks like a complete body; the
        // signed index says how long the file is.
        if req.expected_size.is_some_and(|n| (bytes.len() as u64) < n) {
            report_discard(req, bytes.len());
            return Err(Failure::Short { bytes, validators });
        }
        Ok(Fetched::Body { bytes, validators })
    }

    fn build(&self, req: &Get<'_>) -> reqwest::RequestBuilder {
        let mut builder = self.client.get(req.url.clone());
        if let Some(auth) = req.auth.or_else(|| self.credentials.for_url(req.url)) {
            builder = builder.basic_auth(auth.user(), Some(auth.password()));
        }
        if let Some(v) = req.conditional.filter(|v| !v.is_empty()) {
            if let Some(etag) = &v.etag {
                builder = builder.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(date) = &v.last_modified {
                builder = builder.header(header::IF_MODIFIED_SINCE, date);
            }
        }
        builder
    }

    fn status_failure(&self, req: &Get<'_>, response: &reqwest::Response) -> Failure {
        let url = req.url.to_string();
        let code = response.status().as_u16();
        let fatal = |e| Failure::Fatal(Box::new(e));
        match code {
            401 | 403 => fatal(Error::Unauthorized { url, status: code }),
            404 | 410 => fatal(Error::NotFound {
                what: req.what,
                url,
            }),
            408 | 429 | 500..=599 => match retry_after(response.headers()) {
                Some(wait) if wait > self.retry.max_retry_after => fatal(Error::RetryTooLate {
                    url,
                    seconds: wait.as_secs(),
                    limit: self.retry.max_retry_after.as_secs(),
                }),
                wait => Failure::Transient {
                    cause: Transient::Status(code),
                    wait,
                },
            },
            _ => fatal(Error::Status {
                url,
                status: code,
                attempts: 1,
            }),
        }
    }
}

fn check_limit(req: &Get<'_>, size: u64) -> Result<(), Failure> {
    if size > req.limit {
        return Err(Failure::Fatal(Box::new(Error::TooLarge {
            what: req.what,
            url: req.url.to_string(),
            size,
            limit: req.limit,
        })));
    }
    Ok(())
}

/// Refuses a body longer than the signed index announces (`S:`): an endless or padded body
/// stops there, not at the size limit.
fn check_expected(req: &Get<'_>, size: u64) -> Result<(), Failure> {
    match req.expected_size {
        Some(expected) if size > expected => Err(Failure::Fatal(Box::new(Error::Oversized {
            url: req.url.to_string(),
            expected,
        }))),
        _ => Ok(()),
    }
}

/// Streams the body into memory, enforcing the size limit as it goes.
async fn read_body(req: &Get<'_>, mut response: reqwest::Response) -> Result<Vec<u8>, Failure> {
    let capacity = response
        .content_length()
        .or(req.expected_size)
        .unwrap_or(0)
        .min(req.limit)
        .min(64 << 20);
    let mut bytes = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => {
                report_discard(req, bytes.len());
                return Err(match transport_failure(e) {
                    Failure::Transient {
                        cause: Transient::Timeout,
                        wait,
                    } => Failure::Transient {
                        cause: Transient::Stalled(bytes.len() as u64),
                        wait,
                    },
                    other => other,
                });
            }
        };
        let len = (bytes.len() + chunk.len()) as u64;
        check_limit(req, len)?;
        if let Err(e) = check_expected(req, len) {
            report_discard(req, bytes.len());
            return Err(e);
        }
        bytes.extend_from_slice(&chunk);
        if let Some((progress, name)) = req.progress {
            progress.advanced(name, chunk.len() as u64);
        }
    }
    Ok(bytes)
}

fn short(req: &Get<'_>, got: usize) -> Transient {
    Transient::Network(format!(
        "body truncated: got {got} of {} bytes",
        req.expected_size.unwrap_or_default()
    ))
}

fn report_discard(req: &Get<'_>, len: usize) {
    if let Some((progress, name)) = req.progress {
        progress.retrying(name, len as u64);
    }
}

fn transport_failure(e: reqwest::Error) -> Failure {
    let cause = if e.is_timeout() {
        Transient::Timeout
    } else {
        Transient::Network(error_chain(&e.without_url()))
    };
    Failure::Transient { cause, wait: None }
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

fn describe(cause: &Transient) -> String {
    match cause {
        Transient::Timeout => "timed out".to_owned(),
        Transient::Stalled(got) => format!("stalled after {got} bytes"),
        Transient::Network(reason) => reason.clone(),
        Transient::Status(status) => format!("HTTP {status}"),
    }
}

/// An error and its causes on one line, repeated messages dropped (hyper and reqwest
/// often wrap an error in one that says the same).
fn error_chain(e: &dyn std::error::Error) -> String {
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
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy {
            attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(5),
        };
        let first = policy.backoff(1);
        assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(125));
        let third = policy.backoff(3);
        assert!(third >= Duration::from_millis(400) && third <= Duration::from_millis(500));
        assert!(policy.backoff(30) <= Duration::from_secs(1));
    }

    #[test]
    fn reads_retry_after_in_both_forms() {
        let mut headers = HeaderMap::new();
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        let later = SystemTime::now() + Duration::from_secs(120);
        let date = HeaderValue::from_str(&httpdate::fmt_http_date(later)).expect("valid header");
        headers.insert(header::RETRY_AFTER, date);
        let wait = retry_after(&headers).expect("date parses");
        assert!(wait > Duration::from_secs(100) && wait <= Duration::from_secs(120));
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn error_chain_drops_repeats() {
        let inner = std::io::Error::other("connection reset");
        let outer = std::io::Error::other(inner);
        assert_eq!(error_chain(&outer), "connection reset");
    }
}
