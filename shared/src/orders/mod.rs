//! The order path: from a paid (or free) registration to exactly one Shopify order.

mod fallback;
pub mod ledger;
pub mod ledger_dynamo;
pub mod ledger_memory;
pub mod path;

pub use ledger_dynamo::{DynamoFailureLog, DynamoOrderLedger};
pub use ledger_memory::{MemoryFailureLog, MemoryOrderLedger};
pub use path::{
    fulfil_free, fulfil_payment, OrderDeps, OrderError, OrderOutcome, OrderSettings, PaidIntent,
};

use serde::{Deserialize, Serialize};

/// Facts about the payment behind an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFacts {
    /// The PaymentIntent id, or `free_<registration id>` for a registration with a zero
    /// total. It becomes the order's `sourceIdentifier` and the idempotency key.
    pub payment_intent_id: String,
    /// Amount Stripe received, in minor units (0 for a free registration).
    pub amount_received: i64,
    /// Lower-case ISO code as Stripe sends it.
    pub currency: String,
    /// False for Stripe test mode, which makes a Shopify test order.
    pub livemode: bool,
    /// The charge id, when Stripe sent one.
    pub latest_charge: Option<String>,
    /// True for a registration whose total was zero; no Stripe payment exists.
    pub free: bool,
    /// Unix seconds when the payment succeeded (or the free registration was made).
    pub paid_at: i64,
}

impl PaymentFacts {
    /// Returns the source identifier of a free registration's order.
    pub fn free_source_identifier(registration_id: &uuid::Uuid) -> String {
        format!("free_{registration_id}")
    }
}
