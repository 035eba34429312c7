//! Lambda function for `GET /api/health`.

use shared::api::{self, Cors, Route};
use shared::handlers::health::{handle, HealthInfo};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let info = HealthInfo {
        function_name: shared::config::optional("AWS_LAMBDA_FUNCTION_NAME")
            .unwrap_or_else(|| "health".to_owned()),
        version: env!("CARGO_PKG_VERSION"),
    };
    api::run(Route::Health, Cors::default(), |request| {
        handle(&info, request)
    })
    .await
}
