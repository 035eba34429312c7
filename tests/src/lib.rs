//! Helpers for the integration tests, which run against two local peers on 127.0.0.1.
//! localstripe is a stateful fake of the Stripe API, and moto is a fake of AWS services
//! such as DynamoDB and Secrets Manager. `make test` starts both through
//! `scripts/peers/run.py`.
//!
//! The helpers panic with the status and body of a failed call, since a test cannot
//! go on without its peer.
//!
//! NOTE: `cargo test` runs the tests of one binary in parallel threads against the same
//! two peers. Tests must therefore use their own objects (fresh PaymentIntents, a table
//! from [`create_test_table`]) and must not expect to see only their own events.

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;

/// Stripe secret key for localstripe, which accepts any key that starts with `sk_`.
pub const FAKE_STRIPE_SECRET_KEY: &str = "sk_test_fake_key";

/// Webhook signing secret for localstripe's webhooks.
pub const FAKE_WEBHOOK_SECRET: &str = "whsec_test_local_only";

/// Region of the DynamoDB clients. moto accepts every region.
pub const AWS_REGION: &str = "us-east-1";

/// Stripe's test Visa card that always succeeds without authentication.
pub const TEST_CARD_NUMBER: &str = "4242424242424242";

/// Partition key of the test tables, a string.
pub const PARTITION_KEY: &str = "pk";

/// Sort key of the test tables, a string.
pub const SORT_KEY: &str = "sk";

/// TTL attribute of the test tables, in Unix seconds.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// Returns the base URL of localstripe, such as `http://127.0.0.1:41234`.
///
/// # Panics
/// When `LOCALSTRIPE_URL` is not set, that is when the tests run outside `make test`.
pub fn localstripe_url() -> String {
    peer_url("LOCALSTRIPE_URL")
}

/// Returns the base URL of the moto server, such as `http://127.0.0.1:41235`.
///
/// # Panics
/// When `MOTO_URL` is not set, that is when the tests run outside `make test`.
pub fn moto_url() -> String {
    peer_url("MOTO_URL")
}

fn peer_url(variable: &str) -> String {
    match std::env::var(variable) {
        Ok(url) if !url.is_empty() => url.trim_end_matches('/').to_owned(),
        _ => panic!("{variable} is not set: run `make test`, which starts the local peers"),
    }
}

/// Builds a request to localstripe, authenticated with [`FAKE_STRIPE_SECRET_KEY`].
/// `path` starts with `/`, such as `/v1/payment_intents`.
pub fn localstripe_request(method: Method, path: &str) -> RequestBuilder {
    reqwest::Client::new()
        .request(method, format!("{}{path}", localstripe_url()))
        .bearer_auth(FAKE_STRIPE_SECRET_KEY)
}

/// Sends `request` and returns the status and the JSON body, whatever the status.
///
/// # Panics
/// When the request fails or the body is not JSON.
pub async fn send_for_json(request: RequestBuilder) -> (StatusCode, Value) {
    let response = request
        .send()
        .await
        .unwrap_or_else(|error| panic!("request to localstripe failed: {error}"));
    let status = response.status();
    let body = response
        .text()
        .await
        .unwrap_or_else(|error| panic!("reading localstripe's response failed: {error}"));
    let json = serde_json::from_str(&body)
        .unwrap_or_else(|error| panic!("localstripe sent invalid JSON ({error}): {body}"));
    (status, json)
}

/// Sends a form-encoded POST to localstripe's Stripe API and returns the JSON body.
///
/// # Panics
/// When the status is not 2xx.
pub async fn stripe_post(path: &str, form: &[(&str, &str)]) -> Value {
    let request = localstripe_request(Method::POST, path).form(form);
    expect_success("POST", path, send_for_json(request).await)
}

/// Sends a GET to localstripe's Stripe API and returns the JSON body.
///
/// # Panics
/// When the status is not 2xx.
pub async fn stripe_get(path: &str) -> Value {
    let request = localstripe_request(Method::GET, path);
    expect_success("GET", path, send_for_json(request).await)
}

fn expect_success(method: &str, path: &str, (status, body): (StatusCode, Value)) -> Value {
    assert!(
        status.is_success(),
        "{method} {path} failed with {status}: {body}"
    );
    body
}

/// Deletes every object in localstripe. Registered webhooks stay.
///
/// NOTE: this also deletes the objects of every other test that uses localstripe at the
/// same time, so call it only from a test binary whose tests do not run in parallel
/// with it.
pub async fn reset_localstripe() {
    let response = reqwest::Client::new()
        .delete(format!("{}/_config/data", localstripe_url()))
        .send()
        .await
        .unwrap_or_else(|error| panic!("resetting localstripe failed: {error}"));
    assert!(
        response.status().is_success(),
        "resetting localstripe failed with {}",
        response.status()
    );
}

