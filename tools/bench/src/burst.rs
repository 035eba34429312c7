//! The webhook burst: many `payment_intent.succeeded` deliveries at once, with duplicates,
//! against the release dev server, and whether each payment still becomes exactly one
//! Shopify order.
//!
//! [`run_burst`] starts a [`LocalStack`] whose Shopify sandbox throttles like a shop on the
//! Standard plan, runs the `dev-server` binary against it as a separate process, and
//! prepares the registrations through `POST /api/create-payment-intent`. It then delivers
//! one event alone to count the calls of the usual path, and the rest as a burst: every
//! other event once, plus duplicate deliveries of some of them, a fixed number at a time.
//! Like Stripe, it delivers an event again when the response is not 2xx.
//!
//! NOTE: the dev server serves every delivery from one process with one Shopify client, one
//! DynamoDB client and one cached secret. In Lambda each concurrent delivery runs in its
//! own container with its own clients, so cold starts and per-container caches are not
//! part of this measure.
//!
//! NOTE: moto 5.2.5 serves requests on several threads and applies a conditional UpdateItem
//! in steps without a lock: it stores the bare key, then sets the attributes. A duplicate
//! delivery in flight can therefore read an order record without `status`, and the product
//! then returns 503 `storage_unavailable` and the event is delivered again. Real DynamoDB
//! applies each write atomically, so such 503s come from the fake, not from the product.

mod delivery;

use crate::dev_server::DevServerProcess;
use crate::machine::Machine;
use crate::stack::{LocalStack, PreparedPayment, ShopifyAuth, ShopifyCalls, StackOptions};
use anyhow::{bail, Context};
use delivery::{
    deliver_all, delivery_counts, delivery_schedule, time_until_all_orders, unix_now,
    DeliveryContext,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::orders::ledger::FailureRecord;
use shared::stripe::signature::WebhookSecret;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Cost points a Standard-plan shop restores per second. Source: Shopify's "GraphQL Admin
/// API rate limits" page (shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits),
/// which lists 100 points/second for Standard.
pub const STANDARD_PLAN_RESTORE_RATE: f64 = 100.0;
/// Size of a Standard-plan shop's cost bucket, in points.
// NOTE: the page above gives only the restore rate. 2000 points (20 seconds of restore) is
// the sandbox's default and an estimate of the real bucket size.
pub const STANDARD_PLAN_BUCKET_MAXIMUM: f64 = 2000.0;

/// How many lost PaymentIntent ids the result lists.
const LISTED_LOST: usize = 20;
/// Prefix of the DynamoDB operations in the `X-Amz-Target` header.
const DYNAMODB_TARGET_PREFIX: &str = "DynamoDB_20120810.";

/// Settings of one burst.
#[derive(Debug, Clone)]
pub struct BurstConfig {
    /// The `dev-server` binary to run, such as `target/release/dev-server`.
    pub dev_server_binary: PathBuf,
    /// Registrations to prepare. The first is delivered alone, the others in the burst.
    pub payments: usize,
    /// Extra deliveries of events that are also delivered once in the burst.
    pub duplicates: usize,
    /// Deliveries in flight at once.
    pub concurrency: usize,
    /// Wait before delivering an event again after a non-2xx response or none.
    pub redelivery_delay: Duration,
    /// Deliveries of one copy of an event, the first included, before giving up.
    pub max_attempts: u32,
    /// Timeout of one delivery's response.
    pub request_timeout: Duration,
    pub cost_bucket_maximum: f64,
    pub cost_restore_rate: f64,
    /// Seed of the choice and placement of the duplicates.
    pub seed: u64,
    /// File that receives the dev server's output.
    pub dev_server_log: PathBuf,
}

impl BurstConfig {
    /// Returns the settings of `make bench`: 500 payments, duplicates of 10 % of the 499
    /// burst events, 20 deliveries at once and a Standard-plan cost bucket.
    ///
    /// Stripe redelivers a failed webhook over three days, with waits that grow from
    /// minutes to hours. Here the wait is 1 s and the cap 15 deliveries, so that the run
    /// ends in minutes. The 30 s response timeout is longer than any response a function can
    /// send within API Gateway's 30 s integration timeout.
    pub fn standard(dev_server_binary: impl Into<PathBuf>) -> Self {
        let payments = 500;
        Self {
            dev_server_binary: dev_server_binary.into(),
            payments,
            duplicates: (payments - 1).div_ceil(10),
            concurrency: 20,
            redelivery_delay: Duration::from_secs(1),
            max_attempts: 15,
            request_timeout: Duration::from_secs(30),
            cost_bucket_maximum: STANDARD_PLAN_BUCKET_MAXIMUM,
            cost_restore_rate: STANDARD_PLAN_RESTORE_RATE,
            seed: 0x5eed_b0a7,
            dev_server_log: output_dir().join("burst-dev-server.log"),
        }
    }
}

/// The measured burst, as written to `target/bench/burst.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BurstResult {
    /// RFC 3339 time at which the run ended.
    pub measured_at: String,
    pub machine: Machine,
    pub settings: BurstSettings,
    pub preparation: Preparation,
    pub usual_path: UsualPath,
    pub burst: BurstCounts,
}

