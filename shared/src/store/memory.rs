//! In-memory [`RegistrationStore`] for handler tests, with the same semantics as
//! [`super::DynamoRegistrationStore`].

use super::{
    expiry, CheckoutSlot, LinkedRegistration, RegistrationStore, StoreError, StoredRegistration,
};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use uuid::Uuid;

/// Registrations and PaymentIntent links kept in memory. Nothing expires: the expiry is
/// only recorded, so tests can check it.
#[derive(Debug, Default)]
pub struct MemoryRegistrationStore {
    // One lock over both maps, so that a link updates the registration and writes the
    // link item atomically, as the DynamoDB transaction does.
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    registrations: HashMap<Uuid, Entry<StoredRegistration>>,
    links: HashMap<String, Entry<LinkedRegistration>>,
}

#[derive(Debug, Clone)]
struct Entry<T> {
    value: T,
    /// Unix seconds, as the DynamoDB TTL attribute `expires_at`.
    expires_at: i64,
}

impl MemoryRegistrationStore {
    /// Creates an empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Unix seconds when the registration `registration_id` expires; `None` when no
    /// record exists.
    pub fn registration_expires_at(&self, registration_id: &Uuid) -> Option<i64> {
        self.lock()
            .registrations
            .get(registration_id)
            .map(|entry| entry.expires_at)
    }

    /// Unix seconds when the link of `payment_intent_id` expires; `None` when no link
    /// exists.
    pub fn link_expires_at(&self, payment_intent_id: &str) -> Option<i64> {
        self.lock()
            .links
            .get(payment_intent_id)
            .map(|entry| entry.expires_at)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock still guards consistent maps, because no code below can panic
        // between two changes to them.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl RegistrationStore for MemoryRegistrationStore {
    async fn begin_checkout(
        &self,
        record: &StoredRegistration,
        ttl_seconds: i64,
    ) -> Result<CheckoutSlot, StoreError> {
        let mut state = self.lock();
        let registration_id = record.registration.registration_id;
        if let Some(existing) = state.registrations.get(&registration_id) {
            if existing.value.fingerprint == record.fingerprint {
                return Ok(CheckoutSlot::Existing {
                    payment_intent_id: existing.value.payment_intent_id.clone(),
                });
            }
        }

        let entry = Entry {
            value: record.clone(),
            expires_at: expiry(record.created_at, ttl_seconds),
        };
        let old = state.registrations.insert(registration_id, entry);
        Ok(CheckoutSlot::Written {
            replaced: old.and_then(|old| old.value.payment_intent_id),
        })
    }

    async fn link_payment_intent(
        &self,
        record: &StoredRegistration,
        payment_intent_id: &str,
        ttl_seconds: i64,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let current = state
            .registrations
            .get_mut(&record.registration.registration_id)
            .filter(|existing| existing.value.fingerprint == record.fingerprint);
        let stale = match current {
            Some(existing) => {
                existing.value.payment_intent_id = Some(payment_intent_id.to_owned());
                false
            }
            None => true,
        };

        // As in DynamoDB, a link that `mark_replaced` already flagged stays flagged.
        let already_replaced = state
            .links
            .get(payment_intent_id)
            .is_some_and(|link| link.value.replaced);
        let mut linked = record.clone();
        linked.payment_intent_id = Some(payment_intent_id.to_owned());
        let entry = Entry {
            value: LinkedRegistration {
                record: linked,
                replaced: stale || already_replaced,
            },
            expires_at: expiry(record.created_at, ttl_seconds),
        };
        state.links.insert(payment_intent_id.to_owned(), entry);
        Ok(())
    }

    async fn mark_replaced(&self, payment_intent_id: &str) -> Result<(), StoreError> {
        if let Some(link) = self.lock().links.get_mut(payment_intent_id) {
            link.value.replaced = true;
        }
        Ok(())
    }

    async fn registration_for_payment_intent(
        &self,
        payment_intent_id: &str,
    ) -> Result<Option<LinkedRegistration>, StoreError> {
        Ok(self
            .lock()
            .links
            .get(payment_intent_id)
            .map(|link| link.value.clone()))
    }

    async fn registration(
        &self,
        registration_id: &Uuid,
    ) -> Result<Option<StoredRegistration>, StoreError> {
        Ok(self
            .lock()
            .registrations
            .get(registration_id)
            .map(|entry| entry.value.clone()))
    }
}
