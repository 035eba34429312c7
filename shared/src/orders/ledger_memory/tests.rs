//! Behaviour of [`MemoryOrderLedger`] and [`MemoryFailureLog`], the doubles that handler
//! tests rely on. The integration tests run the same scenarios against DynamoDB (moto).

use super::*;
use crate::orders::ledger_dynamo::{DEFAULT_TTL_SECONDS, MAX_REASON_CHARS};

const PI: &str = "pi_test";
const NOW: i64 = 1_800_000_000;
const LEASE: i64 = 60;

fn ledger() -> MemoryOrderLedger {
    MemoryOrderLedger::new(DEFAULT_TTL_SECONDS)
}

fn order() -> CreatedOrder {
    CreatedOrder {
        id: "gid://shopify/Order/1".to_owned(),
        name: "#1001".to_owned(),
    }
}

fn failure(payment_intent_id: &str, failed_at: i64) -> FailureRecord {
    FailureRecord {
        payment_intent_id: payment_intent_id.to_owned(),
        failed_at,
        attempts: 1,
        reason: "shopify: HTTP 503".to_owned(),
    }
}

fn ids(failures: &[FailureRecord]) -> Vec<&str> {
    failures
        .iter()
        .map(|failure| failure.payment_intent_id.as_str())
        .collect()
}

#[tokio::test]
async fn first_claim_proceeds() {
    let ledger = ledger();

    let claim = ledger.claim(PI, NOW, LEASE).await.unwrap();

    assert_eq!(
        claim,
        Claim::Proceed {
            attempt: 1,
            takeover: false
        }
    );
    let record = ledger.record(PI).unwrap();
    assert_eq!(
        record.state,
        OrderState::InProgress {
            lease_until: NOW + LEASE
        }
    );
    assert_eq!(record.attempts, 1);
    assert_eq!(record.updated_at, NOW);
    assert_eq!(record.expires_at, NOW + DEFAULT_TTL_SECONDS);
}

#[tokio::test]
async fn claim_under_live_lease() {
    let ledger = ledger();
    ledger.claim(PI, NOW, LEASE).await.unwrap();

    let during = ledger.claim(PI, NOW + 1, LEASE).await.unwrap();
    // The lease covers its last second, as `lease_until < now` is strict.
    let at_end = ledger.claim(PI, NOW + LEASE, LEASE).await.unwrap();

    assert_eq!(during, Claim::InProgress);
    assert_eq!(at_end, Claim::InProgress);
    assert_eq!(ledger.record(PI).unwrap().attempts, 1);
}

#[tokio::test]
async fn claim_after_complete() {
    let ledger = ledger();
    ledger.claim(PI, NOW, LEASE).await.unwrap();
    ledger.complete(PI, &order(), NOW + 5).await.unwrap();

    // Also after the lease would have ended.
    let claim = ledger.claim(PI, NOW + LEASE + 1, LEASE).await.unwrap();

    assert_eq!(claim, Claim::Completed(order()));
    let record = ledger.record(PI).unwrap();
    assert_eq!(record.state, OrderState::Completed(order()));
    assert_eq!(record.attempts, 1);
    assert_eq!(record.expires_at, NOW + 5 + DEFAULT_TTL_SECONDS);
}

#[tokio::test]
async fn claim_after_fail() {
    let ledger = ledger();
    ledger.claim(PI, NOW, LEASE).await.unwrap();
    ledger.fail(PI, "shopify: HTTP 503", NOW + 1).await.unwrap();

    // A failure frees the claim at once, even within the first lease.
    let claim = ledger.claim(PI, NOW + 2, LEASE).await.unwrap();

    assert_eq!(
        claim,
        Claim::Proceed {
            attempt: 2,
            takeover: true
        }
    );
    assert_eq!(
        ledger.record(PI).unwrap().state,
        OrderState::InProgress {
            lease_until: NOW + 2 + LEASE
        }
    );
}

#[tokio::test]
async fn claim_after_lease_expiry() {
    let ledger = ledger();
    ledger.claim(PI, NOW, LEASE).await.unwrap();

    let claim = ledger.claim(PI, NOW + LEASE + 1, LEASE).await.unwrap();

    assert_eq!(
        claim,
        Claim::Proceed {
            attempt: 2,
            takeover: true
        }
    );
}

