//! Parsing of Stripe webhook events, reading only the fields the pipeline uses.
//!
//! Stripe adds fields and enum values in new API versions, and an endpoint receives events
//! rendered with the account's API version. So unknown fields are ignored everywhere, and
//! values that Stripe may extend, such as `type` and `status`, are kept as text. Only a
//! `payment_intent.*` event's `data.object` is read. Other events keep `payment_intent` at
//! `None`, and their object is not checked.

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// `type` of the event sent when a PaymentIntent has been paid.
pub const PAYMENT_INTENT_SUCCEEDED: &str = "payment_intent.succeeded";
/// `type` of the event sent when a payment attempt on a PaymentIntent has failed.
pub const PAYMENT_INTENT_PAYMENT_FAILED: &str = "payment_intent.payment_failed";

/// Prefix of the `type` of every event whose `data.object` is a PaymentIntent.
const PAYMENT_INTENT_TYPE_PREFIX: &str = "payment_intent.";

/// The event types the pipeline acts on, with every other type kept as `Other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    PaymentIntentSucceeded,
    PaymentIntentPaymentFailed,
    /// Any other type, such as `charge.refunded` or `payment_intent.created`.
    Other(String),
}

impl EventKind {
    /// Classifies an event's `type` string.
    pub fn from_type(event_type: &str) -> Self {
        match event_type {
            PAYMENT_INTENT_SUCCEEDED => Self::PaymentIntentSucceeded,
            PAYMENT_INTENT_PAYMENT_FAILED => Self::PaymentIntentPaymentFailed,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// The parts of a Stripe event that the pipeline uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    /// Event id, such as `evt_...`. The same event can be delivered more than once.
    pub id: String,
    /// The event's `type` exactly as sent.
    pub event_type: String,
    pub kind: EventKind,
    /// `true` for live-mode events and `false` for test-mode events.
    pub livemode: bool,
    /// Unix time in seconds at which Stripe created the event.
    pub created: i64,
    /// The event's `data.object` when `type` starts with `payment_intent.`, else `None`.
    pub payment_intent: Option<EventPaymentIntent>,
}

/// The PaymentIntent fields that a `payment_intent.*` event carries and the pipeline reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPaymentIntent {
    /// PaymentIntent id, such as `pi_...`.
    pub id: String,
    /// Amount in minor units.
    pub amount: i64,
    /// Amount received in minor units. `None` when the field is absent or null.
    pub amount_received: Option<i64>,
    /// Lower-case ISO 4217 code, as Stripe sends it.
    pub currency: String,
    /// Metadata values as text. A value that is not a JSON string is kept as its compact
    /// JSON text, such as `2`, `true` or `null`.
    pub metadata: BTreeMap<String, String>,
    /// Id of the latest charge, read from a plain id or from an expanded charge object.
    pub latest_charge: Option<String>,
    pub receipt_email: Option<String>,
    /// Status as sent, such as `succeeded` or `requires_payment_method`. It stays text so
    /// that a status added by a later API version still parses.
    pub status: String,
}

/// Reason why a webhook body could not be read as an event.
///
/// Messages name the field at fault and never contain values from the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// The body is empty, truncated or not JSON.
    #[error("webhook body is not valid JSON (syntax error at line {line}, column {column})")]
    InvalidJson { line: usize, column: usize },
    /// The body is JSON but not an object, for example an array or a string.
    #[error("webhook body is JSON but not an event object")]
    NotAnObject,
    /// A field the pipeline needs is absent or null. `path` is dotted, such as
    /// `data.object.amount`.
    #[error("webhook event field `{path}` is missing or null")]
    MissingField { path: String },
    /// A field has the wrong JSON type or an invalid value.
    #[error("webhook event field `{path}` has the wrong type or an invalid value")]
    InvalidField { path: String },
}

