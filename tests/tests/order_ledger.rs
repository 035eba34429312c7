//! The order ledger's and the failure log's behaviour, run against both implementations:
//! in memory and DynamoDB on moto.
//!
//! The DynamoDB tests need moto at `MOTO_URL`, as `scripts/peers/run.py` sets it. Each
//! test creates its own table, so tests can run in parallel.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::{create_test_table, dynamodb_client};
use shared::orders::ledger::{Claim, FailureLog, FailureRecord, OrderLedger};
use shared::orders::ledger_dynamo::MAX_REASON_CHARS;
use shared::orders::{DynamoFailureLog, DynamoOrderLedger, MemoryFailureLog, MemoryOrderLedger};
use shared::shopify::CreatedOrder;
use shared::store::keys::ItemKey;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::task::JoinSet;

const PI: &str = "pi_test";
const NOW: i64 = 1_800_000_000;
const LEASE: i64 = 60;
const TTL_SECONDS: i64 = 90 * 24 * 3600;

type Item = HashMap<String, AttributeValue>;

fn memory_ledger() -> MemoryOrderLedger {
    MemoryOrderLedger::new(TTL_SECONDS)
}

fn memory_log() -> MemoryFailureLog {
    MemoryFailureLog::new(TTL_SECONDS)
}

/// Creates a fresh table on moto and returns a ledger on it.
async fn dynamo_ledger() -> DynamoOrderLedger {
    let table = create_test_table("order-ledger").await;
    DynamoOrderLedger::new(table.client, table.name, TTL_SECONDS)
}

