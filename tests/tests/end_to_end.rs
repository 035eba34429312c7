//! A registration from the website's first call to the Shopify order, with every part real
//! or a local stand-in: the routes served over HTTP by the dev server, Stripe by localstripe
//! (which confirms the payment and delivers the signed webhook), DynamoDB by moto, and
//! Shopify by the schema-checked sandbox.

use dev_server::{DevServer, Routes};
use integration_tests::{
    confirm_with_test_card, create_test_table, dynamodb_client, localstripe_url,
    register_localstripe_webhook, FAKE_STRIPE_SECRET_KEY, FAKE_WEBHOOK_SECRET,
};
use serde_json::{json, Value};
use shared::api::Cors;
use shared::catalog::Catalog;
use shared::clock::{Clock, SystemClock};
use shared::handlers::create_intent::{CheckoutSettings, CreateIntentDeps};
use shared::handlers::health::HealthInfo;
use shared::handlers::validate_discount::ValidateDiscountDeps;
use shared::handlers::webhook::WebhookDeps;
use shared::metrics::MemoryMetrics;
use shared::orders::{DynamoFailureLog, DynamoOrderLedger, OrderDeps, OrderSettings};
use shared::secrets::StaticWebhookSecrets;
use shared::shopify::{ShopifyClient, ShopifyConfig, ShopifyCredentials, ShopifySecret};
use shared::store::DynamoRegistrationStore;
use shared::stripe::signature::WebhookSecret;
use shared::stripe::{StripeClient, StripeConfig, StripeSecretKey};
use shopify_sandbox::Sandbox;
use std::sync::Arc;
use std::time::Duration;

const ORIGIN: &str = "https://events.example.org";

struct Stack {
    server: DevServer,
    sandbox: Sandbox,
    metrics: Arc<MemoryMetrics>,
    http: reqwest::Client,
}

async fn start_stack() -> Stack {
    let schema = tokio::task::spawn_blocking(|| shopify_sandbox::ensure_schema("2026-10"))
        .await
        .unwrap()
        .unwrap_or_else(|error| panic!("the Shopify schema is needed for the sandbox: {error:#}"));
    let sandbox = shopify_sandbox::start(shopify_sandbox::Config::new(schema))
        .await
        .unwrap();

    let table = create_test_table("end-to-end").await;
    let client = dynamodb_client();
    let catalog = Arc::new(Catalog::bundled().unwrap());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let registrations = Arc::new(DynamoRegistrationStore::new(client.clone(), &table.name));
    let shopify = ShopifyClient::new(
        ShopifyConfig::new(sandbox.base_url()),
        ShopifyCredentials::ClientCredentials {
            client_id: shopify_sandbox::DEFAULT_CLIENT_ID.to_owned(),
            client_secret: ShopifySecret::new(shopify_sandbox::DEFAULT_CLIENT_SECRET),
        },
    )
    .unwrap();
    let orders = OrderDeps {
        catalog: catalog.clone(),
        clock: clock.clone(),
        registrations: registrations.clone(),
        ledger: Arc::new(DynamoOrderLedger::new(client.clone(), &table.name, 3600)),
        failures: Arc::new(DynamoFailureLog::new(client, &table.name, 3600)),
        shopify: Arc::new(shopify),
        settings: OrderSettings::default(),
    };
    let stripe = StripeClient::new(
        StripeSecretKey::new(FAKE_STRIPE_SECRET_KEY),
        StripeConfig {
            base_url: localstripe_url(),
            ..StripeConfig::default()
        },
    )
    .unwrap();
    let metrics = Arc::new(MemoryMetrics::default());
    let routes = Routes {
        cors: Cors::from_list(ORIGIN),
        validate_discount: ValidateDiscountDeps {
            catalog: catalog.clone(),
            clock: clock.clone(),
            metrics: metrics.clone(),
        },
        create_intent: CreateIntentDeps {
            catalog,
            clock: clock.clone(),
            gateway: Arc::new(stripe),
            store: registrations,
            orders: orders.clone(),
            metrics: metrics.clone(),
            settings: CheckoutSettings::default(),
        },
        webhook: WebhookDeps {
            orders,
            secrets: Arc::new(StaticWebhookSecrets(vec![WebhookSecret::new(
                FAKE_WEBHOOK_SECRET,
            )
            .unwrap()])),
            metrics: metrics.clone(),
            clock,
            tolerance_seconds: 300,
        },
        health: HealthInfo {
            function_name: "end-to-end".to_owned(),
            version: "test",
        },
        system_health: None,
    };
    let server = dev_server::start("127.0.0.1:0".parse().unwrap(), Arc::new(routes))
        .await
        .unwrap();
    let webhook_url = format!("{}/api/stripe-webhook", server.base_url());
    register_localstripe_webhook(&webhook_url, FAKE_WEBHOOK_SECRET).await;
    Stack {
        server,
        sandbox,
        metrics,
        http: reqwest::Client::new(),
    }
}