/// The event envelope as sent, with `data` read as `D`. Required fields are `Option` so
/// that a missing one is reported by path without quoting serde's message, which can
/// contain body values.
#[derive(Deserialize)]
struct RawEvent<D> {
    id: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    livemode: Option<bool>,
    created: Option<i64>,
    data: Option<D>,
}

/// `data` of an event whose `data.object` is read as a PaymentIntent in the same pass as
/// the envelope, before the type is known.
#[derive(Deserialize)]
struct TypedData {
    object: Option<RawPaymentIntent>,
}

#[derive(Deserialize)]
struct RawPaymentIntent {
    id: Option<String>,
    amount: Option<i64>,
    amount_received: Option<i64>,
    currency: Option<String>,
    #[serde(default, deserialize_with = "metadata_as_text")]
    metadata: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "charge_id")]
    latest_charge: Option<String>,
    receipt_email: Option<String>,
    status: Option<String>,
}

/// Parses a webhook body into the event fields the pipeline uses.
///
/// Call it only after [`super::signature::verify`] has accepted the same bytes.
pub fn parse_event(body: &[u8]) -> Result<WebhookEvent, EventError> {
    // One typed pass reads the envelope and `data.object` together. It fails on anything
    // unusual, such as a value of the wrong type, a repeated key or a `data.object` that is
    // not a PaymentIntent (which other event types carry), and reports no path. The second
    // pass keeps `data` as JSON until the type is known and names the field at fault.
    match serde_json::from_slice::<RawEvent<TypedData>>(body) {
        Ok(raw) => event_from_raw(raw, typed_payment_intent),
        Err(_) => parse_event_with_paths(body),
    }
}

/// Parses a webhook body like [`parse_event`], but keeps `data` as JSON until the type
/// shows whether the object is a PaymentIntent, and tracks paths for error messages.
fn parse_event_with_paths(body: &[u8]) -> Result<WebhookEvent, EventError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let raw: RawEvent<Value> = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|error| event_error(error, ""))?;
    deserializer
        .end()
        .map_err(|error| EventError::InvalidJson {
            line: error.line(),
            column: error.column(),
        })?;
    event_from_raw(raw, parse_payment_intent)
}

/// Checks the envelope's required fields and, for a `payment_intent.*` type, reads
/// `data.object` with `read_intent`.
fn event_from_raw<D>(
    raw: RawEvent<D>,
    read_intent: fn(Option<D>) -> Result<EventPaymentIntent, EventError>,
) -> Result<WebhookEvent, EventError> {
    let id = required(raw.id, "id")?;
    let event_type = required(raw.event_type, "type")?;
    let livemode = required(raw.livemode, "livemode")?;
    let created = required(raw.created, "created")?;
    let payment_intent = if event_type.starts_with(PAYMENT_INTENT_TYPE_PREFIX) {
        Some(read_intent(raw.data)?)
    } else {
        None
    };

    Ok(WebhookEvent {
        id,
        kind: EventKind::from_type(&event_type),
        event_type,
        livemode,
        created,
        payment_intent,
    })
}

/// Takes `data.object` of a `payment_intent.*` event from the typed pass.
fn typed_payment_intent(data: Option<TypedData>) -> Result<EventPaymentIntent, EventError> {
    let object = data.ok_or_else(|| missing("data"))?.object;
    payment_intent_from_raw(object.ok_or_else(|| missing("data.object"))?)
}

/// Reads `data.object` of a `payment_intent.*` event from `data` kept as JSON.
fn parse_payment_intent(data: Option<Value>) -> Result<EventPaymentIntent, EventError> {
    let object = match data {
        None | Some(Value::Null) => return Err(missing("data")),
        Some(Value::Object(mut fields)) => fields.remove("object"),
        Some(_) => return Err(invalid("data")),
    };
    let object = match object {
        None | Some(Value::Null) => return Err(missing("data.object")),
        Some(object @ Value::Object(_)) => object,
        Some(_) => return Err(invalid("data.object")),
    };

    let raw: RawPaymentIntent = serde_path_to_error::deserialize(object)
        .map_err(|error| event_error(error, "data.object."))?;
    payment_intent_from_raw(raw)
}

