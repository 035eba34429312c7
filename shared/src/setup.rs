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
//! - `SECRETS_ARN`: the Secrets Manager secret with every key (see `AppSecrets`). Without
//!   it the keys come from `STRIPE_SECRET_KEY`, `STRIPE_WEBHOOK_SECRETS`,
//!   `SHOPIFY_ACCESS_TOKEN` (or `SHOPIFY_CLIENT_ID` and `SHOPIFY_CLIENT_SECRET`) and
//!   `HEALTH_API_KEY`, for local runs (also from a `.env` file).
//! - `STRIPE_API_BASE`, `STRIPE_API_VERSION`, `STRIPE_RECEIPT_EMAIL` (`true` to let Stripe
//!   send its own receipt), `STRIPE_STATEMENT_DESCRIPTOR_SUFFIX`.
//! - `METRICS_NAMESPACE` (default `RegistrationPipeline`), `METRICS_SERVICE` (default
//!   `registration-pipeline`): where the CloudWatch metrics go; `METRICS_TTL_DAYS`
//!   (default 90): how long daily metrics are kept.
//! - `SHOPIFY_SHOP` (required where orders are created): `example.myshopify.com`, or a
//!   loopback URL for the local sandbox; `SHOPIFY_API_VERSION` (default `2026-10`).
//! - `ORDER_LEASE_SECONDS` (default 60), `ORDER_SOURCE_NAME`: see `OrderSettings`.
//! - `WEBHOOK_TOLERANCE_SECONDS` (default 300).
//! - `HEALTH_CRITICAL_PENDING_FAILURES` (5), `HEALTH_CRITICAL_SUCCESS_RATE` (0.8),
//!   `HEALTH_DEGRADED_SUCCESS_RATE` (0.98), `HEALTH_DEGRADED_SIGNATURE_FAILURES` (10),
//!   `HEALTH_MIN_ORDERS_FOR_RATE` (5): the system-health thresholds.
//! - `LIVEMODE` (default `false`): set `true` in production so that orders of free
//!   registrations are real Shopify orders, not test orders.

