//! `POST /api/stripe-webhook` with the in-memory order path and a recording Shopify.

mod common;

use common::orders::{memory_orders, MemoryOrders};
use common::{json_of, load_event};
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use shared::api::{serve, Cors, Route};
use shared::catalog::Catalog;
use shared::clock::{Clock, ManualClock};
use shared::form::{self, FormLimits, RegistrationRequest};
use shared::handlers::webhook::{handle, WebhookDeps};
use shared::metrics::{Counter, MemoryMetrics};
use shared::orders::ledger::{FailureLog, OrderLedger};
use shared::pricing::{quote, Basket};
use shared::secrets::StaticWebhookSecrets;
use shared::shopify::{ShopifyError, UserError};
use shared::store::{Payment, RegistrationStore, StoredRegistration};
use shared::stripe::signature::{sign, WebhookSecret};
use std::sync::Arc;

/// The time every fixture event was signed at.
const SIGNED_AT: i64 = 1_796_396_400;
const SECRET: &str = "whsec_test_local_only";
const OTHER_SECRET: &str = "whsec_test_B";
const PAYMENT_INTENT: &str = "pi_fixture_harbor_1";

struct Harness {
    deps: WebhookDeps,
    orders: MemoryOrders,
    metrics: Arc<MemoryMetrics>,
    clock: Arc<ManualClock>,
}

fn secret(value: &str) -> WebhookSecret {
    WebhookSecret::new(value).unwrap()
}

async fn harness() -> Harness {
    harness_at(SIGNED_AT).await
}

async fn harness_at(now: i64) -> Harness {
    let catalog = Arc::new(Catalog::bundled().unwrap());
    let manual = Arc::new(ManualClock::at(now));
    let clock: Arc<dyn Clock> = manual.clone();
    let orders = memory_orders(catalog, clock.clone());
    let metrics = Arc::new(MemoryMetrics::default());
    let deps = WebhookDeps {
        orders: orders.deps.clone(),
        secrets: Arc::new(StaticWebhookSecrets(vec![secret(SECRET)])),
        metrics: metrics.clone(),
        clock,
        tolerance_seconds: 300,
    };
    let harness = Harness {
        deps,
        orders,
        metrics,
        clock: manual,
    };
    harness.store_fixture_registration().await;
    harness
}

impl Harness {
    /// Stores the registration the fixture events pay for, as checkout would have.
    async fn store_fixture_registration(&self) {
        let event = load_event("create-payment-intent.json");
        let body = match event.body() {
            Body::Text(text) => text.clone(),
            other => panic!("unexpected body {other:?}"),
        };
        let request: RegistrationRequest = serde_json::from_str(&body).unwrap();
        let catalog = &self.deps.orders.catalog;
        let registration = form::validate(
            request,
            catalog,
            &FormLimits::default(),
            phonenumber::country::Id::US,
        )
        .unwrap();
        let basket = Basket::new(
            catalog,
            &registration.event_id,
            &registration.days,
            registration.participants,
        )
        .unwrap();
        let quote = quote(&basket, None).unwrap();
        let record = StoredRegistration {
            fingerprint: quote.fingerprint(),
            registration,
            quote,
            payment: Payment::Stripe,
            payment_intent_id: None,
            created_at: SIGNED_AT - 60,
        };
        let store = &self.orders.registrations;
        store.begin_checkout(&record, 3600).await.unwrap();
        store
            .link_payment_intent(&record, PAYMENT_INTENT, 3600)
            .await
            .unwrap();
    }

    async fn deliver(&self, request: Request) -> Response<Body> {
        serve(request, Route::StripeWebhook, &Cors::default(), |request| {
            handle(&self.deps, request)
        })
        .await
    }

    fn order_count(&self) -> usize {
        self.orders.shopify.orders().len()
    }
}

/// Returns the fixture's body text.
fn fixture_body() -> String {
    match load_event("stripe-webhook-payment-succeeded.json").body() {
        Body::Text(text) => text.clone(),
        other => panic!("unexpected body {other:?}"),
    }
}

/// The fixture event with another body and `Stripe-Signature` header.
fn delivery(body: &str, header: &str) -> Request {
    let mut request = load_event("stripe-webhook-payment-succeeded.json");
    *request.body_mut() = Body::Text(body.to_owned());
    request
        .headers_mut()
        .insert("stripe-signature", header.parse().unwrap());
    request
}

/// Builds a delivery of `body` signed at `at` with `secret`.
fn signed(body: &str, at: i64, secret_value: &str) -> Request {
    delivery(body, &sign(at, body.as_bytes(), &secret(secret_value)))
}

