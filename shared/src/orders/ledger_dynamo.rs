//! [`OrderLedger`] and [`FailureLog`] on the DynamoDB table described in
//! [`crate::store::keys`].
//!
//! Attributes of an order record (`pk = PAYMENT_INTENT#<id>`, `sk = ORDER`):
//! - `status` (S): `in_progress`, `completed` or `failed`.
//! - `attempts` (N): claims granted so far.
//! - `lease_until` (N, Unix seconds): only while in progress.
//! - `order_id` and `order_name` (S): only once completed.
//! - `reason` (S): only once failed.
//! - `updated_at` (N) and `expires_at` (N, `updated_at` plus the ledger's TTL).
//!
//! Attributes of a failure item (`pk = FAILURE`, `sk = <id>`): `failed_at` (N),
//! `attempts` (N), `reason` (S) and `expires_at` (N, `failed_at` plus the log's TTL).
//!
//! Every expression refers to attributes through `#name` placeholders, because `status` is
//! a DynamoDB reserved word.

use super::ledger::{Claim, FailureLog, FailureRecord, OrderLedger};
use crate::shopify::CreatedOrder;
use crate::store::attributes::{
    key_attributes, number, optional_number, required_number, required_string, sdk_error, string,
    Item,
};
use crate::store::keys::{ItemKey, EXPIRES_AT, FAILURE_PARTITION, PARTITION_KEY, SORT_KEY};
use crate::store::StoreError;
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use aws_sdk_dynamodb::Client;
use std::collections::HashMap;

/// A TTL of 90 days, for both the ledger and the failure log. A ledger record must outlive
/// every redelivery and replay of its payment, or a late one would create a second order.
pub const DEFAULT_TTL_SECONDS: i64 = 90 * 24 * 60 * 60;

/// Maximum length of a stored failure reason, in characters. Longer reasons are cut.
pub const MAX_REASON_CHARS: usize = 200;

const STATUS: &str = "status";
const ATTEMPTS: &str = "attempts";
const LEASE_UNTIL: &str = "lease_until";
const ORDER_ID: &str = "order_id";
const ORDER_NAME: &str = "order_name";
const REASON: &str = "reason";
const UPDATED_AT: &str = "updated_at";
const FAILED_AT: &str = "failed_at";

const CLAIM_UPDATE: &str = "SET #status = :in_progress, #lease_until = :lease_until, \
     #attempts = if_not_exists(#attempts, :zero) + :one, #updated_at = :now, \
     #expires_at = :expires_at REMOVE #reason";
const CLAIM_CONDITION: &str = "attribute_not_exists(#pk) OR #status = :failed \
     OR (#status = :in_progress AND #lease_until < :now)";
const COMPLETE_UPDATE: &str = "SET #status = :completed, #order_id = :order_id, \
     #order_name = :order_name, #updated_at = :now, #expires_at = :expires_at \
     REMOVE #lease_until, #reason";
const FAIL_UPDATE: &str = "SET #status = :failed, #reason = :reason, #updated_at = :now, \
     #expires_at = :expires_at REMOVE #lease_until";
const FAIL_CONDITION: &str = "attribute_not_exists(#pk) OR #status <> :completed";

/// Value of the `status` attribute of an order record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    InProgress,
    Completed,
    Failed,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::InProgress => "in_progress",
            Status::Completed => "completed",
            Status::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Status::InProgress, Status::Completed, Status::Failed]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// Order records, one per PaymentIntent, stored in one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoOrderLedger {
    client: Client,
    table: String,
    ttl_seconds: i64,
}

impl DynamoOrderLedger {
    /// Creates a ledger on table `table` that sends its requests through `client`. Each
    /// write sets `expires_at` to its `now` plus `ttl_seconds`.
    pub fn new(client: Client, table: impl Into<String>, ttl_seconds: i64) -> Self {
        Self {
            client,
            table: table.into(),
            ttl_seconds,
        }
    }

