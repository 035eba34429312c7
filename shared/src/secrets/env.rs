//! Secrets from environment variables for local runs and tests, the `.env` loader, and
//! the choice between that store and Secrets Manager.

use super::{AppSecrets, SecretStore, SecretsError, SecretsManagerStore};
use crate::clock::SystemClock;
use crate::config;
use async_trait::async_trait;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Variable that names the Secrets Manager secret, by ARN or name.
pub const SECRETS_ARN_VARIABLE: &str = "SECRETS_ARN";

/// Variable that sets the minimum number of seconds between two reloads from Secrets
/// Manager (default 60).
pub const RELOAD_INTERVAL_VARIABLE: &str = "SECRETS_RELOAD_INTERVAL_SECONDS";

/// Secrets read from environment variables once, when the store is built:
///
/// - `STRIPE_SECRET_KEY`
/// - `STRIPE_WEBHOOK_SECRETS`: comma-separated, several while one is being rolled
/// - `SHOPIFY_ACCESS_TOKEN`, or `SHOPIFY_CLIENT_ID` with `SHOPIFY_CLIENT_SECRET`
/// - `HEALTH_API_KEY`
///
/// Values are trimmed, and empty ones count as absent. [`SecretStore::reload`] returns
/// `Ok(None)` because the variables are not read again. `Debug` never shows the values.
#[derive(Debug, Clone)]
pub struct EnvSecretStore {
    secrets: Arc<AppSecrets>,
}

impl EnvSecretStore {
    /// Reads the secrets from the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(config::optional)
    }

    /// Reads the secrets through `lookup`, which returns a variable's value or `None`
    /// when the variable is unset. Tests use it to avoid the shared process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let read = |name: &str| {
            lookup(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let webhook_secrets = read("STRIPE_WEBHOOK_SECRETS")
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|value| !value.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Self::new(AppSecrets {
            stripe_secret_key: read("STRIPE_SECRET_KEY"),
            stripe_webhook_secrets: webhook_secrets,
            shopify_access_token: read("SHOPIFY_ACCESS_TOKEN"),
            shopify_client_id: read("SHOPIFY_CLIENT_ID"),
            shopify_client_secret: read("SHOPIFY_CLIENT_SECRET"),
            health_api_key: read("HEALTH_API_KEY"),
        })
    }

    /// Wraps secrets that are already loaded.
    pub fn new(secrets: AppSecrets) -> Self {
        Self {
            secrets: Arc::new(secrets),
        }
    }
}

#[async_trait]
impl SecretStore for EnvSecretStore {
    async fn secrets(&self) -> Result<Arc<AppSecrets>, SecretsError> {
        Ok(self.secrets.clone())
    }

    async fn reload(&self) -> Result<Option<Arc<AppSecrets>>, SecretsError> {
        Ok(None)
    }
}

/// Builds the secret store that the environment selects: [`SecretsManagerStore`] when
/// `SECRETS_ARN` is set, with a client built from `aws` and the reload interval from
/// `SECRETS_RELOAD_INTERVAL_SECONDS`, and [`EnvSecretStore`] otherwise.
///
/// Nothing is fetched here, so a Secrets Manager error shows at the first
/// [`SecretStore::secrets`] call. The error returned here is an invalid reload interval.
pub async fn secret_store_from_env(
    aws: &aws_config::SdkConfig,
) -> Result<Arc<dyn SecretStore>, SecretsError> {
    let Some(secret_id) = config::optional(SECRETS_ARN_VARIABLE) else {
        tracing::info!(
            "reading secrets from environment variables, because SECRETS_ARN is not set"
        );
        return Ok(Arc::new(EnvSecretStore::from_env()));
    };

    let interval_seconds: u64 = config::parse_or(
        RELOAD_INTERVAL_VARIABLE,
        super::manager::DEFAULT_MIN_RELOAD_INTERVAL.as_secs(),
    )
    .map_err(|error| SecretsError(error.to_string()))?;
    tracing::info!(
        secret_id = %secret_id,
        min_reload_interval_seconds = interval_seconds,
        "reading secrets from Secrets Manager"
    );
    let store = SecretsManagerStore::new(
        aws_sdk_secretsmanager::Client::new(aws),
        secret_id,
        Arc::new(SystemClock),
    )
    .with_min_reload_interval(Duration::from_secs(interval_seconds));
    Ok(Arc::new(store))
}

/// Loads `.env` from the current directory into the process environment, if the file
/// exists. Variables that are already set keep their values. Returns whether a file was
/// loaded.
///
/// Call it at the start of `main`, before other threads read the environment.
pub fn load_dotenv() -> Result<bool, SecretsError> {
    load_dotenv_file(Path::new(".env"))
}

/// Loads the dotenv file at `path` as [`load_dotenv`] does.
///
/// NOTE: when a line is malformed, the variables of the lines before it are already set.
pub(crate) fn load_dotenv_file(path: &Path) -> Result<bool, SecretsError> {
    match dotenvy::from_path(path) {
        Ok(()) => {
            tracing::info!(
                path = %path.display(),
                "loaded environment variables from the dotenv file; variables already set were kept"
            );
            Ok(true)
        }
        Err(error) if error.not_found() => Ok(false),
        // The parse error's text quotes the whole line, value included, so only the
        // character position is kept.
        Err(dotenvy::Error::LineParse(_, position)) => Err(SecretsError(format!(
            "{} contains a malformed line (error at character {position}). Each line must \
             be NAME=value",
            path.display()
        ))),
        Err(dotenvy::Error::Io(error)) => Err(SecretsError(format!(
            "reading {} failed: {error}",
            path.display()
        ))),
        // dotenvy 0.15's only other error wraps `VarError`, whose `NotUnicode` text
        // prints the value, so no detail is forwarded.
        Err(_) => Err(SecretsError(format!("loading {} failed", path.display()))),
    }
}

#[cfg(test)]
mod tests;