/// Creates a fresh table on moto and returns a failure log on it.
async fn dynamo_log() -> DynamoFailureLog {
    let table = create_test_table("order-failures").await;
    DynamoFailureLog::new(table.client, table.name, TTL_SECONDS)
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

/// Reads the raw attributes of one item, failing the test when it does not exist.
async fn raw_item(client: &aws_sdk_dynamodb::Client, table: &str, pk: &str, sk: &str) -> Item {
    let output = client
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(pk.to_owned()))
        .key("sk", AttributeValue::S(sk.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem on moto failed");
    output
        .item
        .unwrap_or_else(|| panic!("no item with pk {pk} and sk {sk}"))
}

async fn raw_order_record(ledger: &DynamoOrderLedger, payment_intent_id: &str) -> Item {
    let key = ItemKey::order(payment_intent_id);
    raw_item(ledger.client(), ledger.table(), &key.pk, key.sk).await
}

fn string(item: &Item, name: &str) -> String {
    match item.get(name) {
        Some(AttributeValue::S(text)) => text.clone(),
        other => panic!("attribute {name} is not a string: {other:?}"),
    }
}

fn number(item: &Item, name: &str) -> i64 {
    match item.get(name) {
        Some(AttributeValue::N(text)) => text
            .parse()
            .unwrap_or_else(|_| panic!("attribute {name} is not a whole number: {text}")),
        other => panic!("attribute {name} is not a number: {other:?}"),
    }
}

async fn first_claim_proceeds(ledger: &dyn OrderLedger) {
    let claim = ledger.claim(PI, NOW, LEASE).await.unwrap();

    assert_eq!(
        claim,
        Claim::Proceed {
            attempt: 1,
            takeover: false
        }
    );
}

async fn claim_under_live_lease(ledger: &dyn OrderLedger) {
    ledger.claim(PI, NOW, LEASE).await.unwrap();

    let during = ledger.claim(PI, NOW + 1, LEASE).await.unwrap();
    // The lease covers its last second, as `lease_until < now` is strict.
    let at_end = ledger.claim(PI, NOW + LEASE, LEASE).await.unwrap();

    assert_eq!(during, Claim::InProgress);
    assert_eq!(at_end, Claim::InProgress);
}

async fn claim_after_complete(ledger: &dyn OrderLedger) {
    ledger.claim(PI, NOW, LEASE).await.unwrap();
    ledger.complete(PI, &order(), NOW + 5).await.unwrap();

    let within_lease = ledger.claim(PI, NOW + 6, LEASE).await.unwrap();
    let after_lease = ledger.claim(PI, NOW + LEASE + 1, LEASE).await.unwrap();

    assert_eq!(within_lease, Claim::Completed(order()));
    assert_eq!(after_lease, Claim::Completed(order()));
}

async fn claim_after_fail(ledger: &dyn OrderLedger) {
    ledger.claim(PI, NOW, LEASE).await.unwrap();
    ledger.fail(PI, "shopify: HTTP 503", NOW + 1).await.unwrap();

    // A failure frees the claim at once, even within the first lease.
    let second = ledger.claim(PI, NOW + 2, LEASE).await.unwrap();
    let during_second = ledger.claim(PI, NOW + 3, LEASE).await.unwrap();

    assert_eq!(
        second,
        Claim::Proceed {
            attempt: 2,
            takeover: true
        }
    );
    assert_eq!(during_second, Claim::InProgress);
}

async fn claim_after_lease_expiry(ledger: &dyn OrderLedger) {
    ledger.claim(PI, NOW, LEASE).await.unwrap();

    let second = ledger.claim(PI, NOW + LEASE + 1, LEASE).await.unwrap();
    let third = ledger.claim(PI, NOW + 3 * LEASE, LEASE).await.unwrap();

    assert_eq!(
        second,
        Claim::Proceed {
            attempt: 2,
            takeover: true
        }
    );
    assert_eq!(
        third,
        Claim::Proceed {
            attempt: 3,
            takeover: true
        }
    );
}

async fn fail_keeps_completed_record(ledger: &dyn OrderLedger) {
    ledger.claim(PI, NOW, LEASE).await.unwrap();
    ledger.complete(PI, &order(), NOW + 1).await.unwrap();

    ledger.fail(PI, "late failure", NOW + 2).await.unwrap();

    let claim = ledger.claim(PI, NOW + 3, LEASE).await.unwrap();
    assert_eq!(claim, Claim::Completed(order()));
}

async fn fail_without_claim(ledger: &dyn OrderLedger) {
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

async fn claims_are_per_payment_intent(ledger: &dyn OrderLedger) {
    ledger.claim("pi_a", NOW, LEASE).await.unwrap();

    let other = ledger.claim("pi_b", NOW, LEASE).await.unwrap();

    assert_eq!(
        other,
        Claim::Proceed {
            attempt: 1,
            takeover: false
        }
    );
}

async fn claim_rejects_nonpositive_lease(ledger: &dyn OrderLedger) {
    let error = ledger.claim(PI, NOW, 0).await.unwrap_err();
    assert!(error.0.contains("invalid lease"), "{error}");

    let claim = ledger.claim(PI, NOW, LEASE).await.unwrap();
    assert_eq!(
        claim,
        Claim::Proceed {
            attempt: 1,
            takeover: false
        }
    );
}

async fn failures_listed_oldest_first(log: &dyn FailureLog) {
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

async fn failure_record_overwrites(log: &dyn FailureLog) {
    log.record(&failure(PI, NOW)).await.unwrap();
    let latest = FailureRecord {
        attempts: 3,
        reason: "shopify: user error".to_owned(),
        ..failure(PI, NOW + 100)
    };

    log.record(&latest).await.unwrap();

    assert_eq!(log.list(10).await.unwrap(), [latest]);
}

async fn failure_resolve_removes(log: &dyn FailureLog) {
    log.record(&failure("pi_a", NOW)).await.unwrap();
    log.record(&failure("pi_b", NOW + 1)).await.unwrap();

    log.resolve("pi_a").await.unwrap();
    // Resolving an unknown PaymentIntent is not an error.
    log.resolve("pi_unknown").await.unwrap();

    assert_eq!(ids(&log.list(10).await.unwrap()), ["pi_b"]);
}

async fn failure_reason_truncated(log: &dyn FailureLog) {
    let long = FailureRecord {
        reason: "r".repeat(MAX_REASON_CHARS + 1),
        ..failure(PI, NOW)
    };

    log.record(&long).await.unwrap();

    let listed = log.list(1).await.unwrap();
    assert_eq!(listed[0].reason.chars().count(), MAX_REASON_CHARS);
}

async fn empty_failure_log(log: &dyn FailureLog) {
    assert!(log.list(10).await.unwrap().is_empty());
}

/// Runs each scenario against a new in-memory implementation (module `memory`) and one on
/// a new moto table (module `dynamo`), both made by the named constructors.
macro_rules! scenarios_for_both {
    ($module:ident, $memory:ident, $dynamo:ident, [$($scenario:ident),* $(,)?]) => {
        mod $module {
            mod memory {
                $(
                    #[tokio::test]
                    async fn $scenario() {
                        crate::$scenario(&crate::$memory()).await;
                    }
                )*
            }

            mod dynamo {
                $(
                    #[tokio::test]
                    async fn $scenario() {
                        crate::$scenario(&crate::$dynamo().await).await;
                    }
                )*
            }
        }
    };
}

scenarios_for_both!(
    ledger,
    memory_ledger,
    dynamo_ledger,
    [
        first_claim_proceeds,
        claim_under_live_lease,
        claim_after_complete,
        claim_after_fail,
        claim_after_lease_expiry,
        fail_keeps_completed_record,
        fail_without_claim,
        claims_are_per_payment_intent,
        claim_rejects_nonpositive_lease,
    ]
);

scenarios_for_both!(
    failure_log,
    memory_log,
    dynamo_log,
    [
        failures_listed_oldest_first,
        failure_record_overwrites,
        failure_resolve_removes,
        failure_reason_truncated,
        empty_failure_log,
    ]
);

/// Sends 20 claims of one PaymentIntent at once and checks that exactly one proceeds and
/// that only that one counted as an attempt. Runs several rounds, because one round may
/// not overlap the requests much.
async fn concurrent_claims_proceed_once(ledger: Arc<dyn OrderLedger>) {
    for round in 0..5 {
        let payment_intent_id = format!("pi_concurrent_{round}");
        let mut tasks = JoinSet::new();
        for _ in 0..20 {
            let ledger = Arc::clone(&ledger);
            let payment_intent_id = payment_intent_id.clone();
            tasks.spawn(async move { ledger.claim(&payment_intent_id, NOW, LEASE).await });
        }

        let claims: Vec<Claim> = tasks
            .join_all()
            .await
            .into_iter()
            .map(|claim| claim.expect("claim failed"))
            .collect();

        let proceeded = claims
            .iter()
            .filter(|claim| {
                **claim
                    == Claim::Proceed {
                        attempt: 1,
                        takeover: false,
                    }
            })
            .count();
        let in_progress = claims
            .iter()
            .filter(|claim| **claim == Claim::InProgress)
            .count();
        assert_eq!(proceeded, 1, "{claims:?}");
        assert_eq!(in_progress, 19, "{claims:?}");
        let after_lease = ledger
            .claim(&payment_intent_id, NOW + LEASE + 1, LEASE)
            .await
            .unwrap();
        assert_eq!(
            after_lease,
            Claim::Proceed {
                attempt: 2,
                takeover: true
            }
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_concurrent_claims_proceed_once() {
    concurrent_claims_proceed_once(Arc::new(memory_ledger())).await;
}

// NOTE: this test failed in 11 of 30 runs on moto 5.2.5, because moto is not atomic.
// Its `update_item` checks the condition, writes the bare key and then applies the update
// expression, with no lock, on a threaded server. Two claims can then both proceed, or
// one can see an item without `status`. DynamoDB applies each UpdateItem atomically, as
// the DynamoDB Developer Guide states in "Best practices for handling concurrent updates".
// Run it with `--ignored` against an emulator that serialises writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "moto 5.2.5 does not apply conditional updates atomically"]
async fn dynamo_concurrent_claims_proceed_once() {
    concurrent_claims_proceed_once(Arc::new(dynamo_ledger().await)).await;
}

#[tokio::test]
async fn dynamo_reserved_word_status() {
    let ledger = dynamo_ledger().await;
    let key = ItemKey::order("pi_reserved");

    // moto, like DynamoDB, rejects `status` written bare in an expression, so the ledger's
    // calls below pass only because they use the `#status` placeholder.
    let bare = ledger
        .client()
        .update_item()
        .table_name(ledger.table())
        .key("pk", AttributeValue::S(key.pk.clone()))
        .key("sk", AttributeValue::S(key.sk.to_owned()))
        .update_expression("SET status = :status")
        .expression_attribute_values(":status", AttributeValue::S("in_progress".to_owned()))
        .send()
        .await
        .expect_err("moto accepted the reserved word `status` in an expression");
    assert_eq!(bare.code(), Some("ValidationException"), "{bare:?}");

    ledger.claim("pi_reserved", NOW, LEASE).await.unwrap();
    ledger
        .fail("pi_reserved", "shopify: HTTP 503", NOW + 1)
        .await
        .unwrap();
    ledger.claim("pi_reserved", NOW + 2, LEASE).await.unwrap();
    ledger
        .complete("pi_reserved", &order(), NOW + 3)
        .await
        .unwrap();
    let claim = ledger.claim("pi_reserved", NOW + 4, LEASE).await.unwrap();
    assert_eq!(claim, Claim::Completed(order()));
}

#[tokio::test]
async fn dynamo_order_record_layout() {
    let ledger = dynamo_ledger().await;

    ledger.claim(PI, NOW, LEASE).await.unwrap();
    let claimed = raw_order_record(&ledger, PI).await;
    assert_eq!(string(&claimed, "pk"), format!("PAYMENT_INTENT#{PI}"));
    assert_eq!(string(&claimed, "sk"), "ORDER");
    assert_eq!(string(&claimed, "status"), "in_progress");
    assert_eq!(number(&claimed, "lease_until"), NOW + LEASE);
    assert_eq!(number(&claimed, "attempts"), 1);
    assert_eq!(number(&claimed, "updated_at"), NOW);
    assert_eq!(number(&claimed, "expires_at"), NOW + TTL_SECONDS);

    ledger.fail(PI, "shopify: HTTP 503", NOW + 1).await.unwrap();
    let failed = raw_order_record(&ledger, PI).await;
    assert_eq!(string(&failed, "status"), "failed");
    assert_eq!(string(&failed, "reason"), "shopify: HTTP 503");
    assert!(!failed.contains_key("lease_until"), "{failed:?}");
    assert_eq!(number(&failed, "attempts"), 1);
    assert_eq!(number(&failed, "expires_at"), NOW + 1 + TTL_SECONDS);

    ledger.claim(PI, NOW + 2, LEASE).await.unwrap();
    let reclaimed = raw_order_record(&ledger, PI).await;
    assert_eq!(string(&reclaimed, "status"), "in_progress");
    assert!(!reclaimed.contains_key("reason"), "{reclaimed:?}");
    assert_eq!(number(&reclaimed, "attempts"), 2);

    ledger.complete(PI, &order(), NOW + 3).await.unwrap();
    let completed = raw_order_record(&ledger, PI).await;
    assert_eq!(string(&completed, "status"), "completed");
    assert_eq!(string(&completed, "order_id"), "gid://shopify/Order/1");
    assert_eq!(string(&completed, "order_name"), "#1001");
    assert!(!completed.contains_key("lease_until"), "{completed:?}");
    assert_eq!(number(&completed, "attempts"), 2);
    assert_eq!(number(&completed, "updated_at"), NOW + 3);
    assert_eq!(number(&completed, "expires_at"), NOW + 3 + TTL_SECONDS);
}

#[tokio::test]
async fn dynamo_fail_truncates_reason() {
    let ledger = dynamo_ledger().await;
    ledger.claim(PI, NOW, LEASE).await.unwrap();

    ledger
        .fail(PI, &"é".repeat(MAX_REASON_CHARS * 2), NOW + 1)
        .await
        .unwrap();

    let failed = raw_order_record(&ledger, PI).await;
    assert_eq!(string(&failed, "reason").chars().count(), MAX_REASON_CHARS);
}

#[tokio::test]
async fn dynamo_failure_item_layout() {
    let log = dynamo_log().await;
    let recorded = FailureRecord {
        attempts: 2,
        ..failure(PI, NOW)
    };

    log.record(&recorded).await.unwrap();

    let item = raw_item(log.client(), log.table(), "FAILURE", PI).await;
    assert_eq!(number(&item, "failed_at"), NOW);
    assert_eq!(number(&item, "attempts"), 2);
    assert_eq!(string(&item, "reason"), "shopify: HTTP 503");
    assert_eq!(number(&item, "expires_at"), NOW + TTL_SECONDS);
}

#[tokio::test]
async fn dynamo_missing_table_error() {
    let ledger = DynamoOrderLedger::new(dynamodb_client(), "no-such-table", TTL_SECONDS);
    let log = DynamoFailureLog::new(dynamodb_client(), "no-such-table", TTL_SECONDS);
    let reason = "shopify: rejected runner@example.com";

    let claim_error = ledger.claim(PI, NOW, LEASE).await.unwrap_err().to_string();
    let fail_error = ledger.fail(PI, reason, NOW).await.unwrap_err().to_string();
    let record_error = log
        .record(&FailureRecord {
            reason: reason.to_owned(),
            ..failure(PI, NOW)
        })
        .await
        .unwrap_err()
        .to_string();
    let list_error = log.list(10).await.unwrap_err().to_string();

    assert!(claim_error.contains("UpdateItem"), "{claim_error}");
    assert!(
        claim_error.contains("ResourceNotFoundException"),
        "{claim_error}"
    );
    assert!(claim_error.contains(PI), "{claim_error}");
    assert!(fail_error.contains("UpdateItem"), "{fail_error}");
    assert!(!fail_error.contains("runner@example.com"), "{fail_error}");
    assert!(record_error.contains("PutItem"), "{record_error}");
    assert!(
        !record_error.contains("runner@example.com"),
        "{record_error}"
    );
    assert!(list_error.contains("Query"), "{list_error}");
    assert!(
        list_error.contains("ResourceNotFoundException"),
        "{list_error}"
    );
}
