//! Behaviour of [`MemoryRegistrationStore`], the double that handler tests rely on. The
//! integration tests run the same scenarios against DynamoDB (moto).

use super::*;
use crate::catalog::Catalog;
use crate::form::{Email, Phone};
use crate::pricing::{quote, Basket};
use uuid::Uuid;

const CATALOG: &str = r#"
version = 1
[[events]]
id = "spring"
name = "Spring Classic"
currency = "USD"
tax_rate = "0.10"
tax_title = "Sales tax"
[[events.days]]
date = "2027-04-17"
label = "Saturday"
price = "40.00"
[[events.days]]
date = "2027-04-18"
label = "Sunday"
price = "35.00"
"#;

pub(super) const CREATED_AT: i64 = 1_800_000_000;
pub(super) const TTL_SECONDS: i64 = 7 * 24 * 3600;

/// Builds a Stripe-paid record for `participants` people on both days. Records that differ in
/// `participants` have different fingerprints.
pub(super) fn sample_record(registration_id: Uuid, participants: u32) -> StoredRegistration {
    let catalog = Catalog::from_toml(CATALOG).expect("the test catalog is valid");
    let days = vec!["2027-04-17".to_owned(), "2027-04-18".to_owned()];
    let basket = Basket::new(&catalog, "spring", &days, participants).expect("valid basket");
    let quote = quote(&basket, None).expect("the quote fits in i64");
    // Deserialising skips the form's e-mail validation, which these tests do not cover.
    let email: Email =
        serde_json::from_value(serde_json::json!("runner@example.com")).expect("valid e-mail");
    let registration = Registration {
        registration_id,
        event_id: "spring".to_owned(),
        days,
        participants,
        first_name: "Ada".to_owned(),
        last_name: "Runner".to_owned(),
        email,
        phone: Phone {
            e164: "+12025550143".to_owned(),
            raw: "(202) 555-0143".to_owned(),
        },
        discount_code: None,
        fields: Vec::new(),
    };
    StoredRegistration {
        registration,
        fingerprint: quote.fingerprint(),
        quote,
        payment: Payment::Stripe,
        payment_intent_id: None,
        created_at: CREATED_AT,
    }
}

#[test]
fn sample_records_differ_in_fingerprint() {
    let id = Uuid::new_v4();
    assert_ne!(
        sample_record(id, 1).fingerprint,
        sample_record(id, 2).fingerprint
    );
}

#[test]
fn expiry_adds_ttl() {
    assert_eq!(expiry(100, 50), 150);
    assert_eq!(expiry(i64::MAX - 1, 50), i64::MAX);
}

#[tokio::test]
async fn memory_first_checkout_is_written() {
    let store = MemoryRegistrationStore::new();
    let record = sample_record(Uuid::new_v4(), 1);

    let slot = store.begin_checkout(&record, TTL_SECONDS).await.unwrap();

    assert_eq!(slot, CheckoutSlot::Written { replaced: None });
    let stored = store
        .registration(&record.registration.registration_id)
        .await
        .unwrap();
    assert_eq!(stored, Some(record));
}

#[tokio::test]
async fn memory_double_submit_returns_existing() {
    let store = MemoryRegistrationStore::new();
    let record = sample_record(Uuid::new_v4(), 1);
    store.begin_checkout(&record, TTL_SECONDS).await.unwrap();

    let before_link = store.begin_checkout(&record, TTL_SECONDS).await.unwrap();
    assert_eq!(
        before_link,
        CheckoutSlot::Existing {
            payment_intent_id: None
        }
    );

    store
        .link_payment_intent(&record, "pi_first", TTL_SECONDS)
        .await
        .unwrap();
    let after_link = store.begin_checkout(&record, TTL_SECONDS).await.unwrap();
    assert_eq!(
        after_link,
        CheckoutSlot::Existing {
            payment_intent_id: Some("pi_first".to_owned())
        }
    );
}

#[tokio::test]
async fn memory_changed_basket_replaces_intent() {
    let store = MemoryRegistrationStore::new();
    let id = Uuid::new_v4();
    let first = sample_record(id, 1);
    store.begin_checkout(&first, TTL_SECONDS).await.unwrap();
    store
        .link_payment_intent(&first, "pi_first", TTL_SECONDS)
        .await
        .unwrap();

    let changed = sample_record(id, 2);
    let slot = store.begin_checkout(&changed, TTL_SECONDS).await.unwrap();

    assert_eq!(
        slot,
        CheckoutSlot::Written {
            replaced: Some("pi_first".to_owned())
        }
    );
    let stored = store.registration(&id).await.unwrap().unwrap();
    assert_eq!(stored.fingerprint, changed.fingerprint);
    assert_eq!(stored.payment_intent_id, None);
}