/// The fixture event as JSON, to build variants of it.
fn fixture_json() -> Value {
    serde_json::from_str(&fixture_body()).unwrap()
}

fn attribute<'a>(order: &'a Value, key: &str) -> Option<&'a str> {
    order["customAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|attribute| attribute["key"] == key)
        .and_then(|attribute| attribute["value"].as_str())
}

#[tokio::test]
async fn fixture_delivery_creates_one_paid_order() {
    let harness = harness().await;
    let response = harness
        .deliver(load_event("stripe-webhook-payment-succeeded.json"))
        .await;
    assert_eq!(response.status(), 200);
    let body = json_of(&response);
    assert_eq!(body["result"], "order_created");
    assert_eq!(body["order"], "#1001");

    let orders = harness.orders.shopify.orders();
    assert_eq!(orders.len(), 1);
    let order = &orders[0]["order"];
    assert_eq!(order["sourceIdentifier"], PAYMENT_INTENT);
    assert_eq!(order["financialStatus"], "PAID");
    assert_eq!(order["test"], true);
    assert_eq!(order["taxesIncluded"], false);
    assert_eq!(
        order["lineItems"][0]["priceSet"]["shopMoney"]["amount"],
        "249.00"
    );
    assert_eq!(
        order["taxLines"][0]["priceSet"]["shopMoney"]["amount"],
        "24.90"
    );
    assert_eq!(
        order["transactions"][0]["amountSet"]["shopMoney"]["amount"],
        "273.90"
    );
    assert_eq!(
        order["transactions"][0]["authorizationCode"],
        PAYMENT_INTENT
    );
    assert_eq!(
        order["customer"]["toUpsert"]["email"],
        "avery.example@example.org"
    );
    assert_eq!(order["customer"]["toUpsert"]["phone"], "+12025550143");
    assert_eq!(attribute(order, "club"), Some("Harbor Rowing Club"));
    assert_eq!(
        attribute(order, "registration_id"),
        Some("7d2c8f4e-3b1a-4c5d-9e6f-0a1b2c3d4e5f")
    );
    assert_eq!(orders[0]["options"]["sendReceipt"], true);

    assert_eq!(harness.metrics.total(Counter::WebhooksReceived), 1);
    assert_eq!(harness.metrics.total(Counter::OrdersCreated), 1);
    assert!(harness.metrics.tallies()[0].last_order_at.is_some());
}

#[tokio::test]
async fn base64_body_is_verified_after_decoding() {
    let harness = harness().await;
    let response = harness
        .deliver(load_event("stripe-webhook-payment-succeeded-base64.json"))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(harness.order_count(), 1);
}

