//! The same operations without async, for the CLI: each call runs on a small tokio
//! runtime of its own. Do not call these from inside an async runtime (they return an
//! error saying so); use the async functions there.

use crate::credentials::{Credentials, DockerConfig, StoredIn};
use crate::error::{Error, Result};
use crate::options::Options;
use crate::push::{PushReport, PushRequest};

/// [`crate::push`], blocking.
pub fn push(request: &PushRequest, options: &Options) -> Result<PushReport> {
    runtime()?.block_on(crate::push::push(request, options))
}

/// Checks `credentials` against `registry`, then stores them in `config` the way
/// `docker login` does. Returns where they went.
pub fn login(
    registry: &str,
    credentials: &Credentials,
    config: &mut DockerConfig,
    options: &Options,
) -> Result<StoredIn> {
    runtime()?.block_on(crate::login::check_credentials(
        registry,
        credentials,
        options,
    ))?;
    crate::login::store_credentials(registry, credentials, config)
}

/// Forgets the credentials for `registry` in `config`; false when there were none.
pub fn logout(registry: &str, config: &mut DockerConfig) -> Result<bool> {
    crate::login::logout(registry, config)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::Setup {
            reason: "the blocking API was called inside an async runtime; call the async function instead".into(),
        });
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("rapko-registry")
        .enable_all()
        .build()
        .map_err(|e| Error::Setup {
            reason: format!("cannot start the async runtime: {e}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_to_nest_runtimes() {
        let request = PushRequest::new("/nonexistent", crate::Root::Sole, vec![]);
        let err = push(&request, &Options::default()).unwrap_err();
        assert!(err.to_string().contains("inside an async runtime"), "{err}");
    }
}