    /// Creates a ledger with the region, credentials and endpoint of `config`, as loaded by
    /// `setup::aws_config` in a Lambda function.
    pub fn from_config(
        config: &aws_config::SdkConfig,
        table: impl Into<String>,
        ttl_seconds: i64,
    ) -> Self {
        Self::new(Client::new(config), table, ttl_seconds)
    }

    /// Returns the client that sends the ledger's requests.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Returns the table name.
    pub fn table(&self) -> &str {
        &self.table
    }
}

#[async_trait]
impl OrderLedger for DynamoOrderLedger {
    // One UpdateItem both checks and takes the claim. `ReturnValue::AllOld` returns the
    // item as this same atomic write found it. No item means a first claim. An old item
    // means a takeover, because the condition admits only a failed record or one whose
    // lease expired. The new attempt number is the old `attempts` plus one, as the update
    // expression computes it, so `AllNew` is not needed. When the condition fails,
    // `ReturnValuesOnConditionCheckFailure::AllOld` returns the item that failed it, so a
    // completed order is reported without a second read.
    async fn claim(
        &self,
        payment_intent_id: &str,
        now: i64,
        lease_seconds: i64,
    ) -> Result<Claim, StoreError> {
        check_lease(lease_seconds)?;
        let subject = payment_intent_subject(payment_intent_id);
        let values = value_placeholders([
            (":in_progress", string(Status::InProgress.as_str())),
            (":failed", string(Status::Failed.as_str())),
            (":lease_until", number(now.saturating_add(lease_seconds))),
            (":zero", number(0)),
            (":one", number(1)),
            (":now", number(now)),
            (":expires_at", number(expiry(now, self.ttl_seconds))),
        ]);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(&ItemKey::order(payment_intent_id))))
            .update_expression(CLAIM_UPDATE)
            .condition_expression(CLAIM_CONDITION)
            .set_expression_attribute_names(Some(name_placeholders(&[
                PARTITION_KEY,
                STATUS,
                LEASE_UNTIL,
                ATTEMPTS,
                UPDATED_AT,
                EXPIRES_AT,
                REASON,
            ])))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;

        match result {
            Ok(output) => claim_granted(output.attributes(), &subject),
            Err(error) => match error.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    claim_rejected(failed.item(), &subject)
                }
                _ => Err(sdk_error("UpdateItem", &subject, error)),
            },
        }
    }

    // The write has no condition, because the order exists in Shopify. It is recorded
    // even when another attempt has taken over the claim since, and a second completion
    // overwrites the first.
    async fn complete(
        &self,
        payment_intent_id: &str,
        order: &CreatedOrder,
        now: i64,
    ) -> Result<(), StoreError> {
        let values = value_placeholders([
            (":completed", string(Status::Completed.as_str())),
            (":order_id", string(&order.id)),
            (":order_name", string(&order.name)),
            (":now", number(now)),
            (":expires_at", number(expiry(now, self.ttl_seconds))),
        ]);
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(&ItemKey::order(payment_intent_id))))
            .update_expression(COMPLETE_UPDATE)
            .set_expression_attribute_names(Some(name_placeholders(&[
                STATUS,
                ORDER_ID,
                ORDER_NAME,
                UPDATED_AT,
                EXPIRES_AT,
                LEASE_UNTIL,
                REASON,
            ])))
            .set_expression_attribute_values(Some(values))
            .send()
            .await
            .map_err(|error| {
                sdk_error(
                    "UpdateItem",
                    &payment_intent_subject(payment_intent_id),
                    error,
                )
            })?;
        Ok(())
    }

    // A completed record stays completed. Otherwise a late failure of an attempt whose
    // lease expired would make the PaymentIntent claimable again and lead to a second
    // order.
    //
    // NOTE: nothing ties a failure to the attempt that claimed the record, because the
    // trait passes no attempt number. A late failure of an expired attempt therefore also
    // ends the lease of the attempt that took over, and a third attempt may then claim
    // the record while the second is still running. That attempt receives
    // `takeover = true` and must look for an existing order first.
    async fn fail(
        &self,
        payment_intent_id: &str,
        reason: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let values = value_placeholders([
            (":failed", string(Status::Failed.as_str())),
            (":completed", string(Status::Completed.as_str())),
            (":reason", string(&truncate_reason(reason))),
            (":now", number(now)),
            (":expires_at", number(expiry(now, self.ttl_seconds))),
        ]);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(&ItemKey::order(payment_intent_id))))
            .update_expression(FAIL_UPDATE)
            .condition_expression(FAIL_CONDITION)
            .set_expression_attribute_names(Some(name_placeholders(&[
                PARTITION_KEY,
                STATUS,
                REASON,
                UPDATED_AT,
                EXPIRES_AT,
                LEASE_UNTIL,
            ])))
            .set_expression_attribute_values(Some(values))
            .send()
            .await;

        match result {
            Ok(_) => Ok(()),
            Err(error)
                if matches!(
                    error.as_service_error(),
                    Some(UpdateItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                tracing::warn!(
                    payment_intent_id,
                    "the order record is completed already, so the failure is not recorded"
                );
                Ok(())
            }
            Err(error) => Err(sdk_error(
                "UpdateItem",
                &payment_intent_subject(payment_intent_id),
                error,
            )),
        }
    }
}

