use super::*;
use crate::metrics::MemoryMetrics;
use std::io;
use std::sync::Arc;

const NOW: i64 = 1_800_000_000;

/// A writer whose bytes the test reads back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn lines(&self) -> Vec<String> {
        let bytes = self.0.lock().unwrap().clone();
        let text = String::from_utf8(bytes).expect("EMF output is UTF-8");
        text.lines().map(str::to_owned).collect()
    }

    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A writer that always fails.
struct Broken;

impl Write for Broken {
    fn write(&mut self, _bytes: &[u8]) -> io::Result<usize> {
        Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn sink(captured: &Captured) -> EmfMetrics<MemoryMetrics> {
    EmfMetrics::new(MemoryMetrics::default(), DEFAULT_NAMESPACE, "webhook")
        .with_writer(captured.clone())
}

fn parse(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|error| panic!("invalid JSON ({error}): {line}"))
}

#[test]
fn document_of_one_metric() {
    let mut tally = Tally::default();
    tally.add(Counter::OrdersFailed);

    let document = emf_document(&tally, NOW, "RegistrationPipeline", "webhook").unwrap();

    let root = document.as_object().unwrap();
    assert_eq!(root.len(), 3, "{document}");
    assert_eq!(root["Service"], json!("webhook"));
    assert_eq!(root["OrdersFailed"], json!(1));

    let metadata = root["_aws"].as_object().unwrap();
    assert_eq!(metadata.len(), 2, "{document}");
    assert_eq!(metadata["Timestamp"], json!(1_800_000_000_000_i64));

    let directives = metadata["CloudWatchMetrics"].as_array().unwrap();
    assert_eq!(directives.len(), 1);
    let directive = directives[0].as_object().unwrap();
    assert_eq!(directive.len(), 3, "{document}");
    assert_eq!(directive["Namespace"], json!("RegistrationPipeline"));
    assert_eq!(directive["Dimensions"], json!([["Service"]]));
    assert_eq!(
        directive["Metrics"],
        json!([{"Name": "OrdersFailed", "Unit": "Count"}])
    );
}

#[test]
fn document_lists_each_moved_metric() {
    let mut tally = Tally::default();
    tally.add_many(Counter::SignatureFailures, 2);
    tally.add(Counter::OrdersCreated);
    tally.add(Counter::WebhooksReceived);

    let document = emf_document(&tally, NOW, "RegistrationPipeline", "webhook").unwrap();

    assert_eq!(
        document["_aws"]["CloudWatchMetrics"][0]["Metrics"],
        json!([
            {"Name": "OrdersCreated", "Unit": "Count"},
            {"Name": "SignatureFailures", "Unit": "Count"},
        ])
    );
    assert_eq!(document["OrdersCreated"], json!(1));
    assert_eq!(document["SignatureFailures"], json!(2));
    // Counters outside EMF_COUNTERS stay out of the document.
    assert_eq!(document.as_object().unwrap().len(), 4, "{document}");
    assert!(document.get("OrdersFailed").is_none());
}

#[test]
fn document_member_order() {
    let mut tally = Tally::default();
    tally.add(Counter::OrdersCreated);

    let document = emf_document(&tally, NOW, "RegistrationPipeline", "webhook").unwrap();

    assert_eq!(
        document.to_string(),
        r#"{"_aws":{"Timestamp":1800000000000,"CloudWatchMetrics":[{"Namespace":"RegistrationPipeline","Dimensions":[["Service"]],"Metrics":[{"Name":"OrdersCreated","Unit":"Count"}]}]},"Service":"webhook","OrdersCreated":1}"#
    );
}

#[test]
fn no_document_without_moved_metric() {
    let mut tally = Tally::default();
    tally.add(Counter::DiscountValid);
    tally.last_order_at = Some(NOW);

    assert_eq!(
        emf_document(&tally, NOW, "RegistrationPipeline", "webhook"),
        None
    );
}

#[tokio::test]
async fn record_writes_one_line_then_delegates() {
    let captured = Captured::default();
    let metrics = sink(&captured);
    let mut tally = Tally::default();
    tally.add(Counter::OrdersCreated);
    tally.add(Counter::OrdersFailed);

    metrics.record(&tally, NOW).await;

    let lines = captured.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(captured.text().ends_with("}\n"));
    let document = parse(&lines[0]);
    assert_eq!(document["Service"], json!("webhook"));
    assert_eq!(document["OrdersCreated"], json!(1));
    assert_eq!(document["OrdersFailed"], json!(1));
    assert_eq!(metrics.inner().tallies(), vec![tally]);
}

#[tokio::test]
async fn record_without_moved_metric_writes_nothing() {
    let captured = Captured::default();
    let metrics = sink(&captured);
    let mut tally = Tally::default();
    tally.add(Counter::IntentsCreated);

    metrics.record(&tally, NOW).await;

    assert_eq!(captured.text(), "");
    assert_eq!(metrics.inner().total(Counter::IntentsCreated), 1);
}

#[tokio::test]
async fn record_writes_a_line_per_tally() {
    let captured = Captured::default();
    let metrics = sink(&captured);
    let mut tally = Tally::default();
    tally.add(Counter::SignatureFailures);

    metrics.record(&tally, NOW).await;
    metrics.record(&tally, NOW + 1).await;

    let lines = captured.lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(
        parse(&lines[1])["_aws"]["Timestamp"],
        json!(1_800_000_001_000_i64)
    );
}

#[tokio::test]
async fn broken_writer_still_delegates() {
    let metrics =
        EmfMetrics::new(MemoryMetrics::default(), DEFAULT_NAMESPACE, "webhook").with_writer(Broken);
    let mut tally = Tally::default();
    tally.add(Counter::OrdersFailed);

    metrics.record(&tally, NOW).await;

    assert_eq!(metrics.inner().total(Counter::OrdersFailed), 1);
}
