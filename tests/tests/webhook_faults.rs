//! `POST /api/stripe-webhook` while Shopify fails in the ways the sandbox can simulate.
//!
//! Each test starts its own Shopify sandbox and moto table, stores a registration as
//! checkout would, queues faults through `POST /_sandbox/faults`, and calls the webhook
//! handler in-process with a `payment_intent.succeeded` event signed at the current time.
//! The Shopify client is real, with timeouts and a time budget shortened so that every
//! test ends within seconds.

use integration_tests::{create_test_table, FAKE_WEBHOOK_SECRET};
use lambda_http::{Body, Request};
use serde_json::{json, Value};
use shared::api::{serve, Cors, Route};
use shared::catalog::Catalog;
use shared::clock::{Clock, SystemClock};
use shared::form::{self, FormLimits, RegistrationRequest};
use shared::handlers::webhook::{handle, WebhookDeps};
use shared::metrics::{Counter, MemoryMetrics};
use shared::orders::ledger::{FailureLog, FailureRecord};
use shared::orders::{DynamoFailureLog, DynamoOrderLedger, OrderDeps, OrderSettings};
use shared::pricing::{quote, Basket};
use shared::secrets::StaticWebhookSecrets;
use shared::shopify::{
    OrderGateway, ShopifyClient, ShopifyConfig, ShopifyCredentials, ShopifySecret,
};
use shared::store::{DynamoRegistrationStore, Payment, RegistrationStore, StoredRegistration};
use shared::stripe::signature::{sign, WebhookSecret};
use shopify_sandbox::Sandbox;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// Expiry of the ledger, failure and registration records, in seconds.
const TTL_SECONDS: i64 = 3600;
/// Maximum distance between a signature's timestamp and now, the webhook function's default.
const SIGNATURE_TOLERANCE_SECONDS: i64 = 300;

/// Timeout of one Shopify request in most tests.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
/// Time budget of one Shopify call in most tests. It leaves room for one wait of 2 s plus
/// a full request.
const RETRY_BUDGET: Duration = Duration::from_secs(8);
/// Time the handler may spend on moto and the token request beyond the Shopify budget.
const SLACK: Duration = Duration::from_secs(1);

const EVENT_ID: &str = "harbor-classic-2027";
const FIRST_NAME: &str = "Avery";
const LAST_NAME: &str = "Example";
const EMAIL: &str = "Avery.Example@Example.ORG";
/// The phone number as the buyer typed it. Its E.164 form is `+12025550143`.
const RAW_PHONE: &str = "(202) 555-0143";
const CLUB: &str = "Harbor Rowing Club";

/// GraphQL operation names of the client's documents, as the sandbox counts them.
const ORDER_CREATE: &str = "OrderCreate";
const ORDERS_BY_SOURCE: &str = "OrdersBySourceIdentifier";

/// The webhook handler wired to a fresh sandbox and moto table.
struct Stack {
    sandbox: Sandbox,
    client: Arc<ShopifyClient>,
    deps: WebhookDeps,
    metrics: Arc<MemoryMetrics>,
    failures: Arc<DynamoFailureLog>,
    registrations: Arc<DynamoRegistrationStore>,
    catalog: Arc<Catalog>,
    http: reqwest::Client,
}

/// A registration stored at checkout and the signed event body that reports its payment.
struct Paid {
    payment_intent_id: String,
    record: StoredRegistration,
    /// The event as Stripe would send it. Redeliveries send the same body, signed again.
    event: String,
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
    /// Starts a stack with the sandbox defaults and the short client timeouts.
    async fn start() -> Stack {
        Stack::start_with(|_| {}, |_| {}).await
    }

