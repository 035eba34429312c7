//! Webhook bursts against the dev server binary, localstripe, moto and the Shopify sandbox.
//!
//! Run them through `python3 scripts/peers/run.py -- cargo test -p bench`, which starts
//! localstripe and moto. The dev server binary is built with `cargo build -p dev-server`
//! (`--release` when the tests are built in release mode) unless `BENCH_DEV_SERVER` names
//! a binary.
//!
//! `burst_full_run` is ignored by default: it runs the 500-payment burst of `make bench`,
//! prints the result and writes it to `target/bench/burst.json`.

use bench::burst::{output_dir, run_burst, workspace_root, BurstConfig, BurstResult};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// Returns the dev server binary, built for the test's own profile.
fn dev_server_binary() -> PathBuf {
    if let Ok(path) = std::env::var("BENCH_DEV_SERVER") {
        return PathBuf::from(path);
    }
    let root = workspace_root();
    let release = !cfg!(debug_assertions);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut build = Command::new(cargo);
    build.current_dir(root).args([
        "build",
        "--quiet",
        "-p",
        "dev-server",
        "--bin",
        "dev-server",
    ]);
    if release {
        build.arg("--release");
    }
    let status = build
        .status()
        .expect("running cargo build -p dev-server failed");
    assert!(
        status.success(),
        "cargo build -p dev-server failed: {status}"
    );
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    target
        .join(if release { "release" } else { "debug" })
        .join("dev-server")
}

/// Returns the settings of a small burst: 20 payments (1 for the usual path, 19 in the
/// burst), 2 duplicates and 4 deliveries at once, with the log in a file of its own.
fn small_config(name: &str) -> BurstConfig {
    let mut config = BurstConfig::standard(dev_server_binary());
    config.payments = 20;
    config.duplicates = 2;
    config.concurrency = 4;
    config.redelivery_delay = Duration::from_millis(500);
    config.dev_server_log = output_dir().join(format!("test-{name}-dev-server.log"));
    config
}

/// Checks what every burst must show: each payment has exactly one order, nothing is lost
/// or failed, and the counts agree with each other.
fn assert_exactly_one_order_each(result: &BurstResult) {
    let burst = &result.burst;
    let events = result.settings.burst_events;
    assert_eq!(
        burst.lost, 0,
        "lost payments: {:?}",
        burst.lost_payment_intents
    );
    assert_eq!(burst.duplicate_orders, 0);
    assert_eq!(burst.unexpected_orders, 0);
    assert_eq!(
        burst.recorded_failures, 0,
        "{:?}",
        burst.recorded_failure_reasons
    );
    assert_eq!(burst.orders_created, events);
    assert_eq!(burst.copies_given_up, 0);
    assert_eq!(
        burst.order_records_by_status.get("completed").copied(),
        Some(events as u64)
    );
    assert!(burst.seconds_until_all_orders.is_some());

    assert_eq!(
        burst.scheduled_deliveries,
        events + result.settings.duplicates
    );
    assert_eq!(
        burst.deliveries_sent,
        burst.scheduled_deliveries as u64 + burst.redeliveries
    );
    let responses: u64 = burst.responses_by_status.values().sum();
    assert_eq!(responses, burst.deliveries_sent);
    // moto can make the product return 503 `storage_unavailable` for a duplicate delivery
    // in flight (see the note in `bench::burst`), so only that 5xx is accepted.
    let server_errors: u64 = burst
        .responses_by_status
        .iter()
        .filter(|(status, _)| status.starts_with('5'))
        .map(|(_, count)| *count)
        .sum();
    let storage_unavailable = burst
        .responses_by_result
        .get("storage_unavailable")
        .copied()
        .unwrap_or(0);
    assert_eq!(
        server_errors, storage_unavailable,
        "responses: {:?}, results: {:?}",
        burst.responses_by_status, burst.responses_by_result
    );
    assert!(burst.shopify_calls.total >= events as u64);
    assert!(burst.dynamodb_calls_total > 0);
}

/// Checks the usual path: one `orderCreate`-style call and the DynamoDB writes of one order.
fn assert_usual_path(result: &BurstResult) {
    let usual = &result.usual_path;
    assert_eq!(usual.status, Some(200));
    assert_eq!(usual.result.as_deref(), Some("order_created"));
    assert_eq!(usual.shopify_calls.total, 1, "{:?}", usual.shopify_calls);
    assert!(usual.dynamodb_calls.get("UpdateItem").copied().unwrap_or(0) >= 2);
    assert!(
        usual.other_aws_calls.is_empty(),
        "the secret is read at start-up only: {:?}",
        usual.other_aws_calls
    );
}

#[tokio::test]
async fn small_burst_one_order_each() {
    let result = run_burst(small_config("small"))
        .await
        .expect("the burst failed");
    assert_usual_path(&result);
    assert_exactly_one_order_each(&result);
    assert_eq!(result.burst.shopify_calls_without_new_order, 0);
}

/// A bucket of 30 points restored at 20 points per second lets 3 orders through at once
/// and then 2 per second, so most deliveries are throttled and retried.
#[tokio::test]
async fn throttled_burst_one_order_each() {
    let mut config = small_config("throttled");
    config.cost_bucket_maximum = 30.0;
    config.cost_restore_rate = 20.0;
    let result = run_burst(config).await.expect("the burst failed");
    assert_exactly_one_order_each(&result);
    assert!(
        result.burst.shopify_calls_without_new_order > 0,
        "no call was throttled: {:?}",
        result.burst.shopify_calls
    );
}
