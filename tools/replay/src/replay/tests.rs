//! Replays over in-memory stores, a scripted Stripe and a recording Shopify.

use super::*;
use async_trait::async_trait;
use shared::catalog::Catalog;
use shared::clock::SystemClock;
use shared::form::{self, FormLimits, RegistrationRequest};
use shared::orders::ledger::{FailureLog, FailureRecord, OrderLedger};
use shared::orders::{MemoryFailureLog, MemoryOrderLedger, OrderSettings};
use shared::pricing::{quote, Basket};
use shared::shopify::{CreatedOrder, OrderGateway, ShopifyError};
use shared::store::{MemoryRegistrationStore, RegistrationStore, StoredRegistration};
use shared::stripe::CreatePaymentIntent;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

const TTL_SECONDS: i64 = 3600;
const EVENT_ID: &str = "harbor-classic-2027";

/// PaymentIntents by id. Every retrieve is counted.
#[derive(Default)]
struct ScriptedStripe {
    intents: Mutex<HashMap<String, PaymentIntent>>,
    retrieves: Mutex<usize>,
}

#[async_trait]
impl PaymentGateway for ScriptedStripe {
    async fn create_payment_intent(
        &self,
        _request: &CreatePaymentIntent,
    ) -> Result<PaymentIntent, StripeError> {
        panic!("a replay must not create PaymentIntents")
    }

    async fn retrieve_payment_intent(&self, id: &str) -> Result<PaymentIntent, StripeError> {
        *self.retrieves.lock().unwrap() += 1;
        self.intents
            .lock()
            .unwrap()
            .get(id)
            .cloned()
            .ok_or_else(|| StripeError::Rejected {
                status: 404,
                kind: "invalid_request_error/resource_missing".to_owned(),
            })
    }

    async fn cancel_payment_intent(&self, _id: &str) -> Result<(), StripeError> {
        panic!("a replay must not cancel PaymentIntents")
    }
}

/// Creates orders named `#1001`, `#1002`, and so on, unless a failure is queued.
#[derive(Default)]
struct RecordingShopify {
    orders: Mutex<Vec<(CreatedOrder, Value)>>,
    fail_next: Mutex<Option<ShopifyError>>,
}

impl RecordingShopify {
    fn order_count(&self) -> usize {
        self.orders.lock().unwrap().len()
    }
}

#[async_trait]
impl OrderGateway for RecordingShopify {
    async fn create_order(&self, variables: &Value) -> Result<CreatedOrder, ShopifyError> {
        if let Some(error) = self.fail_next.lock().unwrap().take() {
            return Err(error);
        }
        let mut orders = self.orders.lock().unwrap();
        let number = 1001 + orders.len();
        let order = CreatedOrder {
            id: format!("gid://shopify/Order/{number}"),
            name: format!("#{number}"),
        };
        orders.push((order.clone(), variables.clone()));
        Ok(order)
    }

    async fn find_order_by_source(
        &self,
        source_identifier: &str,
    ) -> Result<Option<CreatedOrder>, ShopifyError> {
        let orders = self.orders.lock().unwrap();
        let found = orders
            .iter()
            .find(|(_, variables)| variables.to_string().contains(source_identifier))
            .map(|(order, _)| order.clone());
        Ok(found)
    }
}

struct Harness {
    stripe: ScriptedStripe,
    shopify: Arc<RecordingShopify>,
    registrations: Arc<MemoryRegistrationStore>,
    ledger: Arc<MemoryOrderLedger>,
    failures: Arc<MemoryFailureLog>,
    catalog: Arc<Catalog>,
    deps: OrderDeps,
}

