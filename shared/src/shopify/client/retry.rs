//! Retry rules: which failed attempts may be repeated, how long to wait, and the timer that
//! measures a call's time budget.

use super::documents::Operation;
use super::ShopifySecret;
use crate::shopify::ShopifyError;
use async_trait::async_trait;
use std::time::{Duration, Instant};

/// Measures a call's time budget and waits between attempts. [`TokioTimer`] is the real
/// one. Tests pass a timer whose `sleep` only advances its `now`, so they do not wait.
#[async_trait]
pub trait RetryTimer: Send + Sync {
    /// Returns the current monotonic time.
    fn now(&self) -> Instant;

    /// Waits for `duration`.
    async fn sleep(&self, duration: Duration);
}

/// The real [`RetryTimer`]: `Instant::now` and `tokio::time::sleep`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioTimer;

#[async_trait]
impl RetryTimer for TokioTimer {
    fn now(&self) -> Instant {
        Instant::now()
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// A failed attempt and what is known about whether Shopify ran the operation.
#[derive(Debug)]
pub(super) struct AttemptFailure {
    pub error: ShopifyError,
    pub kind: FailureKind,
    /// The token that Shopify rejected with HTTP 401, so the cache can drop it.
    pub rejected_token: Option<ShopifySecret>,
}

impl AttemptFailure {
    pub(super) fn new(error: ShopifyError, kind: FailureKind) -> Self {
        Self {
            error,
            kind,
            rejected_token: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FailureKind {
    /// Shopify certainly did not run the operation: HTTP 429, a GraphQL `THROTTLED` error,
    /// a failure to connect, or a failed token request before the GraphQL request. `wait`
    /// is Shopify's hint (`Retry-After` or the wait computed from the query cost).
    NotRun { wait: Option<Duration> },
    /// Shopify rejected the access token (HTTP 401) and did not run the operation.
    TokenRejected,
    /// Shopify may have run the operation: HTTP 5xx, a GraphQL `INTERNAL_SERVER_ERROR`, a
    /// timeout after the request was sent, or a response that could not be read.
    OutcomeUnknown,
    /// Repeating the same request fails the same way.
    Permanent,
}

/// Decides whether a failed attempt of `operation` may be repeated, leaving the time
/// budget aside.
///
/// `orderCreate` is repeated only when Shopify certainly did not run it. After a timeout or
/// a 5xx, Shopify may have created the order, and a second `orderCreate` would create a
/// duplicate. The order path recovers from that case by looking the order up by
/// `sourceIdentifier` before it creates again, so here the error goes back to the caller.
/// The lookup only reads, so it is also repeated when the outcome is unknown.
pub(super) fn may_repeat(operation: Operation, kind: FailureKind) -> bool {
    match kind {
        FailureKind::NotRun { .. } | FailureKind::TokenRejected => true,
        FailureKind::OutcomeUnknown => operation != Operation::CreateOrder,
        FailureKind::Permanent => false,
    }
}

/// Returns `base` doubled `step` times, saturating instead of overflowing.
pub(super) fn backoff(base: Duration, step: u32) -> Duration {
    base.saturating_mul(2_u32.saturating_pow(step))
}

/// Parses `Retry-After` given in seconds, as an integer (`2`) or a decimal (`2.0`, which
/// Shopify sends). Returns `None` for the HTTP-date form and for invalid values, so the
/// caller falls back to backoff.
pub(super) fn parse_retry_after(value: &str) -> Option<Duration> {
    let seconds: f64 = value.trim().parse().ok()?;
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(seconds).ok()
}

/// Computes the wait after a GraphQL `THROTTLED` error: the time the bucket needs to refill
/// from `currently_available` to `requested` points at `restore_rate` points per second.
/// Returns `None` when the restore rate is not positive.
pub(super) fn throttle_wait(
    requested: f64,
    currently_available: f64,
    restore_rate: f64,
) -> Option<Duration> {
    if !restore_rate.is_finite() || restore_rate <= 0.0 {
        return None;
    }
    let missing = (requested - currently_available).max(0.0);
    Duration::try_from_secs_f64(missing / restore_rate).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_accepts_integer_and_decimal() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("2.0"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0.5 "), Some(Duration::from_millis(500)));
    }

    #[test]
    fn retry_after_rejects_dates_and_negatives() {
        assert_eq!(parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("NaN"), None);
        assert_eq!(parse_retry_after("inf"), None);
        assert_eq!(parse_retry_after(""), None);
    }

    #[test]
    fn throttle_wait_uses_missing_points() {
        assert_eq!(throttle_wait(10.0, 4.0, 2.0), Some(Duration::from_secs(3)));
        assert_eq!(throttle_wait(10.0, 20.0, 2.0), Some(Duration::ZERO));
        assert_eq!(throttle_wait(10.0, 4.0, 0.0), None);
        assert_eq!(throttle_wait(10.0, 4.0, f64::NAN), None);
    }

    #[test]
    fn backoff_doubles_and_saturates() {
        let base = Duration::from_millis(500);
        assert_eq!(backoff(base, 0), base);
        assert_eq!(backoff(base, 3), Duration::from_secs(4));
        assert_eq!(backoff(Duration::MAX / 2, 2), Duration::MAX);
    }

    #[test]
    fn create_order_repeats_only_when_not_run() {
        let create = Operation::CreateOrder;
        assert!(may_repeat(create, FailureKind::NotRun { wait: None }));
        assert!(may_repeat(create, FailureKind::TokenRejected));
        assert!(!may_repeat(create, FailureKind::OutcomeUnknown));
        assert!(!may_repeat(create, FailureKind::Permanent));
    }

    #[test]
    fn lookup_repeats_when_outcome_unknown() {
        let lookup = Operation::FindOrdersBySource;
        assert!(may_repeat(lookup, FailureKind::OutcomeUnknown));
        assert!(!may_repeat(lookup, FailureKind::Permanent));
    }
}
