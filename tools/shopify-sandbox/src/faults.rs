//! Faults that tests queue through `POST /_sandbox/faults`. Each GraphQL call takes the
//! next fault from the queue, whatever the call contains, so tests can script failures.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// One failure that a GraphQL call will meet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// HTTP 429, with a `Retry-After` header when `retry_after` is set (for example
    /// `"2.0"`).
    #[serde(rename = "http_429")]
    Http429 {
        #[serde(default)]
        retry_after: Option<RetryAfter>,
    },
    /// HTTP 200 with a THROTTLED error and `currentlyAvailable: 0`.
    Throttled,
    /// HTTP 503 with an HTML page, as an overloaded edge server responds.
    #[serde(rename = "http_503_html")]
    Http503Html,
    /// HTTP 500 with an empty body.
    #[serde(rename = "http_500_empty")]
    Http500Empty,
    /// The given HTTP status (401, 402, 403, 404, 423 or any other 4xx or 5xx) with a JSON
    /// `errors` string. 401 uses the body of a rejected access token.
    Http { status: u16 },
    /// HTTP 200 with an ACCESS_DENIED error.
    AccessDenied,
    /// HTTP 200 with an INTERNAL_SERVER_ERROR error.
    InternalError,
    /// Waits this long, then processes the call normally.
    Delay { millis: u64 },
    /// `orderCreate` returns the "Phone is invalid" user error and creates nothing.
    PhoneUserError,
    /// Processes the call (so `orderCreate` creates the order), then fails to deliver the
    /// response: `mode` `drop` (default) closes the connection, `http_500` returns 500.
    CrashAfterCreate {
        #[serde(default)]
        mode: CrashMode,
    },
}

/// A `Retry-After` value, given as a string (`"2.0"`) or a number (`2`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RetryAfter {
    Text(String),
    Number(serde_json::Number),
}

impl RetryAfter {
    pub fn header_value(&self) -> String {
        match self {
            RetryAfter::Text(text) => text.clone(),
            RetryAfter::Number(number) => number.to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrashMode {
    #[default]
    Drop,
    #[serde(rename = "http_500")]
    Http500,
}

/// A fault and how many consecutive calls it applies to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultSpec {
    #[serde(flatten)]
    pub fault: Fault,
    #[serde(default = "one")]
    pub count: u32,
}

fn one() -> u32 {
    1
}

impl FaultSpec {
    /// Checks the values that serde cannot.
    pub fn validate(&self) -> Result<(), String> {
        if self.count == 0 {
            return Err("count must be at least 1".to_owned());
        }
        if let Fault::Http { status } = self.fault {
            if !(400..=599).contains(&status) {
                return Err(format!(
                    "status {status} is not an HTTP error status (400-599)"
                ));
            }
        }
        Ok(())
    }
}

/// Faults waiting for the next GraphQL calls, in order.
#[derive(Debug, Default)]
pub struct FaultQueue {
    pending: VecDeque<FaultSpec>,
}

impl FaultQueue {
    pub fn extend(&mut self, faults: Vec<FaultSpec>) {
        self.pending.extend(faults);
    }

    pub fn clear(&mut self) {
        self.pending.clear();
    }

    /// Takes the fault for the next call, if any.
    pub fn next(&mut self) -> Option<Fault> {
        let spec = self.pending.front_mut()?;
        let fault = spec.fault.clone();
        spec.count -= 1;
        if spec.count == 0 {
            self.pending.pop_front();
        }
        Some(fault)
    }

    pub fn pending(&self) -> Vec<FaultSpec> {
        self.pending.iter().cloned().collect()
    }

    /// Number of calls that will still meet a fault.
    pub fn pending_calls(&self) -> u64 {
        self.pending.iter().map(|spec| u64::from(spec.count)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_from_json() {
        let specs: Vec<FaultSpec> = serde_json::from_str(
            r#"[{"kind":"http_429","retry_after":"2.0"},{"kind":"http_429"},
                {"kind":"http","status":423,"count":2},{"kind":"delay","millis":5},
                {"kind":"crash_after_create","mode":"http_500"},{"kind":"throttled"}]"#,
        )
        .unwrap();
        assert_eq!(
            specs[0].fault,
            Fault::Http429 {
                retry_after: Some(RetryAfter::Text("2.0".into()))
            }
        );
        assert_eq!(specs[1].fault, Fault::Http429 { retry_after: None });
        assert_eq!(specs[2].count, 2);
        assert_eq!(
            specs[4].fault,
            Fault::CrashAfterCreate {
                mode: CrashMode::Http500
            }
        );
        assert_eq!(specs[5].fault, Fault::Throttled);
    }

    #[test]
    fn unknown_kind_is_rejected() {
        let parsed: Result<Vec<FaultSpec>, _> = serde_json::from_str(r#"[{"kind":"explode"}]"#);
        assert!(parsed.is_err());
    }

    #[test]
    fn queue_applies_counts_in_order() {
        let mut queue = FaultQueue::default();
        queue.extend(vec![
            FaultSpec {
                fault: Fault::Throttled,
                count: 2,
            },
            FaultSpec {
                fault: Fault::AccessDenied,
                count: 1,
            },
        ]);
        assert_eq!(queue.pending_calls(), 3);
        assert_eq!(queue.next(), Some(Fault::Throttled));
        assert_eq!(queue.next(), Some(Fault::Throttled));
        assert_eq!(queue.next(), Some(Fault::AccessDenied));
        assert_eq!(queue.next(), None);
    }
}
