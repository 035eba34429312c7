//! In-memory [`OrderLedger`] and [`FailureLog`] for handler tests, with the same semantics
//! as [`DynamoOrderLedger`](super::ledger_dynamo::DynamoOrderLedger) and
//! [`DynamoFailureLog`](super::ledger_dynamo::DynamoFailureLog).

use super::ledger::{Claim, FailureLog, FailureRecord, OrderLedger};
use super::ledger_dynamo::{
    check_lease, check_payment_intent_id, expiry, sort_oldest_first, truncate_reason,
};
use crate::shopify::CreatedOrder;
use crate::store::StoreError;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// The state of one order record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderState {
    /// An attempt holds the claim until `lease_until` (Unix seconds) has passed.
    InProgress { lease_until: i64 },
    /// The order exists.
    Completed(CreatedOrder),
    /// The latest attempt failed with `reason`, cut to
    /// [`MAX_REASON_CHARS`](super::ledger_dynamo::MAX_REASON_CHARS) characters.
    Failed { reason: String },
}

/// A copy of one order record, as [`MemoryOrderLedger::record`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    pub state: OrderState,
    /// Claims granted so far. 0 for a record that `complete` or `fail` wrote without a
    /// claim.
    pub attempts: u32,
    /// Unix seconds of the latest write.
    pub updated_at: i64,
    /// Unix seconds, as the DynamoDB TTL attribute `expires_at`.
    pub expires_at: i64,
}

/// Order records kept in memory. Nothing expires: the expiry is only recorded, so tests
/// can check it.
#[derive(Debug)]
pub struct MemoryOrderLedger {
    ttl_seconds: i64,
    records: Mutex<HashMap<String, OrderRecord>>,
}

impl MemoryOrderLedger {
    /// Creates an empty ledger. Each write sets the expiry to its `now` plus
    /// `ttl_seconds`.
    pub fn new(ttl_seconds: i64) -> Self {
        Self {
            ttl_seconds,
            records: Mutex::default(),
        }
    }

    /// Returns a copy of the record of `payment_intent_id`, or `None` when none exists.
    pub fn record(&self, payment_intent_id: &str) -> Option<OrderRecord> {
        lock(&self.records).get(payment_intent_id).cloned()
    }
}

#[async_trait]
impl OrderLedger for MemoryOrderLedger {
    async fn claim(
        &self,
        payment_intent_id: &str,
        now: i64,
        lease_seconds: i64,
    ) -> Result<Claim, StoreError> {
        check_lease(lease_seconds)?;
        let mut records = lock(&self.records);
        let previous = match records.get(payment_intent_id) {
            None => None,
            Some(record) => match &record.state {
                OrderState::Completed(order) => return Ok(Claim::Completed(order.clone())),
                // The same strict comparison as DynamoDB's `lease_until < :now`.
                OrderState::InProgress { lease_until } if *lease_until >= now => {
                    return Ok(Claim::InProgress)
                }
                OrderState::InProgress { .. } | OrderState::Failed { .. } => Some(record.attempts),
            },
        };

        let attempt = previous.unwrap_or(0).saturating_add(1);
        let record = OrderRecord {
            state: OrderState::InProgress {
                lease_until: now.saturating_add(lease_seconds),
            },
            attempts: attempt,
            updated_at: now,
            expires_at: expiry(now, self.ttl_seconds),
        };
        records.insert(payment_intent_id.to_owned(), record);
        Ok(Claim::Proceed {
            attempt,
            takeover: previous.is_some(),
        })
    }

    async fn complete(
        &self,
        payment_intent_id: &str,
        order: &CreatedOrder,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut records = lock(&self.records);
        let attempts = records
            .get(payment_intent_id)
            .map_or(0, |record| record.attempts);
        let record = OrderRecord {
            state: OrderState::Completed(order.clone()),
            attempts,
            updated_at: now,
            expires_at: expiry(now, self.ttl_seconds),
        };
        records.insert(payment_intent_id.to_owned(), record);
        Ok(())
    }

    async fn fail(
        &self,
        payment_intent_id: &str,
        reason: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut records = lock(&self.records);
        let existing = records.get(payment_intent_id);
        // As in DynamoDB, a completed record stays completed.
        if let Some(OrderState::Completed(_)) = existing.map(|record| &record.state) {
            return Ok(());
        }
        let record = OrderRecord {
            state: OrderState::Failed {
                reason: truncate_reason(reason),
            },
            attempts: existing.map_or(0, |record| record.attempts),
            updated_at: now,
            expires_at: expiry(now, self.ttl_seconds),
        };
        records.insert(payment_intent_id.to_owned(), record);
        Ok(())
    }
}

/// Order failures kept in memory. Nothing expires: the expiry is only recorded, so tests
/// can check it.
#[derive(Debug)]
pub struct MemoryFailureLog {
    ttl_seconds: i64,
    failures: Mutex<HashMap<String, StoredFailure>>,
}

#[derive(Debug, Clone)]
struct StoredFailure {
    failure: FailureRecord,
    /// Unix seconds, as the DynamoDB TTL attribute `expires_at`.
    expires_at: i64,
}

impl MemoryFailureLog {
    /// Creates an empty log. Each failure expires `ttl_seconds` after its `failed_at`.
    pub fn new(ttl_seconds: i64) -> Self {
        Self {
            ttl_seconds,
            failures: Mutex::default(),
        }
    }

    /// Returns the Unix seconds when the failure of `payment_intent_id` expires, or
    /// `None` when no failure is recorded.
    pub fn expires_at(&self, payment_intent_id: &str) -> Option<i64> {
        lock(&self.failures)
            .get(payment_intent_id)
            .map(|stored| stored.expires_at)
    }
}

#[async_trait]
impl FailureLog for MemoryFailureLog {
    async fn record(&self, failure: &FailureRecord) -> Result<(), StoreError> {
        check_payment_intent_id(&failure.payment_intent_id)?;
        let stored = StoredFailure {
            failure: FailureRecord {
                reason: truncate_reason(&failure.reason),
                ..failure.clone()
            },
            expires_at: expiry(failure.failed_at, self.ttl_seconds),
        };
        lock(&self.failures).insert(failure.payment_intent_id.clone(), stored);
        Ok(())
    }

    async fn resolve(&self, payment_intent_id: &str) -> Result<(), StoreError> {
        check_payment_intent_id(payment_intent_id)?;
        lock(&self.failures).remove(payment_intent_id);
        Ok(())
    }

    async fn list(&self, limit: usize) -> Result<Vec<FailureRecord>, StoreError> {
        let mut failures: Vec<FailureRecord> = lock(&self.failures)
            .values()
            .map(|stored| stored.failure.clone())
            .collect();
        sort_oldest_first(&mut failures);
        failures.truncate(limit);
        Ok(failures)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock still guards a consistent map, because each method changes the map
    // with a single insert or remove.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests;
