//! `POST /api/create-payment-intent` with an in-memory store and a recording gateway.

mod common;

use common::gateway::RecordingGateway;
use common::orders::{memory_orders, MemoryOrders};
use common::{event_with_body, header, json_of, load_event};
use serde_json::{json, Value};
use shared::api::{serve, Cors, Route};
use shared::catalog::Catalog;
use shared::clock::{Clock, FixedClock};
use shared::handlers::create_intent::{handle, CheckoutSettings, CreateIntentDeps};
use shared::metrics::{Counter, MemoryMetrics};
use shared::store::MemoryRegistrationStore;
use shared::store::{Payment, RegistrationStore};
use std::sync::Arc;
use time::macros::datetime;
use uuid::Uuid;

const ORIGIN: &str = "https://events.example.org";

struct Harness {
    deps: CreateIntentDeps,
    gateway: Arc<RecordingGateway>,
    store: Arc<MemoryRegistrationStore>,
    orders: MemoryOrders,
    metrics: Arc<MemoryMetrics>,
}

fn harness_with(catalog: Catalog) -> Harness {
    let catalog = Arc::new(catalog);
    let clock: Arc<dyn Clock> = Arc::new(FixedClock(datetime!(2026-12-04 12:00 UTC)));
    let gateway = Arc::new(RecordingGateway::default());
    let orders = memory_orders(catalog.clone(), clock.clone());
    // Checkout and the order path share one registration store, as they share one table.
    let store = orders.registrations.clone();
    let metrics = Arc::new(MemoryMetrics::default());
    let deps = CreateIntentDeps {
        catalog,
        clock,
        gateway: gateway.clone(),
        store: store.clone(),
        orders: orders.deps.clone(),
        metrics: metrics.clone(),
        settings: CheckoutSettings::default(),
    };
    Harness {
        deps,
        gateway,
        store,
        orders,
        metrics,
    }
}

fn harness() -> Harness {
    harness_with(Catalog::bundled().unwrap())
}

impl Harness {
    async fn call(
        &self,
        request: lambda_http::Request,
    ) -> lambda_http::Response<lambda_http::Body> {
        let cors = Cors::from_list(ORIGIN);
        serve(request, Route::CreatePaymentIntent, &cors, |request| {
            handle(&self.deps, request)
        })
        .await
    }

    async fn post(&self, body: &Value) -> (u16, Value) {
        let response = self
            .call(event_with_body("create-payment-intent.json", body))
            .await;
        (response.status().as_u16(), json_of(&response))
    }
}

fn registration() -> Value {
    json!({
        "event_id": "harbor-classic-2027",
        "days": ["2027-06-12", "2027-06-13"],
        "quantity": 1,
        "first_name": "Avery",
        "last_name": "Example",
        "email": " Guest@Example.ORG ",
        "phone": "(202) 555-0143",
        "fields": {"club": "Harbor Rowing Club"}
    })
}

fn metadata_value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.as_str())
}

#[tokio::test]
async fn fixture_event_creates_intent() {
    let harness = harness();
    let response = harness.call(load_event("create-payment-intent.json")).await;
    assert_eq!(response.status(), 200);
    let body = json_of(&response);
    assert_eq!(body["payment_required"], true);
    assert_eq!(
        body["registration_id"],
        "7d2c8f4e-3b1a-4c5d-9e6f-0a1b2c3d4e5f"
    );
    assert_eq!(body["quote"]["total"], 27390);
    assert!(body["client_secret"].as_str().unwrap().contains("_secret_"));
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some(ORIGIN)
    );

    let created = harness.gateway.created();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].amount, 27390);
    assert_eq!(created[0].currency, "usd");
    assert!(created[0].description.contains("Harbor Classic 2027"));
    assert!(created[0].description.contains("2027-06-12"));
    assert_eq!(created[0].receipt_email, None);
    assert_eq!(
        metadata_value(&created[0].metadata, "registration_id"),
        Some("7d2c8f4e-3b1a-4c5d-9e6f-0a1b2c3d4e5f")
    );
}

