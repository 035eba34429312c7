//! Classification of Admin GraphQL responses into data or an [`AttemptFailure`].
//!
//! No error built here contains text from the response body, because GraphQL error
//! messages can repeat variable values and the order variables contain personal data. Only
//! status codes and GraphQL error codes reach error messages.

use super::retry::{throttle_wait, AttemptFailure, FailureKind};
use crate::shopify::ShopifyError;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

/// Maps the status and body of a GraphQL endpoint response to the `data` object or a
/// failure. `retry_after` is the parsed `Retry-After` header.
pub(super) fn classify(
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<Value, AttemptFailure> {
    let code = status.as_u16();
    match status {
        _ if status.is_success() => classify_body(body),
        StatusCode::UNAUTHORIZED => Err(AttemptFailure::new(
            ShopifyError::Unauthorized,
            FailureKind::TokenRejected,
        )),
        // 402 means the shop is frozen or unpaid, 404 an unknown shop or API version, and
        // 423 a locked shop.
        StatusCode::PAYMENT_REQUIRED | StatusCode::NOT_FOUND | StatusCode::LOCKED => Err(
            AttemptFailure::new(ShopifyError::ShopUnavailable(code), FailureKind::Permanent),
        ),
        StatusCode::FORBIDDEN => Err(AttemptFailure::new(
            ShopifyError::AccessDenied(
                "HTTP 403: the app lacks an access scope or the shop blocks it".to_owned(),
            ),
            FailureKind::Permanent,
        )),
        StatusCode::TOO_MANY_REQUESTS => Err(AttemptFailure::new(
            ShopifyError::Throttled { retry_after },
            FailureKind::NotRun { wait: retry_after },
        )),
        _ if status.is_server_error() => Err(AttemptFailure::new(
            ShopifyError::Server(format!("HTTP {code}")),
            FailureKind::OutcomeUnknown,
        )),
        _ => Err(AttemptFailure::new(
            ShopifyError::Server(format!("unexpected HTTP {code}")),
            FailureKind::Permanent,
        )),
    }
}

/// Classifies a 2xx body: top-level `errors` first, then `data`.
fn classify_body(body: &[u8]) -> Result<Value, AttemptFailure> {
    let Ok(Value::Object(mut document)) = serde_json::from_slice::<Value>(body) else {
        return Err(AttemptFailure::new(
            ShopifyError::Server("the response body is not a JSON object".to_owned()),
            FailureKind::OutcomeUnknown,
        ));
    };

    if let Some(errors) = document.get("errors").filter(|errors| has_entries(errors)) {
        return Err(classify_errors(errors, document.get("extensions")));
    }
    match document.remove("data") {
        Some(data @ Value::Object(_)) => Ok(data),
        _ => Err(AttemptFailure::new(
            ShopifyError::Server("the response has neither data nor errors".to_owned()),
            FailureKind::OutcomeUnknown,
        )),
    }
}

fn has_entries(errors: &Value) -> bool {
    match errors {
        Value::Null => false,
        Value::Array(entries) => !entries.is_empty(),
        Value::String(text) => !text.is_empty(),
        _ => true,
    }
}

/// Classifies top-level GraphQL `errors` by their `extensions.code`.
fn classify_errors(errors: &Value, extensions: Option<&Value>) -> AttemptFailure {
    let codes: Vec<&str> = errors
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|error| error.pointer("/extensions/code").and_then(Value::as_str))
        .collect();

    if codes.contains(&"THROTTLED") {
        let wait = extensions
            .and_then(|extensions| extensions.get("cost"))
            .and_then(cost_wait);
        return AttemptFailure::new(
            ShopifyError::Throttled { retry_after: wait },
            FailureKind::NotRun { wait },
        );
    }
    if codes.contains(&"ACCESS_DENIED") {
        return AttemptFailure::new(
            ShopifyError::AccessDenied(
                "GraphQL ACCESS_DENIED: the app lacks an access scope this operation needs"
                    .to_owned(),
            ),
            FailureKind::Permanent,
        );
    }
    if codes.contains(&"INTERNAL_SERVER_ERROR") {
        return AttemptFailure::new(
            ShopifyError::Server("GraphQL INTERNAL_SERVER_ERROR".to_owned()),
            FailureKind::OutcomeUnknown,
        );
    }
    // Anything else (validation errors, MAX_COST_EXCEEDED, …) means the request itself is
    // wrong, so repeating it cannot help.
    let described = match codes.first() {
        Some(code) if is_plain_code(code) => format!("GraphQL error {code}"),
        Some(_) => "GraphQL error with an unrecognized code".to_owned(),
        None => "GraphQL error without a code".to_owned(),
    };
    AttemptFailure::new(ShopifyError::Server(described), FailureKind::Permanent)
}

/// Reads `requestedQueryCost` and `throttleStatus { currentlyAvailable restoreRate }` from
/// the `extensions.cost` block and computes the wait until the request fits the bucket.
fn cost_wait(cost: &Value) -> Option<Duration> {
    let requested = cost.get("requestedQueryCost")?.as_f64()?;
    let status = cost.get("throttleStatus")?;
    let available = status.get("currentlyAvailable")?.as_f64()?;
    let restore_rate = status.get("restoreRate")?.as_f64()?;
    throttle_wait(requested, available, restore_rate)
}

/// True for codes such as `THROTTLED` or `undefinedField` that are safe to put in an error
/// message.
fn is_plain_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
}
