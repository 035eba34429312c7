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
//! - `SHOPIFY_SHOP` (required where orders are created): `example.myshopify.com`;
//!   `SHOPIFY_API_VERSION` (default `2026-10`); and either `SHOPIFY_ACCESS_TOKEN`, or
//!   `SHOPIFY_CLIENT_ID` with `SHOPIFY_CLIENT_SECRET` for the client-credentials grant.
//! - `ORDER_LEASE_SECONDS` (default 60), `ORDER_SOURCE_NAME`: see `OrderSettings`.
//! - `STRIPE_WEBHOOK_SECRETS` (required by the webhook): comma-separated signing secrets;
//!   `WEBHOOK_TOLERANCE_SECONDS` (default 300).
//! - `LIVEMODE` (default `false`): set `true` in production so that orders of free
//!   registrations are real Shopify orders, not test orders.

use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::config::{self, ConfigError};
use crate::form::FormLimits;
use crate::handlers::create_intent::CheckoutSettings;
use crate::orders::{DynamoFailureLog, DynamoOrderLedger, OrderDeps, OrderSettings};
use crate::secrets::StaticWebhookSecrets;
use crate::shopify::{
    ShopifyClient, ShopifyConfig, ShopifyConfigError, ShopifyCredentials, ShopifySecret,
};
use crate::store::DynamoRegistrationStore;
use crate::stripe::signature::WebhookSecret;
use crate::stripe::{StripeClient, StripeConfig, StripeConfigError, StripeSecretKey};
use std::sync::Arc;

/// A dependency that could not be built at cold start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Stripe(#[from] StripeConfigError),
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
    #[error(transparent)]
    Shopify(#[from] ShopifyConfigError),
}

/// How long order-ledger records and failures are kept.
const ORDER_RECORD_TTL_SECONDS: i64 = 90 * 24 * 3600;

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
        livemode: config::parse_or("LIVEMODE", false)?,
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

/// Builds the Shopify client from the `SHOPIFY_*` settings.
pub fn shopify_client() -> Result<ShopifyClient, SetupError> {
    let mut shopify_config = ShopifyConfig::new(config::required("SHOPIFY_SHOP")?);
    if let Some(version) = config::optional("SHOPIFY_API_VERSION") {
        shopify_config.api_version = version;
    }
    let credentials = match config::optional("SHOPIFY_ACCESS_TOKEN") {
        Some(token) => ShopifyCredentials::AccessToken(ShopifySecret::new(token)),
        None => ShopifyCredentials::ClientCredentials {
            client_id: config::required("SHOPIFY_CLIENT_ID").map_err(|mut error| {
                error.message =
                    "is not set, and neither is SHOPIFY_ACCESS_TOKEN; set one of them".to_owned();
                error
            })?,
            client_secret: ShopifySecret::new(config::required("SHOPIFY_CLIENT_SECRET")?),
        },
    };
    Ok(ShopifyClient::new(shopify_config, credentials)?)
}

/// Reads the order path's settings.
pub fn order_settings() -> Result<OrderSettings, ConfigError> {
    let defaults = OrderSettings::default();
    Ok(OrderSettings {
        lease_seconds: config::parse_or("ORDER_LEASE_SECONDS", defaults.lease_seconds)?,
        source_name: config::optional("ORDER_SOURCE_NAME").unwrap_or(defaults.source_name),
        phone_region: config::parse_or("DEFAULT_PHONE_REGION", defaults.phone_region)?,
    })
}

/// Builds the order path over the DynamoDB table and Shopify.
pub fn order_deps(
    aws: &aws_config::SdkConfig,
    catalog: Arc<Catalog>,
    clock: Arc<dyn Clock>,
) -> Result<OrderDeps, SetupError> {
    let table = table_name()?;
    let client = aws_sdk_dynamodb::Client::new(aws);
    Ok(OrderDeps {
        catalog,
        clock,
        registrations: Arc::new(DynamoRegistrationStore::new(client.clone(), &table)),
        ledger: Arc::new(DynamoOrderLedger::new(
            client.clone(),
            &table,
            ORDER_RECORD_TTL_SECONDS,
        )),
        failures: Arc::new(DynamoFailureLog::new(
            client,
            &table,
            ORDER_RECORD_TTL_SECONDS,
        )),
        shopify: Arc::new(shopify_client()?),
        settings: order_settings()?,
    })
}

/// Reads the webhook signing secrets from `STRIPE_WEBHOOK_SECRETS`.
pub fn webhook_secrets() -> Result<StaticWebhookSecrets, ConfigError> {
    let list = config::required("STRIPE_WEBHOOK_SECRETS")?;
    let secrets = list
        .split(',')
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .filter_map(|value| WebhookSecret::new(value).ok())
        .collect();
    Ok(StaticWebhookSecrets(secrets))
}