/// Order failures stored in one partition of a DynamoDB table.
///
/// NOTE: every failure shares the partition `FAILURE`, so [`FailureLog::list`] reads all
/// of them. That suits a log that contains a few failures until a person replays them,
/// and would need a different layout if thousands stayed unresolved.
#[derive(Debug, Clone)]
pub struct DynamoFailureLog {
    client: Client,
    table: String,
    ttl_seconds: i64,
}

impl DynamoFailureLog {
    /// Creates a failure log on table `table` that sends its requests through `client`.
    /// Each failure expires `ttl_seconds` after its `failed_at`, resolved or not.
    pub fn new(client: Client, table: impl Into<String>, ttl_seconds: i64) -> Self {
        Self {
            client,
            table: table.into(),
            ttl_seconds,
        }
    }

    /// Creates a failure log with the region, credentials and endpoint of `config`, as
    /// loaded by `setup::aws_config` in a Lambda function.
    pub fn from_config(
        config: &aws_config::SdkConfig,
        table: impl Into<String>,
        ttl_seconds: i64,
    ) -> Self {
        Self::new(Client::new(config), table, ttl_seconds)
    }

    /// Returns the client that sends the log's requests.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Returns the table name.
    pub fn table(&self) -> &str {
        &self.table
    }
}

#[async_trait]
impl FailureLog for DynamoFailureLog {
    // A PutItem without a condition, so the latest failure of a PaymentIntent replaces the
    // earlier one, attempts included.
    async fn record(&self, failure: &FailureRecord) -> Result<(), StoreError> {
        check_payment_intent_id(&failure.payment_intent_id)?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(failure_item(failure, self.ttl_seconds)))
            .send()
            .await
            .map_err(|error| {
                sdk_error(
                    "PutItem",
                    &failure_subject(&failure.payment_intent_id),
                    error,
                )
            })?;
        Ok(())
    }

    async fn resolve(&self, payment_intent_id: &str) -> Result<(), StoreError> {
        check_payment_intent_id(payment_intent_id)?;
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(failure_key(payment_intent_id)))
            .send()
            .await
            .map_err(|error| sdk_error("DeleteItem", &failure_subject(payment_intent_id), error))?;
        Ok(())
    }

    // The Query returns failures sorted by PaymentIntent id, so every page is read and the
    // failures are then sorted by `failed_at` before `limit` applies.
    async fn list(&self, limit: usize) -> Result<Vec<FailureRecord>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let subject = "the failure log";
        let items: Vec<Item> = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .expression_attribute_values(":pk", string(FAILURE_PARTITION))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|error| sdk_error("Query", subject, error))?;

        let mut failures = items
            .iter()
            .map(decode_failure)
            .collect::<Result<Vec<_>, _>>()?;
        sort_oldest_first(&mut failures);
        failures.truncate(limit);
        Ok(failures)
    }
}