use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::config::{self, ConfigError};
use crate::form::FormLimits;
use crate::handlers::create_intent::CheckoutSettings;
use crate::handlers::system_health::HealthThresholds;
use crate::metrics::{DynamoMetrics, EmfMetrics, MetricsSink};
use crate::orders::{DynamoFailureLog, DynamoOrderLedger, OrderDeps, OrderSettings};
use crate::secrets::{secret_store_from_env, AppSecrets, SecretStore, SecretsError};
use crate::shopify::{
    ShopifyClient, ShopifyConfig, ShopifyConfigError, ShopifyCredentials, ShopifySecret,
};
use crate::store::DynamoRegistrationStore;
use crate::stripe::{StripeClient, StripeConfig, StripeConfigError};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
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
    #[error(transparent)]
    Secrets(#[from] SecretsError),
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

/// Builds the Stripe client from the secrets' Stripe key and the optional Stripe settings.
pub fn stripe_client(secrets: &AppSecrets) -> Result<StripeClient, SetupError> {
    let key = secrets
        .stripe_key()
        .ok_or_else(|| missing_secret("stripe_secret_key", "STRIPE_SECRET_KEY"))?;
    let defaults = StripeConfig::default();
    let stripe_config = StripeConfig {
        base_url: config::optional("STRIPE_API_BASE").unwrap_or(defaults.base_url.clone()),
        api_version: config::optional("STRIPE_API_VERSION").unwrap_or(defaults.api_version.clone()),
        ..defaults
    };
    Ok(StripeClient::new(key, stripe_config)?)
}

/// Loads the AWS SDK configuration from the usual sources (environment, Lambda role), with
/// the HTTP client of [`aws_http_client`].
///
/// Outside Lambda (the dev server, the replay tool) the SDK would otherwise look for a region
/// and credentials at the EC2 instance metadata address, which local runs must never call,
/// so the lookup is switched off unless `AWS_EC2_METADATA_DISABLED` is already set.
pub async fn aws_config() -> aws_config::SdkConfig {
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    if !in_lambda && std::env::var_os("AWS_EC2_METADATA_DISABLED").is_none() {
        // Set before the SDK reads the environment; nothing else writes it concurrently.
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    }
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(aws_http_client())
        .load()
        .await
}

/// Builds the HTTP client for AWS SDK clients. It uses hyper 1 and rustls with the ring
/// provider, like the reqwest clients for Stripe and Shopify, so a function links one HTTP
/// and one TLS implementation.
///
/// The SDK crates are built without a default HTTP client, so an SDK client built without
/// this one (through [`aws_config`] or its config builder's `http_client`) fails every
/// request with "No HTTP client was available". The client sends `http://` endpoints, such
/// as moto's, in plain text and verifies `https://` endpoints against the system's root
/// certificates, which it reads once per process when it sends its first request.
pub fn aws_http_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// Builds the secret store (Secrets Manager with `SECRETS_ARN`, else the environment) and
/// loads the secrets once, at cold start.
pub async fn secrets(
    aws: &aws_config::SdkConfig,
) -> Result<(Arc<dyn SecretStore>, Arc<AppSecrets>), SetupError> {
    let store = secret_store_from_env(aws).await?;
    let secrets = store.secrets().await?;
    Ok((store, secrets))
}

/// Reads the system-health thresholds from `HEALTH_*` settings.
pub fn health_thresholds() -> Result<HealthThresholds, ConfigError> {
    let defaults = HealthThresholds::default();
    Ok(HealthThresholds {
        critical_pending_failures: config::parse_or(
            "HEALTH_CRITICAL_PENDING_FAILURES",
            defaults.critical_pending_failures,
        )?,
        critical_success_rate: config::parse_or(
            "HEALTH_CRITICAL_SUCCESS_RATE",
            defaults.critical_success_rate,
        )?,
        degraded_success_rate: config::parse_or(
            "HEALTH_DEGRADED_SUCCESS_RATE",
            defaults.degraded_success_rate,
        )?,
        degraded_signature_failures: config::parse_or(
            "HEALTH_DEGRADED_SIGNATURE_FAILURES",
            defaults.degraded_signature_failures,
        )?,
        min_orders_for_rate: config::parse_or(
            "HEALTH_MIN_ORDERS_FOR_RATE",
            defaults.min_orders_for_rate,
        )?,
    })
}

/// Reads `TABLE_NAME`.
pub fn table_name() -> Result<String, ConfigError> {
    config::required("TABLE_NAME")
}

/// Builds the Shopify client from `SHOPIFY_SHOP`, `SHOPIFY_API_VERSION` and the secrets'
/// Shopify credentials.
pub fn shopify_client(secrets: &AppSecrets) -> Result<ShopifyClient, SetupError> {
    let mut shopify_config = ShopifyConfig::new(config::required("SHOPIFY_SHOP")?);
    if let Some(version) = config::optional("SHOPIFY_API_VERSION") {
        shopify_config.api_version = version;
    }
    let present = |value: &Option<String>| value.clone().filter(|text| !text.is_empty());
    let credentials = match (
        present(&secrets.shopify_access_token),
        present(&secrets.shopify_client_id),
        present(&secrets.shopify_client_secret),
    ) {
        (Some(token), _, _) => ShopifyCredentials::AccessToken(ShopifySecret::new(token)),
        (None, Some(client_id), Some(client_secret)) => ShopifyCredentials::ClientCredentials {
            client_id,
            client_secret: ShopifySecret::new(client_secret),
        },
        _ => {
            return Err(missing_secret(
                "shopify_access_token (or shopify_client_id and shopify_client_secret)",
                "SHOPIFY_ACCESS_TOKEN",
            ))
        }
    };
    Ok(ShopifyClient::new(shopify_config, credentials)?)
}

fn missing_secret(field: &str, variable: &str) -> SetupError {
    SetupError::Config(ConfigError {
        name: field.to_owned(),
        message: format!(
            "is missing: fill it in the secret named by SECRETS_ARN, or set {variable} for local runs"
        ),
    })
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
    secrets: &AppSecrets,
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
        shopify: Arc::new(shopify_client(secrets)?),
        settings: order_settings()?,
    })
}

/// Builds the metrics sink: daily counters in DynamoDB, and CloudWatch Embedded Metric
/// Format lines for the alarms.
pub fn metrics(aws: &aws_config::SdkConfig) -> Result<Arc<dyn MetricsSink>, SetupError> {
    let ttl_days: i64 = config::parse_or("METRICS_TTL_DAYS", 90)?;
    let store = DynamoMetrics::new(
        aws_sdk_dynamodb::Client::new(aws),
        table_name()?,
        ttl_days * 24 * 3600,
    );
    let namespace =
        config::optional("METRICS_NAMESPACE").unwrap_or_else(|| "RegistrationPipeline".to_owned());
    let service =
        config::optional("METRICS_SERVICE").unwrap_or_else(|| "registration-pipeline".to_owned());
    Ok(Arc::new(EmfMetrics::new(store, namespace, service)))
}
