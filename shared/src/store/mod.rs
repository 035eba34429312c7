//! Storage of registrations and their PaymentIntents.

use crate::form::Registration;
use crate::pricing::Quote;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub(crate) mod attributes;
pub mod dynamo;
pub mod keys;
pub mod memory;
pub mod table;
#[cfg(test)]
mod tests;

pub use dynamo::DynamoRegistrationStore;
pub use memory::MemoryRegistrationStore;

/// The way a stored registration is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Payment {
    /// Waiting for a PaymentIntent to succeed.
    Stripe,
    /// A zero total: no payment is needed, and the order is created without Stripe.
    Free,
}

/// A registration with the quote it was charged for, as stored at checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRegistration {
    pub registration: Registration,
    pub quote: Quote,
    /// [`Quote::fingerprint`] of `quote`.
    pub fingerprint: String,
    pub payment: Payment,
    /// The PaymentIntent created for this quote, once Stripe returned it.
    pub payment_intent_id: Option<String>,
    /// Unix seconds when the record was written.
    pub created_at: i64,
}

/// A registration found through its PaymentIntent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedRegistration {
    pub record: StoredRegistration,
    /// True when a later basket replaced this PaymentIntent: a payment that still arrives
    /// for it needs a person to review it instead of an automatic order.
    pub replaced: bool,
}

/// The outcome of [`RegistrationStore::begin_checkout`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckoutSlot {
    /// The record was written: first checkout, or the basket changed. `replaced` is the
    /// PaymentIntent of the earlier basket, which must be cancelled.
    Written { replaced: Option<String> },
    /// A record with the same fingerprint exists (a double submit). `payment_intent_id` is
    /// `None` while the first request is still talking to Stripe.
    Existing { payment_intent_id: Option<String> },
}

/// A failed storage call.
#[derive(Debug, thiserror::Error)]
#[error("storage failed: {0}")]
pub struct StoreError(pub String);

/// Registrations and the link from a PaymentIntent back to its registration.
#[async_trait]
pub trait RegistrationStore: Send + Sync {
    /// Writes `record` under its registration id unless a record with the same fingerprint
    /// exists, in one conditional write. `ttl_seconds` sets when the record expires.
    async fn begin_checkout(
        &self,
        record: &StoredRegistration,
        ttl_seconds: i64,
    ) -> Result<CheckoutSlot, StoreError>;

    /// Records that `payment_intent_id` pays for `record`, both on the registration (only
    /// while its fingerprint still matches) and under the PaymentIntent id, so the webhook
    /// finds the registration with one read.
    async fn link_payment_intent(
        &self,
        record: &StoredRegistration,
        payment_intent_id: &str,
        ttl_seconds: i64,
    ) -> Result<(), StoreError>;

    /// Marks a PaymentIntent of an earlier basket as replaced, so it can no longer lead to
    /// an order.
    async fn mark_replaced(&self, payment_intent_id: &str) -> Result<(), StoreError>;

    /// Loads the registration a PaymentIntent pays for; `None` when no record exists.
    async fn registration_for_payment_intent(
        &self,
        payment_intent_id: &str,
    ) -> Result<Option<LinkedRegistration>, StoreError>;

    /// Loads a registration by its id.
    async fn registration(
        &self,
        registration_id: &uuid::Uuid,
    ) -> Result<Option<StoredRegistration>, StoreError>;
}

/// Unix seconds when a record created at `created_at` expires, `ttl_seconds` later.
fn expiry(created_at: i64, ttl_seconds: i64) -> i64 {
    created_at.saturating_add(ttl_seconds)
}
