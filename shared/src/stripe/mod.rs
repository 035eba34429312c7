//! Stripe: PaymentIntents through the REST API, and webhook signatures.

use async_trait::async_trait;
use std::collections::BTreeMap;

pub mod client;
pub mod event;
pub mod idempotency;
pub mod metadata;
pub mod signature;
mod wire;

pub use client::{StripeClient, StripeConfig, StripeConfigError, StripeSecretKey};
pub use idempotency::idempotency_key;
pub use metadata::{build_metadata, RequiredMetadata};

/// The PaymentIntent request sent to Stripe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatePaymentIntent {
    /// Amount in minor units.
    pub amount: i64,
    /// Lower-case ISO code, as Stripe expects.
    pub currency: String,
    /// Shown in the Stripe dashboard, such as `Harbor Classic 2027: 2027-06-12, 2027-06-13`.
    pub description: String,
    /// Metadata already within Stripe's limits, in insertion order.
    pub metadata: Vec<(String, String)>,
    /// Sent as the `Idempotency-Key` header.
    pub idempotency_key: String,
    /// Stripe's own receipt e-mail; `None` leaves it off because Shopify sends the
    /// confirmation.
    pub receipt_email: Option<String>,
    pub statement_descriptor_suffix: Option<String>,
}

/// The parts of a PaymentIntent that the pipeline uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentIntent {
    pub id: String,
    pub client_secret: String,
    /// Amount in minor units.
    pub amount: i64,
    /// Amount received in minor units. `None` when Stripe left the field out or sent null.
    pub amount_received: Option<i64>,
    pub currency: String,
    pub status: String,
    /// `true` for a live-mode PaymentIntent and `false` for test mode.
    pub livemode: bool,
    /// Metadata values as text. A value that is not a JSON string is kept as its compact
    /// JSON text, such as `2`, `true` or `null`.
    pub metadata: BTreeMap<String, String>,
    /// Id of the latest charge, read from a plain id or from an expanded charge object.
    pub latest_charge: Option<String>,
    /// Unix time in seconds at which Stripe created the PaymentIntent.
    pub created: i64,
}

/// A failed Stripe call, with nothing of Stripe's raw body or our key in the message.
#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    /// Stripe rejected the request (HTTP 4xx other than 429).
    #[error("Stripe rejected the request ({status}): {kind}")]
    Rejected { status: u16, kind: String },
    /// Stripe could not be reached, timed out, returned 429 or 5xx, or sent an unreadable
    /// response, so retrying later may succeed.
    #[error("Stripe is unavailable: {0}")]
    Unavailable(String),
}

/// The Stripe calls the pipeline makes.
#[async_trait]
pub trait PaymentGateway: Send + Sync {
    /// Creates a PaymentIntent.
    async fn create_payment_intent(
        &self,
        request: &CreatePaymentIntent,
    ) -> Result<PaymentIntent, StripeError>;

    /// Retrieves a PaymentIntent by id.
    async fn retrieve_payment_intent(&self, id: &str) -> Result<PaymentIntent, StripeError>;

    /// Cancels a PaymentIntent that must no longer lead to an order.
    async fn cancel_payment_intent(&self, id: &str) -> Result<(), StripeError>;
}
