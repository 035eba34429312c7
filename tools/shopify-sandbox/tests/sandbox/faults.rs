//! Faults queued through `POST /_sandbox/faults`.

use std::time::{Duration, Instant};

use serde_json::json;
use shopify_sandbox::DEFAULT_ACCESS_TOKEN;

use crate::common::{order_input, start, user_errors, TestSandbox, ORDER_CREATE};

const HEALTH: &str = "query Health { shop { name } }";

async fn health(sandbox: &TestSandbox) -> crate::common::Reply {
    sandbox.graphql(HEALTH, json!({})).await
}

async fn order_count(sandbox: &TestSandbox) -> usize {
    sandbox
        .get("/_sandbox/orders")
        .await
        .body
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn http_429_sends_retry_after() {
    let sandbox = start().await;
    sandbox
        .push_faults(json!([{"kind": "http_429", "retry_after": "2.0"}, {"kind": "http_429"}]))
        .await;

    let with_header = health(&sandbox).await;
    let without_header = health(&sandbox).await;
    let after = health(&sandbox).await;

    assert_eq!(with_header.status, 429);
    assert_eq!(with_header.header("retry-after"), Some("2.0"));
    assert_eq!(without_header.status, 429);
    assert_eq!(without_header.header("retry-after"), None);
    assert_eq!(after.status, 200);
    assert_eq!(after.body["data"]["shop"]["name"], "Sandbox Shop");
}

#[tokio::test]
async fn throttled_fault_reports_empty_bucket() {
    let sandbox = start().await;
    sandbox.push_faults(json!([{"kind": "throttled"}])).await;

    let reply = health(&sandbox).await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.error_code(), "THROTTLED");
    let status = &reply.body["extensions"]["cost"]["throttleStatus"];
    assert_eq!(status["currentlyAvailable"], 0);
    assert_eq!(status["restoreRate"], 100.0);
    assert_eq!(status["maximumAvailable"], 2000.0);
    assert!(reply.body["extensions"]["cost"]["actualQueryCost"].is_null());
    assert!(reply.body.get("data").is_none());
}