fn payment_intent_from_raw(raw: RawPaymentIntent) -> Result<EventPaymentIntent, EventError> {
    Ok(EventPaymentIntent {
        id: required(raw.id, "data.object.id")?,
        amount: required(raw.amount, "data.object.amount")?,
        amount_received: raw.amount_received,
        currency: required(raw.currency, "data.object.currency")?,
        metadata: raw.metadata,
        latest_charge: raw.latest_charge,
        receipt_email: raw.receipt_email,
        status: required(raw.status, "data.object.status")?,
    })
}

fn required<T>(value: Option<T>, path: &str) -> Result<T, EventError> {
    value.ok_or_else(|| missing(path))
}

fn missing(path: &str) -> EventError {
    EventError::MissingField {
        path: path.to_owned(),
    }
}

fn invalid(path: &str) -> EventError {
    EventError::InvalidField {
        path: path.to_owned(),
    }
}

/// Converts a serde error into an [`EventError`] that keeps only the position or the field
/// path, with `prefix` put before the path. serde's own message is dropped because it can
/// quote values from the body.
fn event_error(error: serde_path_to_error::Error<serde_json::Error>, prefix: &str) -> EventError {
    let path = error.path().to_string();
    let inner = error.into_inner();
    match inner.classify() {
        serde_json::error::Category::Data if path == "." && prefix.is_empty() => {
            EventError::NotAnObject
        }
        serde_json::error::Category::Data if path == "." => invalid(prefix.trim_end_matches('.')),
        serde_json::error::Category::Data => invalid(&format!("{prefix}{path}")),
        serde_json::error::Category::Io
        | serde_json::error::Category::Syntax
        | serde_json::error::Category::Eof => EventError::InvalidJson {
            line: inner.line(),
            column: inner.column(),
        },
    }
}

/// Reads metadata as text values. Absent and null metadata become an empty map.
pub(super) fn metadata_as_text<'de, D>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error>
where
    D: Deserializer<'de>,
{
    let metadata = Option::<MetadataText>::deserialize(deserializer)?;
    Ok(metadata.map(|text| text.0).unwrap_or_default())
}

/// A metadata object with every value as text. A value that is not a JSON string becomes
/// its compact JSON text, and a repeated key keeps its last value.
struct MetadataText(BTreeMap<String, String>);

impl<'de> Deserialize<'de> for MetadataText {
    fn deserialize<D>(deserializer: D) -> Result<Self, D::Error>
    where
        D: Deserializer<'de>,
    {
        deserializer.deserialize_map(MetadataVisitor)
    }
}

struct MetadataVisitor;

impl<'de> Visitor<'de> for MetadataVisitor {
    type Value = MetadataText;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a metadata object")
    }

    fn visit_map<A>(self, mut entries: A) -> Result<Self::Value, A::Error>
    where
        A: MapAccess<'de>,
    {
        let mut metadata = BTreeMap::new();
        while let Some((key, value)) = entries.next_entry::<String, Value>()? {
            let text = match value {
                Value::String(text) => text,
                other => other.to_string(),
            };
            metadata.insert(key, text);
        }
        Ok(MetadataText(metadata))
    }
}

/// Reads `latest_charge`, which is a charge id, an expanded charge object or null.
pub(super) fn charge_id<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: Deserializer<'de>,
{
    match Option::<Value>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Value::String(id)) => Ok(Some(id)),
        Some(Value::Object(mut charge)) => match charge.remove("id") {
            Some(Value::String(id)) => Ok(Some(id)),
            _ => Err(de::Error::custom("expanded charge has no string id")),
        },
        Some(_) => Err(de::Error::custom(
            "expected a charge id, a charge object or null",
        )),
    }
}

#[cfg(test)]
mod tests;