/// The registrations made before the deliveries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Preparation {
    pub registrations: usize,
    /// Requests to `POST /api/create-payment-intent` sent again after a 503 response.
    pub checkout_retries: u64,
    pub seconds: f64,
}

/// The settings the run used.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BurstSettings {
    pub dev_server_binary: String,
    pub payments: usize,
    /// Distinct events delivered in the burst: every payment but the usual-path one.
    pub burst_events: usize,
    pub duplicates: usize,
    pub concurrency: usize,
    pub redelivery_delay_ms: u64,
    pub max_attempts: u32,
    pub request_timeout_ms: u64,
    pub cost_bucket_maximum: f64,
    pub cost_restore_rate: f64,
    pub shopify_auth: ShopifyAuth,
}

/// One delivery of one event with nothing else running: the calls one order costs when
/// nothing goes wrong.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UsualPath {
    /// HTTP status of the response, or `None` when there was none.
    pub status: Option<u16>,
    /// The response's `result` (such as `order_created`) or error code.
    pub result: Option<String>,
    pub elapsed_ms: f64,
    pub shopify_calls: ShopifyCalls,
    /// DynamoDB requests by operation, such as `UpdateItem`.
    pub dynamodb_calls: BTreeMap<String, u64>,
    pub dynamodb_calls_total: u64,
    /// Other AWS requests by `X-Amz-Target`, such as `secretsmanager.GetSecretValue`.
    pub other_aws_calls: BTreeMap<String, u64>,
}

/// Counts of the burst's deliveries and responses, and of the orders the shop ended up with.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BurstCounts {
    /// Copies scheduled: one per event plus the duplicates.
    pub scheduled_deliveries: usize,
    /// Duplicates whose first delivery started before the first copy's first response.
    pub duplicates_sent_while_first_in_flight: usize,
    /// HTTP requests sent, redeliveries included.
    pub deliveries_sent: u64,
    /// Deliveries after a non-2xx response or none.
    pub redeliveries: u64,
    /// Responses by HTTP status, and `no_response` for timeouts and connection failures.
    pub responses_by_status: BTreeMap<String, u64>,
    /// Responses by the body's `result`, or by `error.code` for errors.
    pub responses_by_result: BTreeMap<String, u64>,
    /// Copies still without a 2xx response after `max_attempts` deliveries.
    pub copies_given_up: u64,
    /// Burst payments with at least one Shopify order.
    pub orders_created: usize,
    /// Orders beyond the first of each payment.
    pub duplicate_orders: usize,
    /// Orders whose `sourceIdentifier` is no prepared payment.
    pub unexpected_orders: usize,
    /// Burst payments with neither an order nor a recorded failure.
    pub lost: usize,
    /// The first lost PaymentIntent ids.
    pub lost_payment_intents: Vec<String>,
    /// Failures of burst payments that are recorded and not resolved by a later delivery.
    pub recorded_failures: usize,
    pub recorded_failure_reasons: BTreeMap<String, u64>,
    /// Order-ledger records of burst payments by status, such as `completed`.
    pub order_records_by_status: BTreeMap<String, u64>,
    /// Seconds from the first burst delivery until the last burst payment got a 2xx
    /// response confirming its order. `None` when some never did.
    pub seconds_until_all_orders: Option<f64>,
    /// Seconds from the first burst delivery until the last response.
    pub seconds_until_last_response: f64,
    pub shopify_calls: ShopifyCalls,
    /// Shopify calls by operation divided by `orders_created`.
    pub shopify_calls_per_order: BTreeMap<String, f64>,
    pub shopify_calls_per_order_total: f64,
    /// Shopify calls that created no order: throttled responses and retried or repeated
    /// calls. The sandbox does not count throttled responses on their own.
    pub shopify_calls_without_new_order: u64,
    /// DynamoDB requests by operation, such as `UpdateItem`.
    pub dynamodb_calls: BTreeMap<String, u64>,
    pub dynamodb_calls_per_order: BTreeMap<String, f64>,
    pub dynamodb_calls_total: u64,
    pub dynamodb_calls_per_order_total: f64,
    pub other_aws_calls: BTreeMap<String, u64>,
    /// How much the product's own counters in `/api/system-health` grew during the burst,
    /// such as `shopify_throttles`.
    // NOTE: the dev server shares one Shopify client between concurrent deliveries, and
    // the client keeps only its last call's retry counts, so `shopify_throttles` and
    // `shopify_retries` may be under- or over-counted here. A Lambda container serves one
    // delivery at a time and counts them right.
    pub product_counters: BTreeMap<String, i64>,
}