#[tokio::test]
async fn contact_details_are_normalised_before_storage() {
    let harness = harness();
    let (status, body) = harness.post(&registration()).await;
    assert_eq!(status, 200);
    let id: Uuid = body["registration_id"].as_str().unwrap().parse().unwrap();
    let stored = harness.store.registration(&id).await.unwrap().unwrap();
    assert_eq!(stored.registration.email.as_str(), "guest@example.org");
    assert_eq!(stored.registration.phone.e164, "+12025550143");
    assert_eq!(stored.payment_intent_id.as_deref(), Some("pi_fake_1"));
    assert_eq!(stored.quote.total, 27390);

    let link = harness
        .store
        .registration_for_payment_intent("pi_fake_1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.record.registration.registration_id, id);
    assert!(!link.replaced);
}

#[tokio::test]
async fn malformed_email_makes_no_intent() {
    let harness = harness();
    let mut body = registration();
    body["email"] = json!("guest@@example.org");
    let (status, answer) = harness.post(&body).await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"]["field"], "email");
    assert!(harness.gateway.created().is_empty());
}

#[tokio::test]
async fn missing_fields_are_named() {
    let harness = harness();
    for field in [
        "event_id",
        "days",
        "first_name",
        "last_name",
        "email",
        "phone",
    ] {
        let mut body = registration();
        body.as_object_mut().unwrap().remove(field);
        let (status, answer) = harness.post(&body).await;
        assert_eq!(status, 400, "without {field}");
        assert_eq!(answer["error"]["field"], field, "without {field}");
    }
    assert!(harness.gateway.created().is_empty());
}

#[tokio::test]
async fn rejected_discount_code_is_400() {
    let harness = harness();
    let response = harness
        .call(load_event("create-payment-intent-bad-code.json"))
        .await;
    assert_eq!(response.status(), 400);
    let body = json_of(&response);
    assert_eq!(body["error"]["code"], "invalid_discount_code");
    assert_eq!(body["error"]["field"], "discount_code");
    assert_eq!(body["error"]["reason"], "unknown");
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some(ORIGIN)
    );
    assert!(harness.gateway.created().is_empty());
}

#[tokio::test]
async fn preflight_runs_no_business_logic() {
    let harness = harness();
    let response = harness
        .call(load_event("create-payment-intent-preflight.json"))
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some(ORIGIN)
    );
    assert_eq!(
        header(&response, "access-control-allow-methods"),
        Some("POST, OPTIONS")
    );
    assert_eq!(
        header(&response, "access-control-allow-headers"),
        Some("content-type")
    );

    let foreign = harness
        .call(load_event(
            "create-payment-intent-preflight-foreign-origin.json",
        ))
        .await;
    assert!(header(&foreign, "access-control-allow-origin").is_none());
    assert!(harness.gateway.created().is_empty());
}

#[tokio::test]
async fn full_discount_needs_no_payment() {
    let harness = harness();
    let mut body = registration();
    body["discount_code"] = json!("volunteer");
    let (status, answer) = harness.post(&body).await;
    assert_eq!(status, 200);
    assert_eq!(answer["payment_required"], false);
    assert_eq!(answer["quote"]["total"], 0);
    assert!(answer.get("client_secret").is_none());
    assert!(harness.gateway.created().is_empty());

    let id: Uuid = answer["registration_id"].as_str().unwrap().parse().unwrap();
    let stored = harness.store.registration(&id).await.unwrap().unwrap();
    assert_eq!(stored.payment, Payment::Free);
    assert_eq!(stored.registration.fields.len(), 1);

    let orders = harness.orders.shopify.orders();
    assert_eq!(orders.len(), 1);
    let order = &orders[0]["order"];
    assert_eq!(order["sourceIdentifier"], format!("free_{id}"));
    assert_eq!(order["financialStatus"], "PAID");
    assert!(order["tags"].as_array().unwrap().contains(&json!("free")));
    assert!(order
        .get("transactions")
        .is_none_or(|transactions| transactions.as_array().is_none_or(Vec::is_empty)));
    let attributes = order["customAttributes"].as_array().unwrap();
    assert!(attributes
        .iter()
        .any(|attribute| attribute["key"] == "club" && attribute["value"] == "Harbor Rowing Club"));
    assert_eq!(harness.metrics.total(Counter::FreeRegistrations), 1);
    assert_eq!(harness.metrics.total(Counter::OrdersCreated), 1);

    // Submitting the same free registration again creates no second order.
    body["registration_id"] = json!(id);
    let (status, _) = harness.post(&body).await;
    assert_eq!(status, 200);
    assert_eq!(harness.orders.shopify.orders().len(), 1);
}

