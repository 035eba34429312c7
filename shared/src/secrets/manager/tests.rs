use super::*;
use crate::clock::SystemClock;
use aws_sdk_secretsmanager::config::retry::RetryConfig;
use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};

const STRIPE_KEY: &str = "sk_test_fake_key";
const WEBHOOK_SECRET: &str = "whsec_test_fake_one";
const ROLLED_WEBHOOK_SECRET: &str = "whsec_test_fake_two";
const SHOPIFY_TOKEN: &str = "shpat_test_fake_token";
const HEALTH_KEY: &str = "health_test_fake_key";

fn parse(document: &str) -> AppSecrets {
    parse_app_secrets(document).unwrap_or_else(|reason| panic!("parse failed: {reason}"))
}

fn parse_error(document: &str) -> String {
    match parse_app_secrets(document) {
        Ok(secrets) => panic!("parse succeeded: {secrets:?}"),
        Err(reason) => reason,
    }
}

#[test]
fn parse_reads_every_field() {
    let document = format!(
        r#"{{
            "stripe_secret_key": "{STRIPE_KEY}",
            "stripe_webhook_secrets": ["{WEBHOOK_SECRET}", "{ROLLED_WEBHOOK_SECRET}"],
            "shopify_access_token": "{SHOPIFY_TOKEN}",
            "shopify_client_id": "test_client_id",
            "shopify_client_secret": "test_fake_client_secret",
            "health_api_key": "{HEALTH_KEY}"
        }}"#
    );
    let secrets = parse(&document);
    assert_eq!(secrets.stripe_secret_key.as_deref(), Some(STRIPE_KEY));
    assert_eq!(
        secrets.stripe_webhook_secrets,
        [WEBHOOK_SECRET, ROLLED_WEBHOOK_SECRET]
    );
    assert_eq!(secrets.shopify_access_token.as_deref(), Some(SHOPIFY_TOKEN));
    assert_eq!(secrets.shopify_client_id.as_deref(), Some("test_client_id"));
    assert_eq!(
        secrets.shopify_client_secret.as_deref(),
        Some("test_fake_client_secret")
    );
    assert_eq!(secrets.health_api_key.as_deref(), Some(HEALTH_KEY));
    assert_eq!(secrets.webhook_secrets().len(), 2);
}

#[test]
fn parse_allows_missing_optional_fields() {
    let secrets = parse(&format!(
        r#"{{"stripe_webhook_secrets": ["{WEBHOOK_SECRET}"]}}"#
    ));
    assert_eq!(secrets.stripe_webhook_secrets, [WEBHOOK_SECRET]);
    assert_eq!(secrets.stripe_secret_key, None);
    assert_eq!(secrets.shopify_access_token, None);
    assert_eq!(secrets.shopify_client_id, None);
    assert_eq!(secrets.shopify_client_secret, None);
    assert_eq!(secrets.health_api_key, None);

    let empty = parse("{}");
    assert!(empty.stripe_webhook_secrets.is_empty());
    assert_eq!(empty.stripe_secret_key, None);
}

