//! The replay tool's library against localstripe, moto and the Shopify sandbox.
//!
//! Each test starts its own sandbox and moto table. A registration goes through the real
//! create-payment-intent handler, so the PaymentIntent in localstripe carries the metadata
//! that checkout writes, and its payment goes through the real webhook handler while the
//! sandbox fails, so the failure is recorded as in production. The replay then has to turn
//! it into exactly one order.

use integration_tests::{
    confirm_with_test_card, create_test_table, localstripe_url, FAKE_STRIPE_SECRET_KEY,
    FAKE_WEBHOOK_SECRET,
};
use lambda_http::{Body, Request};
use replay::{
    error_chain, failures_table, list_failures, replay_free, replay_payment, ReplayError, EXIT_OK,
};
use serde_json::{json, Value};
use shared::api::{serve, Cors, Route};
use shared::catalog::Catalog;
use shared::clock::{Clock, SystemClock};
use shared::handlers::create_intent::{self, CheckoutSettings, CreateIntentDeps};
use shared::handlers::webhook::{self, WebhookDeps};
use shared::metrics::MemoryMetrics;
use shared::orders::ledger::FailureRecord;
use shared::orders::{DynamoFailureLog, DynamoOrderLedger, OrderDeps, OrderOutcome, OrderSettings};
use shared::secrets::StaticWebhookSecrets;
use shared::shopify::{ShopifyClient, ShopifyConfig, ShopifyCredentials, ShopifySecret};
use shared::store::DynamoRegistrationStore;
use shared::stripe::signature::{sign, WebhookSecret};
use shared::stripe::{StripeClient, StripeConfig, StripeSecretKey};
use shopify_sandbox::Sandbox;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Expiry of the ledger, failure and registration records, in seconds.
const TTL_SECONDS: i64 = 3600;
const EVENT_ID: &str = "harbor-classic-2027";
/// The bundled catalog's code for 100 % off the Harbor Classic, which makes a registration
/// free.
const FREE_CODE: &str = "VOLUNTEER";

/// The checkout and webhook handlers and the order path, over one sandbox and moto table.
struct Stack {
    sandbox: Sandbox,
    stripe: StripeClient,
    checkout: CreateIntentDeps,
    webhook: WebhookDeps,
    orders: OrderDeps,
    failures: Arc<DynamoFailureLog>,
    http: reqwest::Client,
}

/// Returns the path of the cached Admin schema, which `ensure_schema` checks once per test
/// binary.
async fn schema_path() -> PathBuf {
    static SCHEMA: OnceLock<PathBuf> = OnceLock::new();
    tokio::task::spawn_blocking(|| {
        SCHEMA
            .get_or_init(|| {
                shopify_sandbox::ensure_schema(shopify_sandbox::DEFAULT_API_VERSION).unwrap_or_else(
                    |error| panic!("the Shopify schema is needed for the sandbox: {error:#}"),
                )
            })
            .clone()
    })
    .await
    .unwrap()
}

impl Stack {
    async fn start() -> Stack {
        let sandbox = shopify_sandbox::start(shopify_sandbox::Config::new(schema_path().await))
            .await
            .unwrap();
        // Short timeouts, so that a fault costs seconds and not the production budget.
        let shopify = ShopifyClient::new(
            ShopifyConfig {
                connect_timeout: Duration::from_secs(1),
                request_timeout: Duration::from_secs(3),
                retry_budget: Duration::from_secs(8),
                retry_backoff: Duration::from_millis(200),
                ..ShopifyConfig::new(sandbox.base_url())
            },
            ShopifyCredentials::ClientCredentials {
                client_id: shopify_sandbox::DEFAULT_CLIENT_ID.to_owned(),
                client_secret: ShopifySecret::new(shopify_sandbox::DEFAULT_CLIENT_SECRET),
            },
        )
        .unwrap();
        let stripe = StripeClient::new(
            StripeSecretKey::new(FAKE_STRIPE_SECRET_KEY),
            StripeConfig {
                base_url: localstripe_url(),
                ..StripeConfig::default()
            },
        )
        .unwrap();

        let table = create_test_table("replay-tool").await;
        let catalog = Arc::new(Catalog::bundled().unwrap());
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let registrations = Arc::new(DynamoRegistrationStore::new(
            table.client.clone(),
            &table.name,
        ));
        let failures = Arc::new(DynamoFailureLog::new(
            table.client.clone(),
            &table.name,
            TTL_SECONDS,
        ));
        let orders = OrderDeps {
            catalog: catalog.clone(),
            clock: clock.clone(),
            registrations: registrations.clone(),
            ledger: Arc::new(DynamoOrderLedger::new(
                table.client,
                &table.name,
                TTL_SECONDS,
            )),
            failures: failures.clone(),
            shopify: Arc::new(shopify),
            // A short lease: after a 5xx the claim holds until its lease ends, because
            // Shopify may still create the order.
            settings: OrderSettings {
                lease_seconds: 1,
                ..OrderSettings::default()
            },
        };
        let metrics = Arc::new(MemoryMetrics::default());
        let checkout = CreateIntentDeps {
            catalog,
            clock: clock.clone(),
            gateway: Arc::new(stripe.clone()),
            store: registrations,
            orders: orders.clone(),
            metrics: metrics.clone(),
            settings: CheckoutSettings::default(),
        };
        let webhook = WebhookDeps {
            orders: orders.clone(),
            secrets: Arc::new(StaticWebhookSecrets(vec![webhook_secret()])),
            metrics,
            clock,
            tolerance_seconds: 300,
        };
        Stack {
            sandbox,
            stripe,
            checkout,
            webhook,
            orders,
            failures,
            http: reqwest::Client::new(),
        }
    }

