//! `SecretsManagerStore` against moto's Secrets Manager: one fetch per container, a
//! refetch on reload, the minimum reload interval, and the webhook secrets after a roll.
//!
//! Needs moto at `MOTO_URL`, as `scripts/peers/run.py` sets it. Each test creates its own
//! secret, so tests can run in parallel.

use integration_tests::secretsmanager_client;
use shared::clock::Clock;
use shared::secrets::{SecretStore, SecretsManagerStore, WebhookSecretSource, WebhookSecretsFrom};
use shared::stripe::signature::{self, SignatureError, WebhookSecret};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::Barrier;
use tokio::task::JoinSet;

const STRIPE_KEY: &str = "sk_test_fake_key";
const OLD_WEBHOOK_SECRET: &str = "whsec_test_fake_old";
const NEW_WEBHOOK_SECRET: &str = "whsec_test_fake_new";
const NEWEST_WEBHOOK_SECRET: &str = "whsec_test_fake_newest";
const RELOAD_INTERVAL: Duration = Duration::from_secs(60);
const CONCURRENT_CALLS: usize = 200;

/// A clock that tests move forward by hand.
struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    fn new() -> Self {
        Self(Mutex::new(
            OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap(),
        ))
    }

    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

/// Returns the secret document with `webhook_secrets` as its webhook signing secrets.
fn document(webhook_secrets: &[&str]) -> String {
    serde_json::json!({
        "stripe_secret_key": STRIPE_KEY,
        "stripe_webhook_secrets": webhook_secrets,
    })
    .to_string()
}

/// Creates a secret in moto with a name no other test uses, and returns the name.
async fn create_secret(label: &str, secret_string: &str) -> String {
    let name = format!("test/{label}-{}", uuid::Uuid::new_v4().simple());
    secretsmanager_client()
        .create_secret()
        .name(&name)
        .secret_string(secret_string)
        .send()
        .await
        .unwrap_or_else(|error| panic!("creating secret {name} in moto failed: {error:?}"));
    name
}

/// Stores a new current version of the secret, as a rotation does.
async fn rotate_secret(name: &str, secret_string: &str) {
    secretsmanager_client()
        .put_secret_value()
        .secret_id(name)
        .secret_string(secret_string)
        .send()
        .await
        .unwrap_or_else(|error| panic!("PutSecretValue on secret {name} failed: {error:?}"));
}