/// Returns the first [`MAX_REASON_CHARS`] characters of `reason`.
pub fn truncate_reason(reason: &str) -> String {
    reason.chars().take(MAX_REASON_CHARS).collect()
}

/// Rejects a lease that would end at or before the moment it is taken.
pub(super) fn check_lease(lease_seconds: i64) -> Result<(), StoreError> {
    if lease_seconds > 0 {
        Ok(())
    } else {
        Err(StoreError(format!(
            "invalid lease of {lease_seconds} seconds, expected a positive number of seconds"
        )))
    }
}

/// Rejects an empty PaymentIntent id, which DynamoDB does not accept as a sort key.
pub(super) fn check_payment_intent_id(payment_intent_id: &str) -> Result<(), StoreError> {
    if payment_intent_id.is_empty() {
        Err(StoreError(
            "invalid failure: the PaymentIntent id is empty, and a failure needs one as its key"
                .to_owned(),
        ))
    } else {
        Ok(())
    }
}

/// Sorts failures by `failed_at`, oldest first, and by PaymentIntent id within one second.
pub(super) fn sort_oldest_first(failures: &mut [FailureRecord]) {
    failures.sort_by(|a, b| {
        (a.failed_at, &a.payment_intent_id).cmp(&(b.failed_at, &b.payment_intent_id))
    });
}

/// Unix seconds when an item written at `now` expires, `ttl_seconds` later.
pub(super) fn expiry(now: i64, ttl_seconds: i64) -> i64 {
    now.saturating_add(ttl_seconds)
}

/// Converts the `ALL_OLD` attributes of a successful claim into [`Claim::Proceed`].
fn claim_granted(old: Option<&Item>, subject: &str) -> Result<Claim, StoreError> {
    // DynamoDB omits the attributes when no item existed. An empty map means the same.
    let Some(old) = old.filter(|old| !old.is_empty()) else {
        return Ok(Claim::Proceed {
            attempt: 1,
            takeover: false,
        });
    };
    // A record that `complete` or `fail` wrote without a claim has no `attempts`.
    let previous = optional_number::<u32>(old, ATTEMPTS, subject)?.unwrap_or(0);
    Ok(Claim::Proceed {
        attempt: previous.saturating_add(1),
        takeover: true,
    })
}

/// Converts the item that failed the claim's condition into the claim's outcome.
fn claim_rejected(existing: Option<&Item>, subject: &str) -> Result<Claim, StoreError> {
    let Some(existing) = existing else {
        return Err(StoreError(format!(
            "DynamoDB UpdateItem for {subject} failed its condition but returned no \
             existing item"
        )));
    };
    let status_text = required_string(existing, STATUS, subject)?;
    match Status::parse(status_text) {
        Some(Status::Completed) => Ok(Claim::Completed(CreatedOrder {
            id: required_string(existing, ORDER_ID, subject)?.to_owned(),
            name: required_string(existing, ORDER_NAME, subject)?.to_owned(),
        })),
        Some(Status::InProgress) => Ok(Claim::InProgress),
        // The condition accepts `failed`, so only a corrupt item gets here.
        Some(Status::Failed) | None => Err(StoreError(format!(
            "the order record of {subject} has status `{status_text}`, which the claim's \
             condition rejected unexpectedly"
        ))),
    }
}

