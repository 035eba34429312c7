//! [`MetricsSink`] and [`MetricsReader`] on the DynamoDB table described in
//! [`crate::store::keys`].
//!
//! Each UTC day has one item, `pk = METRICS#<YYYY-MM-DD>` and `sk = DAY`, with these
//! attributes:
//! - one number per [`Counter`], named by [`Counter::name`], absent until it first moves.
//! - `date` (S): the day as `YYYY-MM-DD`.
//! - `last_order_at` and `last_failure_at` (N, Unix seconds), `last_failure_reason` (S).
//! - `expires_at` (N): the `now` of the day's latest write plus the TTL.
//!
//! Every expression refers to attributes through `#name` placeholders, because `date` is
//! a DynamoDB reserved word.

use super::{Counter, DayMetrics, MetricsReader, MetricsSink, Tally};
use crate::orders::ledger_dynamo::truncate_reason;
use crate::store::attributes::{
    error_kind, key_attributes, number, optional_number, optional_string, string, Item,
};
use crate::store::keys::{ItemKey, EXPIRES_AT};
use crate::store::StoreError;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use std::collections::HashMap;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

/// A TTL of 90 days after a day's latest write.
pub const DEFAULT_TTL_SECONDS: i64 = 90 * 24 * 60 * 60;

const DATE: &str = "date";
const LAST_ORDER_AT: &str = "last_order_at";
const LAST_FAILURE_AT: &str = "last_failure_at";
const LAST_FAILURE_REASON: &str = "last_failure_reason";

/// Daily metrics stored in one DynamoDB table, one item per UTC day.
#[derive(Debug, Clone)]
pub struct DynamoMetrics {
    client: Client,
    table: String,
    ttl_seconds: i64,
}

impl DynamoMetrics {
    /// Creates a store on table `table` that sends its requests through `client`. Each
    /// write sets the day's `expires_at` to its `now` plus `ttl_seconds`.
    pub fn new(client: Client, table: impl Into<String>, ttl_seconds: i64) -> Self {
        Self {
            client,
            table: table.into(),
            ttl_seconds,
        }
    }

    /// Creates a store with the region, credentials and endpoint of `config`, as loaded by
    /// `setup::aws_config` in a Lambda function.
    pub fn from_config(
        config: &aws_config::SdkConfig,
        table: impl Into<String>,
        ttl_seconds: i64,
    ) -> Self {
        Self::new(Client::new(config), table, ttl_seconds)
    }

    /// Returns the client that sends the store's requests.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Returns the table name.
    pub fn table(&self) -> &str {
        &self.table
    }
}

#[async_trait]
impl MetricsSink for DynamoMetrics {
    // One UpdateItem per tally and no read first. DynamoDB applies ADD as an atomic
    // counter and starts a missing attribute or item at 0 (DynamoDB API Reference,
    // UpdateItem), so concurrent requests do not overwrite each other's counts. A write
    // that fails loses only its own counts, and the warning below reports it.
    async fn record(&self, tally: &Tally, now: i64) {
        if tally.is_empty() {
            return;
        }
        let Some(date) = utc_date(now) else {
            tracing::warn!(
                now,
                "daily metrics not recorded: the timestamp is out of range"
            );
            return;
        };
        let update = DayUpdate::new(tally, &date, now, self.ttl_seconds);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(&ItemKey::metrics_day(&date))))
            .update_expression(update.expression)
            .set_expression_attribute_names(Some(update.names))
            .set_expression_attribute_values(Some(update.values))
            .send()
            .await;
        if let Err(error) = result {
            tracing::warn!(
                day = %date,
                error = %error_kind(&error),
                "recording daily metrics failed, so this request's counts are lost"
            );
        }
    }
}

#[async_trait]
impl MetricsReader for DynamoMetrics {
    async fn day(&self, date: &str) -> Result<DayMetrics, StoreError> {
        check_date(date)?;
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(&ItemKey::metrics_day(date))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| {
                StoreError(format!(
                    "DynamoDB GetItem for the metrics of {date} failed: {}",
                    error_kind(&error)
                ))
            })?;
        match output.item() {
            Some(item) => decode_day(item, date),
            None => Ok(empty_day(date)),
        }
    }
}

/// Returns the UTC day that contains `now` (Unix seconds) as `YYYY-MM-DD`, or `None` when
/// `now` is outside the years the `time` crate supports.
pub fn utc_date(now: i64) -> Option<String> {
    let moment = OffsetDateTime::from_unix_timestamp(now).ok()?;
    Some(moment.date().to_string())
}

