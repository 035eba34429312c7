//! Lambda function for `GET /api/health` (liveness, no I/O) and `GET /api/system-health`.

use shared::api::{self, Cors, Route};
use shared::clock::SystemClock;
use shared::handlers::health::{self, HealthInfo};
use shared::handlers::system_health::{self, SystemHealthDeps};
use shared::metrics::DynamoMetrics;
use shared::orders::DynamoFailureLog;
use shared::setup;
use std::sync::Arc;

// Lambda hands a container one event at a time, so worker threads would only add start-up
// time and memory.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let info = HealthInfo {
        function_name: shared::config::optional("AWS_LAMBDA_FUNCTION_NAME")
            .unwrap_or_else(|| "health".to_owned()),
        version: env!("CARGO_PKG_VERSION"),
    };
    let aws = setup::aws_config().await;
    let (store, secrets) = setup::secrets(&aws).await?;
    let client = aws_sdk_dynamodb::Client::new(&aws);
    let table = setup::table_name()?;
    let system = SystemHealthDeps {
        metrics: Arc::new(DynamoMetrics::new(client.clone(), &table, 0)),
        failures: Arc::new(DynamoFailureLog::new(client, &table, 0)),
        secrets: store,
        shopify: Arc::new(setup::shopify_client(&secrets)?),
        clock: Arc::new(SystemClock),
        thresholds: setup::health_thresholds()?,
        info: info.clone(),
    };
    let (system, info) = (&system, &info);
    let routes = [Route::Health, Route::SystemHealth];
    api::run_routes(&routes, Cors::default(), |route, request| async move {
        match route {
            Route::SystemHealth => system_health::handle(system, request).await,
            _ => health::handle(info, request).await,
        }
    })
    .await
}