    /// Submits a Harbor Classic registration to the create-payment-intent handler, with
    /// `discount_code` when given, and returns the JSON response body.
    async fn check_out(&self, discount_code: Option<&str>) -> Value {
        let body = json!({
            "registration_id": uuid::Uuid::new_v4(),
            "event_id": EVENT_ID,
            "days": ["2027-06-12", "2027-06-13"],
            "quantity": 1,
            "first_name": "Avery",
            "last_name": "Example",
            "email": "avery@example.org",
            "phone": "(202) 555-0143",
            "discount_code": discount_code,
            "fields": {"club": "Harbor Rowing Club"}
        });
        let request: Request = http::Request::builder()
            .method("POST")
            .uri("/api/create-payment-intent")
            .body(Body::Text(body.to_string()))
            .unwrap();
        let response = serve(
            request,
            Route::CreatePaymentIntent,
            &Cors::default(),
            |request| create_intent::handle(&self.checkout, request),
        )
        .await;
        let (status, response_json) = status_and_json(&response);
        assert_eq!(status, 200, "{response_json}");
        response_json
    }

    /// Checks out a paid registration and pays it in localstripe. Returns the
    /// PaymentIntent id and the PaymentIntent as localstripe returned it after payment.
    async fn paid_registration(&self) -> (String, Value) {
        let response_json = self.check_out(None).await;
        let payment_intent_id = response_json["payment_intent_id"]
            .as_str()
            .unwrap_or_else(|| panic!("checkout returned no PaymentIntent: {response_json}"))
            .to_owned();
        let confirmed = confirm_with_test_card(&payment_intent_id).await;
        assert_eq!(confirmed["status"], "succeeded", "{confirmed}");
        (payment_intent_id, confirmed)
    }

    /// Delivers `payment_intent.succeeded` for `intent` to the webhook handler, signed now,
    /// and returns the status and JSON body.
    async fn deliver_succeeded(&self, intent: &Value) -> (u16, Value) {
        let event = json!({
            "id": format!("evt_replay_{}", uuid::Uuid::new_v4().simple()),
            "object": "event",
            "created": unix_now(),
            "livemode": false,
            "type": "payment_intent.succeeded",
            "data": {"object": intent},
        })
        .to_string();
        let signature = sign(unix_now(), event.as_bytes(), &webhook_secret());
        let request: Request = http::Request::builder()
            .method("POST")
            .uri("/api/stripe-webhook")
            .header("stripe-signature", signature)
            .body(Body::Text(event))
            .unwrap();
        let response = serve(request, Route::StripeWebhook, &Cors::default(), |request| {
            webhook::handle(&self.webhook, request)
        })
        .await;
        status_and_json(&response)
    }

