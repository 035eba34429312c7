//! CloudWatch embedded metric format (EMF): a [`MetricsSink`] that writes a few counters as
//! an EMF log line, then passes the tally on to another sink.
//!
//! Lambda sends a function's stdout to CloudWatch Logs, and CloudWatch Logs turns every
//! log event that is an EMF document into metric data points, with no CloudWatch API call
//! from the function. The document layout follows the "Specification: Embedded metric
//! format" page of the Amazon CloudWatch User Guide:
//!
//! ```json
//! {"_aws": {"Timestamp": 1800000000000, "CloudWatchMetrics": [{"Namespace": "RegistrationPipeline",
//!   "Dimensions": [["Service"]], "Metrics": [{"Name": "OrdersFailed", "Unit": "Count"}]}]},
//!  "Service": "webhook", "OrdersFailed": 1}
//! ```
//!
//! A tally becomes one document that lists every counter of [`EMF_COUNTERS`] that moved.
//! CloudWatch extracts each entry of `Metrics` as its own metric, so alarms still watch
//! each metric on its own, and a request's counts stay in one log event and one write.
//! A counter that did not move is left out instead of written as 0, so an alarm on these
//! metrics should treat missing data as not breaching.

use super::{Counter, MetricsSink, Tally};
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::io::Write;
use std::sync::Mutex;

/// The CloudWatch namespace of the pipeline's metrics.
pub const DEFAULT_NAMESPACE: &str = "RegistrationPipeline";

/// The dimension that names the function that wrote a metric.
pub const SERVICE_DIMENSION: &str = "Service";

/// The counters written as EMF metrics, with their CloudWatch metric names.
pub const EMF_COUNTERS: [(Counter, &str); 3] = [
    (Counter::OrdersCreated, "OrdersCreated"),
    (Counter::OrdersFailed, "OrdersFailed"),
    (Counter::SignatureFailures, "SignatureFailures"),
];

/// A sink that writes [`EMF_COUNTERS`] as an EMF line, then records the tally in `inner`.
pub struct EmfMetrics<S> {
    inner: S,
    namespace: String,
    service: String,
    writer: Mutex<Box<dyn Write + Send>>,
}

impl<S: MetricsSink> EmfMetrics<S> {
    /// Creates a sink that writes to stdout under `namespace`, with `service` (such as the
    /// Lambda function name) as the value of the [`SERVICE_DIMENSION`] dimension.
    ///
    /// Both must be non-empty, because CloudWatch metric namespaces and dimension values
    /// have a minimum length of 1 (CloudWatch API Reference, `Metric` and `Dimension`).
    /// An empty one is logged as a warning here.
    pub fn new(inner: S, namespace: impl Into<String>, service: impl Into<String>) -> Self {
        let namespace = namespace.into();
        let service = service.into();
        if namespace.is_empty() || service.is_empty() {
            tracing::warn!(
                namespace,
                service,
                "EMF metrics need a non-empty namespace and service, because \
                 CloudWatch does not accept empty ones"
            );
        }
        Self {
            inner,
            namespace,
            service,
            writer: Mutex::new(Box::new(std::io::stdout())),
        }
    }

    /// Replaces stdout with `writer`, for tests that read the lines.
    pub fn with_writer(mut self, writer: impl Write + Send + 'static) -> Self {
        self.writer = Mutex::new(Box::new(writer));
        self
    }

    /// Returns the sink that receives every tally after the EMF line.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Writes `line` with one `write_all` call, so that other writers to stdout that lock
    /// it per call (such as the `tracing` subscriber) cannot split it.
    fn write_line(&self, line: &str) {
        let mut writer = self
            .writer
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let result = writer
            .write_all(line.as_bytes())
            .and_then(|()| writer.flush());
        if let Err(error) = result {
            tracing::warn!(error = %error, "writing an EMF metrics line failed");
        }
    }
}

#[async_trait]
impl<S: MetricsSink> MetricsSink for EmfMetrics<S> {
    async fn record(&self, tally: &Tally, now: i64) {
        if let Some(document) = emf_document(tally, now, &self.namespace, &self.service) {
            self.write_line(&format!("{document}\n"));
        }
        self.inner.record(tally, now).await;
    }
}

/// Builds the EMF document of the [`EMF_COUNTERS`] that moved in `tally`, timestamped at
/// `now` (Unix seconds). Returns `None` when none of them moved.
pub fn emf_document(tally: &Tally, now: i64, namespace: &str, service: &str) -> Option<Value> {
    let moved: Vec<(&str, u64)> = EMF_COUNTERS
        .iter()
        .map(|(counter, metric)| (*metric, tally.count(*counter)))
        .filter(|(_, count)| *count > 0)
        .collect();
    if moved.is_empty() {
        return None;
    }

    let definitions: Vec<Value> = moved
        .iter()
        .map(|(metric, _)| json!({"Name": metric, "Unit": "Count"}))
        .collect();
    let mut document = Map::new();
    document.insert(
        "_aws".to_owned(),
        json!({
            "Timestamp": now.saturating_mul(1000),
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [[SERVICE_DIMENSION]],
                "Metrics": definitions,
            }],
        }),
    );
    document.insert(SERVICE_DIMENSION.to_owned(), json!(service));
    for (metric, count) in moved {
        document.insert(metric.to_owned(), json!(count));
    }
    Some(Value::Object(document))
}

#[cfg(test)]
mod tests;
