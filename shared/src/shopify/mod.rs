//! Shopify: the Admin GraphQL client and the mapping from a paid registration to
//! `orderCreate` variables.

mod client;
pub mod order_input;

pub use client::{
    CallStats, RetryTimer, ShopifyClient, ShopifyConfig, ShopifyConfigError, ShopifyCredentials,
    ShopifySecret, TokioTimer, DEFAULT_API_VERSION, ORDERS_BY_SOURCE_QUERY, ORDER_CREATE_MUTATION,
};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// An order Shopify created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedOrder {
    /// The order's GID, such as `gid://shopify/Order/1`.
    pub id: String,
    /// The name staff search by, such as `#1001`.
    pub name: String,
}

/// One entry of `orderCreate`'s `userErrors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserError {
    /// Path of the input field, such as `["order", "customer", "toUpsert", "phone"]`.
    #[serde(default)]
    pub field: Vec<String>,
    pub message: String,
    #[serde(default)]
    pub code: Option<String>,
}

impl UserError {
    /// True when the error is about the input field whose last path segment is `name`.
    pub fn is_about(&self, name: &str) -> bool {
        self.field.last().is_some_and(|last| last == name)
    }
}

/// A failed Shopify call, classified by what the caller should do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShopifyError {
    /// Shopify refused the input (`userErrors`); retrying the same input will not help.
    #[error("Shopify rejected the order input: {}", summarize(.0))]
    UserErrors(Vec<UserError>),
    /// Rate limited (HTTP 429 or GraphQL `THROTTLED`) for longer than the time budget.
    #[error("Shopify throttled the request{}", retry_hint(*.retry_after))]
    Throttled { retry_after: Option<Duration> },
    /// The token was rejected (HTTP 401) even after renewing it.
    #[error("Shopify rejected the access token")]
    Unauthorized,
    /// The app lacks a scope (HTTP 403 or GraphQL `ACCESS_DENIED`).
    #[error("Shopify denied access: {0}")]
    AccessDenied(String),
    /// The shop cannot take orders now: 402 (frozen or unpaid), 404 (unknown shop or API
    /// version) or 423 (locked).
    #[error("the shop is unavailable (HTTP {0})")]
    ShopUnavailable(u16),
    /// HTTP 5xx, a GraphQL internal error, or an unreadable response.
    #[error("Shopify failed: {0}")]
    Server(String),
    /// No response in time, or the connection failed.
    #[error("Shopify did not answer: {0}")]
    Transport(String),
}

impl ShopifyError {
    /// True when the same request may succeed later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ShopifyError::Throttled { .. } | ShopifyError::Server(_) | ShopifyError::Transport(_)
        )
    }
}

fn retry_hint(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(wait) => format!("; retry after {:.1} s", wait.as_secs_f64()),
        None => String::new(),
    }
}

fn summarize(errors: &[UserError]) -> String {
    errors
        .iter()
        .map(|error| format!("{} ({})", error.message, error.field.join(".")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The Shopify calls the order path makes.
#[async_trait]
pub trait OrderGateway: Send + Sync {
    /// Runs `orderCreate` with the given variables (`{"order": …, "options": …}`).
    async fn create_order(
        &self,
        variables: &serde_json::Value,
    ) -> Result<CreatedOrder, ShopifyError>;

    /// Finds an order whose `sourceIdentifier` equals `source_identifier`.
    async fn find_order_by_source(
        &self,
        source_identifier: &str,
    ) -> Result<Option<CreatedOrder>, ShopifyError>;

    /// Retries and throttle waits of the last call, as `(retries, throttles)`, for the
    /// daily metrics. Gateways that never retry keep the default of zero.
    fn last_call_retries(&self) -> (u32, u32) {
        (0, 0)
    }

    /// The API version Shopify reported serving, when it differs from the requested one.
    fn api_version_drift(&self) -> Option<(String, String)> {
        None
    }
}

/// A cheap check of the Shopify connection, for system-health.
#[async_trait]
pub trait ShopifyProbe: Send + Sync {
    /// The API version the client asks for.
    fn requested_api_version(&self) -> String;

    /// Makes one small call and returns the API version Shopify reported serving.
    async fn served_api_version(&self) -> Result<String, ShopifyError>;
}

#[async_trait]
impl ShopifyProbe for ShopifyClient {
    fn requested_api_version(&self) -> String {
        ShopifyClient::requested_api_version(self).to_owned()
    }

    async fn served_api_version(&self) -> Result<String, ShopifyError> {
        self.check_connection(Duration::from_secs(5)).await?;
        Ok(ShopifyClient::served_api_version(self)
            .unwrap_or_else(|| self.requested_api_version().to_owned()))
    }
}