/// Builds the full failure item that `record` writes.
fn failure_item(failure: &FailureRecord, ttl_seconds: i64) -> Item {
    let mut item = failure_key(&failure.payment_intent_id);
    item.insert(FAILED_AT.to_owned(), number(failure.failed_at));
    item.insert(
        ATTEMPTS.to_owned(),
        AttributeValue::N(failure.attempts.to_string()),
    );
    item.insert(REASON.to_owned(), string(&truncate_reason(&failure.reason)));
    item.insert(
        EXPIRES_AT.to_owned(),
        number(expiry(failure.failed_at, ttl_seconds)),
    );
    item
}

fn decode_failure(item: &Item) -> Result<FailureRecord, StoreError> {
    let payment_intent_id = required_string(item, SORT_KEY, "an item of the failure log")?;
    let subject = failure_subject(payment_intent_id);
    Ok(FailureRecord {
        payment_intent_id: payment_intent_id.to_owned(),
        failed_at: required_number(item, FAILED_AT, &subject)?,
        attempts: required_number(item, ATTEMPTS, &subject)?,
        reason: required_string(item, REASON, &subject)?.to_owned(),
    })
}

fn failure_key(payment_intent_id: &str) -> Item {
    HashMap::from([
        (PARTITION_KEY.to_owned(), string(FAILURE_PARTITION)),
        (SORT_KEY.to_owned(), string(payment_intent_id)),
    ])
}

/// Maps the placeholder `#<name>` to each attribute name in `names`.
fn name_placeholders(names: &[&str]) -> HashMap<String, String> {
    names
        .iter()
        .map(|name| (format!("#{name}"), (*name).to_owned()))
        .collect()
}

fn value_placeholders<const N: usize>(values: [(&str, AttributeValue); N]) -> Item {
    values
        .into_iter()
        .map(|(placeholder, value)| (placeholder.to_owned(), value))
        .collect()
}

fn payment_intent_subject(payment_intent_id: &str) -> String {
    format!("PaymentIntent {payment_intent_id}")
}

