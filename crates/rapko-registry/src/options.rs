//! How to talk to registries: where credentials come from, plain HTTP or not, how much
//! to do in parallel, upload sizes, retries and timeouts. The defaults suit a CLI.

use std::time::{Duration, SystemTime};

use crate::credentials::{Credentials, DockerConfig};

/// Where credentials come from.
#[derive(Debug, Clone, Default)]
pub enum Auth {
    /// The docker config at `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`,
    /// credential helpers included.
    #[default]
    DockerConfig,
    /// This docker config (loaded from a chosen directory).
    Config(DockerConfig),
    /// These credentials, for every registry.
    Basic(Credentials),
    /// None: anonymous access only.
    Anonymous,
}

/// How often and how patiently to retry a failed request.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Tries in all, the first included (at least 1).
    pub attempts: u32,
    /// The wait before the first retry; doubled for each further one.
    pub base_delay: Duration,
    /// The longest wait between two tries.
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured; longer requests are waited for this long.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait after `failed` failed tries: exponential with up to 25% jitter, so parallel
    /// uploads that failed together do not retry in lockstep.
    pub(crate) fn backoff(&self, failed: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << failed.saturating_sub(1).min(16));
        let capped = exp.min(self.max_delay);
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        capped + capped.mul_f64(f64::from(nanos % 1000) / 4000.0)
    }
}

/// Connection and read timeouts.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Time allowed to open a connection (TCP and TLS).
    pub connect: Duration,
    /// Time allowed between two reads of a response: a stalled registry fails after
    /// this, a slow but moving one does not.
    pub read: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(15),
            read: Duration::from_secs(60),
        }
    }
}

/// Settings for pushing, logging in and everything else that talks to a registry.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where credentials come from.
    pub auth: Auth,
    /// Use plain HTTP for every registry (loopback registries always use it).
    pub insecure: bool,
    /// Blobs uploaded at the same time.
    pub parallelism: usize,
    /// Blobs up to this size go in one request; larger ones in chunks.
    pub monolithic_limit: u64,
    /// The size of one chunk of a chunked upload.
    pub chunk_size: usize,
    /// Retries of failed requests.
    pub retry: RetryPolicy,
    /// Timeouts.
    pub timeouts: Timeouts,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            auth: Auth::default(),
            insecure: false,
            parallelism: 4,
            monolithic_limit: 8 << 20,
            chunk_size: 8 << 20,
            retry: RetryPolicy::default(),
            timeouts: Timeouts::default(),
        }
    }
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
        assert!(policy.backoff(40) <= Duration::from_millis(1250));
    }
}