/// Runs the burst described by `config` and returns what it measured.
pub async fn run_burst(config: BurstConfig) -> anyhow::Result<BurstResult> {
    if config.payments < 2 {
        bail!(
            "a burst needs at least 2 payments (one for the usual path), got {}",
            config.payments
        );
    }
    if config.concurrency == 0 || config.max_attempts == 0 {
        bail!("concurrency and max_attempts must be at least 1");
    }
    let options = StackOptions {
        cost_bucket_maximum: config.cost_bucket_maximum,
        cost_restore_rate: config.cost_restore_rate,
        shopify_auth: ShopifyAuth::AccessToken,
    };
    let stack = LocalStack::start(options).await?;
    let outcome = run_with_stack(&stack, &config).await;
    stack.shutdown().await;
    outcome
}

async fn run_with_stack(stack: &LocalStack, config: &BurstConfig) -> anyhow::Result<BurstResult> {
    let server = DevServerProcess::spawn(
        &config.dev_server_binary,
        &stack.function_env(),
        &config.dev_server_log,
    )
    .await?;
    let measured = measure(stack, &server, config).await;
    server.stop().await?;
    measured
}

async fn measure(
    stack: &LocalStack,
    server: &DevServerProcess,
    config: &BurstConfig,
) -> anyhow::Result<BurstResult> {
    let (payments, preparation) = prepare(stack, server, config).await?;
    let context = Arc::new(DeliveryContext {
        http: reqwest::Client::builder()
            .no_proxy()
            .build()
            .context("building the HTTP client failed")?,
        webhook_url: format!("{}/api/stripe-webhook", server.base_url),
        secret: WebhookSecret::new(crate::stack::WEBHOOK_SECRET)?,
        semaphore: Arc::new(Semaphore::new(config.concurrency)),
        redelivery_delay: config.redelivery_delay,
        max_attempts: config.max_attempts,
        request_timeout: config.request_timeout,
    });
    let run_tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();

    let usual_path = measure_usual_path(stack, &context, &payments[0], &run_tag).await?;
    let burst = measure_burst(stack, server, &context, &payments, &run_tag, config).await?;

    let burst_events = payments.len() - 1;
    Ok(BurstResult {
        measured_at: now_rfc3339(),
        machine: Machine::describe(),
        settings: BurstSettings {
            dev_server_binary: config.dev_server_binary.display().to_string(),
            payments: config.payments,
            burst_events,
            duplicates: config.duplicates.min(burst_events),
            concurrency: config.concurrency,
            redelivery_delay_ms: millis(config.redelivery_delay),
            max_attempts: config.max_attempts,
            request_timeout_ms: millis(config.request_timeout),
            cost_bucket_maximum: config.cost_bucket_maximum,
            cost_restore_rate: config.cost_restore_rate,
            shopify_auth: stack.options().shopify_auth,
        },
        preparation,
        usual_path,
        burst,
    })
}