#[tokio::test]
async fn memory_link_sets_intent_and_lookup() {
    let store = MemoryRegistrationStore::new();
    let record = sample_record(Uuid::new_v4(), 1);
    store.begin_checkout(&record, TTL_SECONDS).await.unwrap();

    store
        .link_payment_intent(&record, "pi_first", TTL_SECONDS)
        .await
        .unwrap();

    let stored = store
        .registration(&record.registration.registration_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.payment_intent_id.as_deref(), Some("pi_first"));
    let linked = store
        .registration_for_payment_intent("pi_first")
        .await
        .unwrap()
        .unwrap();
    assert!(!linked.replaced);
    assert_eq!(linked.record.payment_intent_id.as_deref(), Some("pi_first"));
    assert_eq!(linked.record.registration, record.registration);
    assert_eq!(linked.record.fingerprint, record.fingerprint);
}

#[tokio::test]
async fn memory_stale_link_is_replaced() {
    let store = MemoryRegistrationStore::new();
    let id = Uuid::new_v4();
    let first = sample_record(id, 1);
    let changed = sample_record(id, 2);
    store.begin_checkout(&first, TTL_SECONDS).await.unwrap();
    store.begin_checkout(&changed, TTL_SECONDS).await.unwrap();

    store
        .link_payment_intent(&first, "pi_stale", TTL_SECONDS)
        .await
        .unwrap();

    let linked = store
        .registration_for_payment_intent("pi_stale")
        .await
        .unwrap()
        .unwrap();
    assert!(linked.replaced);
    let stored = store.registration(&id).await.unwrap().unwrap();
    assert_eq!(stored.payment_intent_id, None);
}

#[tokio::test]
async fn memory_mark_replaced_flags_link() {
    let store = MemoryRegistrationStore::new();
    let record = sample_record(Uuid::new_v4(), 1);
    store.begin_checkout(&record, TTL_SECONDS).await.unwrap();
    store
        .link_payment_intent(&record, "pi_first", TTL_SECONDS)
        .await
        .unwrap();

    store.mark_replaced("pi_first").await.unwrap();
    store.mark_replaced("pi_never_linked").await.unwrap();

    let linked = store
        .registration_for_payment_intent("pi_first")
        .await
        .unwrap()
        .unwrap();
    assert!(linked.replaced);
    let unknown = store
        .registration_for_payment_intent("pi_never_linked")
        .await
        .unwrap();
    assert_eq!(unknown, None);
}

#[tokio::test]
async fn memory_relink_keeps_replaced_flag() {
    let store = MemoryRegistrationStore::new();
    let record = sample_record(Uuid::new_v4(), 1);
    store.begin_checkout(&record, TTL_SECONDS).await.unwrap();
    store
        .link_payment_intent(&record, "pi_first", TTL_SECONDS)
        .await
        .unwrap();
    store.mark_replaced("pi_first").await.unwrap();

    store
        .link_payment_intent(&record, "pi_first", TTL_SECONDS)
        .await
        .unwrap();

    let linked = store
        .registration_for_payment_intent("pi_first")
        .await
        .unwrap()
        .unwrap();
    assert!(linked.replaced);
}

#[tokio::test]
async fn memory_unknown_lookups_return_none() {
    let store = MemoryRegistrationStore::new();

    let registration = store.registration(&Uuid::new_v4()).await.unwrap();
    let linked = store
        .registration_for_payment_intent("pi_unknown")
        .await
        .unwrap();

    assert_eq!(registration, None);
    assert_eq!(linked, None);
}

#[tokio::test]
async fn memory_records_expiry() {
    let store = MemoryRegistrationStore::new();
    let record = sample_record(Uuid::new_v4(), 1);
    let id = record.registration.registration_id;
    store.begin_checkout(&record, TTL_SECONDS).await.unwrap();
    store
        .link_payment_intent(&record, "pi_first", TTL_SECONDS)
        .await
        .unwrap();

    assert_eq!(
        store.registration_expires_at(&id),
        Some(CREATED_AT + TTL_SECONDS)
    );
    assert_eq!(
        store.link_expires_at("pi_first"),
        Some(CREATED_AT + TTL_SECONDS)
    );
}