fn harness() -> Harness {
    let catalog = Arc::new(Catalog::bundled().unwrap());
    let shopify = Arc::new(RecordingShopify::default());
    let registrations = Arc::new(MemoryRegistrationStore::new());
    let ledger = Arc::new(MemoryOrderLedger::new(TTL_SECONDS));
    let failures = Arc::new(MemoryFailureLog::new(TTL_SECONDS));
    let deps = OrderDeps {
        catalog: catalog.clone(),
        clock: Arc::new(SystemClock),
        registrations: registrations.clone(),
        ledger: ledger.clone(),
        failures: failures.clone(),
        shopify: shopify.clone(),
        settings: OrderSettings::default(),
    };
    Harness {
        stripe: ScriptedStripe::default(),
        shopify,
        registrations,
        ledger,
        failures,
        catalog,
        deps,
    }
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl Harness {
    /// Stores a Harbor Classic registration as checkout would. A paid one is linked to a new
    /// PaymentIntent in Stripe with `status`, whose id is returned.
    async fn store(
        &self,
        discount_code: Option<&str>,
        status: &str,
    ) -> (StoredRegistration, String) {
        let request: RegistrationRequest = serde_json::from_value(json!({
            "registration_id": Uuid::new_v4().to_string(),
            "event_id": EVENT_ID,
            "days": ["2027-06-12", "2027-06-13"],
            "quantity": 1,
            "first_name": "Avery",
            "last_name": "Example",
            "email": "avery@example.org",
            "phone": "+1 202 555 0143",
            "discount_code": discount_code,
        }))
        .unwrap();
        let registration = form::validate(
            request,
            &self.catalog,
            &FormLimits::default(),
            OrderSettings::default().phone_region,
        )
        .unwrap();
        let basket = Basket::new(
            &self.catalog,
            &registration.event_id,
            &registration.days,
            registration.participants,
        )
        .unwrap();
        let discount = discount_code.map(|code| self.catalog.discount(code).unwrap());
        let quote = quote(&basket, discount).unwrap();
        let free = quote.total == 0;
        let record = StoredRegistration {
            fingerprint: quote.fingerprint(),
            registration,
            quote,
            payment: if free { Payment::Free } else { Payment::Stripe },
            payment_intent_id: None,
            created_at: unix_now() - 60,
        };
        self.registrations
            .begin_checkout(&record, TTL_SECONDS)
            .await
            .unwrap();
        if free {
            return (record, String::new());
        }

        let payment_intent_id = format!("pi_replay_{}", Uuid::new_v4().simple());
        self.registrations
            .link_payment_intent(&record, &payment_intent_id, TTL_SECONDS)
            .await
            .unwrap();
        let intent = PaymentIntent {
            id: payment_intent_id.clone(),
            client_secret: String::new(),
            amount: record.quote.total,
            amount_received: Some(record.quote.total),
            currency: "usd".to_owned(),
            status: status.to_owned(),
            livemode: false,
            metadata: BTreeMap::from([(
                "registration_id".to_owned(),
                record.registration.registration_id.to_string(),
            )]),
            latest_charge: Some("ch_replay".to_owned()),
            created: unix_now() - 30,
        };
        self.stripe
            .intents
            .lock()
            .unwrap()
            .insert(payment_intent_id.clone(), intent);
        (record, payment_intent_id)
    }

    async fn recorded(&self) -> Vec<FailureRecord> {
        self.failures.list(100).await.unwrap()
    }
}

#[tokio::test]
async fn payment_creates_order_once() {
    let harness = harness();
    let (_, pi) = harness.store(None, "succeeded").await;

    let first = replay_payment(&harness.stripe, &harness.deps, &pi)
        .await
        .unwrap();
    let second = replay_payment(&harness.stripe, &harness.deps, &pi)
        .await
        .unwrap();

    assert!(matches!(&first.outcome, OrderOutcome::Created(order) if order.name == "#1001"));
    assert_eq!(first.exit_code(), EXIT_OK);
    assert!(
        matches!(&second.outcome, OrderOutcome::AlreadyCreated(order) if order.name == "#1001")
    );
    assert_eq!(second.exit_code(), EXIT_OK);
    assert_eq!(harness.shopify.order_count(), 1);
}

#[tokio::test]
async fn payment_order_carries_intent_facts() {
    let harness = harness();
    let (record, pi) = harness.store(None, "succeeded").await;

    replay_payment(&harness.stripe, &harness.deps, &pi)
        .await
        .unwrap();

    let orders = harness.shopify.orders.lock().unwrap();
    let input = &orders[0].1["order"];
    assert_eq!(input["sourceIdentifier"], pi.as_str());
    assert_eq!(input["test"], true);
    assert_eq!(input["transactions"][0]["authorizationCode"], pi.as_str());
    let total = record.quote.total;
    let expected_amount = format!("{}.{:02}", total / 100, total % 100);
    assert_eq!(
        input["transactions"][0]["amountSet"]["shopMoney"]["amount"],
        expected_amount.as_str()
    );
}

#[tokio::test]
async fn payment_resolves_recorded_failure() {
    let harness = harness();
    let (_, pi) = harness.store(None, "succeeded").await;
    // Throttling means Shopify did not run the call, so the claim is released at once.
    harness
        .shopify
        .fail_next
        .lock()
        .unwrap()
        .replace(ShopifyError::Throttled { retry_after: None });

    let error = replay_payment(&harness.stripe, &harness.deps, &pi)
        .await
        .unwrap_err();
    assert!(matches!(error, ReplayError::Order { .. }), "{error:?}");
    let failures = harness.recorded().await;
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].payment_intent_id, pi);

    let replayed = replay_payment(&harness.stripe, &harness.deps, &pi)
        .await
        .unwrap();
    assert!(matches!(replayed.outcome, OrderOutcome::Created(_)));
    assert_eq!(harness.recorded().await, Vec::new());
    assert_eq!(harness.shopify.order_count(), 1);
}

