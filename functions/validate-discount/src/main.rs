//! Lambda function for `POST /api/validate-discount`.

use shared::api::{self, Cors, Route};
use shared::catalog::Catalog;
use shared::clock::SystemClock;
use shared::config;
use shared::handlers::validate_discount::{handle, ValidateDiscountDeps};
use shared::setup;
use std::sync::Arc;

// Lambda hands a container one event at a time, so worker threads would only add start-up
// time and memory.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let cors = Cors::from_list(&config::optional("ALLOWED_ORIGINS").unwrap_or_default());
    let aws = setup::aws_config().await;
    let deps = ValidateDiscountDeps {
        catalog: Arc::new(Catalog::bundled()?),
        clock: Arc::new(SystemClock),
        metrics: setup::metrics(&aws)?,
    };
    api::run(Route::ValidateDiscount, cors, |request| {
        handle(&deps, request)
    })
    .await
}
