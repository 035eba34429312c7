//! Lambda function for `POST /api/create-payment-intent`.

use shared::api::{self, Cors, Route};
use shared::catalog::Catalog;
use shared::clock::{Clock, SystemClock};
use shared::config;
use shared::handlers::create_intent::{handle, CreateIntentDeps};
use shared::setup;
use std::sync::Arc;

// Lambda hands a container one event at a time, so worker threads would only add start-up
// time and memory.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let cors = Cors::from_list(&config::optional("ALLOWED_ORIGINS").unwrap_or_default());
    let aws = setup::aws_config().await;
    let (_, secrets) = setup::secrets(&aws).await?;
    let catalog = Arc::new(Catalog::bundled()?);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let orders = setup::order_deps(&aws, &secrets, catalog.clone(), clock.clone())?;
    let deps = CreateIntentDeps {
        catalog,
        clock,
        gateway: Arc::new(setup::stripe_client(&secrets)?),
        store: orders.registrations.clone(),
        orders,
        metrics: setup::metrics(&aws)?,
        settings: setup::checkout_settings()?,
    };
    api::run(Route::CreatePaymentIntent, cors, |request| {
        handle(&deps, request)
    })
    .await
}