#[tokio::test]
async fn replay_waits_while_shopify_outcome_unknown() {
    let harness = harness();
    let (_, pi) = harness.store(None, "succeeded").await;
    harness
        .shopify
        .fail_next
        .lock()
        .unwrap()
        .replace(ShopifyError::Server("HTTP 503".to_owned()));

    let error = replay_payment(&harness.stripe, &harness.deps, &pi)
        .await
        .unwrap_err();
    assert!(matches!(error, ReplayError::Order { .. }), "{error:?}");

    // After a 5xx Shopify may still create the order, so the claim holds until its lease ends.
    let replayed = replay_payment(&harness.stripe, &harness.deps, &pi)
        .await
        .unwrap();
    assert!(
        matches!(replayed.outcome, OrderOutcome::InProgress),
        "{:?}",
        replayed.outcome
    );
    assert_eq!(harness.shopify.order_count(), 0);
    assert_eq!(harness.recorded().await.len(), 1);
}

#[tokio::test]
async fn already_created_removes_stale_failure() {
    let harness = harness();
    let (_, pi) = harness.store(None, "succeeded").await;
    replay_payment(&harness.stripe, &harness.deps, &pi)
        .await
        .unwrap();
    let stale = FailureRecord {
        payment_intent_id: pi.clone(),
        failed_at: unix_now(),
        attempts: 1,
        reason: "storage: timed out".to_owned(),
    };
    harness.failures.record(&stale).await.unwrap();

    let replayed = replay_payment(&harness.stripe, &harness.deps, &pi)
        .await
        .unwrap();

    assert!(matches!(replayed.outcome, OrderOutcome::AlreadyCreated(_)));
    assert_eq!(harness.recorded().await, Vec::new());
}

#[tokio::test]
async fn unpaid_intent_is_rejected() {
    let harness = harness();
    let (_, pi) = harness.store(None, "requires_payment_method").await;

    let error = replay_payment(&harness.stripe, &harness.deps, &pi)
        .await
        .unwrap_err();

    assert!(
        matches!(&error, ReplayError::NotSucceeded { status, .. } if status == "requires_payment_method"),
        "{error:?}"
    );
    let message = error_chain(&error);
    assert!(message.contains("not succeeded"), "{message}");
    assert!(message.contains(&pi), "{message}");
    assert_eq!(harness.shopify.order_count(), 0);
    assert_eq!(harness.recorded().await, Vec::new());
}

#[tokio::test]
async fn unknown_intent_is_not_found() {
    let harness = harness();

    let error = replay_payment(&harness.stripe, &harness.deps, "pi_unknown")
        .await
        .unwrap_err();

    assert!(matches!(error, ReplayError::PaymentIntentNotFound(ref id) if id == "pi_unknown"));
    assert!(error_chain(&error).contains("was not found in Stripe"));
}

#[tokio::test]
async fn free_identifier_points_to_free_command() {
    let harness = harness();
    let registration_id = Uuid::new_v4();

    let error = replay_payment(
        &harness.stripe,
        &harness.deps,
        &format!("free_{registration_id}"),
    )
    .await
    .unwrap_err();

    assert!(matches!(error, ReplayError::FreeRegistrationGiven { .. }));
    assert!(error_chain(&error).contains(&format!("replay free {registration_id}")));
    assert_eq!(*harness.stripe.retrieves.lock().unwrap(), 0);
}

#[tokio::test]
async fn amount_mismatch_needs_review() {
    let harness = harness();
    let (_, pi) = harness.store(None, "succeeded").await;
    harness
        .stripe
        .intents
        .lock()
        .unwrap()
        .get_mut(&pi)
        .unwrap()
        .amount_received = Some(100);

    let replayed = replay_payment(&harness.stripe, &harness.deps, &pi)
        .await
        .unwrap();

    assert!(
        matches!(&replayed.outcome, OrderOutcome::NeedsReview(reason) if reason.contains("amount mismatch"))
    );
    assert_eq!(replayed.exit_code(), EXIT_NOT_FINISHED);
    assert!(replayed
        .message()
        .starts_with("needs review: amount mismatch"));
    assert_eq!(replayed.to_json()["outcome"], "needs_review");
    assert_eq!(harness.recorded().await.len(), 1);
    assert_eq!(harness.shopify.order_count(), 0);
}