    /// Queues `faults` (a JSON list) for the sandbox's next GraphQL calls.
    async fn push_faults(&self, faults: Value) {
        let response = self
            .http
            .post(format!("{}/_sandbox/faults", self.sandbox.base_url()))
            .json(&faults)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, 200, "queueing {faults} failed: {body}");
    }

    /// Returns the sandbox's orders whose `sourceIdentifier` is `source_identifier`.
    async fn orders_for(&self, source_identifier: &str) -> Vec<Value> {
        let orders: Value = self
            .http
            .get(format!("{}/_sandbox/orders", self.sandbox.base_url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        orders
            .as_array()
            .unwrap_or_else(|| panic!("/_sandbox/orders returned no list: {orders}"))
            .iter()
            .filter(|order| order["sourceIdentifier"] == source_identifier)
            .cloned()
            .collect()
    }

    async fn recorded_failures(&self) -> Vec<FailureRecord> {
        list_failures(self.failures.as_ref(), 100).await.unwrap()
    }
}

fn webhook_secret() -> WebhookSecret {
    WebhookSecret::new(FAKE_WEBHOOK_SECRET).unwrap()
}

fn unix_now() -> i64 {
    SystemClock.now().unix_timestamp()
}

fn status_and_json(response: &lambda_http::Response<Body>) -> (u16, Value) {
    let status = response.status().as_u16();
    let bytes: &[u8] = match response.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        Body::Empty => b"null",
        other => panic!("unexpected response body {other:?}"),
    };
    let json = serde_json::from_slice(bytes).unwrap_or_else(|error| {
        panic!(
            "status {status} with a body that is not JSON ({error}): {}",
            String::from_utf8_lossy(bytes)
        )
    });
    (status, json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_payment_is_listed_then_replayed_once() {
    let stack = Stack::start().await;
    let (pi, confirmed) = stack.paid_registration().await;
    stack.push_faults(json!([{"kind": "http_503_html"}])).await;

    let (status, body) = stack.deliver_succeeded(&confirmed).await;
    assert_eq!(status, 503, "{body}");
    assert!(stack.orders_for(&pi).await.is_empty());

    let listed = stack.recorded_failures().await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].payment_intent_id, pi);
    assert_eq!(listed[0].attempts, 1);
    assert!(listed[0].reason.contains("503"), "{}", listed[0].reason);
    let table = failures_table(&listed, 100);
    assert!(table.contains(&pi), "{table}");
    assert!(table.contains("503"), "{table}");

    wait_for_lease_end().await;
    let first = replay_payment(&stack.stripe, &stack.orders, &pi)
        .await
        .unwrap();
    let OrderOutcome::Created(order) = &first.outcome else {
        panic!("expected a created order, got {first:?}");
    };
    assert_eq!(first.exit_code(), EXIT_OK);
    assert!(
        first.message().starts_with("created: order #"),
        "{}",
        first.message()
    );
    let in_sandbox = stack.orders_for(&pi).await;
    assert_eq!(in_sandbox.len(), 1, "{in_sandbox:?}");
    assert_eq!(in_sandbox[0]["name"], order.name.as_str());
    assert_eq!(stack.recorded_failures().await, Vec::new());

    let second = replay_payment(&stack.stripe, &stack.orders, &pi)
        .await
        .unwrap();
    assert_eq!(second.outcome, OrderOutcome::AlreadyCreated(order.clone()));
    assert_eq!(second.exit_code(), EXIT_OK);
    assert!(
        second.message().starts_with("already created: order #"),
        "{}",
        second.message()
    );
    assert_eq!(stack.orders_for(&pi).await.len(), 1);
    assert_eq!(stack.recorded_failures().await, Vec::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_order_matches_payment() {
    let stack = Stack::start().await;
    let (pi, confirmed) = stack.paid_registration().await;
    assert_eq!(confirmed["amount"], 27390);

    replay_payment(&stack.stripe, &stack.orders, &pi)
        .await
        .unwrap();

    let orders = stack.orders_for(&pi).await;
    assert_eq!(orders.len(), 1, "{orders:?}");
    let input = &orders[0]["input"];
    assert_eq!(input["test"], true);
    assert_eq!(input["currency"], "USD");
    assert_eq!(input["email"], "avery@example.org");
    let transaction = &input["transactions"][0];
    assert_eq!(transaction["authorizationCode"], pi.as_str());
    assert_eq!(transaction["amountSet"]["shopMoney"]["amount"], "273.90");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unpaid_intent_is_rejected() {
    let stack = Stack::start().await;
    let response_json = stack.check_out(None).await;
    let pi = response_json["payment_intent_id"].as_str().unwrap();

    let error = replay_payment(&stack.stripe, &stack.orders, pi)
        .await
        .unwrap_err();

    assert!(
        matches!(&error, ReplayError::NotSucceeded { status, .. } if status == "requires_payment_method"),
        "{error:?}"
    );
    let message = error_chain(&error);
    assert!(message.contains(pi), "{message}");
    assert!(message.contains("not succeeded"), "{message}");
    assert!(stack.orders_for(pi).await.is_empty());
    assert_eq!(stack.recorded_failures().await, Vec::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_intent_is_not_found() {
    let stack = Stack::start().await;
    let pi = format!("pi_unknown{}", uuid::Uuid::new_v4().simple());

    let error = replay_payment(&stack.stripe, &stack.orders, &pi)
        .await
        .unwrap_err();

    assert!(
        matches!(&error, ReplayError::PaymentIntentNotFound(id) if *id == pi),
        "{error:?}"
    );
    let message = error_chain(&error);
    assert!(message.contains("was not found in Stripe"), "{message}");
    assert_eq!(stack.recorded_failures().await, Vec::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_free_order_is_replayed_once() {
    let stack = Stack::start().await;
    stack.push_faults(json!([{"kind": "http_503_html"}])).await;

    let response_json = stack.check_out(Some(FREE_CODE)).await;
    assert_eq!(response_json["payment_required"], false, "{response_json}");
    let registration_id = response_json["registration_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let source_identifier = format!("free_{registration_id}");
    let listed = stack.recorded_failures().await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].payment_intent_id, source_identifier);
    assert!(stack.orders_for(&source_identifier).await.is_empty());

    wait_for_lease_end().await;
    let first = replay_free(&stack.orders, &source_identifier, false)
        .await
        .unwrap();
    let second = replay_free(&stack.orders, &registration_id, false)
        .await
        .unwrap();

    assert!(
        matches!(first.outcome, OrderOutcome::Created(_)),
        "{first:?}"
    );
    assert!(
        matches!(second.outcome, OrderOutcome::AlreadyCreated(_)),
        "{second:?}"
    );
    let orders = stack.orders_for(&source_identifier).await;
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(orders[0]["input"]["test"], true);
    assert_eq!(stack.recorded_failures().await, Vec::new());
}

/// Waits until a claim with the one-second lease above has expired.
async fn wait_for_lease_end() {
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
}