/// Registers a webhook endpoint in localstripe and returns its id.
///
/// localstripe then POSTs every event to `url`, signed with `secret` in the
/// `Stripe-Signature` header as Stripe does, about one second after the event. Every
/// registered endpoint receives the events of all tests, and it stays registered until
/// localstripe stops, because localstripe has no call to remove it.
pub async fn register_localstripe_webhook(url: &str, secret: &str) -> String {
    let id = format!("test_{}", uuid::Uuid::new_v4().simple());
    let response = reqwest::Client::new()
        .post(format!("{}/_config/webhooks/{id}", localstripe_url()))
        .form(&[("url", url), ("secret", secret)])
        .send()
        .await
        .unwrap_or_else(|error| panic!("registering webhook {url} failed: {error}"));
    assert!(
        response.status().is_success(),
        "registering webhook {url} failed with {}",
        response.status()
    );
    id
}

/// Confirms a PaymentIntent with [`TEST_CARD_NUMBER`] as a browser would, and returns
/// the PaymentIntent as localstripe returns it after the confirmation.
///
/// The steps are: create a card PaymentMethod, attach it to the PaymentIntent with an
/// update, then confirm. A browser would authenticate with the publishable key and the
/// client secret, while this helper uses [`FAKE_STRIPE_SECRET_KEY`].
pub async fn confirm_with_test_card(payment_intent_id: &str) -> Value {
    // Stripe rejects an expired card, so the expiry year moves with the clock.
    let expiry_year = (time::OffsetDateTime::now_utc().year() + 3).to_string();
    let payment_method = stripe_post(
        "/v1/payment_methods",
        &[
            ("type", "card"),
            ("card[number]", TEST_CARD_NUMBER),
            ("card[exp_month]", "12"),
            ("card[exp_year]", &expiry_year),
            ("card[cvc]", "123"),
        ],
    )
    .await;
    let payment_method_id = payment_method["id"]
        .as_str()
        .unwrap_or_else(|| panic!("PaymentMethod without an id: {payment_method}"));

    let path = format!("/v1/payment_intents/{payment_intent_id}");
    stripe_post(&path, &[("payment_method", payment_method_id)]).await;

    stripe_post(&format!("{path}/confirm"), &[]).await
}

/// Builds a DynamoDB client for moto, with fake static credentials.
pub fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    let credentials = Credentials::new("testing", "testing", None, None, "moto");
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(shared::setup::aws_http_client())
        .endpoint_url(moto_url())
        .region(Region::new(AWS_REGION))
        .credentials_provider(credentials)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// Builds a Secrets Manager client for moto, with fake static credentials.
pub fn secretsmanager_client() -> aws_sdk_secretsmanager::Client {
    let credentials = Credentials::new("testing", "testing", None, None, "moto");
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(shared::setup::aws_http_client())
        .endpoint_url(moto_url())
        .region(Region::new(AWS_REGION))
        .credentials_provider(credentials)
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

/// A DynamoDB table in moto that belongs to one test.
pub struct TestTable {
    pub client: aws_sdk_dynamodb::Client,
    pub name: String,
}

/// Creates a table in moto named `{prefix}-{random hex}`, with the project's layout:
/// string partition key [`PARTITION_KEY`], string sort key [`SORT_KEY`], on-demand
/// billing and TTL on [`TTL_ATTRIBUTE`].
///
/// `prefix` may contain only `a-z`, `A-Z`, `0-9`, `_`, `-` and `.`, as DynamoDB table
/// names do, and is at most 200 characters long.
pub async fn create_test_table(prefix: &str) -> TestTable {
    let client = dynamodb_client();
    let name = format!("{prefix}-{}", uuid::Uuid::new_v4().simple());

    client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attribute(PARTITION_KEY))
        .attribute_definitions(string_attribute(SORT_KEY))
        .key_schema(key_element(PARTITION_KEY, KeyType::Hash))
        .key_schema(key_element(SORT_KEY, KeyType::Range))
        .send()
        .await
        .unwrap_or_else(|error| panic!("creating table {name} in moto failed: {error:?}"));

    let ttl = TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name(TTL_ATTRIBUTE)
        .build()
        .expect("the TTL specification sets both required fields");
    client
        .update_time_to_live()
        .table_name(&name)
        .time_to_live_specification(ttl)
        .send()
        .await
        .unwrap_or_else(|error| panic!("enabling TTL on table {name} failed: {error:?}"));

    TestTable { client, name }
}

fn string_attribute(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("the attribute definition sets both required fields")
}

fn key_element(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .expect("the key schema element sets both required fields")
}
