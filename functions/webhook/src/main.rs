//! Lambda function for `POST /api/stripe-webhook`.

use shared::api::{self, Cors, Route};
use shared::catalog::Catalog;
use shared::clock::{Clock, SystemClock};
use shared::config;
use shared::handlers::webhook::{handle, WebhookDeps};
use shared::secrets::WebhookSecretsFrom;
use shared::setup;
use std::sync::Arc;

// Lambda hands a container one event at a time, so worker threads would only add start-up
// time and memory.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let aws = setup::aws_config().await;
    let (store, secrets) = setup::secrets(&aws).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let catalog = Arc::new(Catalog::bundled()?);
    let deps = WebhookDeps {
        orders: setup::order_deps(&aws, &secrets, catalog, clock.clone())?,
        secrets: Arc::new(WebhookSecretsFrom(store)),
        metrics: setup::metrics(&aws)?,
        clock,
        tolerance_seconds: config::parse_or("WEBHOOK_TOLERANCE_SECONDS", 300)?,
    };
    api::run(Route::StripeWebhook, Cors::default(), |request| {
        handle(&deps, request)
    })
    .await
}
