//! Daily pipeline metrics: what each request counts, and the seam that stores it.
//!
//! A request collects its counts in a [`Tally`] and hands it to a [`MetricsSink`] once at
//! the end, so counting costs one write per request however many counters move.

use async_trait::async_trait;
use serde::Serialize;
use std::sync::Mutex;

pub mod dynamo;
pub mod emf;

pub use dynamo::DynamoMetrics;
pub use emf::EmfMetrics;

/// One daily counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Counter {
    DiscountValid,
    DiscountInvalid,
    IntentsCreated,
    FreeRegistrations,
    WebhooksReceived,
    SignatureFailures,
    EventsIgnored,
    PaymentsFailed,
    OrdersCreated,
    DuplicatesSkipped,
    OrdersFailed,
    ShopifyThrottles,
    ShopifyRetries,
}

impl Counter {
    /// Every counter, in the order reports list them.
    pub const ALL: [Counter; 13] = [
        Counter::DiscountValid,
        Counter::DiscountInvalid,
        Counter::IntentsCreated,
        Counter::FreeRegistrations,
        Counter::WebhooksReceived,
        Counter::SignatureFailures,
        Counter::EventsIgnored,
        Counter::PaymentsFailed,
        Counter::OrdersCreated,
        Counter::DuplicatesSkipped,
        Counter::OrdersFailed,
        Counter::ShopifyThrottles,
        Counter::ShopifyRetries,
    ];

    /// Returns the attribute name used in storage and reports, such as `orders_created`.
    pub fn name(self) -> &'static str {
        match self {
            Counter::DiscountValid => "discount_valid",
            Counter::DiscountInvalid => "discount_invalid",
            Counter::IntentsCreated => "intents_created",
            Counter::FreeRegistrations => "free_registrations",
            Counter::WebhooksReceived => "webhooks_received",
            Counter::SignatureFailures => "signature_failures",
            Counter::EventsIgnored => "events_ignored",
            Counter::PaymentsFailed => "payments_failed",
            Counter::OrdersCreated => "orders_created",
            Counter::DuplicatesSkipped => "duplicates_skipped",
            Counter::OrdersFailed => "orders_failed",
            Counter::ShopifyThrottles => "shopify_throttles",
            Counter::ShopifyRetries => "shopify_retries",
        }
    }
}

/// The counts one request collected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    counts: Vec<(Counter, u64)>,
    /// Unix seconds of an order created during the request.
    pub last_order_at: Option<i64>,
    /// Unix seconds and a short reason, without personal data, of a failed order.
    pub last_failure: Option<(i64, String)>,
}

impl Tally {
    /// Adds one to `counter`.
    pub fn add(&mut self, counter: Counter) {
        self.add_many(counter, 1);
    }

    /// Adds `amount` to `counter`.
    pub fn add_many(&mut self, counter: Counter, amount: u64) {
        if amount == 0 {
            return;
        }
        match self.counts.iter_mut().find(|(known, _)| *known == counter) {
            Some((_, count)) => *count += amount,
            None => self.counts.push((counter, amount)),
        }
    }

    /// Returns the count of `counter` in this tally.
    pub fn count(&self, counter: Counter) -> u64 {
        self.counts
            .iter()
            .find(|(known, _)| *known == counter)
            .map_or(0, |(_, count)| *count)
    }

    /// Returns the counters that moved, with their amounts.
    pub fn counts(&self) -> &[(Counter, u64)] {
        &self.counts
    }

    /// True when nothing was counted or recorded.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty() && self.last_order_at.is_none() && self.last_failure.is_none()
    }
}

/// Where tallies go. Recording never fails the request it counts: an implementation logs
/// its own errors and returns.
#[async_trait]
pub trait MetricsSink: Send + Sync {
    /// Adds `tally` to the metrics of the UTC day that contains `now` (Unix seconds).
    async fn record(&self, tally: &Tally, now: i64);
}

/// One UTC day's stored metrics, as system-health reads them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DayMetrics {
    /// The day as `YYYY-MM-DD`.
    pub date: String,
    /// Every counter, zero when it never moved that day.
    pub counts: Vec<(Counter, u64)>,
    /// Unix seconds of the day's last order created.
    pub last_order_at: Option<i64>,
    /// Unix seconds of the day's last failure.
    pub last_failure_at: Option<i64>,
    /// The last failure's short reason, without personal data.
    pub last_failure_reason: Option<String>,
}

impl DayMetrics {
    /// Returns the count of `counter`.
    pub fn count(&self, counter: Counter) -> u64 {
        self.counts
            .iter()
            .find(|(known, _)| *known == counter)
            .map_or(0, |(_, count)| *count)
    }
}

/// Reads stored daily metrics.
#[async_trait]
pub trait MetricsReader: Send + Sync {
    /// Reads the metrics of the UTC day `date` (`YYYY-MM-DD`); all zero when nothing was stored.
    async fn day(&self, date: &str) -> Result<DayMetrics, crate::store::StoreError>;
}

/// A sink that drops everything, for tools that do not count.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoMetrics;

#[async_trait]
impl MetricsSink for NoMetrics {
    async fn record(&self, _tally: &Tally, _now: i64) {}
}

/// A sink that keeps every tally in memory, for tests.
#[derive(Debug, Default)]
pub struct MemoryMetrics {
    tallies: Mutex<Vec<Tally>>,
}

impl MemoryMetrics {
    /// Returns the sum of `counter` over every recorded tally.
    pub fn total(&self, counter: Counter) -> u64 {
        let tallies = self
            .tallies
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        tallies.iter().map(|tally| tally.count(counter)).sum()
    }

    /// Returns every recorded tally, oldest first.
    pub fn tallies(&self) -> Vec<Tally> {
        self.tallies
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
    }
}

#[async_trait]
impl MetricsSink for MemoryMetrics {
    async fn record(&self, tally: &Tally, _now: i64) {
        self.tallies
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .push(tally.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_merges_repeated_counters() {
        let mut tally = Tally::default();
        tally.add(Counter::WebhooksReceived);
        tally.add(Counter::WebhooksReceived);
        tally.add_many(Counter::ShopifyRetries, 3);
        tally.add_many(Counter::OrdersFailed, 0);
        assert_eq!(tally.count(Counter::WebhooksReceived), 2);
        assert_eq!(tally.count(Counter::ShopifyRetries), 3);
        assert_eq!(tally.counts().len(), 2);
        assert_eq!(tally.count(Counter::OrdersFailed), 0);
    }

    #[test]
    fn counter_names_are_unique() {
        let mut names: Vec<_> = Counter::ALL.iter().map(|counter| counter.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Counter::ALL.len());
    }
}