/// Makes the registrations through the dev server.
async fn prepare(
    stack: &LocalStack,
    server: &DevServerProcess,
    config: &BurstConfig,
) -> anyhow::Result<(Vec<PreparedPayment>, Preparation)> {
    let started = Instant::now();
    let payments = stack
        .prepare_payments(&server.base_url, config.payments)
        .await?;
    let preparation = Preparation {
        registrations: payments.len(),
        checkout_retries: payments
            .iter()
            .map(|payment| u64::from(payment.checkout_attempts.saturating_sub(1)))
            .sum(),
        seconds: started.elapsed().as_secs_f64(),
    };
    Ok((payments, preparation))
}

/// Returns the id of the event for payment number `index` of the run tagged `run_tag`.
fn event_id(run_tag: &str, index: usize) -> String {
    format!("evt_bench_{run_tag}_{index:04}")
}

/// Delivers the events of every payment but the first as a burst, and counts what came of
/// it. The product's counters are read before and after, outside the counted calls.
async fn measure_burst(
    stack: &LocalStack,
    server: &DevServerProcess,
    context: &Arc<DeliveryContext>,
    payments: &[PreparedPayment],
    run_tag: &str,
    config: &BurstConfig,
) -> anyhow::Result<BurstCounts> {
    let counters_before = product_counters(&context.http, &server.base_url).await?;
    let bodies: Vec<Arc<String>> = payments
        .iter()
        .enumerate()
        .skip(1)
        .map(|(index, payment)| {
            let event =
                stack.signed_succeeded_event(payment, &event_id(run_tag, index), unix_now());
            Arc::new(event.body)
        })
        .collect();
    let schedule = delivery_schedule(bodies.len(), config.duplicates, config.seed);

    stack.reset_counts().await?;
    let burst_started = Instant::now();
    let copies = deliver_all(context, &bodies, &schedule).await;
    let shopify_calls = stack.shopify_calls().await?;
    let aws_calls = stack.dynamo_calls();
    let counters_after = product_counters(&context.http, &server.base_url).await?;

    let burst_payments: Vec<&str> = payments[1..]
        .iter()
        .map(|payment| payment.payment_intent_id.as_str())
        .collect();
    let mut counts = delivery_counts(&copies, burst_started);
    tally_orders(
        &mut counts,
        &burst_payments,
        payments,
        &stack.shopify_orders().await?,
        &stack.failures().await?,
        &stack.order_record_statuses().await?,
    );
    counts.seconds_until_all_orders = time_until_all_orders(&copies, bodies.len(), burst_started);
    add_call_counts(&mut counts, shopify_calls, aws_calls);
    counts.product_counters = counter_growth(&counters_before, &counters_after);
    Ok(counts)
}

/// Delivers the event of `payment` once, alone, and counts the calls it caused.
async fn measure_usual_path(
    stack: &LocalStack,
    context: &DeliveryContext,
    payment: &PreparedPayment,
    run_tag: &str,
) -> anyhow::Result<UsualPath> {
    let event = stack.signed_succeeded_event(payment, &event_id(run_tag, 0), unix_now());
    stack.reset_counts().await?;
    let attempt = context.send(&event.body).await;
    let shopify_calls = stack.shopify_calls().await?;
    let (dynamodb_calls, other_aws_calls) = split_aws_calls(stack.dynamo_calls());
    Ok(UsualPath {
        status: attempt.status,
        result: attempt.result,
        elapsed_ms: attempt
            .finished
            .duration_since(attempt.started)
            .as_secs_f64()
            * 1000.0,
        shopify_calls,
        dynamodb_calls_total: dynamodb_calls.values().sum(),
        dynamodb_calls,
        other_aws_calls,
    })
}

