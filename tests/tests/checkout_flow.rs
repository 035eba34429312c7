//! The create-payment-intent route with the real Stripe client against localstripe and the
//! real DynamoDB store against moto.

use integration_tests::{
    confirm_with_test_card, create_test_table, localstripe_url, moto_url, stripe_get,
    FAKE_STRIPE_SECRET_KEY,
};
use lambda_http::{Body, Request};
use serde_json::{json, Value};
use shared::api::{serve, Cors, Route};
use shared::catalog::Catalog;
use shared::clock::{Clock, SystemClock};
use shared::handlers::create_intent::{handle, CheckoutSettings, CreateIntentDeps};
use shared::metrics::NoMetrics;
use shared::orders::{DynamoFailureLog, DynamoOrderLedger, OrderDeps, OrderSettings};
use shared::shopify::{CreatedOrder, OrderGateway, ShopifyError};
use shared::store::{DynamoRegistrationStore, RegistrationStore};
use shared::stripe::{StripeClient, StripeConfig, StripeSecretKey};
use std::sync::Arc;

const CATALOG: &str = r#"
version = 1
[[events]]
id = "harbor"
name = "Harbor Classic"
currency = "USD"
full_event_price = "249.00"
tax_rate = "0.10"
tax_title = "Sales tax"
[[events.days]]
date = "2027-06-12"
label = "Saturday"
price = "149.00"
[[events.days]]
date = "2027-06-13"
label = "Sunday"
price = "149.00"

[[events]]
id = "odd-prices"
name = "Odd Prices"
currency = "USD"
tax_rate = "0"
tax_title = "Tax"
[[events.days]]
date = "2027-01-01"
label = "A"
price = "19.99"
[[events.days]]
date = "2027-01-02"
label = "B"
price = "8.20"
[[events.days]]
date = "2027-01-03"
label = "C"
price = "17.99"
[[events.days]]
date = "2027-01-04"
label = "D"
price = "4.35"

[[events]]
id = "tokyo"
name = "Tokyo Relay"
currency = "JPY"
tax_rate = "0"
tax_title = "Tax"
[[events.days]]
date = "2027-03-01"
label = "Race day"
price = "5000"

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
code = "EARLY10"
percent_off = "10"
active = true
[[discounts]]
code = "PCT95"
percent_off = "95"
active = true
"#;

/// Paid checkouts never call Shopify: their orders come from the webhook.
struct NoShopifyExpected;

#[async_trait::async_trait]
impl OrderGateway for NoShopifyExpected {
    async fn create_order(&self, _variables: &Value) -> Result<CreatedOrder, ShopifyError> {
        panic!("checkout of a paid registration called Shopify")
    }

    async fn find_order_by_source(
        &self,
        _source: &str,
    ) -> Result<Option<CreatedOrder>, ShopifyError> {
        panic!("checkout of a paid registration called Shopify")
    }
}

async fn deps() -> (CreateIntentDeps, Arc<DynamoRegistrationStore>) {
    let table = create_test_table("checkout").await;
    let store = Arc::new(DynamoRegistrationStore::local(&moto_url(), table.name));
    let stripe = StripeClient::new(
        StripeSecretKey::new(FAKE_STRIPE_SECRET_KEY),
        StripeConfig {
            base_url: localstripe_url(),
            ..StripeConfig::default()
        },
    )
    .unwrap();
    let catalog = Arc::new(Catalog::from_toml(CATALOG).unwrap());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let client = integration_tests::dynamodb_client();
    let orders = OrderDeps {
        catalog: catalog.clone(),
        clock: clock.clone(),
        registrations: store.clone(),
        ledger: Arc::new(DynamoOrderLedger::new(client.clone(), store.table(), 3600)),
        failures: Arc::new(DynamoFailureLog::new(client, store.table(), 3600)),
        shopify: Arc::new(NoShopifyExpected),
        settings: OrderSettings::default(),
    };
    let deps = CreateIntentDeps {
        catalog,
        clock,
        gateway: Arc::new(stripe),
        store: store.clone(),
        orders,
        metrics: Arc::new(NoMetrics),
        settings: CheckoutSettings::default(),
    };
    (deps, store)
}

fn registration(event_id: &str, days: &[&str]) -> Value {
    json!({
        "registration_id": uuid::Uuid::new_v4(),
        "event_id": event_id,
        "days": days,
        "quantity": 1,
        "first_name": "Zoë",
        "last_name": "Example",
        "email": "zoe@example.org",
        "phone": "+1 202 555 0143",
        "fields": {"club": "Harbor Rowing Club"}
    })
}

