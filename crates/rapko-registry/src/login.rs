//! `login` and `logout`: check credentials against a registry, then store them where
//! docker would (see [`crate::credentials`]); forget them again.

use crate::client::Client;
use crate::credentials::{Credentials, DockerConfig, StoredIn};
use crate::error::Result;
use crate::options::{Auth, Options};
use crate::reference::normalize_registry;

/// Checks that `registry` accepts `credentials` (`GET /v2/` with them, through the token
/// server when the registry uses bearer tokens). Nothing is stored.
pub async fn check_credentials(
    registry: &str,
    credentials: &Credentials,
    options: &Options,
) -> Result<()> {
    let registry = normalize_registry(registry)?;
    let options = Options {
        auth: Auth::Basic(credentials.clone()),
        ..options.clone()
    };
    let client = Client::new(options)?;
    let reg = client.registry(&registry)?;
    client.check_login(&reg).await
}

/// Stores `credentials` for `registry` in `config` (after [`check_credentials`]).
pub fn store_credentials(
    registry: &str,
    credentials: &Credentials,
    config: &mut DockerConfig,
) -> Result<StoredIn> {
    config.store(&normalize_registry(registry)?, credentials)
}

/// Forgets the credentials for `registry`; false when there were none.
pub fn logout(registry: &str, config: &mut DockerConfig) -> Result<bool> {
    config.erase(&normalize_registry(registry)?)
}
