//! Logs of full requests contain ids, never secrets or personal data.

mod common;

use common::gateway::RecordingGateway;
use common::orders::memory_orders;
use common::{event_with_body, load_event};
use serde_json::json;
use shared::api::{serve, Cors, Route};
use shared::catalog::Catalog;
use shared::clock::{Clock, FixedClock};
use shared::handlers::create_intent::{self, CheckoutSettings, CreateIntentDeps};
use shared::handlers::webhook::{self, WebhookDeps};
use shared::metrics::MemoryMetrics;
use shared::secrets::StaticWebhookSecrets;
use shared::shopify::{ShopifyError, UserError};
use shared::store::RegistrationStore;
use shared::stripe::signature::WebhookSecret;
use std::io::Write;
use std::sync::{Arc, Mutex};

const SIGNED_AT: i64 = 1_796_396_400;
const SECRET: &str = "whsec_test_local_only";

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[tokio::test]
async fn full_runs_log_no_personal_data() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let clock: Arc<dyn Clock> = Arc::new(FixedClock(
        time::OffsetDateTime::from_unix_timestamp(SIGNED_AT).unwrap(),
    ));
    let catalog = Arc::new(Catalog::bundled().unwrap());
    let orders = memory_orders(catalog.clone(), clock.clone());
    let metrics = Arc::new(MemoryMetrics::default());
    let checkout = CreateIntentDeps {
        catalog,
        clock: clock.clone(),
        gateway: Arc::new(RecordingGateway::default()),
        store: orders.registrations.clone(),
        orders: orders.deps.clone(),
        metrics: metrics.clone(),
        settings: CheckoutSettings::default(),
    };
    let cors = Cors::from_list("https://events.example.org");

    // A paid checkout, a free one, and a rejected one.
    let request = load_event("create-payment-intent.json");
    let paid = serve(request, Route::CreatePaymentIntent, &cors, |request| {
        create_intent::handle(&checkout, request)
    })
    .await;
    assert_eq!(paid.status(), 200);
    let free_body = json!({
        "event_id": "harbor-classic-2027", "days": ["2027-06-12"], "quantity": 1,
        "first_name": "Avery", "last_name": "Example", "email": "avery.example@example.org",
        "phone": "(202) 555-0143", "discount_code": "VOLUNTEER", "fields": {"club": "Harbor Rowing Club"}
    });
    let request = event_with_body("create-payment-intent.json", &free_body);
    let free = serve(request, Route::CreatePaymentIntent, &cors, |request| {
        create_intent::handle(&checkout, request)
    })
    .await;
    assert_eq!(free.status(), 200);
    let mut bad = free_body.clone();
    bad["email"] = json!("avery.example@@example.org");
    let request = event_with_body("create-payment-intent.json", &bad);
    let rejected = serve(request, Route::CreatePaymentIntent, &cors, |request| {
        create_intent::handle(&checkout, request)
    })
    .await;
    assert_eq!(rejected.status(), 400);

    // The fixture's webhook, with Shopify rejecting the phone first, then a bad signature.
    let store = &orders.registrations;
    let link = store
        .registration_for_payment_intent("pi_fake_1")
        .await
        .unwrap()
        .unwrap();
    store
        .link_payment_intent(&link.record, "pi_fixture_harbor_1", 3600)
        .await
        .unwrap();
    orders
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
    let webhook_deps = WebhookDeps {
        orders: orders.deps.clone(),
        secrets: Arc::new(StaticWebhookSecrets(vec![
            WebhookSecret::new(SECRET).unwrap()
        ])),
        metrics,
        clock,
        tolerance_seconds: 300,
    };
    let delivered = serve(
        load_event("stripe-webhook-payment-succeeded.json"),
        Route::StripeWebhook,
        &cors,
        |request| webhook::handle(&webhook_deps, request),
    )
    .await;
    assert_eq!(delivered.status(), 200);
    let mut forged = load_event("stripe-webhook-payment-succeeded.json");
    forged
        .headers_mut()
        .insert("stripe-signature", "t=1796396400,v1=00ff".parse().unwrap());
    let forged = serve(forged, Route::StripeWebhook, &cors, |request| {
        webhook::handle(&webhook_deps, request)
    })
    .await;
    assert_eq!(forged.status(), 400);

    let logs = captured.text();
    assert!(
        logs.contains("order created"),
        "the run logged nothing useful:\n{logs}"
    );
    assert!(
        logs.contains("pi_fixture_harbor_1"),
        "ids belong in the logs:\n{logs}"
    );
    let forbidden = [
        "avery.example@example.org",
        "Avery.Example@Example.ORG",
        "+12025550143",
        "555-0143",
        "Avery",
        "Example\"",
        "Harbor Rowing Club",
        SECRET,
        "whsec_",
        "_secret_",
    ];
    for value in forbidden {
        assert!(!logs.contains(value), "the logs contain {value:?}:\n{logs}");
    }
}