async fn post(deps: &CreateIntentDeps, body: &Value) -> (u16, Value) {
    let request: Request = http::Request::builder()
        .method("POST")
        .uri("/api/create-payment-intent")
        .body(Body::Text(body.to_string()))
        .unwrap();
    let response = serve(
        request,
        Route::CreatePaymentIntent,
        &Cors::default(),
        |request| handle(deps, request),
    )
    .await;
    let status = response.status().as_u16();
    let json = match response.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap(),
        other => panic!("unexpected body {other:?}"),
    };
    (status, json)
}

/// PaymentIntents in localstripe created for one registration.
async fn intents_for(registration_id: &str) -> Vec<Value> {
    let list = stripe_get("/v1/payment_intents?limit=100").await;
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|intent| intent["metadata"]["registration_id"] == registration_id)
        .cloned()
        .collect()
}

#[tokio::test]
async fn checkout_creates_intent_in_localstripe() {
    let (deps, store) = deps().await;
    let body = registration("harbor", &["2027-06-12", "2027-06-13"]);
    let (status, answer) = post(&deps, &body).await;
    assert_eq!(status, 200, "{answer}");
    let id = answer["payment_intent_id"].as_str().unwrap();

    let intent = stripe_get(&format!("/v1/payment_intents/{id}")).await;
    assert_eq!(intent["amount"], 27390);
    assert_eq!(intent["currency"], "usd");
    assert_eq!(
        intent["metadata"]["registration_id"],
        body["registration_id"]
    );
    assert_eq!(intent["metadata"]["tax"], "2490");
    assert_eq!(intent["metadata"]["first_name"], "Zoë");
    assert!(intent["description"]
        .as_str()
        .unwrap()
        .contains("Harbor Classic"));
    assert_eq!(intent["receipt_email"], Value::Null);
    assert_eq!(answer["client_secret"], intent["client_secret"]);

    let link = store
        .registration_for_payment_intent(id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.record.quote.total, 27390);
    assert_eq!(link.record.registration.phone.e164, "+12025550143");

    let confirmed = confirm_with_test_card(id).await;
    assert_eq!(confirmed["status"], "succeeded");
}

#[tokio::test]
async fn decimal_prices_reach_stripe_exactly() {
    let (deps, _) = deps().await;
    let cases = [
        ("odd-prices", "2027-01-01", 1999),
        ("odd-prices", "2027-01-02", 820),
        ("odd-prices", "2027-01-03", 1799),
        ("odd-prices", "2027-01-04", 435),
        ("tokyo", "2027-03-01", 5000),
    ];
    for (event, day, amount) in cases {
        let (status, answer) = post(&deps, &registration(event, &[day])).await;
        assert_eq!(status, 200, "{event} {day}: {answer}");
        let id = answer["payment_intent_id"].as_str().unwrap();
        let intent = stripe_get(&format!("/v1/payment_intents/{id}")).await;
        assert_eq!(intent["amount"], amount, "{event} {day}");
    }
}

#[tokio::test]
async fn double_submit_makes_one_intent() {
    let (deps, _) = deps().await;
    let body = registration("harbor", &["2027-06-12"]);
    let registration_id = body["registration_id"].as_str().unwrap().to_owned();

    let (first, second) = tokio::join!(post(&deps, &body), post(&deps, &body));
    assert_eq!(first.0, 200, "{}", first.1);
    assert_eq!(second.0, 200, "{}", second.1);
    assert_eq!(first.1["payment_intent_id"], second.1["payment_intent_id"]);
    assert_eq!(first.1["client_secret"], second.1["client_secret"]);
    // localstripe ignores Idempotency-Key, so one intent here proves our own record works.
    assert_eq!(intents_for(&registration_id).await.len(), 1);

    let mut changed = body.clone();
    changed["discount_code"] = json!("early10");
    let (status, third) = post(&deps, &changed).await;
    assert_eq!(status, 200, "{third}");
    assert_ne!(third["payment_intent_id"], first.1["payment_intent_id"]);

    let intents = intents_for(&registration_id).await;
    assert_eq!(intents.len(), 2);
    let old_id = first.1["payment_intent_id"].as_str().unwrap();
    let old = stripe_get(&format!("/v1/payment_intents/{old_id}")).await;
    assert_eq!(old["status"], "canceled");
    let new_id = third["payment_intent_id"].as_str().unwrap();
    let new = stripe_get(&format!("/v1/payment_intents/{new_id}")).await;
    assert_eq!(new["amount"], 14900 - 1490 + 1341);
}

#[tokio::test]
async fn below_minimum_never_reaches_stripe() {
    let (deps, _) = deps().await;
    let mut body = registration("clinic", &["2027-05-08"]);
    body["discount_code"] = json!("PCT95");
    let registration_id = body["registration_id"].as_str().unwrap().to_owned();
    let (status, answer) = post(&deps, &body).await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"]["code"], "amount_below_minimum");
    assert!(intents_for(&registration_id).await.is_empty());
}
