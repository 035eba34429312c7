//! The pipeline's secrets as one JSON document.

use super::Secret;
use crate::stripe::signature::WebhookSecret;
use crate::stripe::StripeSecretKey;
use serde::Deserialize;
use std::fmt;

/// Every secret the functions use, as stored in one Secrets Manager secret (JSON):
///
/// ```json
/// {
///   "stripe_secret_key": "sk_live_…",
///   "stripe_webhook_secrets": ["whsec_…", "whsec_…"],
///   "shopify_access_token": "…",
///   "shopify_client_id": "…", "shopify_client_secret": "…",
///   "health_api_key": "…"
/// }
/// ```
///
/// Either `shopify_access_token`, or `shopify_client_id` with `shopify_client_secret`.
/// `Debug` shows which secrets are present, never their values.
#[derive(Clone, Default, Deserialize)]
pub struct AppSecrets {
    #[serde(default)]
    pub stripe_secret_key: Option<String>,
    #[serde(default)]
    pub stripe_webhook_secrets: Vec<String>,
    #[serde(default)]
    pub shopify_access_token: Option<String>,
    #[serde(default)]
    pub shopify_client_id: Option<String>,
    #[serde(default)]
    pub shopify_client_secret: Option<String>,
    #[serde(default)]
    pub health_api_key: Option<String>,
}

impl fmt::Debug for AppSecrets {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present = |value: &Option<String>| {
            if value.is_some() {
                "[redacted]"
            } else {
                "absent"
            }
        };
        formatter
            .debug_struct("AppSecrets")
            .field("stripe_secret_key", &present(&self.stripe_secret_key))
            .field(
                "stripe_webhook_secrets",
                &format!("{} [redacted]", self.stripe_webhook_secrets.len()),
            )
            .field("shopify_access_token", &present(&self.shopify_access_token))
            .field("shopify_client_id", &present(&self.shopify_client_id))
            .field(
                "shopify_client_secret",
                &present(&self.shopify_client_secret),
            )
            .field("health_api_key", &present(&self.health_api_key))
            .finish()
    }
}

impl AppSecrets {
    /// Returns the Stripe key, wrapped so it cannot be logged.
    pub fn stripe_key(&self) -> Option<StripeSecretKey> {
        self.stripe_secret_key.clone().map(StripeSecretKey::new)
    }

    /// Returns the webhook signing secrets, skipping empty entries.
    pub fn webhook_secrets(&self) -> Vec<WebhookSecret> {
        self.stripe_webhook_secrets
            .iter()
            .filter_map(|value| WebhookSecret::new(value.trim()).ok())
            .collect()
    }

    /// Returns the health API key, wrapped so it cannot be logged.
    pub fn health_key(&self) -> Option<Secret> {
        self.health_api_key.clone().map(Secret::new)
    }
}