/// The update expression of one tally with its placeholders.
#[derive(Debug, Clone)]
struct DayUpdate {
    expression: String,
    names: HashMap<String, String>,
    values: Item,
}

impl DayUpdate {
    /// Builds `SET …` for the date, the TTL and the optional last-order and last-failure
    /// fields, then `ADD …` for each counter that moved. DynamoDB allows each clause
    /// keyword once per expression, so all counters share one ADD clause.
    //
    // NOTE: `last_order_at` and the last failure use a plain SET, so the last writer wins.
    // DynamoDB cannot keep the larger of two values inside an update expression, and a
    // condition would apply to the whole update, ADDs included. Two requests that race
    // may therefore store the older of their two times.
    fn new(tally: &Tally, date: &str, now: i64, ttl_seconds: i64) -> Self {
        let mut update = Self {
            expression: String::new(),
            names: HashMap::new(),
            values: Item::new(),
        };

        let mut sets = vec![
            update.assign(DATE, string(date)),
            update.assign(EXPIRES_AT, number(now.saturating_add(ttl_seconds))),
        ];
        if let Some(at) = tally.last_order_at {
            sets.push(update.assign(LAST_ORDER_AT, number(at)));
        }
        if let Some((at, reason)) = &tally.last_failure {
            sets.push(update.assign(LAST_FAILURE_AT, number(*at)));
            sets.push(update.assign(LAST_FAILURE_REASON, string(&truncate_reason(reason))));
        }
        update.expression = format!("SET {}", sets.join(", "));

        let adds: Vec<String> = tally
            .counts()
            .iter()
            .map(|(counter, amount)| {
                let value = AttributeValue::N(amount.to_string());
                update.add_placeholders(counter.name(), value)
            })
            .collect();
        if !adds.is_empty() {
            update.expression.push_str(" ADD ");
            update.expression.push_str(&adds.join(", "));
        }
        update
    }

    /// Registers `#name` and `:name` and returns the SET action `#name = :name`.
    fn assign(&mut self, name: &str, value: AttributeValue) -> String {
        let (name_placeholder, value_placeholder) = self.placeholders(name, value);
        format!("{name_placeholder} = {value_placeholder}")
    }

    /// Registers `#name` and `:name` and returns the ADD action `#name :name`.
    fn add_placeholders(&mut self, name: &str, value: AttributeValue) -> String {
        let (name_placeholder, value_placeholder) = self.placeholders(name, value);
        format!("{name_placeholder} {value_placeholder}")
    }

    fn placeholders(&mut self, name: &str, value: AttributeValue) -> (String, String) {
        let name_placeholder = format!("#{name}");
        let value_placeholder = format!(":{name}");
        self.names.insert(name_placeholder.clone(), name.to_owned());
        self.values.insert(value_placeholder.clone(), value);
        (name_placeholder, value_placeholder)
    }
}

/// Rejects a date that is not a calendar day written as `YYYY-MM-DD`.
fn check_date(date: &str) -> Result<(), StoreError> {
    match Date::parse(date, format_description!("[year]-[month]-[day]")) {
        Ok(_) => Ok(()),
        Err(_) => Err(StoreError(format!(
            "invalid date `{date}`, expected a calendar day written as YYYY-MM-DD"
        ))),
    }
}

fn empty_day(date: &str) -> DayMetrics {
    DayMetrics {
        date: date.to_owned(),
        counts: Counter::ALL.iter().map(|counter| (*counter, 0)).collect(),
        last_order_at: None,
        last_failure_at: None,
        last_failure_reason: None,
    }
}

fn decode_day(item: &Item, date: &str) -> Result<DayMetrics, StoreError> {
    let subject = format!("the metrics of {date}");
    let mut counts = Vec::with_capacity(Counter::ALL.len());
    for counter in Counter::ALL {
        let count = optional_number::<u64>(item, counter.name(), &subject)?.unwrap_or(0);
        counts.push((counter, count));
    }
    Ok(DayMetrics {
        date: date.to_owned(),
        counts,
        last_order_at: optional_number(item, LAST_ORDER_AT, &subject)?,
        last_failure_at: optional_number(item, LAST_FAILURE_AT, &subject)?,
        last_failure_reason: optional_string(item, LAST_FAILURE_REASON, &subject)?,
    })
}

#[cfg(test)]
mod tests;
