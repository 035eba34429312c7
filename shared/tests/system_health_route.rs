//! `GET /api/system-health`: the API key, the counters and every status threshold.

mod common;

use async_trait::async_trait;
use common::{json_of, load_event};
use shared::api::{serve, Cors, Route};
use shared::clock::FixedClock;
use shared::handlers::health::HealthInfo;
use shared::handlers::system_health::{handle, HealthThresholds, SystemHealthDeps};
use shared::metrics::{Counter, DayMetrics, MetricsReader};
use shared::orders::ledger::{FailureLog, FailureRecord};
use shared::orders::MemoryFailureLog;
use shared::secrets::{AppSecrets, SecretStore, SecretsError};
use shared::shopify::{ShopifyError, ShopifyProbe};
use shared::store::StoreError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::macros::datetime;

const KEY: &str = "local-health-key";

#[derive(Default)]
struct Days {
    days: Mutex<HashMap<String, DayMetrics>>,
    broken: bool,
}

#[async_trait]
impl MetricsReader for Days {
    async fn day(&self, date: &str) -> Result<DayMetrics, StoreError> {
        if self.broken {
            return Err(StoreError("ResourceNotFoundException".to_owned()));
        }
        let days = self.days.lock().unwrap();
        Ok(days.get(date).cloned().unwrap_or(DayMetrics {
            date: date.to_owned(),
            ..DayMetrics::default()
        }))
    }
}

struct Secrets;

#[async_trait]
impl SecretStore for Secrets {
    async fn secrets(&self) -> Result<Arc<AppSecrets>, SecretsError> {
        Ok(Arc::new(AppSecrets {
            health_api_key: Some(KEY.to_owned()),
            ..AppSecrets::default()
        }))
    }

    async fn reload(&self) -> Result<Option<Arc<AppSecrets>>, SecretsError> {
        Ok(None)
    }
}

struct Probe(Result<String, ShopifyError>);

#[async_trait]
impl ShopifyProbe for Probe {
    fn requested_api_version(&self) -> String {
        "2026-10".to_owned()
    }

    async fn served_api_version(&self) -> Result<String, ShopifyError> {
        self.0.clone()
    }
}

struct Setup {
    today: Vec<(Counter, u64)>,
    pending: usize,
    served: Result<String, ShopifyError>,
    broken_table: bool,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            today: vec![(Counter::OrdersCreated, 20)],
            pending: 0,
            served: Ok("2026-10".to_owned()),
            broken_table: false,
        }
    }
}

async fn check(setup: Setup, event: &str) -> (u16, serde_json::Value) {
    check_request(setup, load_event(event)).await
}

async fn check_request(setup: Setup, request: lambda_http::Request) -> (u16, serde_json::Value) {
    let days = Days {
        broken: setup.broken_table,
        ..Days::default()
    };
    days.days.lock().unwrap().insert(
        "2026-12-04".to_owned(),
        DayMetrics {
            date: "2026-12-04".to_owned(),
            counts: setup.today,
            last_order_at: Some(1_796_396_400),
            last_failure_at: None,
            last_failure_reason: None,
        },
    );
    let failures = MemoryFailureLog::new(3600);
    for index in 0..setup.pending {
        let record = FailureRecord {
            payment_intent_id: format!("pi_pending_{index}"),
            failed_at: 1_796_390_000 + index as i64,
            attempts: 1,
            reason: "shopify: HTTP 503".to_owned(),
        };
        failures.record(&record).await.unwrap();
    }
    let deps = SystemHealthDeps {
        metrics: Arc::new(days),
        failures: Arc::new(failures),
        secrets: Arc::new(Secrets),
        shopify: Arc::new(Probe(setup.served)),
        clock: Arc::new(FixedClock(datetime!(2026-12-04 15:00 UTC))),
        thresholds: HealthThresholds::default(),
        info: HealthInfo {
            function_name: "system-health-test".to_owned(),
            version: "test",
        },
    };
    let response = serve(request, Route::SystemHealth, &Cors::default(), |request| {
        handle(&deps, request)
    })
    .await;
    (response.status().as_u16(), json_of(&response))
}

