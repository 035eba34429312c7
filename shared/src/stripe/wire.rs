//! Stripe's wire format: form-encoded request bodies and the JSON fields we read back.

use super::event::{charge_id, metadata_as_text};
use super::{CreatePaymentIntent, PaymentIntent};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Maximum length of one part of a rejection's `kind`. Stripe's error types and codes are
/// far shorter, so a longer value is not one of them.
const MAX_KIND_PART_CHARS: usize = 64;

/// `kind` of a rejection whose body names no error type or code that we can use.
pub(super) const UNKNOWN_KIND: &str = "unknown";

/// Lists the form parameters of a PaymentIntent create request, in the order they are sent.
///
/// Amounts are integers in minor units and the currency is lower case. `description`,
/// `receipt_email` and `statement_descriptor_suffix` are sent only when they are not empty,
/// and each metadata pair becomes `metadata[key]=value`.
pub(super) fn create_form_pairs(request: &CreatePaymentIntent) -> Vec<(String, String)> {
    let mut pairs = vec![
        ("amount".to_owned(), request.amount.to_string()),
        ("currency".to_owned(), request.currency.to_ascii_lowercase()),
        (
            "automatic_payment_methods[enabled]".to_owned(),
            "true".to_owned(),
        ),
    ];
    if !request.description.is_empty() {
        pairs.push(("description".to_owned(), request.description.clone()));
    }
    if let Some(email) = non_empty(&request.receipt_email) {
        pairs.push(("receipt_email".to_owned(), email.to_owned()));
    }
    if let Some(suffix) = non_empty(&request.statement_descriptor_suffix) {
        pairs.push(("statement_descriptor_suffix".to_owned(), suffix.to_owned()));
    }
    for (key, value) in &request.metadata {
        pairs.push((format!("metadata[{key}]"), value.clone()));
    }
    pairs
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|text| !text.is_empty())
}

/// Encodes form parameters as an `application/x-www-form-urlencoded` body.
pub(super) fn encode_form(
    pairs: &[(String, String)],
) -> Result<String, serde_urlencoded::ser::Error> {
    serde_urlencoded::to_string(pairs)
}

/// The PaymentIntent fields we read. Serde skips every other field of Stripe's response.
#[derive(Deserialize)]
struct PaymentIntentBody {
    id: String,
    client_secret: Option<String>,
    amount: i64,
    amount_received: Option<i64>,
    currency: String,
    status: String,
    livemode: bool,
    #[serde(default, deserialize_with = "metadata_as_text")]
    metadata: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "charge_id")]
    latest_charge: Option<String>,
    created: i64,
}

/// Parses a PaymentIntent response, or returns `None` when a field we need is missing or
/// has the wrong type. The caller must not put the body or the parse error into a message,
/// because serde's errors quote values from the body.
///
/// `livemode` and `created` are required because Stripe sends them on every PaymentIntent
/// and an order made from a guessed mode would be wrong. Absent or null metadata reads as
/// empty, and an absent or null `amount_received` or `latest_charge` as `None`.
pub(super) fn parse_payment_intent(body: &[u8]) -> Option<PaymentIntent> {
    let parsed: PaymentIntentBody = serde_json::from_slice(body).ok()?;
    Some(PaymentIntent {
        id: parsed.id,
        // Stripe includes the client secret in responses to secret-key requests. An empty
        // string means that the response left it out, as a fake Stripe might.
        client_secret: parsed.client_secret.unwrap_or_default(),
        amount: parsed.amount,
        amount_received: parsed.amount_received,
        currency: parsed.currency,
        status: parsed.status,
        livemode: parsed.livemode,
        metadata: parsed.metadata,
        latest_charge: parsed.latest_charge,
        created: parsed.created,
    })
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "type")]
    error_type: Option<String>,
    code: Option<String>,
}

/// Returns the short machine-readable `kind` of a Stripe error body: `type/code`, `type` or
/// `code`, such as `invalid_request_error/resource_missing`.
///
/// Only parts made of lower-case ASCII letters, digits and `_`, at most 64 characters each,
/// are used, so the kind never carries Stripe's message or other free text from the body.
/// Returns [`UNKNOWN_KIND`] when no part qualifies.
pub(super) fn rejection_kind(body: &[u8]) -> String {
    let Ok(envelope) = serde_json::from_slice::<ErrorEnvelope>(body) else {
        return UNKNOWN_KIND.to_owned();
    };
    let parts: Vec<String> = [envelope.error.error_type, envelope.error.code]
        .into_iter()
        .flatten()
        .filter(|part| is_machine_word(part))
        .collect();
    if parts.is_empty() {
        UNKNOWN_KIND.to_owned()
    } else {
        parts.join("/")
    }
}

fn is_machine_word(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_KIND_PART_CHARS
        && text
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
}

