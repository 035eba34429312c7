//! Building the tool's dependencies from the same environment the functions read: see
//! `shared::setup` for the settings. The keys come from the secret store that `SECRETS_ARN`
//! selects (Secrets Manager), or from environment variables such as `STRIPE_SECRET_KEY`
//! when it is unset.

use shared::catalog::{Catalog, CatalogError};
use shared::clock::{Clock, SystemClock};
use shared::config::{self, ConfigError};
use shared::orders::{DynamoFailureLog, OrderDeps};
use shared::secrets::{secret_store_from_env, AppSecrets, SecretsError};
use shared::setup::{self, SetupError};
use shared::stripe::StripeClient;
use std::sync::Arc;

/// Expiry that the failure log of `replay list` would set on a write, 90 days as in the
/// functions. `list` only reads, so the value has no effect there.
const FAILURE_TTL_SECONDS: i64 = 90 * 24 * 3600;

/// A dependency that could not be built from the environment. No variant shows a secret.
#[derive(Debug, thiserror::Error)]
pub enum EnvironmentError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

/// Loads the AWS configuration as the functions do, from the environment and the usual
/// credential sources.
pub async fn aws_config() -> aws_config::SdkConfig {
    setup::aws_config().await
}

/// Loads the keys from Secrets Manager when `SECRETS_ARN` is set, else from environment
/// variables.
pub async fn app_secrets(aws: &aws_config::SdkConfig) -> Result<Arc<AppSecrets>, EnvironmentError> {
    let store = secret_store_from_env(aws).await?;
    Ok(store.secrets().await?)
}

/// Builds the failure log on `TABLE_NAME`, which is all that `replay list` reads.
pub fn failure_log(aws: &aws_config::SdkConfig) -> Result<DynamoFailureLog, EnvironmentError> {
    Ok(DynamoFailureLog::from_config(
        aws,
        setup::table_name()?,
        FAILURE_TTL_SECONDS,
    ))
}

/// Builds the order path over DynamoDB and Shopify with the bundled catalog, as the
/// webhook function does.
pub fn order_deps(
    aws: &aws_config::SdkConfig,
    secrets: &AppSecrets,
) -> Result<OrderDeps, EnvironmentError> {
    let catalog = Arc::new(Catalog::bundled()?);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    Ok(setup::order_deps(aws, secrets, catalog, clock)?)
}

/// Builds the Stripe client with the secrets' key and `STRIPE_API_BASE` and
/// `STRIPE_API_VERSION` from the environment.
pub fn stripe_client(secrets: &AppSecrets) -> Result<StripeClient, EnvironmentError> {
    Ok(setup::stripe_client(secrets)?)
}

/// Reads `LIVEMODE` (default `false`), which decides whether a free registration's order is
/// a real Shopify order or a test order, as at checkout.
pub fn free_livemode() -> Result<bool, ConfigError> {
    config::parse_or("LIVEMODE", false)
}
