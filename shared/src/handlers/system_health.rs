//! `GET /api/system-health`: whether registrations are turning into orders, for staff and
//! for an uptime monitor.
//!
//! The caller sends the health API key in `X-Api-Key`. The answer has today's and
//! yesterday's counters, order success rates, the last order and failure times, the
//! failures waiting for replay, checks of the table, the secrets and Shopify, and one
//! status. The status is `critical` (HTTP 503, so a monitor alerts) when a dependency
//! check fails, when at least `critical_pending_failures` failures wait for replay, or when
//! today's order success rate is below `critical_success_rate`. It is `degraded` when any
//! failure waits for replay, the success rate is below `degraded_success_rate`, signature
//! failures reach `degraded_signature_failures`, or Shopify is unreachable or serves
//! another API version than requested. Success rates count only once a day has
//! `min_orders_for_rate` orders created or failed.

use super::health::HealthInfo;
use crate::api::{json_response, ApiError};
use crate::clock::Clock;
use crate::metrics::{Counter, DayMetrics, MetricsReader};
use crate::orders::ledger::FailureLog;
use crate::secrets::SecretStore;
use crate::shopify::ShopifyProbe;
use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use subtle::ConstantTimeEq;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// The header that carries the health API key.
pub const API_KEY_HEADER: &str = "x-api-key";

/// Most failures read to count those waiting for replay.
const MAX_PENDING_LISTED: usize = 1000;

/// Thresholds at which the status changes. Rates are fractions between 0 and 1.
#[derive(Debug, Clone, Serialize)]
pub struct HealthThresholds {
    pub critical_pending_failures: usize,
    pub critical_success_rate: f64,
    pub degraded_success_rate: f64,
    pub degraded_signature_failures: u64,
    pub min_orders_for_rate: u64,
}

impl Default for HealthThresholds {
    fn default() -> Self {
        Self {
            critical_pending_failures: 5,
            critical_success_rate: 0.8,
            degraded_success_rate: 0.98,
            degraded_signature_failures: 10,
            min_orders_for_rate: 5,
        }
    }
}

/// The overall status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Healthy,
    Degraded,
    Critical,
}

/// Dependencies of the handler.
#[derive(Clone)]
pub struct SystemHealthDeps {
    pub metrics: Arc<dyn MetricsReader>,
    pub failures: Arc<dyn FailureLog>,
    pub secrets: Arc<dyn SecretStore>,
    pub shopify: Arc<dyn ShopifyProbe>,
    pub clock: Arc<dyn Clock>,
    pub thresholds: HealthThresholds,
    pub info: HealthInfo,
}

