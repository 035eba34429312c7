//! Sources of the functions' secrets.

mod app;
mod env;
mod manager;

pub use app::AppSecrets;
pub use env::{
    load_dotenv, secret_store_from_env, EnvSecretStore, RELOAD_INTERVAL_VARIABLE,
    SECRETS_ARN_VARIABLE,
};
pub use manager::{SecretsManagerStore, DEFAULT_MIN_RELOAD_INTERVAL};

use crate::stripe::signature::WebhookSecret;
use async_trait::async_trait;
use std::fmt;
use std::sync::Arc;

/// A secret string whose `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that must send or compare it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("[redacted]")
    }
}

/// A source of [`AppSecrets`]: Secrets Manager in Lambda, the environment locally.
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// Returns the secrets, loaded on first use and then served from memory for the life of the
    /// container.
    async fn secrets(&self) -> Result<Arc<AppSecrets>, SecretsError>;

    /// Loads the secrets again, at most as often as the implementation allows. `None` when
    /// the source cannot change while the process runs.
    async fn reload(&self) -> Result<Option<Arc<AppSecrets>>, SecretsError>;
}

/// Serves the webhook secrets of any [`SecretStore`].
pub struct WebhookSecretsFrom(pub Arc<dyn SecretStore>);

#[async_trait]
impl WebhookSecretSource for WebhookSecretsFrom {
    async fn webhook_secrets(&self) -> Result<Vec<WebhookSecret>, SecretsError> {
        Ok(self.0.secrets().await?.webhook_secrets())
    }

    async fn refresh_webhook_secrets(&self) -> Result<Option<Vec<WebhookSecret>>, SecretsError> {
        Ok(self
            .0
            .reload()
            .await?
            .map(|secrets| secrets.webhook_secrets()))
    }
}

/// A secret source that could not be read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("secrets could not be loaded: {0}")]
pub struct SecretsError(pub String);

/// The webhook signing secrets, several while one is being rolled.
#[async_trait]
pub trait WebhookSecretSource: Send + Sync {
    /// Returns the secrets as last loaded, loading them on first use.
    async fn webhook_secrets(&self) -> Result<Vec<WebhookSecret>, SecretsError>;

    /// Loads the secrets again, after a signature matched none of them (the secret may
    /// have been rolled). Returns `None` when the source cannot change, so the caller
    /// does not verify twice for nothing.
    async fn refresh_webhook_secrets(&self) -> Result<Option<Vec<WebhookSecret>>, SecretsError>;
}

/// Secrets fixed at start-up, for local runs and tests.
#[derive(Debug, Clone)]
pub struct StaticWebhookSecrets(pub Vec<WebhookSecret>);

#[async_trait]
impl WebhookSecretSource for StaticWebhookSecrets {
    async fn webhook_secrets(&self) -> Result<Vec<WebhookSecret>, SecretsError> {
        Ok(self.0.clone())
    }

    async fn refresh_webhook_secrets(&self) -> Result<Option<Vec<WebhookSecret>>, SecretsError> {
        Ok(None)
    }
}
