//! `replay list`: the recorded failures, oldest first, as a table or as JSON.

use serde::Serialize;
use shared::orders::ledger::{FailureLog, FailureRecord};
use shared::store::StoreError;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Default of `replay list --limit`.
pub const DEFAULT_LIST_LIMIT: usize = 100;

/// Column headings of the table, in order.
const HEADINGS: [&str; 4] = ["PAYMENT INTENT", "FAILED AT", "ATTEMPTS", "REASON"];

/// Lists at most `limit` recorded failures, oldest first.
pub async fn list_failures(
    failures: &dyn FailureLog,
    limit: usize,
) -> Result<Vec<FailureRecord>, StoreError> {
    failures.list(limit).await
}

/// Renders `records` as an aligned text table with one row per failure and a closing line
/// that names the replay command. `limit` is the limit the list was read with. A full page
/// gets a line noting that more failures may exist.
pub fn failures_table(records: &[FailureRecord], limit: usize) -> String {
    if records.is_empty() {
        return "No recorded failures.\n".to_owned();
    }

    let rows: Vec<[String; 4]> = records
        .iter()
        .map(|record| {
            [
                one_line(&record.payment_intent_id),
                format_unix_seconds(record.failed_at),
                record.attempts.to_string(),
                one_line(&record.reason),
            ]
        })
        .collect();
    let mut widths = HEADINGS.map(|heading| heading.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }

    let mut table = String::new();
    push_row(&mut table, &HEADINGS.map(str::to_owned), &widths);
    for row in &rows {
        push_row(&mut table, row, &widths);
    }

    table.push('\n');
    if records.len() >= limit {
        table.push_str(&format!(
            "Showing the oldest {limit} failures; more may exist. Raise --limit to see them.\n"
        ));
    }
    table.push_str(
        "Replay one with `replay payment <PaymentIntent id>`, or with \
         `replay free <registration id>` for a free_<registration id> entry.\n",
    );
    table
}

/// Appends one table row. The attempts column is right-aligned, and the last column is
/// not padded.
fn push_row(table: &mut String, cells: &[String; 4], widths: &[usize; 4]) {
    let [payment_intent, failed_at, attempts, reason] = cells;
    table.push_str(&format!(
        "{payment_intent:<w0$}  {failed_at:<w1$}  {attempts:>w2$}  {reason}",
        w0 = widths[0],
        w1 = widths[1],
        w2 = widths[2],
    ));
    // A row with an empty reason would otherwise end in spaces.
    let trimmed_len = table.trim_end_matches(' ').len();
    table.truncate(trimmed_len);
    table.push('\n');
}

/// One failure in the JSON output.
#[derive(Serialize)]
struct FailureView<'a> {
    payment_intent_id: &'a str,
    /// RFC 3339 in UTC.
    failed_at: String,
    failed_at_unix: i64,
    attempts: u32,
    reason: &'a str,
}

/// Renders `records` as one JSON object, `{"failures": [...]}`, followed by a newline.
pub fn failures_json(records: &[FailureRecord]) -> String {
    let failures: Vec<FailureView<'_>> = records
        .iter()
        .map(|record| FailureView {
            payment_intent_id: &record.payment_intent_id,
            failed_at: format_unix_seconds(record.failed_at),
            failed_at_unix: record.failed_at,
            attempts: record.attempts,
            reason: &record.reason,
        })
        .collect();
    let document = serde_json::json!({ "failures": failures });
    format!("{document}\n")
}

/// Formats Unix seconds as RFC 3339 in UTC, such as `2027-06-12T09:30:00Z`. A value outside
/// the range of `time` is shown as the plain number.
pub fn format_unix_seconds(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|moment| moment.format(&Rfc3339).ok())
        .unwrap_or_else(|| format!("{seconds} (Unix seconds)"))
}

/// Replaces control characters, line breaks included, with spaces so that each failure
/// stays on one row.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|character| {
            if character.is_control() {
                ' '
            } else {
                character
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        payment_intent_id: &str,
        failed_at: i64,
        attempts: u32,
        reason: &str,
    ) -> FailureRecord {
        FailureRecord {
            payment_intent_id: payment_intent_id.to_owned(),
            failed_at,
            attempts,
            reason: reason.to_owned(),
        }
    }

    #[test]
    fn table_aligns_columns() {
        let records = [
            record("pi_1", 1_812_000_000, 1, "shopify: HTTP 503"),
            record("pi_longer_id_22", 1_812_000_060, 12, "storage: timed out"),
        ];

        let table = failures_table(&records, 100);
        let lines: Vec<&str> = table.lines().collect();

        assert_eq!(
            lines[0],
            "PAYMENT INTENT   FAILED AT             ATTEMPTS  REASON"
        );
        assert_eq!(
            lines[1],
            "pi_1             2027-06-03T05:20:00Z         1  shopify: HTTP 503"
        );
        assert_eq!(
            lines[2],
            "pi_longer_id_22  2027-06-03T05:21:00Z        12  storage: timed out"
        );
        assert_eq!(lines[3], "");
        assert!(lines[4].starts_with("Replay one with"), "{table}");
    }

    #[test]
    fn table_of_nothing_says_so() {
        assert_eq!(failures_table(&[], 100), "No recorded failures.\n");
    }

    #[test]
    fn table_at_limit_mentions_more() {
        let records = [record("pi_1", 0, 1, "x"), record("pi_2", 1, 1, "y")];

        let table = failures_table(&records, 2);

        assert!(table.contains("Showing the oldest 2 failures"), "{table}");
    }

    #[test]
    fn table_keeps_each_failure_on_one_row() {
        let records = [record("pi_1", 0, 1, "line one\nline two\ttabbed")];

        let table = failures_table(&records, 100);

        assert!(table
            .lines()
            .nth(1)
            .unwrap()
            .ends_with("line one line two tabbed"));
        assert_eq!(table.lines().count(), 4, "{table}");
    }

    #[test]
    fn json_lists_failures_with_both_times() {
        let records = [record("pi_1", 1_812_000_000, 2, "shopify: HTTP 503")];

        let json: serde_json::Value = serde_json::from_str(&failures_json(&records)).unwrap();

        assert_eq!(json["failures"][0]["payment_intent_id"], "pi_1");
        assert_eq!(json["failures"][0]["failed_at"], "2027-06-03T05:20:00Z");
        assert_eq!(json["failures"][0]["failed_at_unix"], 1_812_000_000);
        assert_eq!(json["failures"][0]["attempts"], 2);
        assert_eq!(json["failures"][0]["reason"], "shopify: HTTP 503");
    }

    #[test]
    fn json_of_nothing_is_empty_list() {
        assert_eq!(failures_json(&[]), "{\"failures\":[]}\n");
    }

    #[test]
    fn out_of_range_time_is_shown_as_number() {
        assert_eq!(
            format_unix_seconds(i64::MAX),
            format!("{} (Unix seconds)", i64::MAX)
        );
    }
}
