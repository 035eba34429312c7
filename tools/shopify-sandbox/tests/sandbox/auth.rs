//! Access tokens, the client-credentials token endpoint, API versions and query cost.

use std::time::Duration;

use serde_json::{json, Value};
use shopify_sandbox::{DEFAULT_ACCESS_TOKEN, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};

use crate::common::{order_input, start, start_with, TestSandbox, ORDER_CREATE};

const HEALTH: &str = "query Health { shop { name } }";
const INVALID_TOKEN: &str =
    r#"{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}"#;

async fn request_token(sandbox: &TestSandbox, form: &[FormField<'_>]) -> reqwest::Response {
    sandbox
        .http
        .post(sandbox.sandbox.token_url())
        .form(form)
        .send()
        .await
        .expect("the token request should get a response")
}

/// A token request form field: name and value.
type FormField<'a> = (&'static str, &'a str);

fn credentials(secret: &str) -> Vec<FormField<'_>> {
    vec![
        ("client_id", DEFAULT_CLIENT_ID),
        ("client_secret", secret),
        ("grant_type", "client_credentials"),
    ]
}

#[tokio::test]
async fn wrong_or_missing_token_is_unauthorized() {
    let sandbox = start().await;

    let wrong = sandbox
        .graphql_with_token("sandbox-wrong-token", HEALTH, json!({}))
        .await;
    let missing = sandbox
        .http
        .post(sandbox.sandbox.graphql_url())
        .json(&json!({"query": HEALTH}))
        .send()
        .await
        .unwrap();

    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.text, INVALID_TOKEN);
    assert_eq!(wrong.header("x-shopify-api-version"), Some("2026-10"));
    assert_eq!(missing.status(), 401);
}

#[tokio::test]
async fn issued_token_works_until_it_expires() {
    let sandbox = start_with(|config| config.token_lifetime = Duration::from_millis(400)).await;
    let response = request_token(&sandbox, &credentials(DEFAULT_CLIENT_SECRET)).await;
    assert_eq!(response.status(), 200);
    let grant: Value = response.json().await.unwrap();
    let token = grant["access_token"].as_str().unwrap().to_owned();
    assert!(grant["scope"].as_str().unwrap().contains("write_orders"));
    assert_eq!(grant["expires_in"], 0);

    let fresh = sandbox.graphql_with_token(&token, HEALTH, json!({})).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let expired = sandbox.graphql_with_token(&token, HEALTH, json!({})).await;

    assert_eq!(fresh.status, 200);
    assert_eq!(fresh.body["data"]["shop"]["name"], "Sandbox Shop");
    assert_eq!(expired.status, 401);
}

#[tokio::test]
async fn default_token_lifetime_is_a_day() {
    let sandbox = start().await;

    let response = sandbox
        .http
        .post(sandbox.sandbox.token_url())
        .json(&json!({
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "grant_type": "client_credentials"
        }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let grant: Value = response.json().await.unwrap();
    assert_eq!(grant["expires_in"], 86399);
}

#[tokio::test]
async fn token_endpoint_rejects_bad_requests() {
    let sandbox = start().await;
    let cases: Vec<(Vec<FormField<'_>>, u16, &str)> = vec![
        (credentials("sandbox-wrong-secret"), 401, "invalid_client"),
        (
            vec![
                ("client_id", DEFAULT_CLIENT_ID),
                ("client_secret", DEFAULT_CLIENT_SECRET),
                ("grant_type", "authorization_code"),
            ],
            400,
            "unsupported_grant_type",
        ),
        (
            vec![
                ("client_id", DEFAULT_CLIENT_ID),
                ("grant_type", "client_credentials"),
            ],
            400,
            "invalid_request",
        ),
    ];

    for (form, status, error) in cases {
        let response = request_token(&sandbox, &form).await;

        assert_eq!(response.status(), status, "{form:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], error, "{form:?}");
    }
}

#[tokio::test]
async fn every_response_names_served_version() {
    let sandbox = start().await;

    let current = sandbox.graphql(HEALTH, json!({})).await;
    let older = sandbox
        .send_graphql(
            &sandbox.sandbox.graphql_url_for("2025-01"),
            DEFAULT_ACCESS_TOKEN,
            HEALTH,
            json!({}),
        )
        .await
        .unwrap();
    let control = sandbox.get("/_sandbox/calls").await;

    assert_eq!(current.header("x-shopify-api-version"), Some("2026-10"));
    assert_eq!(older.status(), 200);
    assert_eq!(
        older.headers().get("x-shopify-api-version").unwrap(),
        "2026-10"
    );
    assert_eq!(control.header("x-shopify-api-version"), Some("2026-10"));
}

#[tokio::test]
async fn served_version_can_drift() {
    let sandbox = start_with(|config| config.served_version = Some("2026-07".to_owned())).await;

    let reply = sandbox.graphql(HEALTH, json!({})).await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("x-shopify-api-version"), Some("2026-07"));
}

#[tokio::test]
async fn cost_extension_tracks_bucket() {
    let sandbox = start().await;

    let query = sandbox.graphql(HEALTH, json!({})).await;
    let mutation = sandbox
        .graphql(
            ORDER_CREATE,
            json!({"order": order_input("reg-1", "ann@example.com")}),
        )
        .await;

    let cost = &query.body["extensions"]["cost"];
    assert_eq!(cost["requestedQueryCost"], 1);
    assert_eq!(cost["actualQueryCost"], 1);
    assert_eq!(cost["throttleStatus"]["maximumAvailable"], 2000.0);
    assert_eq!(cost["throttleStatus"]["restoreRate"], 100.0);
    let cost = &mutation.body["extensions"]["cost"];
    assert_eq!(cost["requestedQueryCost"], 10);
    let available = cost["throttleStatus"]["currentlyAvailable"]
        .as_u64()
        .unwrap();
    assert!((1989..=2000).contains(&available), "{available}");
}

#[tokio::test]
async fn empty_bucket_throttles() {
    let sandbox = start_with(|config| {
        config.cost_bucket_maximum = 15.0;
        config.cost_restore_rate = 1.0;
    })
    .await;
    let create = |reference: &str| json!({"order": order_input(reference, "ann@example.com")});

    let first = sandbox.graphql(ORDER_CREATE, create("reg-1")).await;
    let second = sandbox.graphql(ORDER_CREATE, create("reg-2")).await;

    assert!(first.body.get("errors").is_none(), "{}", first.body);
    assert_eq!(second.error_code(), "THROTTLED");
    let available = second.body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
        .as_u64()
        .unwrap();
    assert!(available < 10, "{available}");
    assert_eq!(
        sandbox
            .get("/_sandbox/orders")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn large_page_costs_more_than_maximum() {
    let sandbox = start().await;

    let reply = sandbox
        .graphql(
            "{ orders(first: 250) { nodes { lineItems(first: 250) { nodes { title } } } } }",
            json!({}),
        )
        .await;

    assert_eq!(reply.error_code(), "MAX_COST_EXCEEDED");
}