/// Returns whether `id` looks like a Stripe object id (ASCII letters, digits and `_`, at most
/// 255 characters), which keeps it from changing the request path.
pub(super) fn is_valid_object_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 255
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> CreatePaymentIntent {
        CreatePaymentIntent {
            amount: 11_691,
            currency: "USD".to_owned(),
            description: "Harbor Classic 2027: 2027-06-12, 2027-06-13".to_owned(),
            metadata: vec![
                (
                    "registration_id".to_owned(),
                    "9b2f3c1e-4d5a-4e6f-8a7b-1c2d3e4f5a6b".to_owned(),
                ),
                ("f_club".to_owned(), "Harbor & Bay RC".to_owned()),
            ],
            idempotency_key: "reg_9b2f3c1e-4d5a-4e6f-8a7b-1c2d3e4f5a6b_abc".to_owned(),
            receipt_email: None,
            statement_descriptor_suffix: None,
        }
    }

    fn decode(body: &str) -> Vec<(String, String)> {
        serde_urlencoded::from_str(body).unwrap()
    }

    fn find<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
        pairs
            .iter()
            .find(|(candidate, _)| candidate == key)
            .map(|(_, value)| value.as_str())
    }

    #[test]
    fn create_body_encodes_fields_and_metadata() {
        let body = encode_form(&create_form_pairs(&request())).unwrap();
        let pairs = decode(&body);

        assert_eq!(find(&pairs, "amount"), Some("11691"));
        assert_eq!(find(&pairs, "currency"), Some("usd"));
        assert_eq!(
            find(&pairs, "automatic_payment_methods[enabled]"),
            Some("true")
        );
        assert_eq!(
            find(&pairs, "description"),
            Some("Harbor Classic 2027: 2027-06-12, 2027-06-13")
        );
        assert_eq!(
            find(&pairs, "metadata[registration_id]"),
            Some("9b2f3c1e-4d5a-4e6f-8a7b-1c2d3e4f5a6b")
        );
        assert_eq!(find(&pairs, "metadata[f_club]"), Some("Harbor & Bay RC"));
    }

    #[test]
    fn create_body_escapes_reserved_characters() {
        let body = encode_form(&create_form_pairs(&request())).unwrap();

        assert!(
            body.contains("metadata%5Bregistration_id%5D=9b2f3c1e-4d5a-4e6f-8a7b-1c2d3e4f5a6b"),
            "{body}"
        );
        assert!(body.contains("Harbor+%26+Bay+RC"), "{body}");
        assert!(body.starts_with("amount=11691&currency=usd&"), "{body}");
    }

    #[test]
    fn optional_fields_are_left_out_when_unset() {
        let mut request = request();
        request.description = String::new();
        request.receipt_email = Some(String::new());

        let pairs = create_form_pairs(&request);

        assert_eq!(find(&pairs, "description"), None);
        assert_eq!(find(&pairs, "receipt_email"), None);
        assert_eq!(find(&pairs, "statement_descriptor_suffix"), None);
    }

    #[test]
    fn optional_fields_are_sent_when_set() {
        let mut request = request();
        request.receipt_email = Some("ada@example.com".to_owned());
        request.statement_descriptor_suffix = Some("HARBOR 27".to_owned());

        let pairs = create_form_pairs(&request);

        assert_eq!(find(&pairs, "receipt_email"), Some("ada@example.com"));
        assert_eq!(
            find(&pairs, "statement_descriptor_suffix"),
            Some("HARBOR 27")
        );
    }

    #[test]
    fn payment_intent_ignores_unknown_fields() {
        let body = br#"{
            "id": "pi_123",
            "object": "payment_intent",
            "amount": 11691,
            "amount_received": 0,
            "currency": "usd",
            "status": "requires_payment_method",
            "client_secret": "pi_123_secret_456",
            "livemode": false,
            "created": 1800000000,
            "metadata": {"registration_id": "x"},
            "latest_charge": null,
            "next_action": null,
            "payment_method_options": {"card": {"request_three_d_secure": "automatic"}}
        }"#;

        let intent = parse_payment_intent(body).unwrap();

        assert_eq!(intent.id, "pi_123");
        assert_eq!(intent.client_secret, "pi_123_secret_456");
        assert_eq!(intent.amount, 11_691);
        assert_eq!(intent.amount_received, Some(0));
        assert_eq!(intent.currency, "usd");
        assert_eq!(intent.status, "requires_payment_method");
        assert!(!intent.livemode);
        assert_eq!(intent.created, 1_800_000_000);
        assert_eq!(intent.metadata.get("registration_id").unwrap(), "x");
        assert_eq!(intent.latest_charge, None);
    }

    #[test]
    fn payment_intent_reads_succeeded_payment() {
        let body = br#"{
            "id": "pi_123",
            "amount": 11691,
            "amount_received": 11691,
            "currency": "usd",
            "status": "succeeded",
            "livemode": true,
            "created": 1800000000,
            "metadata": {"registration_id": "9b2f3c1e", "f_club": "Harbor & Bay RC"},
            "latest_charge": "ch_456"
        }"#;

        let intent = parse_payment_intent(body).unwrap();

        assert_eq!(intent.amount_received, Some(11_691));
        assert!(intent.livemode);
        assert_eq!(intent.latest_charge.as_deref(), Some("ch_456"));
        assert_eq!(intent.metadata.len(), 2);
        assert_eq!(intent.metadata.get("f_club").unwrap(), "Harbor & Bay RC");
        assert_eq!(intent.client_secret, "");
    }

    #[test]
    fn payment_intent_reads_expanded_charge() {
        let body = br#"{"id": "pi_123", "amount": 500, "currency": "usd",
            "status": "succeeded", "livemode": false, "created": 1800000000,
            "latest_charge": {"id": "ch_789", "object": "charge", "amount": 500}}"#;

        let intent = parse_payment_intent(body).unwrap();

        assert_eq!(intent.latest_charge.as_deref(), Some("ch_789"));
    }

    #[test]
    fn payment_intent_metadata_values_become_text() {
        let body = br#"{"id": "pi_123", "amount": 500, "currency": "usd",
            "status": "succeeded", "livemode": false, "created": 1800000000,
            "metadata": {"quantity": 2, "paid": true, "note": null, "days": ["a"]}}"#;

        let intent = parse_payment_intent(body).unwrap();

        assert_eq!(intent.metadata.get("quantity").unwrap(), "2");
        assert_eq!(intent.metadata.get("paid").unwrap(), "true");
        assert_eq!(intent.metadata.get("note").unwrap(), "null");
        assert_eq!(intent.metadata.get("days").unwrap(), r#"["a"]"#);
    }

    #[test]
    fn payment_intent_accepts_null_optional_fields() {
        let body = br#"{"id": "pi_123", "amount": 500, "currency": "usd",
            "status": "processing", "livemode": false, "created": 1800000000,
            "amount_received": null, "metadata": null}"#;

        let intent = parse_payment_intent(body).unwrap();

        assert_eq!(intent.amount_received, None);
        assert!(intent.metadata.is_empty());
        assert_eq!(intent.latest_charge, None);
    }

    #[test]
    fn payment_intent_without_amount_is_invalid() {
        let body = br#"{"id": "pi_123", "currency": "usd", "status": "canceled",
            "livemode": false, "created": 1800000000}"#;

        assert_eq!(parse_payment_intent(body), None);
    }

    #[test]
    fn payment_intent_without_livemode_or_created_is_invalid() {
        let without_livemode = br#"{"id": "pi_123", "amount": 500, "currency": "usd",
            "status": "succeeded", "created": 1800000000}"#;
        let without_created = br#"{"id": "pi_123", "amount": 500, "currency": "usd",
            "status": "succeeded", "livemode": false}"#;

        assert_eq!(parse_payment_intent(without_livemode), None);
        assert_eq!(parse_payment_intent(without_created), None);
    }

    #[test]
    fn payment_intent_with_malformed_charge_is_invalid() {
        let body = br#"{"id": "pi_123", "amount": 500, "currency": "usd",
            "status": "succeeded", "livemode": false, "created": 1800000000,
            "latest_charge": 42}"#;

        assert_eq!(parse_payment_intent(body), None);
    }

    #[test]
    fn rejection_kind_joins_type_and_code() {
        let body = br#"{"error": {"type": "invalid_request_error", "code": "resource_missing",
            "message": "No such payment_intent: 'pi_123'", "param": "intent"}}"#;

        assert_eq!(
            rejection_kind(body),
            "invalid_request_error/resource_missing"
        );
    }

    #[test]
    fn rejection_kind_uses_type_alone() {
        let body = br#"{"error": {"type": "invalid_request_error", "message": "Bad request"}}"#;

        assert_eq!(rejection_kind(body), "invalid_request_error");
    }

    #[test]
    fn rejection_kind_drops_free_text() {
        let body = br#"{"error": {"type": "Something went wrong: sk_test_fake_key",
            "code": "card_declined"}}"#;

        assert_eq!(rejection_kind(body), "card_declined");
    }

    #[test]
    fn rejection_kind_of_unreadable_body_is_unknown() {
        for body in [&b"<html>Bad gateway</html>"[..], b"{}", b"{\"error\": {}}"] {
            assert_eq!(rejection_kind(body), UNKNOWN_KIND);
        }
    }

    #[test]
    fn object_id_check_blocks_path_changes() {
        assert!(is_valid_object_id("pi_3MtwBwLkdIwHu7ix28a3tqPa"));
        for id in ["", "..", "pi_1/cancel", "pi_1?expand=x", "pi 1", "pi_1%2F"] {
            assert!(!is_valid_object_id(id), "{id:?}");
        }
    }
}