/// Counts the orders, the lost payments and the recorded failures of the burst payments.
fn tally_orders(
    counts: &mut BurstCounts,
    burst_payments: &[&str],
    all_payments: &[PreparedPayment],
    orders: &[Value],
    failures: &[FailureRecord],
    order_records: &BTreeMap<String, String>,
) {
    let prepared: HashSet<&str> = all_payments
        .iter()
        .map(|payment| payment.payment_intent_id.as_str())
        .collect();
    let mut orders_per_payment: HashMap<&str, usize> = HashMap::new();
    for order in orders {
        match order["sourceIdentifier"].as_str() {
            Some(source) if prepared.contains(source) => {
                *orders_per_payment.entry(source).or_default() += 1;
            }
            _ => counts.unexpected_orders += 1,
        }
    }
    let failed: HashMap<&str, &FailureRecord> = failures
        .iter()
        .map(|failure| (failure.payment_intent_id.as_str(), failure))
        .collect();

    for &payment in burst_payments {
        let orders = orders_per_payment.get(payment).copied().unwrap_or(0);
        if orders > 0 {
            counts.orders_created += 1;
            counts.duplicate_orders += orders - 1;
        }
        if let Some(failure) = failed.get(payment) {
            counts.recorded_failures += 1;
            *counts
                .recorded_failure_reasons
                .entry(failure.reason.clone())
                .or_default() += 1;
        } else if orders == 0 {
            counts.lost += 1;
            if counts.lost_payment_intents.len() < LISTED_LOST {
                counts.lost_payment_intents.push(payment.to_owned());
            }
        }
        let status = order_records
            .get(payment)
            .map_or("none", String::as_str)
            .to_owned();
        *counts.order_records_by_status.entry(status).or_default() += 1;
    }
}

/// Adds the burst's call counts and their per-order ratios to `counts`.
fn add_call_counts(
    counts: &mut BurstCounts,
    shopify_calls: ShopifyCalls,
    aws_calls: BTreeMap<String, u64>,
) {
    let orders = counts.orders_created;
    let (dynamodb_calls, other_aws_calls) = split_aws_calls(aws_calls);
    counts.shopify_calls_per_order = per_order(&shopify_calls.by_operation, orders);
    counts.shopify_calls_per_order_total = ratio(shopify_calls.total, orders);
    counts.shopify_calls_without_new_order = shopify_calls.total.saturating_sub(orders as u64);
    counts.shopify_calls = shopify_calls;
    counts.dynamodb_calls_total = dynamodb_calls.values().sum();
    counts.dynamodb_calls_per_order = per_order(&dynamodb_calls, orders);
    counts.dynamodb_calls_per_order_total = ratio(counts.dynamodb_calls_total, orders);
    counts.dynamodb_calls = dynamodb_calls;
    counts.other_aws_calls = other_aws_calls;
}

/// Splits AWS calls into DynamoDB operations (without the `DynamoDB_20120810.` prefix) and
/// every other `X-Amz-Target`.
fn split_aws_calls(calls: BTreeMap<String, u64>) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let mut dynamodb = BTreeMap::new();
    let mut other = BTreeMap::new();
    for (target, count) in calls {
        match target.strip_prefix(DYNAMODB_TARGET_PREFIX) {
            Some(operation) => {
                dynamodb.insert(operation.to_owned(), count);
            }
            None => {
                other.insert(target, count);
            }
        }
    }
    (dynamodb, other)
}

fn per_order(calls: &BTreeMap<String, u64>, orders: usize) -> BTreeMap<String, f64> {
    calls
        .iter()
        .map(|(operation, count)| (operation.clone(), ratio(*count, orders)))
        .collect()
}

/// Returns `count / orders` rounded to three decimals, or 0 without orders.
fn ratio(count: u64, orders: usize) -> f64 {
    if orders == 0 {
        return 0.0;
    }
    (count as f64 / orders as f64 * 1000.0).round() / 1000.0
}

/// Reads today's counters from `/api/system-health`. The route returns 503 when the shop's
/// state is critical, and its body is read then too.
async fn product_counters(
    http: &reqwest::Client,
    api_base_url: &str,
) -> anyhow::Result<BTreeMap<String, i64>> {
    let response = http
        .get(format!("{api_base_url}/api/system-health"))
        .header("x-api-key", crate::stack::HEALTH_API_KEY)
        .send()
        .await
        .context("GET /api/system-health failed")?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .with_context(|| format!("/api/system-health returned {status} without JSON"))?;
    let counters = body["today"]["counters"].as_object().with_context(|| {
        format!("/api/system-health returned {status} without today's counters: {body}")
    })?;
    Ok(counters
        .iter()
        .map(|(name, count)| (name.clone(), count.as_i64().unwrap_or(0)))
        .collect())
}