#[tokio::test]
async fn http_503_returns_html() {
    let sandbox = start().await;
    sandbox.push_faults(json!({"kind": "http_503_html"})).await;

    let reply = health(&sandbox).await;

    assert_eq!(reply.status, 503);
    assert!(reply
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(reply.text.starts_with("<!DOCTYPE html>"));
}

#[tokio::test]
async fn http_500_returns_empty_body() {
    let sandbox = start().await;
    sandbox
        .push_faults(json!([{"kind": "http_500_empty"}]))
        .await;

    let reply = health(&sandbox).await;

    assert_eq!(reply.status, 500);
    assert_eq!(reply.text, "");
}

#[tokio::test]
async fn http_statuses_return_json_errors() {
    let sandbox = start().await;
    let statuses = [401, 402, 403, 404, 423];
    let faults: Vec<_> = statuses
        .iter()
        .map(|status| json!({"kind": "http", "status": status}))
        .collect();
    sandbox.push_faults(json!(faults)).await;

    for status in statuses {
        let reply = health(&sandbox).await;

        assert_eq!(reply.status, status);
        assert!(reply.body["errors"].is_string(), "{status}: {}", reply.text);
        assert!(reply.header("x-shopify-api-version").is_some());
    }
    assert_eq!(health(&sandbox).await.status, 200);
}

#[tokio::test]
async fn graphql_error_faults_return_200() {
    let sandbox = start().await;
    sandbox
        .push_faults(json!([{"kind": "access_denied"}, {"kind": "internal_error"}]))
        .await;

    let denied = sandbox
        .graphql(
            ORDER_CREATE,
            json!({"order": order_input("reg-1", "ann@example.com")}),
        )
        .await;
    let internal = health(&sandbox).await;

    assert_eq!(denied.status, 200);
    assert_eq!(denied.error_code(), "ACCESS_DENIED");
    assert_eq!(denied.body["errors"][0]["path"], json!(["orderCreate"]));
    assert_eq!(internal.status, 200);
    assert_eq!(internal.error_code(), "INTERNAL_SERVER_ERROR");
    assert_eq!(order_count(&sandbox).await, 0);
}

#[tokio::test]
async fn delay_then_normal_processing() {
    let sandbox = start().await;
    sandbox
        .push_faults(json!([{"kind": "delay", "millis": 300}]))
        .await;

    let started = Instant::now();
    let reply = health(&sandbox).await;

    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(reply.body["data"]["shop"]["name"], "Sandbox Shop");
}

#[tokio::test]
async fn phone_user_error_creates_nothing() {
    let sandbox = start().await;
    sandbox
        .push_faults(json!([{"kind": "phone_user_error"}]))
        .await;

    let rejected = sandbox
        .create_order(order_input("reg-1", "ann@example.com"))
        .await;
    let accepted = sandbox
        .create_order(order_input("reg-1", "ann@example.com"))
        .await;

    assert_eq!(
        rejected["userErrors"],
        json!([{
            "field": ["order", "customer", "toUpsert", "phone"],
            "message": "Phone is invalid",
            "code": "INVALID"
        }])
    );
    assert!(rejected["order"].is_null());
    assert_eq!(user_errors(&accepted), vec![]);
    assert_eq!(accepted["order"]["name"], "#1001");
}

#[tokio::test]
async fn crash_drops_connection_keeps_order() {
    let sandbox = start().await;
    sandbox
        .push_faults(json!([{"kind": "crash_after_create"}]))
        .await;

    let result = sandbox
        .send_graphql(
            &sandbox.sandbox.graphql_url(),
            DEFAULT_ACCESS_TOKEN,
            ORDER_CREATE,
            json!({"order": order_input("reg-1", "ann@example.com")}),
        )
        .await;
    let body = match result {
        Ok(response) => response.bytes().await.map(|_| ()),
        Err(err) => Err(err),
    };

    assert!(
        body.is_err(),
        "the client should not get a complete response"
    );
    assert_eq!(order_count(&sandbox).await, 1);
}

#[tokio::test]
async fn crash_can_return_500() {
    let sandbox = start().await;
    sandbox
        .push_faults(json!([{"kind": "crash_after_create", "mode": "http_500"}]))
        .await;

    let reply = sandbox
        .graphql(
            ORDER_CREATE,
            json!({"order": order_input("reg-1", "ann@example.com")}),
        )
        .await;

    assert_eq!(reply.status, 500);
    assert_eq!(order_count(&sandbox).await, 1);
}

#[tokio::test]
async fn count_repeats_fault() {
    let sandbox = start().await;
    sandbox
        .push_faults(json!([{"kind": "http_500_empty", "count": 2}, {"kind": "throttled"}]))
        .await;
    let pending = sandbox.get("/_sandbox/faults").await.body;
    assert_eq!(pending["pendingCalls"], 3);

    let statuses = [health(&sandbox).await.status, health(&sandbox).await.status];
    let throttled = health(&sandbox).await;
    let normal = health(&sandbox).await;

    assert_eq!(statuses, [500, 500]);
    assert_eq!(throttled.error_code(), "THROTTLED");
    assert!(normal.body.get("errors").is_none(), "{}", normal.body);
}

#[tokio::test]
async fn invalid_faults_are_rejected() {
    let sandbox = start().await;
    let cases = [
        json!([{"kind": "explode"}]),
        json!([{"kind": "http", "status": 200}]),
        json!([{"kind": "throttled", "count": 0}]),
        json!([{"kind": "delay"}]),
    ];

    for faults in cases {
        let reply = sandbox.post_json("/_sandbox/faults", faults.clone()).await;

        assert_eq!(reply.status, 400, "{faults}");
        assert!(reply.body["error"].is_string(), "{faults}");
    }
    assert_eq!(
        sandbox.get("/_sandbox/faults").await.body["pendingCalls"],
        0
    );
}

#[tokio::test]
async fn cleared_faults_do_not_apply() {
    let sandbox = start().await;
    sandbox
        .push_faults(json!([{"kind": "http_500_empty"}]))
        .await;

    let cleared = sandbox
        .http
        .delete(sandbox.url("/_sandbox/faults"))
        .send()
        .await
        .unwrap();

    assert_eq!(cleared.status(), 204);
    assert_eq!(health(&sandbox).await.status, 200);
}

#[tokio::test]
async fn calls_are_counted_by_operation() {
    let sandbox = start().await;
    sandbox
        .push_faults(json!([{"kind": "http_500_empty"}]))
        .await;

    health(&sandbox).await;
    health(&sandbox).await;
    sandbox
        .create_order(order_input("reg-1", "ann@example.com"))
        .await;
    sandbox.graphql("{ shop { name } }", json!({})).await;

    let calls = sandbox.get("/_sandbox/calls").await.body;
    assert_eq!(calls["total"], 4);
    assert_eq!(calls["byOperation"]["Health"], 2);
    assert_eq!(calls["byOperation"]["CreateOrder"], 1);
    assert_eq!(calls["byOperation"]["(anonymous shop)"], 1);
}