impl Stack {
    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.server.base_url()))
            .header("origin", ORIGIN)
            .header("content-type", "text/plain;charset=UTF-8")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// Orders in the sandbox created for `source_identifier`.
    async fn orders_for(&self, source_identifier: &str) -> Vec<Value> {
        let all: Value = self
            .http
            .get(format!("{}/_sandbox/orders", self.sandbox.base_url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let list = all.get("orders").unwrap_or(&all);
        list.as_array()
            .unwrap()
            .iter()
            .filter(|order| order.to_string().contains(source_identifier))
            .cloned()
            .collect()
    }

    /// Waits until the sandbox has an order for `source_identifier`, for at most 20 s.
    async fn wait_for_order(&self, source_identifier: &str) -> Value {
        for _ in 0..80 {
            let orders = self.orders_for(source_identifier).await;
            if let Some(order) = orders.into_iter().next() {
                return order;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!(
            "no order for {source_identifier} after 20 s; see target/peers/ and the test output"
        );
    }
}

fn registration() -> Value {
    json!({
        "event_id": "harbor-classic-2027",
        "days": ["2027-06-12", "2027-06-13"],
        "quantity": 1,
        "first_name": "Avery",
        "last_name": "Example",
        "email": " Avery.Example@Example.ORG ",
        "phone": "(202) 555-0143",
        "fields": {"club": "Harbor Rowing Club", "t_shirt_size": "M", "dietary_needs": ["vegetarian", "no nuts"]}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paid_registration_becomes_one_shopify_order() {
    let stack = start_stack().await;

    let (status, quote) = stack
        .post(
            "/api/validate-discount",
            &json!({"event_id": "harbor-classic-2027", "days": ["2027-06-12", "2027-06-13"], "quantity": 1, "code": "nope"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(quote["quote"]["total"], 27390);

    let (status, intent) = stack
        .post("/api/create-payment-intent", &registration())
        .await;
    assert_eq!(status, 200, "{intent}");
    let pi = intent["payment_intent_id"].as_str().unwrap().to_owned();
    assert_eq!(intent["quote"]["total"], 27390);

    let confirmed = confirm_with_test_card(&pi).await;
    assert_eq!(confirmed["status"], "succeeded");

    let order = stack.wait_for_order(&pi).await;
    assert_eq!(order["sourceIdentifier"], pi.as_str());
    assert_eq!(order["displayFinancialStatus"], "PAID");
    assert!(order["name"].as_str().unwrap().starts_with('#'));
    assert!(order["customerId"]
        .as_str()
        .unwrap()
        .starts_with("gid://shopify/Customer/"));
    assert_eq!(order["options"]["sendReceipt"], true);

    let input = &order["input"];
    assert_eq!(input["currency"], "USD");
    assert_eq!(input["test"], true);
    assert_eq!(input["financialStatus"], "PAID");
    assert_eq!(input["taxesIncluded"], false);
    assert_eq!(input["email"], "avery.example@example.org");
    assert_eq!(input["phone"], "+12025550143");
    assert_eq!(
        input["tags"],
        json!(["harbor-classic-2027", "registration", "test"])
    );

    let lines = input["lineItems"].as_array().unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["title"], "Harbor Classic 2027: full event");
    assert_eq!(lines[0]["quantity"], 1);
    assert_eq!(lines[0]["priceSet"]["shopMoney"]["amount"], "249.00");
    assert_eq!(lines[0]["requiresShipping"], false);
    assert!(lines[0].get("taxLines").is_none());

    let taxes = input["taxLines"].as_array().unwrap();
    assert_eq!(taxes.len(), 1);
    assert_eq!(taxes[0]["rate"], "0.1");
    assert_eq!(taxes[0]["priceSet"]["shopMoney"]["amount"], "24.90");

    let transactions = input["transactions"].as_array().unwrap();
    assert_eq!(transactions.len(), 1);
    assert_eq!(transactions[0]["kind"], "SALE");
    assert_eq!(transactions[0]["status"], "SUCCESS");
    assert_eq!(transactions[0]["gateway"], "stripe");
    assert_eq!(transactions[0]["authorizationCode"], pi.as_str());
    assert_eq!(
        transactions[0]["amountSet"]["shopMoney"]["amount"],
        "273.90"
    );

    let customer = &input["customer"]["toUpsert"];
    assert_eq!(customer["email"], "avery.example@example.org");
    assert_eq!(customer["firstName"], "Avery");
    assert_eq!(customer["lastName"], "Example");
    assert_eq!(customer["phone"], "+12025550143");

    let attribute = |key: &str| {
        input["customAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|attribute| attribute["key"] == key)
            .map(|attribute| attribute["value"].clone())
    };
    assert_eq!(attribute("club"), Some(json!("Harbor Rowing Club")));
    assert_eq!(attribute("t_shirt_size"), Some(json!("M")));
    assert_eq!(
        attribute("dietary_needs"),
        Some(json!("vegetarian, no nuts"))
    );
    assert_eq!(
        attribute("registration_id"),
        Some(intent["registration_id"].clone())
    );
    assert_eq!(attribute("payment_intent_id"), Some(json!(pi)));
    assert_eq!(attribute("days"), Some(json!("2027-06-12, 2027-06-13")));

    // localstripe may deliver more than once; give it time, then count again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(stack.orders_for(&pi).await.len(), 1);
    assert_eq!(
        stack.metrics.total(shared::metrics::Counter::OrdersCreated),
        1
    );
}