/// Handles one request.
pub async fn handle(deps: &SystemHealthDeps, request: Request) -> Result<Response<Body>, ApiError> {
    authorize(deps, &request).await?;

    let now = deps.clock.now();
    let mut reasons: Vec<(Status, String)> = Vec::new();
    let mut checks = Map::new();

    let today = read_day(deps, now, "table", &mut checks, &mut reasons).await;
    let yesterday = read_day(
        deps,
        now - Duration::days(1),
        "table",
        &mut checks,
        &mut reasons,
    )
    .await;
    let pending = match deps.failures.list(MAX_PENDING_LISTED).await {
        Ok(failures) => failures,
        Err(error) => {
            tracing::error!(error = %error, "reading recorded failures failed");
            reasons.push((
                Status::Critical,
                "recorded failures could not be read".to_owned(),
            ));
            Vec::new()
        }
    };
    checks.insert("secrets".to_owned(), json!({"ok": true}));
    check_shopify(deps, &mut checks, &mut reasons).await;
    judge(&deps.thresholds, &today, pending.len(), &mut reasons);

    let status = reasons
        .iter()
        .map(|(status, _)| *status)
        .max()
        .unwrap_or(Status::Healthy);
    let body = json!({
        "status": status,
        "checked_at": format_time(now.unix_timestamp()),
        "function": deps.info.function_name,
        "version": deps.info.version,
        "reasons": reasons.iter().map(|(_, reason)| reason.clone()).collect::<Vec<_>>(),
        "today": day_view(&today, &deps.thresholds),
        "yesterday": day_view(&yesterday, &deps.thresholds),
        "pending_failures": {
            "count": pending.len(),
            "oldest_failed_at": pending.first().map(|failure| format_time(failure.failed_at)),
            "payment_intents": pending.iter().take(20).map(|failure| failure.payment_intent_id.clone()).collect::<Vec<_>>(),
        },
        "checks": checks,
        "thresholds": deps.thresholds,
    });
    let code = if status == Status::Critical {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    Ok(json_response(code, &body))
}

/// Compares the sent key with the stored one in constant time.
async fn authorize(deps: &SystemHealthDeps, request: &Request) -> Result<(), ApiError> {
    let secrets = deps.secrets.secrets().await.map_err(|error| {
        tracing::error!(error = %error, "secrets could not be loaded for the API key check");
        ApiError::Internal("secrets unavailable".to_owned())
    })?;
    let Some(expected) = secrets.health_key() else {
        tracing::error!("no health API key is configured; system-health rejects every request");
        return Err(ApiError::Unauthorized);
    };
    let sent = request
        .headers()
        .get(API_KEY_HEADER)
        .map(|value| value.as_bytes())
        .unwrap_or_default();
    if bool::from(sent.ct_eq(expected.expose().as_bytes())) {
        Ok(())
    } else {
        tracing::warn!("system-health request with a missing or wrong API key");
        Err(ApiError::Unauthorized)
    }
}

async fn read_day(
    deps: &SystemHealthDeps,
    at: OffsetDateTime,
    check: &str,
    checks: &mut Map<String, Value>,
    reasons: &mut Vec<(Status, String)>,
) -> DayMetrics {
    let date = at.date().to_string();
    match deps.metrics.day(&date).await {
        Ok(day) => {
            checks
                .entry(check.to_owned())
                .or_insert(json!({"ok": true}));
            day
        }
        Err(error) => {
            tracing::error!(error = %error, date, "reading daily metrics failed");
            checks.insert(
                check.to_owned(),
                json!({"ok": false, "error": "the table could not be read"}),
            );
            if !reasons
                .iter()
                .any(|(_, reason)| reason.starts_with("the table"))
            {
                reasons.push((Status::Critical, "the table could not be read".to_owned()));
            }
            DayMetrics {
                date,
                ..DayMetrics::default()
            }
        }
    }
}

async fn check_shopify(
    deps: &SystemHealthDeps,
    checks: &mut Map<String, Value>,
    reasons: &mut Vec<(Status, String)>,
) {
    let requested = deps.shopify.requested_api_version();
    match deps.shopify.served_api_version().await {
        Ok(served) => {
            let matches = served == requested;
            if !matches {
                tracing::warn!(
                    requested,
                    served,
                    "Shopify serves another API version than requested"
                );
                reasons.push((
                    Status::Degraded,
                    format!("Shopify serves API version {served}, but {requested} is requested"),
                ));
            }
            checks.insert(
                "shopify".to_owned(),
                json!({"ok": matches, "requested_version": requested, "served_version": served}),
            );
        }
        Err(error) => {
            tracing::error!(error = %error, "Shopify check failed");
            reasons.push((Status::Degraded, "Shopify could not be reached".to_owned()));
            checks.insert(
                "shopify".to_owned(),
                json!({"ok": false, "requested_version": requested, "error": error.to_string()}),
            );
        }
    }
}

/// Adds the reasons that follow from today's numbers and the pending failures.
fn judge(
    thresholds: &HealthThresholds,
    today: &DayMetrics,
    pending: usize,
    reasons: &mut Vec<(Status, String)>,
) {
    if pending >= thresholds.critical_pending_failures {
        reasons.push((
            Status::Critical,
            format!("{pending} failed orders wait for replay"),
        ));
    } else if pending > 0 {
        reasons.push((
            Status::Degraded,
            format!("{pending} failed orders wait for replay"),
        ));
    }
    if let Some(rate) = success_rate(today, thresholds) {
        if rate < thresholds.critical_success_rate {
            reasons.push((
                Status::Critical,
                format!("today's order success rate is {:.0} %", rate * 100.0),
            ));
        } else if rate < thresholds.degraded_success_rate {
            reasons.push((
                Status::Degraded,
                format!("today's order success rate is {:.0} %", rate * 100.0),
            ));
        }
    }
    let signature_failures = today.count(Counter::SignatureFailures);
    if signature_failures >= thresholds.degraded_signature_failures {
        reasons.push((
            Status::Degraded,
            format!("{signature_failures} webhook signature failures today"),
        ));
    }
}

/// Orders created over orders attempted, once enough orders were attempted to mean much.
fn success_rate(day: &DayMetrics, thresholds: &HealthThresholds) -> Option<f64> {
    let created = day.count(Counter::OrdersCreated);
    let attempted = created + day.count(Counter::OrdersFailed);
    (attempted >= thresholds.min_orders_for_rate.max(1)).then(|| created as f64 / attempted as f64)
}

fn day_view(day: &DayMetrics, thresholds: &HealthThresholds) -> Value {
    let counters: Map<String, Value> = Counter::ALL
        .iter()
        .map(|counter| (counter.name().to_owned(), json!(day.count(*counter))))
        .collect();
    json!({
        "date": day.date,
        "counters": counters,
        "order_success_rate": success_rate(day, thresholds),
        "last_order_at": day.last_order_at.map(format_time),
        "last_failure_at": day.last_failure_at.map(format_time),
        "last_failure_reason": day.last_failure_reason,
    })
}

fn format_time(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|time| time.format(&Rfc3339).ok())
        .unwrap_or_default()
}
