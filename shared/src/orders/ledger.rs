//! Idempotency records and recorded failures of the order path.
//!
//! Each PaymentIntent gets one record, claimed with one conditional write before Shopify is
//! called, in the spirit of AWS Powertools' idempotency utility: a record is in progress
//! under a lease that expires, completed with the order, or failed with a reason.

use crate::shopify::CreatedOrder;
use crate::store::StoreError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// The outcome of claiming a PaymentIntent for order creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This caller may create the order. `takeover` is true when an earlier attempt failed or
    /// its lease expired, so that attempt may have created the order before it died.
    Proceed { attempt: u32, takeover: bool },
    /// The order exists already.
    Completed(CreatedOrder),
    /// Another attempt holds a live lease.
    InProgress,
}

/// A failure a person can act on, kept until a replay succeeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureRecord {
    pub payment_intent_id: String,
    /// Unix seconds of the latest failure.
    pub failed_at: i64,
    /// Attempts made so far.
    pub attempts: u32,
    /// A short reason with no personal data, such as `shopify: HTTP 503`.
    pub reason: String,
}

/// Idempotency records, one per PaymentIntent.
#[async_trait]
pub trait OrderLedger: Send + Sync {
    /// Claims `payment_intent_id` with one conditional write: succeeds when no record
    /// exists, the record failed, or its lease ended before `now`; the new lease ends at
    /// `now + lease_seconds`.
    async fn claim(
        &self,
        payment_intent_id: &str,
        now: i64,
        lease_seconds: i64,
    ) -> Result<Claim, StoreError>;

    /// Records the created order and ends the lease.
    async fn complete(
        &self,
        payment_intent_id: &str,
        order: &CreatedOrder,
        now: i64,
    ) -> Result<(), StoreError>;

    /// Marks the attempt failed so that the next delivery or a replay may claim it at once.
    async fn fail(&self, payment_intent_id: &str, reason: &str, now: i64)
        -> Result<(), StoreError>;
}

/// Failures waiting for a person, listed by the replay tool and counted by system-health.
#[async_trait]
pub trait FailureLog: Send + Sync {
    /// Records or updates the failure of one PaymentIntent.
    async fn record(&self, failure: &FailureRecord) -> Result<(), StoreError>;

    /// Removes the failure once the order exists.
    async fn resolve(&self, payment_intent_id: &str) -> Result<(), StoreError>;

    /// Lists recorded failures, oldest first, at most `limit`.
    async fn list(&self, limit: usize) -> Result<Vec<FailureRecord>, StoreError>;
}