#[test]
fn parse_treats_null_and_blank_as_absent() {
    let secrets =
        parse(r#"{"stripe_secret_key": null, "shopify_access_token": "", "health_api_key": "  "}"#);
    assert_eq!(secrets.stripe_secret_key, None);
    assert_eq!(secrets.shopify_access_token, None);
    assert_eq!(secrets.health_api_key, None);
}

#[test]
fn parse_ignores_unknown_fields() {
    let secrets = parse(&format!(
        r#"{{"stripe_secret_key": "{STRIPE_KEY}", "comment": "rotated quarterly"}}"#
    ));
    assert_eq!(secrets.stripe_secret_key.as_deref(), Some(STRIPE_KEY));
}

#[test]
fn parse_error_names_field_not_value() {
    let cases = [
        (
            format!(r#"{{"stripe_webhook_secrets": "{WEBHOOK_SECRET}"}}"#),
            "field `stripe_webhook_secrets` must be a list of strings",
            WEBHOOK_SECRET,
        ),
        (
            format!(r#"{{"stripe_webhook_secrets": ["{WEBHOOK_SECRET}", 7]}}"#),
            "field `stripe_webhook_secrets[1]` must be a string",
            WEBHOOK_SECRET,
        ),
        (
            format!(r#"{{"stripe_secret_key": ["{STRIPE_KEY}"]}}"#),
            "field `stripe_secret_key` must be a string",
            STRIPE_KEY,
        ),
        (
            format!(r#"{{"health_api_key": {{"value": "{HEALTH_KEY}"}}}}"#),
            "field `health_api_key` must be a string",
            HEALTH_KEY,
        ),
        (
            format!(r#"["{STRIPE_KEY}"]"#),
            "it must be a JSON object",
            STRIPE_KEY,
        ),
        (
            format!(r#""{STRIPE_KEY}""#),
            "it must be a JSON object",
            STRIPE_KEY,
        ),
    ];
    for (document, expected, value) in cases {
        let reason = parse_error(&document);
        assert_eq!(reason, expected, "document {document}");
        assert!(!reason.contains(value), "{reason} contains the value");
    }
}

#[test]
fn parse_error_for_invalid_json_hides_text() {
    // A secret pasted without quotes: serde_json's message would not quote it, but the
    // error must not depend on that.
    let reason = parse_error(&format!(r#"{{"stripe_secret_key": {STRIPE_KEY}}}"#));
    assert!(
        reason.starts_with("it is not valid JSON (error at line 1, column"),
        "{reason}"
    );
    assert!(!reason.contains(STRIPE_KEY), "{reason}");

    let truncated = parse_error(&format!(r#"{{"stripe_secret_key": "{STRIPE_KEY}"#));
    assert!(truncated.starts_with("it is not valid JSON"), "{truncated}");
    assert!(!truncated.contains(STRIPE_KEY), "{truncated}");
}

#[test]
fn parse_error_for_trailing_text() {
    let reason = parse_error(&format!(r#"{{}} "{STRIPE_KEY}""#));
    assert_eq!(
        reason,
        "the text after the JSON object at line 1, column 4 is not allowed"
    );
}

#[test]
fn parse_error_for_repeated_field() {
    let reason = parse_error(&format!(
        r#"{{"stripe_secret_key": "{STRIPE_KEY}", "stripe_secret_key": "{STRIPE_KEY}"}}"#
    ));
    assert_eq!(reason, "field `stripe_secret_key` appears more than once");
}

#[test]
fn app_secrets_debug_is_redacted() {
    let secrets = parse(&format!(
        r#"{{
            "stripe_secret_key": "{STRIPE_KEY}",
            "stripe_webhook_secrets": ["{WEBHOOK_SECRET}"],
            "shopify_access_token": "{SHOPIFY_TOKEN}",
            "health_api_key": "{HEALTH_KEY}"
        }}"#
    ));
    let debug = format!("{secrets:?}");
    for value in [STRIPE_KEY, WEBHOOK_SECRET, SHOPIFY_TOKEN, HEALTH_KEY] {
        assert!(!debug.contains(value), "{debug} contains {value}");
    }
    assert!(
        debug.contains("stripe_secret_key: \"[redacted]\""),
        "{debug}"
    );
    assert!(debug.contains("shopify_client_id: \"absent\""), "{debug}");
}

/// Returns a client whose endpoint is a port on 127.0.0.1 that refuses connections,
/// without retries, so each call fails at once.
fn unreachable_client() -> aws_sdk_secretsmanager::Client {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let port = listener.local_addr().expect("local address").port();
    drop(listener);
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(crate::setup::aws_http_client())
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

#[tokio::test]
async fn failed_fetch_is_shared_by_waiting_calls() {
    let store = Arc::new(SecretsManagerStore::new(
        unreachable_client(),
        "test/unreachable",
        Arc::new(SystemClock),
    ));

    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let store = store.clone();
        calls.spawn(async move { store.secrets().await });
    }
    while let Some(joined) = calls.join_next().await {
        let error = joined.expect("task panicked").unwrap_err();
        assert!(
            error.0.starts_with(
                "Secrets Manager GetSecretValue for secret `test/unreachable` failed:"
            ),
            "{error}"
        );
    }
    assert_eq!(store.fetch_count(), 1);

    // A call that starts after the failure tries again.
    store.secrets().await.unwrap_err();
    assert_eq!(store.fetch_count(), 2);
}

#[tokio::test]
async fn reload_without_cache_fetches() {
    let store = SecretsManagerStore::new(
        unreachable_client(),
        "test/unreachable",
        Arc::new(SystemClock),
    );
    store.reload().await.unwrap_err();
    // Nothing is cached, so there is nothing to return in place of a fetch.
    store.reload().await.unwrap_err();
    assert_eq!(store.fetch_count(), 2);
}

#[test]
fn store_debug_shows_id_not_values() {
    let store = SecretsManagerStore::new(unreachable_client(), "test/debug", Arc::new(SystemClock))
        .with_min_reload_interval(Duration::from_secs(5));
    store.store(Arc::new(parse(&format!(
        r#"{{"stripe_secret_key": "{STRIPE_KEY}"}}"#
    ))));
    let debug = format!("{store:?}");
    assert!(!debug.contains(STRIPE_KEY), "{debug}");
    assert!(debug.contains("secret_id: \"test/debug\""), "{debug}");
    assert!(debug.contains("fetch_count: 0"), "{debug}");
}
