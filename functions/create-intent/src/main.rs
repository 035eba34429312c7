//! Lambda function for `POST /api/create-payment-intent`.

use shared::api::{self, Cors, Route};
use shared::catalog::Catalog;
use shared::clock::SystemClock;
use shared::config;
use shared::handlers::create_intent::{handle, CreateIntentDeps};
use shared::setup;
use shared::store::DynamoRegistrationStore;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let cors = Cors::from_list(&config::optional("ALLOWED_ORIGINS").unwrap_or_default());
    let aws = setup::aws_config().await;
    let deps = CreateIntentDeps {
        catalog: Arc::new(Catalog::bundled()?),
        clock: Arc::new(SystemClock),
        gateway: Arc::new(setup::stripe_client()?),
        store: Arc::new(DynamoRegistrationStore::from_config(
            &aws,
            setup::table_name()?,
        )),
        settings: setup::checkout_settings()?,
    };
    api::run(Route::CreatePaymentIntent, cors, |request| {
        handle(&deps, request)
    })
    .await
}