#[tokio::test]
async fn key_is_required() {
    let (status, body) = check(Setup::default(), "system-health-no-key.json").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthorized");
    assert!(body.get("today").is_none());
}

#[tokio::test]
async fn wrong_key_is_rejected() {
    let mut request = load_event("system-health.json");
    request
        .headers_mut()
        .insert("x-api-key", "local-health-kez".parse().unwrap());
    let (status, body) = check_request(Setup::default(), request).await;
    assert_eq!(status, 401);
    assert!(body.get("today").is_none());
}

#[tokio::test]
async fn healthy_day_reports_counters() {
    let (status, body) = check(Setup::default(), "system-health.json").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["today"]["date"], "2026-12-04");
    assert_eq!(body["today"]["counters"]["orders_created"], 20);
    assert_eq!(body["today"]["counters"]["orders_failed"], 0);
    assert_eq!(body["today"]["order_success_rate"], 1.0);
    assert_eq!(body["today"]["last_order_at"], "2026-12-04T15:00:00Z");
    assert_eq!(body["yesterday"]["date"], "2026-12-03");
    assert_eq!(body["checks"]["table"]["ok"], true);
    assert_eq!(body["checks"]["shopify"]["served_version"], "2026-10");
    assert_eq!(body["pending_failures"]["count"], 0);
}

#[tokio::test]
async fn named_stage_is_served() {
    let (status, body) = check(Setup::default(), "system-health-stage-prod.json").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "healthy");
}

#[tokio::test]
async fn pending_failures_degrade_then_go_critical() {
    let one = Setup {
        pending: 1,
        ..Setup::default()
    };
    let (status, body) = check(one, "system-health.json").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["pending_failures"]["count"], 1);
    assert_eq!(
        body["pending_failures"]["payment_intents"][0],
        "pi_pending_0"
    );

    let five = Setup {
        pending: HealthThresholds::default().critical_pending_failures,
        ..Setup::default()
    };
    let (status, body) = check(five, "system-health.json").await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "critical");
}

#[tokio::test]
async fn success_rate_thresholds() {
    let cases = [
        (49, 1, 200, "healthy"),
        (19, 1, 200, "degraded"),
        (7, 3, 503, "critical"),
        (1, 3, 200, "healthy"),
    ];
    for (created, failed, expected_status, expected) in cases {
        let setup = Setup {
            today: vec![
                (Counter::OrdersCreated, created),
                (Counter::OrdersFailed, failed),
            ],
            ..Setup::default()
        };
        let (status, body) = check(setup, "system-health.json").await;
        assert_eq!(
            status, expected_status,
            "{created} created, {failed} failed"
        );
        assert_eq!(
            body["status"], expected,
            "{created} created, {failed} failed"
        );
    }
}

#[tokio::test]
async fn signature_failures_degrade() {
    let setup = Setup {
        today: vec![
            (Counter::OrdersCreated, 20),
            (Counter::SignatureFailures, 10),
        ],
        ..Setup::default()
    };
    let (status, body) = check(setup, "system-health.json").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "degraded");
}

#[tokio::test]
async fn version_drift_is_flagged() {
    let setup = Setup {
        served: Ok("2027-01".to_owned()),
        ..Setup::default()
    };
    let (status, body) = check(setup, "system-health.json").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["checks"]["shopify"]["ok"], false);
    assert_eq!(body["checks"]["shopify"]["requested_version"], "2026-10");
    assert_eq!(body["checks"]["shopify"]["served_version"], "2027-01");
}

#[tokio::test]
async fn unreachable_shopify_degrades() {
    let setup = Setup {
        served: Err(ShopifyError::Transport("timed out".to_owned())),
        ..Setup::default()
    };
    let (status, body) = check(setup, "system-health.json").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["checks"]["shopify"]["ok"], false);
}

#[tokio::test]
async fn unreadable_table_is_critical() {
    let setup = Setup {
        broken_table: true,
        ..Setup::default()
    };
    let (status, body) = check(setup, "system-health.json").await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "critical");
    assert_eq!(body["checks"]["table"]["ok"], false);
}
