//! Checks `reset_localstripe`. It lives in its own test binary because the reset
//! deletes the objects of every test that runs at the same time, and `cargo test`
//! runs one binary after the other.

use integration_tests::{localstripe_request, reset_localstripe, send_for_json, stripe_post};
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn reset_deletes_payment_intents() {
    let created = stripe_post(
        "/v1/payment_intents",
        &[("amount", "4500"), ("currency", "eur")],
    )
    .await;
    let path = format!("/v1/payment_intents/{}", created["id"].as_str().unwrap());

    reset_localstripe().await;

    let (status, body) = send_for_json(localstripe_request(Method::GET, &path)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}