#[tokio::test]
async fn total_below_minimum_is_rejected() {
    let catalog = Catalog::from_toml(
        r#"
version = 1
[[events]]
id = "clinic"
name = "Clinic"
currency = "USD"
tax_rate = "0"
tax_title = "Tax"
[[events.days]]
date = "2027-05-08"
label = "Morning"
price = "9.00"
[[discounts]]
code = "PCT95"
percent_off = "95"
active = true
"#,
    )
    .unwrap();
    let harness = harness_with(catalog);
    let mut body = registration();
    body["event_id"] = json!("clinic");
    body["days"] = json!(["2027-05-08"]);
    body["discount_code"] = json!("PCT95");
    let (status, answer) = harness.post(&body).await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"]["code"], "amount_below_minimum");
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .contains("0.45"));
    assert!(harness.gateway.created().is_empty());
}

#[tokio::test]
async fn double_submit_returns_the_same_intent() {
    let harness = harness();
    let mut body = registration();
    body["registration_id"] = json!("11111111-2222-4333-8444-555555555555");
    let (first, second) = tokio::join!(harness.post(&body), harness.post(&body));
    assert_eq!(first.0, 200);
    assert_eq!(second.0, 200);
    assert_eq!(first.1["payment_intent_id"], second.1["payment_intent_id"]);
    assert_eq!(first.1["client_secret"], second.1["client_secret"]);
    assert_eq!(harness.gateway.created().len(), 1);

    body["discount_code"] = json!("EARLY10");
    let (third_status, third) = harness.post(&body).await;
    assert_eq!(third_status, 200);
    assert_ne!(third["payment_intent_id"], first.1["payment_intent_id"]);
    assert_eq!(third["quote"]["total"], 24651);
    let created = harness.gateway.created();
    assert_eq!(created.len(), 2);
    assert_eq!(created[1].amount, 24651);
    assert_ne!(created[0].idempotency_key, created[1].idempotency_key);

    let old = first.1["payment_intent_id"].as_str().unwrap();
    assert_eq!(harness.gateway.cancelled(), [old.to_owned()]);
    let link = harness
        .store
        .registration_for_payment_intent(old)
        .await
        .unwrap()
        .unwrap();
    assert!(link.replaced);
}

#[tokio::test]
async fn retry_after_stripe_outage_creates_once() {
    let harness = harness();
    let mut body = registration();
    body["registration_id"] = json!("21111111-2222-4333-8444-555555555555");
    harness.gateway.fail_next_create();
    let (status, answer) = harness.post(&body).await;
    assert_eq!(status, 502);
    assert_eq!(answer["error"]["code"], "payment_provider_error");
    assert!(!answer.to_string().contains("test outage"));

    let (status, answer) = harness.post(&body).await;
    assert_eq!(status, 200);
    assert_eq!(answer["payment_intent_id"], "pi_fake_1");
    assert_eq!(harness.gateway.created().len(), 1);
}

#[tokio::test]
async fn large_form_fits_stripe_metadata() {
    let harness = harness();
    let mut body = registration();
    let mut fields = serde_json::Map::new();
    for index in 0..57 {
        fields.insert(
            format!("question_{index:02}"),
            json!(format!("answer {index}")),
        );
    }
    let comment: String = "Grüße, привет, 你好, 🚣 "
        .chars()
        .cycle()
        .take(1200)
        .collect();
    fields.insert("comment".to_owned(), json!(comment));
    fields.insert("a".repeat(45), json!("long name"));
    fields.insert("boats".to_owned(), json!(["A", "B"]));
    body["fields"] = Value::Object(fields);

    let (status, answer) = harness.post(&body).await;
    assert_eq!(status, 200, "{answer}");
    let metadata = &harness.gateway.created()[0].metadata;
    assert!(metadata.len() <= 50);
    for (key, value) in metadata {
        assert!(key.chars().count() <= 40, "key {key}");
        assert!(!key.contains('['), "key {key}");
        assert!(!key.contains(']'), "key {key}");
        assert!(value.chars().count() <= 500, "value of {key}");
    }
    assert!(metadata_value(metadata, "registration_id").is_some());

    let id: Uuid = answer["registration_id"].as_str().unwrap().parse().unwrap();
    let stored = harness.store.registration(&id).await.unwrap().unwrap();
    assert_eq!(stored.registration.fields.len(), 60);
    let kept = stored
        .registration
        .fields
        .iter()
        .find(|field| field.name == "comment")
        .unwrap();
    assert_eq!(kept.value, comment);
    let boats = stored
        .registration
        .fields
        .iter()
        .find(|field| field.name == "boats")
        .unwrap();
    assert_eq!(boats.value, "A, B");
}