fn failure_subject(payment_intent_id: &str) -> String {
    format!("the failure of PaymentIntent {payment_intent_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBJECT: &str = "PaymentIntent pi_1";

    fn item<const N: usize>(attributes: [(&str, AttributeValue); N]) -> Item {
        value_placeholders(attributes)
    }

    #[test]
    fn first_claim_without_old_item() {
        let claim = claim_granted(None, SUBJECT).unwrap();
        assert_eq!(
            claim,
            Claim::Proceed {
                attempt: 1,
                takeover: false
            }
        );
    }

    #[test]
    fn first_claim_with_empty_old_item() {
        let claim = claim_granted(Some(&Item::new()), SUBJECT).unwrap();
        assert_eq!(
            claim,
            Claim::Proceed {
                attempt: 1,
                takeover: false
            }
        );
    }

    #[test]
    fn takeover_counts_old_attempts() {
        let old = item([
            (STATUS, string("failed")),
            (ATTEMPTS, AttributeValue::N("2".to_owned())),
        ]);

        let claim = claim_granted(Some(&old), SUBJECT).unwrap();

        assert_eq!(
            claim,
            Claim::Proceed {
                attempt: 3,
                takeover: true
            }
        );
    }

    #[test]
    fn takeover_without_old_attempts() {
        let old = item([(STATUS, string("failed"))]);

        let claim = claim_granted(Some(&old), SUBJECT).unwrap();

        assert_eq!(
            claim,
            Claim::Proceed {
                attempt: 1,
                takeover: true
            }
        );
    }

    #[test]
    fn rejected_claim_of_completed_record() {
        let existing = item([
            (STATUS, string("completed")),
            (ORDER_ID, string("gid://shopify/Order/1")),
            (ORDER_NAME, string("#1001")),
        ]);

        let claim = claim_rejected(Some(&existing), SUBJECT).unwrap();

        assert_eq!(
            claim,
            Claim::Completed(CreatedOrder {
                id: "gid://shopify/Order/1".to_owned(),
                name: "#1001".to_owned(),
            })
        );
    }

    #[test]
    fn rejected_claim_under_live_lease() {
        let existing = item([(STATUS, string("in_progress")), (LEASE_UNTIL, number(100))]);

        let claim = claim_rejected(Some(&existing), SUBJECT).unwrap();

        assert_eq!(claim, Claim::InProgress);
    }

    #[test]
    fn rejected_claim_errors() {
        let no_item = claim_rejected(None, SUBJECT).unwrap_err();
        assert!(no_item.0.contains("no existing item"), "{no_item}");

        let without_order = item([(STATUS, string("completed"))]);
        let missing = claim_rejected(Some(&without_order), SUBJECT).unwrap_err();
        assert!(missing.0.contains("`order_id`"), "{missing}");

        let unknown = item([(STATUS, string("paused"))]);
        let corrupt = claim_rejected(Some(&unknown), SUBJECT).unwrap_err();
        assert!(corrupt.0.contains("`paused`"), "{corrupt}");
    }

    #[test]
    fn status_names_round_trip() {
        for status in [Status::InProgress, Status::Completed, Status::Failed] {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        assert_eq!(Status::parse("IN_PROGRESS"), None);
    }

    #[test]
    fn failure_item_round_trip() {
        let failure = FailureRecord {
            payment_intent_id: "pi_1".to_owned(),
            failed_at: 1_800_000_000,
            attempts: 3,
            reason: "shopify: HTTP 503".to_owned(),
        };

        let item = failure_item(&failure, DEFAULT_TTL_SECONDS);

        assert_eq!(item.get("pk"), Some(&string("FAILURE")));
        assert_eq!(item.get("sk"), Some(&string("pi_1")));
        assert_eq!(
            item.get("expires_at"),
            Some(&number(1_800_000_000 + DEFAULT_TTL_SECONDS))
        );
        assert_eq!(decode_failure(&item).unwrap(), failure);
    }

    #[test]
    fn failure_item_truncates_reason() {
        let failure = FailureRecord {
            payment_intent_id: "pi_1".to_owned(),
            failed_at: 0,
            attempts: 1,
            reason: "x".repeat(MAX_REASON_CHARS + 50),
        };

        let item = failure_item(&failure, DEFAULT_TTL_SECONDS);

        let reason = decode_failure(&item).unwrap().reason;
        assert_eq!(reason.chars().count(), MAX_REASON_CHARS);
    }

    #[test]
    fn decode_failure_rejects_bad_number() {
        let mut item = failure_item(
            &FailureRecord {
                payment_intent_id: "pi_1".to_owned(),
                failed_at: 0,
                attempts: 1,
                reason: "shopify: HTTP 503".to_owned(),
            },
            DEFAULT_TTL_SECONDS,
        );
        item.insert(ATTEMPTS.to_owned(), AttributeValue::N("-1".to_owned()));

        let error = decode_failure(&item).unwrap_err();

        assert!(error.0.contains("`attempts`"), "{error}");
        assert!(error.0.contains("pi_1"), "{error}");
    }

    #[test]
    fn truncate_reason_keeps_whole_characters() {
        let reason = "é".repeat(MAX_REASON_CHARS + 1);

        let truncated = truncate_reason(&reason);

        assert_eq!(truncated.chars().count(), MAX_REASON_CHARS);
        assert_eq!(truncate_reason("short"), "short");
    }

    #[test]
    fn lease_must_be_positive() {
        assert!(check_lease(1).is_ok());
        assert!(check_lease(0).is_err());
        assert!(check_lease(-5).is_err());
    }

    #[test]
    fn name_placeholders_prefix_hash() {
        let names = name_placeholders(&[STATUS, PARTITION_KEY]);
        assert_eq!(names.get("#status").map(String::as_str), Some("status"));
        assert_eq!(names.get("#pk").map(String::as_str), Some("pk"));
        assert_eq!(names.len(), 2);
    }
}
