//! Progress reporting: the fetcher calls a [`Progress`] as packages start, stream and finish,
//! so a front end can drive a progress bar. Every method has an empty default; calls come from
//! several threads at once.

/// How a package was obtained.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Outcome {
    /// Downloaded and verified (and now cached).
    Downloaded,
    /// Read from the cache and verified again.
    Cached,
    /// Read in place from a local repository.
    Local,
    /// Not obtained; the error is returned by the fetch call.
    Failed,
}

/// Receives progress events. `package` is `name-version`.
pub trait Progress: Send + Sync {
    /// A batch of `count` packages, about `bytes` in all (from the index sizes), is starting.
    fn batch(&self, count: usize, bytes: u64) {
        let _ = (count, bytes);
    }

    /// A package started; `size` is its expected size when known.
    fn started(&self, package: &str, size: Option<u64>) {
        let _ = (package, size);
    }

    /// `bytes` more bytes of a package arrived (or were read from disk).
    fn advanced(&self, package: &str, bytes: u64) {
        let _ = (package, bytes);
    }

    /// A download attempt failed and will be retried: the `discarded` bytes it had reported
    /// come again.
    fn retrying(&self, package: &str, discarded: u64) {
        let _ = (package, discarded);
    }

    /// A package is done.
    fn finished(&self, package: &str, outcome: Outcome) {
        let _ = (package, outcome);
    }
}