/// Returns how much each counter grew; a counter read on another UTC day may shrink.
fn counter_growth(
    before: &BTreeMap<String, i64>,
    after: &BTreeMap<String, i64>,
) -> BTreeMap<String, i64> {
    after
        .iter()
        .map(|(name, count)| (name.clone(), count - before.get(name).copied().unwrap_or(0)))
        .collect()
}

/// Returns `target/bench/` of the workspace, where measures write their results.
pub fn output_dir() -> PathBuf {
    workspace_root().join("target").join("bench")
}

/// Returns the workspace root, two levels above this crate's manifest.
pub fn workspace_root() -> &'static Path {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.ancestors().nth(2).unwrap_or(manifest_dir)
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn payment(id: &str) -> PreparedPayment {
        PreparedPayment {
            payment_intent_id: id.to_owned(),
            registration_id: String::new(),
            amount: 100,
            currency: "usd".to_owned(),
            payment_intent: json!({}),
            checkout_attempts: 1,
        }
    }

    fn failure(id: &str, reason: &str) -> FailureRecord {
        FailureRecord {
            payment_intent_id: id.to_owned(),
            failed_at: 0,
            attempts: 1,
            reason: reason.to_owned(),
        }
    }

    #[test]
    fn tally_counts_lost_and_duplicates() {
        let all = [
            payment("pi_0"),
            payment("pi_1"),
            payment("pi_2"),
            payment("pi_3"),
            payment("pi_4"),
        ];
        let burst = ["pi_1", "pi_2", "pi_3", "pi_4"];
        let orders = [
            json!({"sourceIdentifier": "pi_0"}),
            json!({"sourceIdentifier": "pi_1"}),
            json!({"sourceIdentifier": "pi_1"}),
            json!({"sourceIdentifier": "pi_2"}),
            json!({"sourceIdentifier": "pi_other"}),
        ];
        let failures = [failure("pi_3", "shopify: throttled")];
        let records = BTreeMap::from([
            ("pi_1".to_owned(), "completed".to_owned()),
            ("pi_2".to_owned(), "completed".to_owned()),
            ("pi_3".to_owned(), "failed".to_owned()),
        ]);
        let mut counts = BurstCounts::default();
        tally_orders(&mut counts, &burst, &all, &orders, &failures, &records);

        assert_eq!(counts.orders_created, 2);
        assert_eq!(counts.duplicate_orders, 1);
        assert_eq!(counts.unexpected_orders, 1);
        assert_eq!(counts.recorded_failures, 1);
        assert_eq!(
            counts.recorded_failure_reasons.get("shopify: throttled"),
            Some(&1)
        );
        assert_eq!(counts.lost, 1);
        assert_eq!(counts.lost_payment_intents, ["pi_4"]);
        assert_eq!(counts.order_records_by_status.get("completed"), Some(&2));
        assert_eq!(counts.order_records_by_status.get("failed"), Some(&1));
        assert_eq!(counts.order_records_by_status.get("none"), Some(&1));
    }

    /// Builds an attempt that started and ended the given milliseconds after `origin`.
    #[test]
    fn split_strips_dynamodb_prefix() {
        let calls = BTreeMap::from([
            ("DynamoDB_20120810.UpdateItem".to_owned(), 3),
            ("secretsmanager.GetSecretValue".to_owned(), 1),
        ]);
        let (dynamodb, other) = split_aws_calls(calls);
        assert_eq!(dynamodb.get("UpdateItem"), Some(&3));
        assert_eq!(other.get("secretsmanager.GetSecretValue"), Some(&1));
        assert_eq!(dynamodb.len(), 1);
        assert_eq!(other.len(), 1);
    }

    #[test]
    fn ratio_rounds_to_thousandths() {
        assert_eq!(ratio(10, 3), 3.333);
        assert_eq!(ratio(5, 0), 0.0);
    }
}