fn store_for(name: &str, clock: Arc<ManualClock>) -> Arc<SecretsManagerStore> {
    Arc::new(
        SecretsManagerStore::new(secretsmanager_client(), name, clock)
            .with_min_reload_interval(RELOAD_INTERVAL),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_fetch_then_rate_limited_reloads() {
    let name = create_secret("cache", &document(&[OLD_WEBHOOK_SECRET])).await;
    let clock = Arc::new(ManualClock::new());
    let store = store_for(&name, clock.clone());

    // Every task waits at the barrier, so the first calls overlap.
    let barrier = Arc::new(Barrier::new(CONCURRENT_CALLS));
    let mut calls = JoinSet::new();
    for _ in 0..CONCURRENT_CALLS {
        let store = store.clone();
        let barrier = barrier.clone();
        calls.spawn(async move {
            barrier.wait().await;
            store.secrets().await
        });
    }
    while let Some(joined) = calls.join_next().await {
        let secrets = joined.expect("task panicked").expect("secrets() failed");
        assert_eq!(secrets.stripe_webhook_secrets, [OLD_WEBHOOK_SECRET]);
        assert_eq!(secrets.stripe_secret_key.as_deref(), Some(STRIPE_KEY));
    }
    assert_eq!(store.fetch_count(), 1, "concurrent first calls");

    rotate_secret(&name, &document(&[NEW_WEBHOOK_SECRET])).await;
    let cached = store.secrets().await.unwrap();
    assert_eq!(cached.stripe_webhook_secrets, [OLD_WEBHOOK_SECRET]);
    assert_eq!(store.fetch_count(), 1, "secrets() after rotation");

    let reloaded = store
        .reload()
        .await
        .unwrap()
        .expect("reload returns secrets");
    assert_eq!(reloaded.stripe_webhook_secrets, [NEW_WEBHOOK_SECRET]);
    assert_eq!(store.fetch_count(), 2, "first reload");
    let after_reload = store.secrets().await.unwrap();
    assert_eq!(after_reload.stripe_webhook_secrets, [NEW_WEBHOOK_SECRET]);
    assert_eq!(store.fetch_count(), 2, "secrets() after reload");

    // Within the interval, reload returns the cached secrets without fetching.
    rotate_secret(&name, &document(&[NEWEST_WEBHOOK_SECRET])).await;
    let immediate = store
        .reload()
        .await
        .unwrap()
        .expect("reload returns secrets");
    assert_eq!(immediate.stripe_webhook_secrets, [NEW_WEBHOOK_SECRET]);
    assert_eq!(store.fetch_count(), 2, "immediate second reload");

    clock.advance(RELOAD_INTERVAL - Duration::from_secs(1));
    let almost = store
        .reload()
        .await
        .unwrap()
        .expect("reload returns secrets");
    assert_eq!(almost.stripe_webhook_secrets, [NEW_WEBHOOK_SECRET]);
    assert_eq!(
        store.fetch_count(),
        2,
        "reload 1 s before the interval ends"
    );

    clock.advance(Duration::from_secs(1));
    let later = store
        .reload()
        .await
        .unwrap()
        .expect("reload returns secrets");
    assert_eq!(later.stripe_webhook_secrets, [NEWEST_WEBHOOK_SECRET]);
    assert_eq!(
        store.fetch_count(),
        3,
        "reload once the interval has passed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_reloads_share_one_fetch() {
    let name = create_secret("reloads", &document(&[OLD_WEBHOOK_SECRET])).await;
    let store = store_for(&name, Arc::new(ManualClock::new()));
    store.secrets().await.unwrap();
    rotate_secret(&name, &document(&[NEW_WEBHOOK_SECRET])).await;

    let barrier = Arc::new(Barrier::new(CONCURRENT_CALLS));
    let mut calls = JoinSet::new();
    for _ in 0..CONCURRENT_CALLS {
        let store = store.clone();
        let barrier = barrier.clone();
        calls.spawn(async move {
            barrier.wait().await;
            store.reload().await
        });
    }
    while let Some(joined) = calls.join_next().await {
        let reloaded = joined
            .expect("task panicked")
            .expect("reload() failed")
            .expect("reload returns secrets");
        assert_eq!(reloaded.stripe_webhook_secrets, [NEW_WEBHOOK_SECRET]);
    }
    assert_eq!(store.fetch_count(), 2, "one initial fetch and one reload");
}

#[tokio::test]
async fn webhook_secrets_follow_a_rolled_secret() {
    let name = create_secret("webhook", &document(&[OLD_WEBHOOK_SECRET])).await;
    let store = store_for(&name, Arc::new(ManualClock::new()));
    let source = WebhookSecretsFrom(store.clone());

    let now = 1_800_000_000;
    let body = br#"{"id": "evt_test_rolled", "object": "event"}"#;
    let new_secret = WebhookSecret::new(NEW_WEBHOOK_SECRET).unwrap();
    let header = signature::sign(now, body, &new_secret);
    let verify = |secrets: &[WebhookSecret]| {
        signature::verify(
            Some(&header),
            body,
            secrets,
            now,
            signature::DEFAULT_TOLERANCE_SECONDS,
        )
    };

    let cached = source.webhook_secrets().await.unwrap();
    assert_eq!(cached.len(), 1);
    assert_eq!(verify(&cached), Err(SignatureError::NoMatchingSignature));

    // Stripe's roll keeps the old secret valid for a while, so both are listed.
    rotate_secret(&name, &document(&[NEW_WEBHOOK_SECRET, OLD_WEBHOOK_SECRET])).await;
    let still_cached = source.webhook_secrets().await.unwrap();
    assert_eq!(
        verify(&still_cached),
        Err(SignatureError::NoMatchingSignature)
    );
    assert_eq!(store.fetch_count(), 1);

    let refreshed = source
        .refresh_webhook_secrets()
        .await
        .unwrap()
        .expect("Secrets Manager secrets can change, so refresh returns a list");
    assert_eq!(refreshed.len(), 2);
    assert_eq!(verify(&refreshed), Ok(()));
    assert_eq!(store.fetch_count(), 2);
}

#[tokio::test]
async fn missing_secret_reports_error_code() {
    let name = format!("test/missing-{}", uuid::Uuid::new_v4().simple());
    let store = store_for(&name, Arc::new(ManualClock::new()));
    let error = store.secrets().await.unwrap_err();
    assert_eq!(
        error.0,
        format!(
            "Secrets Manager GetSecretValue for secret `{name}` failed: ResourceNotFoundException"
        )
    );
    assert_eq!(store.fetch_count(), 1);
}

#[tokio::test]
async fn invalid_document_names_field_only() {
    let invalid = serde_json::json!({ "stripe_webhook_secrets": OLD_WEBHOOK_SECRET }).to_string();
    let name = create_secret("invalid", &invalid).await;
    let store = store_for(&name, Arc::new(ManualClock::new()));
    let error = store.secrets().await.unwrap_err();
    assert_eq!(
        error.0,
        format!(
            "the SecretString of secret `{name}` in Secrets Manager is invalid: field \
             `stripe_webhook_secrets` must be a list of strings"
        )
    );
    assert!(!error.to_string().contains(OLD_WEBHOOK_SECRET));
}
