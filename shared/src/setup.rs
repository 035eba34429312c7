//! Building each function's dependencies from the environment, once per container.
//!
//! Settings (all optional unless marked):
//! - `TABLE_NAME` (required where DynamoDB is used): the single table of the pipeline.
//! - `AWS_ENDPOINT_URL`: read by the AWS SDK itself; point it at a moto server locally.
//! - `ALLOWED_ORIGINS`: comma-separated origins allowed to call the browser-facing routes.
//! - `REGISTRATION_TTL_DAYS` (default 90): how long registrations are kept.
//! - `DEFAULT_PHONE_REGION` (default `US`): region for phone numbers without a country code.
//! - `FORM_MAX_FIELDS`, `FORM_MAX_FIELD_NAME_CHARS`, `FORM_MAX_FIELD_VALUE_CHARS`: limits on
//!   the registration form's extra fields (defaults 100, 64 and 5000).
//! - `STRIPE_SECRET_KEY` (required where Stripe is called), `STRIPE_API_BASE`,
//!   `STRIPE_API_VERSION`, `STRIPE_RECEIPT_EMAIL` (`true` to let Stripe send its own
//!   receipt), `STRIPE_STATEMENT_DESCRIPTOR_SUFFIX`.

use crate::config::{self, ConfigError};
use crate::form::FormLimits;
use crate::handlers::create_intent::CheckoutSettings;
use crate::stripe::{StripeClient, StripeConfig, StripeConfigError, StripeSecretKey};

/// A dependency that could not be built at cold start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Stripe(#[from] StripeConfigError),
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
}

/// Reads the checkout route's settings.
pub fn checkout_settings() -> Result<CheckoutSettings, ConfigError> {
    let defaults = CheckoutSettings::default();
    let form_defaults = FormLimits::default();
    let ttl_days: i64 = config::parse_or("REGISTRATION_TTL_DAYS", 90)?;
    if ttl_days <= 0 {
        return Err(ConfigError {
            name: "REGISTRATION_TTL_DAYS".to_owned(),
            message: "must be a positive number of days".to_owned(),
        });
    }
    Ok(CheckoutSettings {
        registration_ttl_seconds: ttl_days * 24 * 3600,
        phone_region: config::parse_or("DEFAULT_PHONE_REGION", defaults.phone_region)?,
        form_limits: FormLimits {
            max_fields: config::parse_or("FORM_MAX_FIELDS", form_defaults.max_fields)?,
            max_name_chars: config::parse_or(
                "FORM_MAX_FIELD_NAME_CHARS",
                form_defaults.max_name_chars,
            )?,
            max_value_chars: config::parse_or(
                "FORM_MAX_FIELD_VALUE_CHARS",
                form_defaults.max_value_chars,
            )?,
        },
        send_stripe_receipt: config::parse_or("STRIPE_RECEIPT_EMAIL", false)?,
        statement_descriptor_suffix: config::optional("STRIPE_STATEMENT_DESCRIPTOR_SUFFIX"),
    })
}

/// Builds the Stripe client from `STRIPE_SECRET_KEY` and the optional Stripe settings.
pub fn stripe_client() -> Result<StripeClient, SetupError> {
    let key = StripeSecretKey::new(config::required("STRIPE_SECRET_KEY")?);
    let defaults = StripeConfig::default();
    let stripe_config = StripeConfig {
        base_url: config::optional("STRIPE_API_BASE").unwrap_or(defaults.base_url.clone()),
        api_version: config::optional("STRIPE_API_VERSION").unwrap_or(defaults.api_version.clone()),
        ..defaults
    };
    Ok(StripeClient::new(key, stripe_config)?)
}

/// Loads the AWS SDK configuration from the usual sources (environment, Lambda role).
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// Reads `TABLE_NAME`.
pub fn table_name() -> Result<String, ConfigError> {
    config::required("TABLE_NAME")
}