    /// Starts a stack after `sandbox_options` changed the sandbox settings and
    /// `client_options` the Shopify client settings.
    async fn start_with(
        sandbox_options: impl FnOnce(&mut shopify_sandbox::Config),
        client_options: impl FnOnce(&mut ShopifyConfig),
    ) -> Stack {
        let mut sandbox_config = shopify_sandbox::Config::new(schema_path().await);
        sandbox_options(&mut sandbox_config);
        let sandbox = shopify_sandbox::start(sandbox_config).await.unwrap();

        let mut client_config = ShopifyConfig {
            connect_timeout: Duration::from_secs(1),
            request_timeout: REQUEST_TIMEOUT,
            retry_budget: RETRY_BUDGET,
            retry_backoff: Duration::from_millis(200),
            ..ShopifyConfig::new(sandbox.base_url())
        };
        client_options(&mut client_config);
        let client = Arc::new(
            ShopifyClient::new(
                client_config,
                ShopifyCredentials::ClientCredentials {
                    client_id: shopify_sandbox::DEFAULT_CLIENT_ID.to_owned(),
                    client_secret: ShopifySecret::new(shopify_sandbox::DEFAULT_CLIENT_SECRET),
                },
            )
            .unwrap(),
        );

        let table = create_test_table("webhook-faults").await;
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
            shopify: client.clone(),
            // A short lease, so a redelivery can take over a claim left by a timeout or a
            // 5xx (whose outcome is unknown) within the test's run time.
            settings: OrderSettings {
                lease_seconds: LEASE_SECONDS,
                ..OrderSettings::default()
            },
        };
        let metrics = Arc::new(MemoryMetrics::default());
        let deps = WebhookDeps {
            orders,
            secrets: Arc::new(StaticWebhookSecrets(vec![webhook_secret()])),
            metrics: metrics.clone(),
            clock,
            tolerance_seconds: SIGNATURE_TOLERANCE_SECONDS,
        };
        Stack {
            sandbox,
            client,
            deps,
            metrics,
            failures,
            registrations,
            catalog,
            http: reqwest::Client::new(),
        }
    }

    /// Stores a registration for the whole Harbor Classic, with `discount_code` when given,
    /// as checkout would, linked to a new PaymentIntent id.
    async fn store_registration(&self, discount_code: Option<&str>) -> Paid {
        let request: RegistrationRequest = serde_json::from_value(json!({
            "registration_id": uuid::Uuid::new_v4().to_string(),
            "event_id": EVENT_ID,
            "days": ["2027-06-12", "2027-06-13"],
            "quantity": 1,
            "first_name": FIRST_NAME,
            "last_name": LAST_NAME,
            "email": EMAIL,
            "phone": RAW_PHONE,
            "discount_code": discount_code,
            "fields": {"club": CLUB},
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
        let discount = registration.discount_code.as_deref().map(|code| {
            self.catalog
                .discount(code)
                .unwrap_or_else(|| panic!("discount code {code} is not in the bundled catalog"))
        });
        let quote = quote(&basket, discount).unwrap();
        let record = StoredRegistration {
            fingerprint: quote.fingerprint(),
            registration,
            quote,
            payment: Payment::Stripe,
            payment_intent_id: None,
            created_at: unix_now() - 60,
        };

        let payment_intent_id = format!("pi_faults_{}", uuid::Uuid::new_v4().simple());
        self.registrations
            .begin_checkout(&record, TTL_SECONDS)
            .await
            .unwrap();
        self.registrations
            .link_payment_intent(&record, &payment_intent_id, TTL_SECONDS)
            .await
            .unwrap();
        let event = succeeded_event(&payment_intent_id, &record);
        Paid {
            payment_intent_id,
            record,
            event,
        }
    }

    /// Delivers the payment's event once and returns the status and JSON body.
    async fn deliver(&self, paid: &Paid) -> (u16, Value) {
        deliver(&self.deps, &paid.event).await
    }

    /// Queues `faults` (a JSON list) for the next GraphQL calls.
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

    /// Drops every queued fault.
    async fn clear_faults(&self) {
        let response = self
            .http
            .delete(format!("{}/_sandbox/faults", self.sandbox.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204, "clearing the faults failed");
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

    /// Returns the single order for `source_identifier`.
    async fn only_order_for(&self, source_identifier: &str) -> Value {
        let mut orders = self.orders_for(source_identifier).await;
        assert_eq!(
            orders.len(),
            1,
            "orders for {source_identifier}: {orders:?}"
        );
        orders.remove(0)
    }

    /// Returns how many GraphQL calls of `operation` the sandbox received.
    async fn calls(&self, operation: &str) -> u64 {
        let calls: Value = self
            .http
            .get(format!("{}/_sandbox/calls", self.sandbox.base_url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        calls["byOperation"][operation].as_u64().unwrap_or(0)
    }

    /// Returns every recorded failure in this test's table.
    async fn recorded_failures(&self) -> Vec<FailureRecord> {
        self.failures.list(100).await.unwrap()
    }
}

fn webhook_secret() -> WebhookSecret {
    WebhookSecret::new(FAKE_WEBHOOK_SECRET).unwrap()
}

fn unix_now() -> i64 {
    SystemClock.now().unix_timestamp()
}

/// Builds the body of a test-mode `payment_intent.succeeded` event for `record`, with the
/// fields Stripe sends and the metadata checkout writes.
fn succeeded_event(payment_intent_id: &str, record: &StoredRegistration) -> String {
    let quote = &record.quote;
    let event = json!({
        "id": format!("evt_faults_{}", uuid::Uuid::new_v4().simple()),
        "object": "event",
        "api_version": "2026-09-30.endive",
        "created": unix_now(),
        "livemode": false,
        "pending_webhooks": 1,
        "type": "payment_intent.succeeded",
        "request": {"id": null, "idempotency_key": null},
        "data": {
            "object": {
                "id": payment_intent_id,
                "object": "payment_intent",
                "amount": quote.total,
                "amount_received": quote.total,
                "currency": "usd",
                "status": "succeeded",
                "livemode": false,
                "latest_charge": format!("ch_faults_{}", uuid::Uuid::new_v4().simple()),
                "payment_method_types": ["card"],
                "metadata": {
                    "registration_id": record.registration.registration_id.to_string(),
                    "event_id": EVENT_ID,
                    "total": quote.total.to_string(),
                },
            },
        },
    });
    serde_json::to_string_pretty(&event).unwrap()
}

/// Sends `event` to the handler as API Gateway would, signed now with the test secret.
/// Lease of the order claims in these tests, in seconds.
const LEASE_SECONDS: i64 = 1;

/// Waits until a claim taken now has expired: leases end at whole seconds and a claim is
/// free only once the lease end is in the past.
async fn wait_for_lease_end() {
    tokio::time::sleep(Duration::from_secs(LEASE_SECONDS as u64 + 1)).await;
}

async fn deliver(deps: &WebhookDeps, event: &str) -> (u16, Value) {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events/stripe-webhook-payment-succeeded.json");
    let text = std::fs::read_to_string(&fixture).unwrap();
    let mut request: Request = lambda_http::request::from_str(&text).unwrap();
    *request.body_mut() = Body::Text(event.to_owned());
    let signature = sign(unix_now(), event.as_bytes(), &webhook_secret());
    request
        .headers_mut()
        .insert("stripe-signature", signature.parse().unwrap());

    let response = serve(request, Route::StripeWebhook, &Cors::default(), |request| {
        handle(deps, request)
    })
    .await;
    let status = response.status().as_u16();
    let bytes: &[u8] = match response.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        Body::Empty => b"null",
        other => panic!("unexpected response body {other:?}"),
    };
    let body = serde_json::from_slice(bytes).unwrap_or_else(|error| {
        panic!(
            "the webhook returned {status} with a body that is not JSON ({error}): {}",
            String::from_utf8_lossy(bytes)
        )
    });
    (status, body)
}

/// Converts a decimal amount in dollars, such as `"224.1"` or `"22.41"`, to cents.
fn cents(amount: &Value) -> i64 {
    let text = amount
        .as_str()
        .unwrap_or_else(|| panic!("amount {amount} is not a string"));
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    assert!(
        fraction.len() <= 2,
        "amount {text} has more than 2 decimals"
    );
    let fraction = format!("{fraction:0<2}");
    whole.parse::<i64>().unwrap() * 100 + fraction.parse::<i64>().unwrap()
}

/// Returns the value of the custom attribute `key` of an order input.
fn attribute<'a>(input: &'a Value, key: &str) -> Option<&'a str> {
    input["customAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|attribute| attribute["key"] == key)
        .and_then(|attribute| attribute["value"].as_str())
}

/// Asserts that a failure reason repeats none of the buyer's details.
fn assert_no_personal_data(reason: &str) {
    let lower = reason.to_lowercase();
    for detail in ["avery", "example", "555", "0143", "harbor rowing"] {
        assert!(
            !lower.contains(detail),
            "the failure reason contains {detail:?}: {reason}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shopify_503_is_recorded_then_recovered() {
    let stack = Stack::start().await;
    let paid = stack.store_registration(None).await;
    let pi = paid.payment_intent_id.as_str();
    stack.push_faults(json!([{"kind": "http_503_html"}])).await;

    let (status, body) = stack.deliver(&paid).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "order_not_created");
    assert_eq!(
        stack.calls(ORDER_CREATE).await,
        1,
        "orderCreate is not repeated after a 5xx"
    );
    assert!(stack.orders_for(pi).await.is_empty());
    let failures = stack.recorded_failures().await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].payment_intent_id, pi);
    assert!(failures[0].reason.contains("503"), "{}", failures[0].reason);
    assert_no_personal_data(&failures[0].reason);
    assert_eq!(stack.metrics.total(Counter::OrdersFailed), 1);

    let (status, _) = stack.deliver(&paid).await;
    assert_eq!(
        status, 409,
        "the claim holds while Shopify may still create the order"
    );
    wait_for_lease_end().await;
    let (status, body) = stack.deliver(&paid).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], "order_created");
    assert_eq!(
        stack.calls(ORDERS_BY_SOURCE).await,
        1,
        "the takeover looks first"
    );
    assert_eq!(stack.calls(ORDER_CREATE).await, 2);
    let order = stack.only_order_for(pi).await;
    assert_eq!(body["order"], order["name"]);
    assert_eq!(stack.recorded_failures().await, Vec::new());
    assert_eq!(stack.metrics.total(Counter::OrdersCreated), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_shopify_times_out_within_budget() {
    let request_timeout = Duration::from_secs(1);
    let budget = Duration::from_secs(3);
    let delay = Duration::from_secs(2);
    let stack = Stack::start_with(
        |_| {},
        |config| {
            config.request_timeout = request_timeout;
            config.retry_budget = budget;
        },
    )
    .await;
    let paid = stack.store_registration(None).await;
    let pi = paid.payment_intent_id.as_str();
    let millis = u64::try_from(delay.as_millis()).unwrap();
    stack
        .push_faults(json!([{"kind": "delay", "millis": millis}]))
        .await;

    let started = Instant::now();
    let (status, body) = stack.deliver(&paid).await;
    let elapsed = started.elapsed();
    assert_eq!(status, 503, "{body}");
    assert!(elapsed >= request_timeout, "returned after {elapsed:?}");
    assert!(elapsed < budget + SLACK, "returned after {elapsed:?}");
    assert_eq!(
        stack.calls(ORDER_CREATE).await,
        1,
        "orderCreate is not repeated after a timeout"
    );
    let failures = stack.recorded_failures().await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].reason.contains("timed out"),
        "{}",
        failures[0].reason
    );
    assert_no_personal_data(&failures[0].reason);

    // Stripe redelivers minutes later, after the delayed request has ended in the sandbox.
    // NOTE: the sandbox drops a delayed call when the client disconnects, so no order
    // exists yet here and the takeover's lookup finds none. Shopify may instead finish the
    // call, and crash_after_create_is_recovered covers a lookup that finds the order.
    tokio::time::sleep((delay + Duration::from_millis(500)).saturating_sub(started.elapsed()))
        .await;
    let (status, body) = stack.deliver(&paid).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], "order_created");
    let order = stack.only_order_for(pi).await;
    assert_eq!(body["order"], order["name"]);
    assert_eq!(stack.recorded_failures().await, Vec::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_429_waits_for_retry_after() {
    let stack = Stack::start().await;
    let paid = stack.store_registration(None).await;
    stack
        .push_faults(json!([{"kind": "http_429", "retry_after": "2.0"}]))
        .await;

    let started = Instant::now();
    let (status, body) = stack.deliver(&paid).await;
    let elapsed = started.elapsed();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], "order_created");
    assert!(
        elapsed >= Duration::from_secs(2),
        "returned after {elapsed:?}"
    );
    assert!(elapsed < RETRY_BUDGET + SLACK, "returned after {elapsed:?}");
    stack.only_order_for(&paid.payment_intent_id).await;
    assert_eq!(stack.calls(ORDER_CREATE).await, 2);
    assert_eq!(stack.metrics.total(Counter::ShopifyRetries), 1);
    assert_eq!(stack.metrics.total(Counter::ShopifyThrottles), 1);
    assert_eq!(stack.metrics.total(Counter::OrdersFailed), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_throttled_is_retried() {
    let stack = Stack::start().await;
    let paid = stack.store_registration(None).await;
    stack.push_faults(json!([{"kind": "throttled"}])).await;

    let (status, body) = stack.deliver(&paid).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], "order_created");
    stack.only_order_for(&paid.payment_intent_id).await;
    assert_eq!(stack.calls(ORDER_CREATE).await, 2);
    assert_eq!(stack.metrics.total(Counter::ShopifyThrottles), 1);
    assert_eq!(stack.metrics.total(Counter::ShopifyRetries), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_429_fails_within_budget() {
    let budget = Duration::from_secs(3);
    let stack = Stack::start_with(
        |_| {},
        |config| {
            config.request_timeout = Duration::from_secs(1);
            config.retry_budget = budget;
        },
    )
    .await;
    let paid = stack.store_registration(None).await;
    let pi = paid.payment_intent_id.as_str();
    stack
        .push_faults(json!([{"kind": "http_429", "count": 50}]))
        .await;

    let started = Instant::now();
    let (status, body) = stack.deliver(&paid).await;
    let elapsed = started.elapsed();
    assert_eq!(status, 503, "{body}");
    assert!(elapsed < budget + SLACK, "returned after {elapsed:?}");
    let attempts = stack.calls(ORDER_CREATE).await;
    assert!(
        attempts >= 2,
        "orderCreate is repeated after 429, made {attempts} attempts"
    );
    assert!(stack.metrics.total(Counter::ShopifyThrottles) >= 2);
    assert_eq!(stack.metrics.total(Counter::OrdersFailed), 1);
    let failures = stack.recorded_failures().await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].payment_intent_id, pi);
    assert!(
        failures[0].reason.to_lowercase().contains("throttled"),
        "{}",
        failures[0].reason
    );

    stack.clear_faults().await;
    let (status, body) = stack.deliver(&paid).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], "order_created");
    stack.only_order_for(pi).await;
    assert_eq!(stack.recorded_failures().await, Vec::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_version_drift_is_reported() {
    let stack = Stack::start_with(
        |config| config.served_version = Some("2027-01".to_owned()),
        |_| {},
    )
    .await;
    let paid = stack.store_registration(None).await;

    let (status, body) = stack.deliver(&paid).await;
    assert_eq!(status, 200, "{body}");
    stack.only_order_for(&paid.payment_intent_id).await;
    assert_eq!(stack.client.requested_api_version(), "2026-10");
    assert_eq!(
        stack.client.served_api_version().as_deref(),
        Some("2027-01")
    );
    assert_eq!(
        OrderGateway::api_version_drift(stack.client.as_ref()),
        Some(("2026-10".to_owned(), "2027-01".to_owned()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discounted_order_taxes_at_order_level() {
    let stack = Stack::start().await;
    let paid = stack.store_registration(Some("early10")).await;
    // 249.00 less 10 % is 224.10, and 10 % tax on that is 22.41.
    assert_eq!(paid.record.quote.total, 24_651);

    let (status, body) = stack.deliver(&paid).await;
    assert_eq!(status, 200, "{body}");
    let order = stack.only_order_for(&paid.payment_intent_id).await;
    let input = &order["input"];

    let lines = input["lineItems"].as_array().unwrap();
    assert!(!lines.is_empty());
    for line in lines {
        assert!(
            line.get("taxLines").is_none(),
            "line item with taxes: {line}"
        );
    }
    let line_total: i64 = lines
        .iter()
        .map(|line| {
            cents(&line["priceSet"]["shopMoney"]["amount"]) * line["quantity"].as_i64().unwrap()
        })
        .sum();

    let discount = &input["discountCode"]["itemFixedDiscountCode"];
    assert_eq!(discount["code"], "EARLY10");
    let discount_amount = cents(&discount["amountSet"]["shopMoney"]["amount"]);
    assert_eq!(discount_amount, 2_490);

    let taxes = input["taxLines"].as_array().unwrap();
    assert!(!taxes.is_empty(), "no order-level tax lines: {input}");
    let tax_total: i64 = taxes
        .iter()
        .map(|tax| cents(&tax["priceSet"]["shopMoney"]["amount"]))
        .sum();

    let transactions = input["transactions"].as_array().unwrap();
    assert_eq!(transactions.len(), 1);
    let received = cents(&transactions[0]["amountSet"]["shopMoney"]["amount"]);
    assert_eq!(received, paid.record.quote.total);
    assert_eq!(tax_total, received - (line_total - discount_amount));

    let totals = &order["totals"];
    assert_eq!(cents(&totals["total"]["shopMoney"]["amount"]), received);
    assert_eq!(cents(&totals["tax"]["shopMoney"]["amount"]), tax_total);
    assert_eq!(
        cents(&totals["discounts"]["shopMoney"]["amount"]),
        discount_amount
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_phone_keeps_raw_attribute() {
    let stack = Stack::start().await;
    let paid = stack.store_registration(None).await;
    stack
        .push_faults(json!([{"kind": "phone_user_error"}]))
        .await;

    let (status, body) = stack.deliver(&paid).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], "order_created");
    assert_eq!(stack.calls(ORDER_CREATE).await, 2);
    let order = stack.only_order_for(&paid.payment_intent_id).await;
    let input = &order["input"];
    assert!(input.get("phone").is_none(), "{input}");
    let customer = &input["customer"]["toUpsert"];
    assert!(customer.get("phone").is_none(), "{customer}");
    assert_eq!(customer["email"], "avery.example@example.org");
    assert_eq!(attribute(input, "phone (as entered)"), Some(RAW_PHONE));
    assert_eq!(stack.metrics.total(Counter::OrdersFailed), 0);
    assert_eq!(stack.recorded_failures().await, Vec::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_after_create_is_recovered() {
    let stack = Stack::start().await;
    let paid = stack.store_registration(None).await;
    let pi = paid.payment_intent_id.as_str();
    stack
        .push_faults(json!([{"kind": "crash_after_create"}]))
        .await;

    let (status, body) = stack.deliver(&paid).await;
    assert_eq!(status, 503, "{body}");
    let order = stack.only_order_for(pi).await;
    let failures = stack.recorded_failures().await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].reason.contains("did not answer"),
        "expected a transport failure: {}",
        failures[0].reason
    );

    wait_for_lease_end().await;
    let (status, body) = stack.deliver(&paid).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], "order_created");
    assert_eq!(body["order"], order["name"]);
    assert_eq!(stack.calls(ORDERS_BY_SOURCE).await, 1);
    assert_eq!(stack.calls(ORDER_CREATE).await, 1);
    stack.only_order_for(pi).await;
    assert_eq!(stack.recorded_failures().await, Vec::new());
}

// NOTE: this test failed in 8 of 25 runs of this file on moto 5.2.5, four times with
// two or more Shopify orders and four times with a 503 `storage_unavailable`. moto's
// `update_item` reads the item, checks the condition, writes the bare key and then applies
// the update expression, with no lock. Two claims can then both proceed, or one can read
// an item without `status`. Run it with `--ignored` against an emulator that serialises
// writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "moto 5.2.5 does not apply conditional updates atomically"]
async fn concurrent_deliveries_make_one_order() {
    let stack = Stack::start().await;
    let paid = stack.store_registration(None).await;

    let mut deliveries = JoinSet::new();
    for _ in 0..5 {
        let deps = stack.deps.clone();
        let event = paid.event.clone();
        deliveries.spawn(async move { deliver(&deps, &event).await });
    }
    let mut responses = Vec::new();
    while let Some(joined) = deliveries.join_next().await {
        responses.push(joined.unwrap());
    }

    let orders = stack.orders_for(&paid.payment_intent_id).await;
    assert_eq!(orders.len(), 1, "responses: {responses:?}");
    for (status, body) in &responses {
        assert!(*status == 200 || *status == 409, "{status}: {body}");
    }
    let created = responses
        .iter()
        .filter(|(_, body)| body["result"] == "order_created")
        .count();
    assert_eq!(created, 1, "{responses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_redelivery_is_duplicate() {
    let stack = Stack::start().await;
    let paid = stack.store_registration(None).await;

    let (status, first) = stack.deliver(&paid).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["result"], "order_created");
    let (status, second) = stack.deliver(&paid).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["result"], "duplicate");
    assert_eq!(second["order"], first["order"]);
    stack.only_order_for(&paid.payment_intent_id).await;
    assert_eq!(stack.calls(ORDER_CREATE).await, 1);
    assert_eq!(stack.metrics.total(Counter::DuplicatesSkipped), 1);
}

// NOTE: the sandbox does not expose how many tokens it issued, so this test reads the
// client's own count of token requests per call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_lived_token_is_renewed() {
    let stack = Stack::start_with(
        |config| config.token_lifetime = Duration::from_secs(3),
        |config| config.token_renewal_margin = Duration::from_secs(1),
    )
    .await;
    let first = stack.store_registration(None).await;
    let second = stack.store_registration(None).await;

    let (status, body) = stack.deliver(&first).await;
    assert_eq!(status, 200, "{body}");
    let stats = stack.client.last_call_stats();
    assert_eq!(stats.token_requests, 1, "{stats:?}");

    // The client renews 1 s before the 3 s lifetime ends, that is 2 s after the request.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let (status, body) = stack.deliver(&second).await;
    assert_eq!(status, 200, "{body}");
    let stats = stack.client.last_call_stats();
    assert_eq!(stats.token_requests, 1, "{stats:?}");
    assert_eq!(
        stats.retries, 0,
        "renewed before expiry, not after a 401: {stats:?}"
    );

    stack.only_order_for(&first.payment_intent_id).await;
    stack.only_order_for(&second.payment_intent_id).await;
}