#[tokio::test]
async fn fail_keeps_completed_record() {
    let ledger = ledger();
    ledger.claim(PI, NOW, LEASE).await.unwrap();
    ledger.complete(PI, &order(), NOW + 1).await.unwrap();

    ledger.fail(PI, "late failure", NOW + 2).await.unwrap();

    let record = ledger.record(PI).unwrap();
    assert_eq!(record.state, OrderState::Completed(order()));
    assert_eq!(record.updated_at, NOW + 1);
    let claim = ledger.claim(PI, NOW + 3, LEASE).await.unwrap();
    assert_eq!(claim, Claim::Completed(order()));
}

#[tokio::test]
async fn fail_truncates_reason() {
    let ledger = ledger();
    ledger.claim(PI, NOW, LEASE).await.unwrap();

    ledger
        .fail(PI, &"r".repeat(MAX_REASON_CHARS * 2), NOW + 1)
        .await
        .unwrap();

    let OrderState::Failed { reason } = ledger.record(PI).unwrap().state else {
        panic!("the record is not failed");
    };
    assert_eq!(reason.chars().count(), MAX_REASON_CHARS);
}

#[tokio::test]
async fn fail_without_claim() {
    let ledger = ledger();

    ledger.fail(PI, "shopify: HTTP 503", NOW).await.unwrap();
    let claim = ledger.claim(PI, NOW + 1, LEASE).await.unwrap();

    assert_eq!(
        claim,
        Claim::Proceed {
            attempt: 1,
            takeover: true
        }
    );
}

#[tokio::test]
async fn claim_rejects_nonpositive_lease() {
    let ledger = ledger();

    let error = ledger.claim(PI, NOW, 0).await.unwrap_err();

    assert!(error.0.contains("invalid lease"), "{error}");
    assert_eq!(ledger.record(PI), None);
}

#[tokio::test]
async fn failures_listed_oldest_first() {
    let log = MemoryFailureLog::new(DEFAULT_TTL_SECONDS);
    log.record(&failure("pi_c", NOW + 20)).await.unwrap();
    log.record(&failure("pi_a", NOW + 30)).await.unwrap();
    log.record(&failure("pi_b", NOW + 10)).await.unwrap();
    // pi_0 failed in the same second as pi_b, so the PaymentIntent id decides the order.
    log.record(&failure("pi_0", NOW + 10)).await.unwrap();

    let all = log.list(10).await.unwrap();
    let first_two = log.list(2).await.unwrap();
    let none = log.list(0).await.unwrap();

    assert_eq!(ids(&all), ["pi_0", "pi_b", "pi_c", "pi_a"]);
    assert_eq!(ids(&first_two), ["pi_0", "pi_b"]);
    assert!(none.is_empty());
}

#[tokio::test]
async fn failure_record_overwrites() {
    let log = MemoryFailureLog::new(DEFAULT_TTL_SECONDS);
    log.record(&failure(PI, NOW)).await.unwrap();
    let latest = FailureRecord {
        attempts: 3,
        reason: "shopify: user error".to_owned(),
        ..failure(PI, NOW + 100)
    };

    log.record(&latest).await.unwrap();

    assert_eq!(log.list(10).await.unwrap(), [latest]);
    assert_eq!(log.expires_at(PI), Some(NOW + 100 + DEFAULT_TTL_SECONDS));
}

#[tokio::test]
async fn failure_resolve_removes() {
    let log = MemoryFailureLog::new(DEFAULT_TTL_SECONDS);
    log.record(&failure("pi_a", NOW)).await.unwrap();
    log.record(&failure("pi_b", NOW + 1)).await.unwrap();

    log.resolve("pi_a").await.unwrap();
    // Resolving an unknown PaymentIntent is not an error.
    log.resolve("pi_unknown").await.unwrap();

    assert_eq!(ids(&log.list(10).await.unwrap()), ["pi_b"]);
    assert_eq!(log.expires_at("pi_a"), None);
}

#[tokio::test]
async fn failure_reason_truncated() {
    let log = MemoryFailureLog::new(DEFAULT_TTL_SECONDS);
    let long = FailureRecord {
        reason: "r".repeat(MAX_REASON_CHARS + 1),
        ..failure(PI, NOW)
    };

    log.record(&long).await.unwrap();

    let listed = log.list(1).await.unwrap();
    assert_eq!(listed[0].reason.chars().count(), MAX_REASON_CHARS);
}

#[tokio::test]
async fn failure_rejects_empty_id() {
    let log = MemoryFailureLog::new(DEFAULT_TTL_SECONDS);

    let error = log.record(&failure("", NOW)).await.unwrap_err();

    assert!(error.0.contains("PaymentIntent id is empty"), "{error}");
    assert!(log.list(10).await.unwrap().is_empty());
}
