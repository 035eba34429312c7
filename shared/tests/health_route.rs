//! `GET /api/health` under the `$default` stage and a named stage.

mod common;

use common::{json_of, load_event};
use shared::api::{serve, Cors, Route};
use shared::handlers::health::{handle, HealthInfo};

async fn call(name: &str) -> lambda_http::Response<lambda_http::Body> {
    let info = HealthInfo {
        function_name: "health-test".to_owned(),
        version: "0.0.0-test",
    };
    serve(
        load_event(name),
        Route::Health,
        &Cors::default(),
        |request| handle(&info, request),
    )
    .await
}

#[tokio::test]
async fn default_stage_is_alive() {
    let response = call("health.json").await;
    assert_eq!(response.status(), 200);
    let body = json_of(&response);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["function"], "health-test");
}

#[tokio::test]
async fn named_stage_prefix_is_removed() {
    let response = call("health-stage-prod.json").await;
    assert_eq!(response.status(), 200);
    assert_eq!(json_of(&response)["status"], "ok");
}

#[tokio::test]
async fn unknown_path_is_json_404() {
    let response = call("health-unknown-path.json").await;
    assert_eq!(response.status(), 404);
    let body = json_of(&response);
    assert_eq!(body["error"]["code"], "not_found");
    assert_eq!(body["request_id"], "fixture-health-unknown-path");
}