#[tokio::test]
async fn held_claim_is_in_progress() {
    let harness = harness();
    let (_, pi) = harness.store(None, "succeeded").await;
    harness.ledger.claim(&pi, unix_now(), 60).await.unwrap();

    let replayed = replay_payment(&harness.stripe, &harness.deps, &pi)
        .await
        .unwrap();

    assert_eq!(replayed.outcome, OrderOutcome::InProgress);
    assert_eq!(replayed.exit_code(), EXIT_NOT_FINISHED);
    assert!(replayed.message().contains("try again in 60 seconds"));
    assert_eq!(harness.shopify.order_count(), 0);
}

#[tokio::test]
async fn free_registration_creates_order_once() {
    let harness = harness();
    let (record, _) = harness.store(Some("VOLUNTEER"), "").await;
    let registration_id = record.registration.registration_id;

    let first = replay_free(&harness.deps, &registration_id.to_string(), false)
        .await
        .unwrap();
    let second = replay_free(&harness.deps, &format!("free_{registration_id}"), false)
        .await
        .unwrap();

    assert_eq!(first.source_identifier, format!("free_{registration_id}"));
    assert!(matches!(first.outcome, OrderOutcome::Created(_)));
    assert!(matches!(second.outcome, OrderOutcome::AlreadyCreated(_)));
    assert_eq!(harness.shopify.order_count(), 1);
}

#[tokio::test]
async fn free_rejects_paid_registration() {
    let harness = harness();
    let (record, pi) = harness.store(None, "succeeded").await;

    let error = replay_free(
        &harness.deps,
        &record.registration.registration_id.to_string(),
        false,
    )
    .await
    .unwrap_err();

    assert!(matches!(error, ReplayError::NotFree { .. }), "{error:?}");
    assert!(error_chain(&error).contains(&format!("replay payment {pi}")));
    assert_eq!(harness.shopify.order_count(), 0);
}

#[tokio::test]
async fn free_unknown_registration_is_not_found() {
    let harness = harness();

    let error = replay_free(&harness.deps, &Uuid::new_v4().to_string(), false)
        .await
        .unwrap_err();

    assert!(
        matches!(error, ReplayError::RegistrationNotFound(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn free_invalid_id_is_rejected() {
    let harness = harness();

    let error = replay_free(&harness.deps, "not-a-uuid", false)
        .await
        .unwrap_err();

    assert!(
        matches!(error, ReplayError::InvalidRegistrationId(_)),
        "{error:?}"
    );
}

#[test]
fn messages_name_order_and_outcome() {
    let order = CreatedOrder {
        id: "gid://shopify/Order/7".to_owned(),
        name: "#1007".to_owned(),
    };
    let replayed = |outcome| Replayed {
        source_identifier: "pi_1".to_owned(),
        outcome,
        lease_seconds: 60,
    };

    let created = replayed(OrderOutcome::Created(order.clone()));
    let already = replayed(OrderOutcome::AlreadyCreated(order.clone()));
    let recovered = replayed(OrderOutcome::Recovered(order.clone()));

    assert_eq!(
        created.message(),
        "created: order #1007 (gid://shopify/Order/7) for pi_1"
    );
    assert!(already
        .message()
        .starts_with("already created: order #1007"));
    assert!(recovered.message().starts_with("recovered: order #1007"));
    assert_eq!(recovered.exit_code(), EXIT_OK);
    assert_eq!(
        created.to_json(),
        json!({"source_identifier": "pi_1", "outcome": "created",
            "order": {"id": "gid://shopify/Order/7", "name": "#1007"}})
    );
    assert_eq!(already.to_json()["outcome"], "already_created");
}

#[test]
fn error_chain_joins_sources() {
    let error = ReplayError::Order {
        source_identifier: "pi_1".to_owned(),
        source: OrderError::Shopify(ShopifyError::Server("HTTP 503".to_owned())),
    };

    assert_eq!(
        error_chain(&error),
        "the order for pi_1 was not created; the failure is recorded: Shopify order creation \
         failed: Shopify failed: HTTP 503"
    );
}
