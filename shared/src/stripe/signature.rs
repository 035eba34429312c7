//! Verification of the `Stripe-Signature` header that Stripe sends with each webhook.
//!
//! The header is a comma-separated list of `key=value` items, such as
//! `t=1700000000,v1=5257a869...`. `t` is the Unix time in seconds at which Stripe signed the
//! request. Each `v1` is a lowercase hex HMAC-SHA256 of `"{t}.{body}"`, keyed with the
//! endpoint's signing secret. Stripe sends more than one `v1` while an endpoint's secret is
//! being rolled, and `v0` items are an older scheme that is ignored here.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Default maximum difference, in seconds, between the header's timestamp and the current
/// time.
pub const DEFAULT_TOLERANCE_SECONDS: i64 = 300;

/// Header name that carries the signature.
pub const SIGNATURE_HEADER: &str = "Stripe-Signature";

/// Text that `Debug` and `Display` print in place of a secret.
const REDACTED: &str = "[redacted]";

/// A webhook endpoint's signing secret, the `whsec_...` value from the Stripe dashboard.
///
/// The HMAC key is the whole string as UTF-8 bytes, prefix included. `Debug` and `Display`
/// print `[redacted]`, and the value cannot be read back out of this type.
#[derive(Clone)]
pub struct WebhookSecret(String);

/// Error from [`WebhookSecret::new`] for an empty secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Stripe webhook signing secret is empty: set it to the endpoint's whsec_ secret")]
pub struct EmptyWebhookSecret;

impl WebhookSecret {
    /// Wraps a signing secret exactly as given, without trimming it.
    ///
    /// An empty secret is rejected, because anyone could compute an HMAC with an empty key.
    pub fn new(value: impl Into<String>) -> Result<Self, EmptyWebhookSecret> {
        let value = value.into();
        if value.is_empty() {
            return Err(EmptyWebhookSecret);
        }
        Ok(Self(value))
    }

    fn key(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(REDACTED)
    }
}

impl fmt::Display for WebhookSecret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(REDACTED)
    }
}

/// Reason a webhook request failed signature verification.
///
/// Messages never contain the secret, the body or a signature value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The request body is empty. Stripe always sends an event, so such a request is
    /// rejected even when its signature is valid.
    #[error("webhook request body is empty")]
    EmptyBody,
    /// The header is absent, empty or only whitespace.
    #[error("Stripe-Signature header is missing or empty")]
    MissingHeader,
    #[error("Stripe-Signature header is malformed: {0}")]
    MalformedHeader(MalformedHeaderReason),
    /// The header is well formed but has no `v1` item, for example only `v0`.
    #[error("Stripe-Signature header contains no v1 signature")]
    NoV1Signature,
    /// A `v1` signature matched, but the timestamp is too far from the current time.
    /// `age_seconds` is the current time minus the timestamp, so it is negative for a
    /// timestamp in the future.
    #[error(
        "Stripe-Signature timestamp is outside the tolerance of {tolerance_seconds} s \
         (age {age_seconds} s, negative when in the future), so the request is late or \
         replayed, or the server clock is wrong"
    )]
    TimestampOutsideTolerance {
        age_seconds: i64,
        tolerance_seconds: i64,
    },
    /// No `v1` signature matches any configured secret. The secret may be wrong or rolled,
    /// the body may have been changed in transit, or the request may not come from Stripe.
    #[error("no v1 signature in the Stripe-Signature header matches a configured webhook secret")]
    NoMatchingSignature,
}

/// Reason a `Stripe-Signature` header could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MalformedHeaderReason {
    #[error("an item is not of the form key=value")]
    ItemWithoutEquals,
    #[error("the timestamp t is missing")]
    MissingTimestamp,
    #[error("the timestamp t appears more than once")]
    DuplicateTimestamp,
    #[error("the timestamp t is not an integer")]
    InvalidTimestamp,
}

/// The items of a `Stripe-Signature` header that verification uses.
#[derive(Debug)]
struct ParsedHeader<'a> {
    /// Timestamp text exactly as sent, because the signed payload starts with it.
    timestamp_text: &'a str,
    timestamp: i64,
    /// Every `v1` value, still hex-encoded.
    v1_signatures: Vec<&'a str>,
}

