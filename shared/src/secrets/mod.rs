//! Where the functions get their secrets.

use crate::stripe::signature::WebhookSecret;
use async_trait::async_trait;

/// A secret source that could not be read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("secrets could not be loaded: {0}")]
pub struct SecretsError(pub String);

/// The webhook signing secrets, several while one is being rolled.
#[async_trait]
pub trait WebhookSecretSource: Send + Sync {
    /// The secrets as last loaded; loads them on first use.
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