#[tokio::test]
async fn signature_covers_the_exact_bytes() {
    let harness = harness().await;
    let mut event = fixture_json();
    event["data"]["object"]["metadata"]["first_name"] = json!("Zoë");
    event["data"]["object"]["metadata"]["website"] = json!("https://example.org");
    let pretty = serde_json::to_string_pretty(&event)
        .unwrap()
        .replace("https://example.org", "https:\\/\\/example.org");
    assert!(pretty.contains("Zoë"));
    assert!(pretty.contains("\\/"));
    let header = sign(SIGNED_AT, pretty.as_bytes(), &secret(SECRET));

    let minified = serde_json::to_string(&event).unwrap();
    let control = harness.deliver(delivery(&minified, &header)).await;
    assert_eq!(control.status(), 400);
    assert_eq!(harness.order_count(), 0);

    let response = harness.deliver(delivery(&pretty, &header)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(harness.order_count(), 1);
}

#[tokio::test]
async fn other_endpoint_secret_writes_nothing() {
    let harness = harness().await;
    let response = harness
        .deliver(signed(&fixture_body(), SIGNED_AT, OTHER_SECRET))
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(json_of(&response)["error"]["code"], "invalid_signature");
    assert_eq!(harness.order_count(), 0);
    assert_eq!(harness.metrics.total(Counter::SignatureFailures), 1);
    let claim = harness
        .orders
        .ledger
        .claim(PAYMENT_INTENT, SIGNED_AT, 60)
        .await
        .unwrap();
    assert!(
        matches!(
            claim,
            shared::orders::ledger::Claim::Proceed { attempt: 1, .. }
        ),
        "{claim:?}"
    );
}

#[tokio::test]
async fn window_uses_the_header_timestamp() {
    let body = fixture_body();
    for (offset, expected) in [(-299, 200), (-301, 400), (301, 400)] {
        let harness = harness().await;
        let response = harness
            .deliver(signed(&body, SIGNED_AT + offset, SECRET))
            .await;
        assert_eq!(response.status(), expected, "signed {offset} s from now");
    }
    let harness = harness().await;
    let signature = sign(SIGNED_AT, body.as_bytes(), &secret(SECRET));
    let v1 = signature.split_once(",v1=").unwrap().1;
    let response = harness
        .deliver(delivery(&body, &format!("t=abc,v1={v1}")))
        .await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn any_v1_may_match_during_a_roll() {
    let harness = harness().await;
    let body = fixture_body();
    let v1 = |value: &str| {
        let header = sign(SIGNED_AT, body.as_bytes(), &secret(value));
        header.split_once(",v1=").unwrap().1.to_owned()
    };
    let (old, current) = (v1("whsec_test_old_secret"), v1(SECRET));
    let headers = [
        format!("t={SIGNED_AT},v1={old},v1={current},v0=deadbeef"),
        format!("t={SIGNED_AT},v1={current},v1={old},v0=deadbeef"),
        format!("v1={old},v1={current},v0=deadbeef,t={SIGNED_AT}"),
    ];
    for header in &headers {
        let response = harness.deliver(delivery(&body, header)).await;
        assert_eq!(response.status(), 200, "{header}");
    }
    assert_eq!(harness.order_count(), 1);
    assert_eq!(harness.metrics.total(Counter::DuplicatesSkipped), 2);
}

#[tokio::test]
async fn shopify_outage_is_recorded_then_recovered() {
    let harness = harness().await;
    harness
        .orders
        .shopify
        .fail_next(ShopifyError::Server("HTTP 503".into()));
    let response = harness
        .deliver(load_event("stripe-webhook-payment-succeeded.json"))
        .await;
    assert_eq!(response.status(), 503);
    assert_eq!(harness.order_count(), 0);
    let failures = harness.orders.failures.list(10).await.unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].payment_intent_id, PAYMENT_INTENT);
    assert!(failures[0].reason.contains("503"), "{}", failures[0].reason);
    assert_eq!(harness.metrics.total(Counter::OrdersFailed), 1);

    // Shopify may still be creating the order, so the claim holds until its lease ends.
    let early = harness
        .deliver(load_event("stripe-webhook-payment-succeeded.json"))
        .await;
    assert_eq!(early.status(), 409);
    harness.clock.advance(61);

    let retry = harness
        .deliver(load_event("stripe-webhook-payment-succeeded.json"))
        .await;
    assert_eq!(retry.status(), 200);
    assert_eq!(harness.order_count(), 1);
    assert_eq!(harness.orders.shopify.lookups(), 1);
    assert!(harness.orders.failures.list(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn crash_after_shopify_keeps_one_order() {
    let harness = harness().await;
    harness
        .orders
        .shopify
        .create_then_fail(ShopifyError::Transport("timed out".into()));
    let first = harness
        .deliver(load_event("stripe-webhook-payment-succeeded.json"))
        .await;
    assert_eq!(first.status(), 503);
    assert_eq!(harness.order_count(), 1);
    harness.clock.advance(61);

    let second = harness
        .deliver(load_event("stripe-webhook-payment-succeeded.json"))
        .await;
    assert_eq!(second.status(), 200);
    assert_eq!(json_of(&second)["order"], "#1001");
    assert_eq!(harness.order_count(), 1);
}

#[tokio::test]
async fn duplicate_deliveries_make_one_order() {
    let harness = harness().await;
    let (first, second) = tokio::join!(
        harness.deliver(load_event("stripe-webhook-payment-succeeded.json")),
        harness.deliver(load_event("stripe-webhook-payment-succeeded.json")),
    );
    let statuses = [first.status().as_u16(), second.status().as_u16()];
    assert!(statuses.contains(&200), "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|status| *status == 200 || *status == 409),
        "{statuses:?}"
    );
    assert_eq!(harness.order_count(), 1);

    let again = harness
        .deliver(load_event("stripe-webhook-payment-succeeded.json"))
        .await;
    assert_eq!(again.status(), 200);
    assert_eq!(json_of(&again)["result"], "duplicate");
    assert_eq!(harness.order_count(), 1);
}

#[tokio::test]
async fn unhandled_event_type_is_ignored() {
    let harness = harness().await;
    let mut event = fixture_json();
    event["type"] = json!("charge.refunded");
    event["data"]["object"] = json!({"id": "ch_1", "object": "charge", "amount_refunded": 27390});
    let body = serde_json::to_string(&event).unwrap();
    let response = harness.deliver(signed(&body, SIGNED_AT, SECRET)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(json_of(&response)["result"], "ignored");
    assert_eq!(harness.order_count(), 0);
    assert_eq!(harness.metrics.total(Counter::EventsIgnored), 1);
}

#[tokio::test]
async fn newer_api_version_event_is_tolerated() {
    let harness = harness().await;
    let mut event = fixture_json();
    event["api_version"] = json!("2099-01-01.future");
    event["brand_new_top_level"] = json!({"nested": {"deeper": [1, 2, 3]}});
    let object = &mut event["data"]["object"];
    object["payment_method_types"] = json!(["twint"]);
    object["status"] = json!("succeeded");
    object["capture_method"] = json!("automatic_async_future_mode");
    object["amount_details"] = json!({"tip": {}, "new_thing": {"x": true}});
    object.as_object_mut().unwrap().remove("charges");
    let body = serde_json::to_string_pretty(&event).unwrap();
    let response = harness.deliver(signed(&body, SIGNED_AT, SECRET)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(harness.order_count(), 1);
}

#[tokio::test]
async fn amount_mismatch_is_recorded_not_ordered() {
    let harness = harness().await;
    let mut event = fixture_json();
    event["data"]["object"]["amount"] = json!(100);
    event["data"]["object"]["amount_received"] = json!(100);
    let body = serde_json::to_string(&event).unwrap();
    let response = harness.deliver(signed(&body, SIGNED_AT, SECRET)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(json_of(&response)["result"], "recorded_for_review");
    assert_eq!(harness.order_count(), 0);
    let failures = harness.orders.failures.list(10).await.unwrap();
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0].reason.contains("amount mismatch"),
        "{}",
        failures[0].reason
    );
}

#[tokio::test]
async fn replaced_payment_intent_needs_review() {
    let harness = harness().await;
    harness
        .orders
        .registrations
        .mark_replaced(PAYMENT_INTENT)
        .await
        .unwrap();
    let response = harness
        .deliver(load_event("stripe-webhook-payment-succeeded.json"))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(harness.order_count(), 0);
    assert_eq!(harness.orders.failures.list(10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn missing_stored_copy_uses_metadata() {
    let harness = harness().await;
    let mut event = fixture_json();
    event["data"]["object"]["id"] = json!("pi_fixture_without_record");
    let body = serde_json::to_string(&event).unwrap();
    let response = harness.deliver(signed(&body, SIGNED_AT, SECRET)).await;
    assert_eq!(response.status(), 200, "{}", json_of(&response));
    let orders = harness.orders.shopify.orders();
    assert_eq!(orders.len(), 1);
    let order = &orders[0]["order"];
    assert_eq!(order["sourceIdentifier"], "pi_fixture_without_record");
    assert_eq!(
        order["customer"]["toUpsert"]["email"],
        "avery.example@example.org"
    );
    assert_eq!(attribute(order, "f_club"), Some("Harbor Rowing Club"));
}

#[tokio::test]
async fn payment_failure_does_not_block_success() {
    let harness = harness().await;
    let failed = harness
        .deliver(load_event("stripe-webhook-payment-failed.json"))
        .await;
    assert_eq!(failed.status(), 200);
    assert_eq!(harness.metrics.total(Counter::PaymentsFailed), 1);
    assert_eq!(harness.order_count(), 0);

    let succeeded = harness
        .deliver(load_event("stripe-webhook-payment-succeeded.json"))
        .await;
    assert_eq!(succeeded.status(), 200);
    assert_eq!(harness.order_count(), 1);
}

#[tokio::test]
async fn rejected_phone_still_makes_the_order() {
    let harness = harness().await;
    harness
        .orders
        .shopify
        .fail_next(ShopifyError::UserErrors(vec![UserError {
            field: vec![
                "order".into(),
                "customer".into(),
                "toUpsert".into(),
                "phone".into(),
            ],
            message: "Phone is invalid".into(),
            code: Some("INVALID".into()),
        }]));
    let response = harness
        .deliver(load_event("stripe-webhook-payment-succeeded.json"))
        .await;
    assert_eq!(response.status(), 200);
    let orders = harness.orders.shopify.orders();
    assert_eq!(orders.len(), 1);
    let order = &orders[0]["order"];
    assert!(order["customer"]["toUpsert"].get("phone").is_none());
    assert!(order.get("phone").is_none());
    let raw_kept = order["customAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|attribute| attribute["value"] == "(202) 555-0143");
    assert!(raw_kept, "{order}");
}

#[tokio::test]
async fn empty_and_unreadable_bodies_are_400() {
    let harness = harness().await;
    let response = harness.deliver(delivery("", "t=1,v1=00")).await;
    assert_eq!(response.status(), 400);
    let not_json = "this is not valid JSON";
    let response = harness.deliver(signed(not_json, SIGNED_AT, SECRET)).await;
    assert_eq!(response.status(), 400);
    assert_eq!(json_of(&response)["error"]["code"], "invalid_json");
    assert_eq!(harness.order_count(), 0);
}