/// Verifies a webhook request's `Stripe-Signature` header against its raw body.
///
/// `body` must be the bytes exactly as received, before any JSON parsing or re-encoding.
/// The request is accepted when any `v1` signature matches any of `secrets`, which lets an
/// endpoint accept both its old and new secret while Stripe rolls it. `now` is the current
/// Unix time in seconds, and `tolerance_seconds` is the maximum difference in either
/// direction between `now` and the header's timestamp. A negative tolerance counts as 0.
///
/// Checks run in this order, and the first failure is returned: empty body, missing header,
/// malformed header, no `v1` item, no matching signature, timestamp outside the tolerance.
/// The timestamp is checked after the signature, so
/// [`SignatureError::TimestampOutsideTolerance`] means that Stripe did sign the request and
/// it arrived late, was replayed, or the clocks disagree.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secrets: &[WebhookSecret],
    now: i64,
    tolerance_seconds: i64,
) -> Result<(), SignatureError> {
    if body.is_empty() {
        return Err(SignatureError::EmptyBody);
    }
    let header = match header {
        Some(text) if !text.trim().is_empty() => text,
        _ => return Err(SignatureError::MissingHeader),
    };
    let parsed = parse_header(header).map_err(SignatureError::MalformedHeader)?;
    if parsed.v1_signatures.is_empty() {
        return Err(SignatureError::NoV1Signature);
    }

    if !any_signature_matches(&parsed, body, secrets) {
        return Err(SignatureError::NoMatchingSignature);
    }

    let tolerance = u64::try_from(tolerance_seconds).unwrap_or(0);
    if now.abs_diff(parsed.timestamp) > tolerance {
        return Err(SignatureError::TimestampOutsideTolerance {
            age_seconds: now.saturating_sub(parsed.timestamp),
            tolerance_seconds,
        });
    }
    Ok(())
}

/// Builds a `Stripe-Signature` header value, `t={timestamp},v1={signature}`, as Stripe would
/// send it for `body` at `timestamp`.
///
/// Tests and the tool that re-signs fixture events use it. Production code only verifies.
pub fn sign(timestamp: i64, body: &[u8], secret: &WebhookSecret) -> String {
    let timestamp_text = timestamp.to_string();
    let signature = compute_signature(secret, &timestamp_text, body);
    format!("t={timestamp_text},v1={}", hex::encode(signature))
}

/// Parses the header's items. Whitespace around each item is trimmed, `t` must appear
/// exactly once, and items with keys other than `t` and `v1`, including `v0`, are ignored.
fn parse_header(header: &str) -> Result<ParsedHeader<'_>, MalformedHeaderReason> {
    let mut timestamp_text = None;
    let mut v1_signatures = Vec::new();
    for item in header.split(',') {
        let (key, value) = item
            .trim()
            .split_once('=')
            .ok_or(MalformedHeaderReason::ItemWithoutEquals)?;
        match key {
            "t" if timestamp_text.is_some() => {
                return Err(MalformedHeaderReason::DuplicateTimestamp);
            }
            "t" => timestamp_text = Some(value),
            "v1" => v1_signatures.push(value),
            _ => {}
        }
    }

    let timestamp_text = timestamp_text.ok_or(MalformedHeaderReason::MissingTimestamp)?;
    let timestamp = timestamp_text
        .parse::<i64>()
        .map_err(|_| MalformedHeaderReason::InvalidTimestamp)?;
    Ok(ParsedHeader {
        timestamp_text,
        timestamp,
        v1_signatures,
    })
}

/// Returns whether any `v1` signature equals the HMAC of any secret. Each comparison takes
/// the same time wherever the bytes differ. A candidate that is not hex, or not 32 bytes
/// long, matches nothing.
fn any_signature_matches(
    parsed: &ParsedHeader<'_>,
    body: &[u8],
    secrets: &[WebhookSecret],
) -> bool {
    let candidates: Vec<Vec<u8>> = parsed
        .v1_signatures
        .iter()
        .filter_map(|candidate| hex::decode(candidate).ok())
        .collect();
    secrets.iter().any(|secret| {
        let expected = compute_signature(secret, parsed.timestamp_text, body);
        candidates
            .iter()
            .any(|candidate| bool::from(expected.as_slice().ct_eq(candidate.as_slice())))
    })
}

/// Computes HMAC-SHA256 of `"{timestamp_text}.{body}"` keyed with `secret`.
fn compute_signature(secret: &WebhookSecret, timestamp_text: &str, body: &[u8]) -> [u8; 32] {
    let mut mac =
        HmacSha256::new_from_slice(secret.key()).expect("HMAC-SHA256 accepts a key of any length");
    mac.update(timestamp_text.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests;
