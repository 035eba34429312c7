use super::*;

/// A `payment_intent.succeeded` event with the envelope and PaymentIntent fields that Stripe
/// sends. Ids and values are made up.
const SUCCEEDED: &str = r#"{
  "id": "evt_test_succeeded_0001",
  "object": "event",
  "api_version": "2024-06-20",
  "created": 1780000123,
  "data": {
    "object": {
      "id": "pi_test_harbor_0001",
      "object": "payment_intent",
      "amount": 8660,
      "amount_capturable": 0,
      "amount_details": { "tip": {} },
      "amount_received": 8660,
      "application": null,
      "application_fee_amount": null,
      "automatic_payment_methods": { "allow_redirects": "always", "enabled": true },
      "canceled_at": null,
      "cancellation_reason": null,
      "capture_method": "automatic_async",
      "confirmation_method": "automatic",
      "created": 1780000100,
      "currency": "usd",
      "customer": null,
      "description": "Harbor Classic 2027: 2027-06-12",
      "invoice": null,
      "last_payment_error": null,
      "latest_charge": "ch_test_harbor_0001",
      "livemode": false,
      "metadata": {
        "registration_id": "5b0e8c52-3f6a-4d1e-9a57-2c1f0e4b7d90",
        "event_id": "harbor-classic-2027",
        "days": "2027-06-12",
        "participants": "2",
        "currency": "usd",
        "subtotal": "8000",
        "discount_amount": "0",
        "tax": "660",
        "tax_rate": "0.0825",
        "total": "8660",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.org",
        "phone": "+12025550143",
        "f_club": "Harbor Runners"
      },
      "next_action": null,
      "on_behalf_of": null,
      "payment_method": "pm_test_card_0001",
      "payment_method_options": {
        "card": {
          "installments": null,
          "mandate_options": null,
          "network": null,
          "request_three_d_secure": "automatic"
        }
      },
      "payment_method_types": ["card", "link"],
      "processing": null,
      "receipt_email": null,
      "review": null,
      "setup_future_usage": null,
      "shipping": null,
      "source": null,
      "statement_descriptor": null,
      "statement_descriptor_suffix": "HARBOR 2027",
      "status": "succeeded",
      "transfer_data": null,
      "transfer_group": null
    }
  },
  "livemode": false,
  "pending_webhooks": 1,
  "request": {
    "id": "req_test_0001",
    "idempotency_key": "registration-5b0e8c52-3f6a-4d1e-9a57-2c1f0e4b7d90"
  },
  "type": "payment_intent.succeeded"
}"#;

/// A `payment_intent.succeeded` event from a later, made-up API version. It has unknown
/// fields at the top level, in `data`, in `data.object` and in the expanded charge, a
/// payment method type and a status that this module does not know, and no `charges` key.
const NEWER_API_VERSION: &str = r#"{
  "id": "evt_test_newer_0001",
  "object": "event",
  "api_version": "2031-04-30.future",
  "context": "acct_test_connected",
  "created": 1780000456,
  "data": {
    "object": {
      "id": "pi_test_newer_0001",
      "object": "payment_intent",
      "amount": 4500,
      "amount_received": 4500,
      "currency": "chf",
      "latest_charge": {
        "id": "ch_test_newer_0001",
        "object": "charge",
        "outcome": { "network_decline_code": null, "risk_tier": "very_low" }
      },
      "metadata": { "registration_id": "a1c4d2e0-7b9f-4e3a-8c6d-0f1e2d3c4b5a" },
      "payment_method_types": ["twint"],
      "presentment_details": { "presentment_amount": 5000, "presentment_currency": "eur" },
      "receipt_email": "runner@example.org",
      "status": "requires_reconciliation"
    },
    "object_schema": "v3"
  },
  "livemode": true,
  "pending_webhooks": 2,
  "request": { "id": null, "idempotency_key": null },
  "type": "payment_intent.succeeded"
}"#;

const PAYMENT_FAILED: &str = r#"{
  "id": "evt_test_failed_0001",
  "object": "event",
  "api_version": "2024-06-20",
  "created": 1780000789,
  "data": {
    "object": {
      "id": "pi_test_declined_0001",
      "object": "payment_intent",
      "amount": 4000,
      "amount_received": 0,
      "currency": "usd",
      "last_payment_error": {
        "charge": "ch_test_declined_0001",
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "type": "card_error"
      },
      "latest_charge": "ch_test_declined_0001",
      "metadata": { "registration_id": "0d9e8f7a-6b5c-4d3e-9f1a-2b3c4d5e6f70" },
      "payment_method_types": ["card"],
      "receipt_email": null,
      "status": "requires_payment_method"
    }
  },
  "livemode": false,
  "type": "payment_intent.payment_failed"
}"#;

/// A `charge.refunded` event. Its charge object has a non-numeric `amount` and no
/// `status`, so parsing would fail if it were read as a PaymentIntent.
const CHARGE_REFUNDED: &str = r#"{
  "id": "evt_test_refunded_0001",
  "object": "event",
  "created": 1780000999,
  "data": {
    "object": {
      "id": "ch_test_harbor_0001",
      "object": "charge",
      "amount": "not a number",
      "amount_refunded": 8660,
      "payment_intent": "pi_test_harbor_0001",
      "refunded": true
    }
  },
  "livemode": false,
  "type": "charge.refunded"
}"#;

/// Pretty-printed, with raw UTF-8, `\u` escapes, escaped slashes and a value with
/// surrounding spaces.
const TEXT_FIDELITY: &str = r#"{
    "id": "evt_test_text_0001",
    "type": "payment_intent.succeeded",
    "livemode": false,
    "created": 1780001000,
    "data": {
        "object": {
            "id": "pi_test_text_0001",
            "amount": 4000,
            "currency": "eur",
            "status": "succeeded",
            "metadata": {
                "first_name": "Zoë",
                "last_name": "M\u00fcller-\u00c5str\u00f6m",
                "f_website": "https:\/\/example.org\/club?a=1&b=2",
                "f_note": "  two spaces  \"quoted\"\n",
                "f_emoji": "\ud83c\udfc3"
            }
        }
    }
}
"#;

/// A change made to `SUCCEEDED` before parsing it.
type EditEvent = fn(&mut Value);

fn parse(body: &str) -> WebhookEvent {
    match parse_event(body.as_bytes()) {
        Ok(event) => event,
        Err(error) => panic!("event did not parse: {error}"),
    }
}

fn payment_intent(event: &WebhookEvent) -> &EventPaymentIntent {
    event
        .payment_intent
        .as_ref()
        .expect("event has a PaymentIntent")
}

/// Replaces `data.object.latest_charge` in `SUCCEEDED`, or removes it when given `None`.
fn succeeded_with_latest_charge(latest_charge: Option<Value>) -> String {
    let mut event: Value = serde_json::from_str(SUCCEEDED).unwrap();
    let object = event["data"]["object"].as_object_mut().unwrap();
    match latest_charge {
        Some(value) => object.insert("latest_charge".to_owned(), value),
        None => object.remove("latest_charge"),
    };
    event.to_string()
}

/// Applies `edit` to `SUCCEEDED` parsed as JSON and returns the result as text.
fn edited_succeeded(edit: impl FnOnce(&mut Value)) -> String {
    let mut event: Value = serde_json::from_str(SUCCEEDED).unwrap();
    edit(&mut event);
    event.to_string()
}

#[test]
fn succeeded_event_parses() {
    let event = parse(SUCCEEDED);
    assert_eq!(event.id, "evt_test_succeeded_0001");
    assert_eq!(event.event_type, "payment_intent.succeeded");
    assert_eq!(event.kind, EventKind::PaymentIntentSucceeded);
    assert!(!event.livemode);
    assert_eq!(event.created, 1_780_000_123);

    let intent = payment_intent(&event);
    assert_eq!(intent.id, "pi_test_harbor_0001");
    assert_eq!(intent.amount, 8660);
    assert_eq!(intent.amount_received, Some(8660));
    assert_eq!(intent.currency, "usd");
    assert_eq!(intent.latest_charge.as_deref(), Some("ch_test_harbor_0001"));
    assert_eq!(intent.receipt_email, None);
    assert_eq!(intent.status, "succeeded");
    assert_eq!(intent.metadata.len(), 15);
    assert_eq!(
        intent.metadata["registration_id"],
        "5b0e8c52-3f6a-4d1e-9a57-2c1f0e4b7d90"
    );
    assert_eq!(intent.metadata["total"], "8660");
    assert_eq!(intent.metadata["f_club"], "Harbor Runners");
}

#[test]
fn newer_api_version_parses() {
    let event = parse(NEWER_API_VERSION);
    assert_eq!(event.id, "evt_test_newer_0001");
    assert_eq!(event.kind, EventKind::PaymentIntentSucceeded);
    assert!(event.livemode);

    let intent = payment_intent(&event);
    assert_eq!(intent.id, "pi_test_newer_0001");
    assert_eq!(intent.amount, 4500);
    assert_eq!(intent.currency, "chf");
    assert_eq!(intent.latest_charge.as_deref(), Some("ch_test_newer_0001"));
    assert_eq!(intent.receipt_email.as_deref(), Some("runner@example.org"));
    assert_eq!(intent.status, "requires_reconciliation");
    assert_eq!(
        intent.metadata["registration_id"],
        "a1c4d2e0-7b9f-4e3a-8c6d-0f1e2d3c4b5a"
    );
}

#[test]
fn older_charges_list_is_ignored() {
    let body = edited_succeeded(|event| {
        event["data"]["object"]["charges"] = serde_json::json!({
            "object": "list",
            "data": [{ "id": "ch_test_harbor_0001", "object": "charge" }],
            "has_more": false
        });
    });
    let event = parse(&body);
    assert_eq!(payment_intent(&event).id, "pi_test_harbor_0001");
}

#[test]
fn payment_failed_event_parses() {
    let event = parse(PAYMENT_FAILED);
    assert_eq!(event.kind, EventKind::PaymentIntentPaymentFailed);
    assert_eq!(event.event_type, "payment_intent.payment_failed");

    let intent = payment_intent(&event);
    assert_eq!(intent.id, "pi_test_declined_0001");
    assert_eq!(intent.amount_received, Some(0));
    assert_eq!(intent.status, "requires_payment_method");
    assert_eq!(
        intent.latest_charge.as_deref(),
        Some("ch_test_declined_0001")
    );
}

#[test]
fn charge_refunded_is_other_without_object() {
    let event = parse(CHARGE_REFUNDED);
    assert_eq!(event.kind, EventKind::Other("charge.refunded".to_owned()));
    assert_eq!(event.event_type, "charge.refunded");
    assert_eq!(event.id, "evt_test_refunded_0001");
    assert_eq!(event.payment_intent, None);
}

#[test]
fn other_event_without_data_parses() {
    let body = r#"{"id":"evt_test_ping","type":"account.updated","livemode":false,"created":1}"#;
    let event = parse(body);
    assert_eq!(event.kind, EventKind::Other("account.updated".to_owned()));
    assert_eq!(event.payment_intent, None);
}

#[test]
fn other_payment_intent_type_reads_object() {
    let body = edited_succeeded(|event| event["type"] = "payment_intent.created".into());
    let event = parse(&body);
    assert_eq!(
        event.kind,
        EventKind::Other("payment_intent.created".to_owned())
    );
    assert_eq!(payment_intent(&event).id, "pi_test_harbor_0001");
}

#[test]
fn text_values_are_kept_exactly() {
    let event = parse(TEXT_FIDELITY);
    let metadata = &payment_intent(&event).metadata;
    assert_eq!(metadata["first_name"], "Zo\u{eb}");
    assert_eq!(metadata["last_name"], "Müller-Åström");
    assert_eq!(metadata["f_website"], "https://example.org/club?a=1&b=2");
    assert_eq!(metadata["f_note"], "  two spaces  \"quoted\"\n");
    assert_eq!(metadata["f_emoji"], "\u{1f3c3}");
    assert_eq!(metadata.len(), 5);
}

#[test]
fn non_string_metadata_becomes_text() {
    let body = edited_succeeded(|event| {
        event["data"]["object"]["metadata"] = serde_json::json!({
            "participants": 2,
            "ratio": 0.5,
            "vip": true,
            "cleared": null,
            "nested": { "a": [1, "b"] }
        });
    });
    let event = parse(&body);
    let metadata = &payment_intent(&event).metadata;
    assert_eq!(metadata["participants"], "2");
    assert_eq!(metadata["ratio"], "0.5");
    assert_eq!(metadata["vip"], "true");
    assert_eq!(metadata["cleared"], "null");
    assert_eq!(metadata["nested"], r#"{"a":[1,"b"]}"#);
}

#[test]
fn absent_or_null_metadata_is_empty() {
    for metadata in [None, Some(Value::Null)] {
        let body = edited_succeeded(|event| {
            let object = event["data"]["object"].as_object_mut().unwrap();
            match metadata {
                Some(value) => object.insert("metadata".to_owned(), value),
                None => object.remove("metadata"),
            };
        });
        let event = parse(&body);
        assert!(payment_intent(&event).metadata.is_empty());
    }
}

#[test]
fn latest_charge_accepts_all_forms() {
    let expanded = serde_json::json!({ "id": "ch_test_expanded", "object": "charge" });
    let rows = [
        (
            "id",
            Some(Value::from("ch_test_plain")),
            Some("ch_test_plain"),
        ),
        ("expanded", Some(expanded), Some("ch_test_expanded")),
        ("null", Some(Value::Null), None),
        ("absent", None, None),
    ];
    for (name, value, expected) in rows {
        let event = parse(&succeeded_with_latest_charge(value));
        assert_eq!(
            payment_intent(&event).latest_charge.as_deref(),
            expected,
            "{name}"
        );
    }
}

#[test]
fn invalid_latest_charge_is_rejected() {
    let rows = [
        ("number", serde_json::json!(42)),
        (
            "object without id",
            serde_json::json!({ "object": "charge" }),
        ),
        ("object with numeric id", serde_json::json!({ "id": 7 })),
    ];
    for (name, value) in rows {
        let result = parse_event(succeeded_with_latest_charge(Some(value)).as_bytes());
        assert_eq!(
            result,
            Err(EventError::InvalidField {
                path: "data.object.latest_charge".to_owned()
            }),
            "{name}"
        );
    }
}

#[test]
fn not_json_is_rejected() {
    let result = parse_event(b"this is not valid JSON");
    assert!(
        matches!(result, Err(EventError::InvalidJson { line: 1, .. })),
        "{result:?}"
    );
}

#[test]
fn empty_and_truncated_bodies_are_rejected() {
    for body in ["", "{\"id\": \"evt_test", "{\"id\": \"evt_test\","] {
        let result = parse_event(body.as_bytes());
        assert!(
            matches!(result, Err(EventError::InvalidJson { .. })),
            "{body:?}: {result:?}"
        );
    }
}

#[test]
fn trailing_content_is_rejected() {
    let body = format!("{SUCCEEDED} {{}}");
    let result = parse_event(body.as_bytes());
    assert!(
        matches!(result, Err(EventError::InvalidJson { .. })),
        "{result:?}"
    );
}

#[test]
fn json_that_is_not_object_is_rejected() {
    for body in ["[]", "\"evt_test\"", "null", "42"] {
        assert_eq!(
            parse_event(body.as_bytes()),
            Err(EventError::NotAnObject),
            "{body}"
        );
    }
}

#[test]
fn missing_fields_are_named() {
    let rows: [(&str, EditEvent); 8] = [
        ("id", |event| {
            event.as_object_mut().unwrap().remove("id");
        }),
        ("type", |event| event["type"] = Value::Null),
        ("livemode", |event| {
            event.as_object_mut().unwrap().remove("livemode");
        }),
        ("created", |event| {
            event.as_object_mut().unwrap().remove("created");
        }),
        ("data", |event| {
            event.as_object_mut().unwrap().remove("data");
        }),
        ("data.object", |event| event["data"]["object"] = Value::Null),
        ("data.object.amount", |event| {
            event["data"]["object"]
                .as_object_mut()
                .unwrap()
                .remove("amount");
        }),
        ("data.object.status", |event| {
            event["data"]["object"]
                .as_object_mut()
                .unwrap()
                .remove("status");
        }),
    ];
    for (path, edit) in rows {
        assert_eq!(
            parse_event(edited_succeeded(edit).as_bytes()),
            Err(EventError::MissingField {
                path: path.to_owned()
            }),
            "{path}"
        );
    }
}

#[test]
fn wrong_types_are_named() {
    let rows: [(&str, EditEvent); 6] = [
        ("created", |event| event["created"] = "yesterday".into()),
        ("livemode", |event| event["livemode"] = "false".into()),
        ("data", |event| event["data"] = "pi_test".into()),
        ("data.object", |event| event["data"]["object"] = 5.into()),
        ("data.object.amount", |event| {
            event["data"]["object"]["amount"] = 86.6.into();
        }),
        ("data.object.currency", |event| {
            event["data"]["object"]["currency"] = serde_json::json!(["usd"]);
        }),
    ];
    for (path, edit) in rows {
        assert_eq!(
            parse_event(edited_succeeded(edit).as_bytes()),
            Err(EventError::InvalidField {
                path: path.to_owned()
            }),
            "{path}"
        );
    }
}

#[test]
fn error_messages_do_not_echo_body() {
    let marker = "body-value-7f3a9c";
    let bodies = [
        format!("{{\"id\": \"{marker}\", \"created\": \"{marker}\"}}"),
        edited_succeeded(|event| event["data"]["object"]["amount"] = marker.into()),
        format!("{marker} is not JSON"),
        format!("[\"{marker}\"]"),
    ];
    for body in &bodies {
        let error = parse_event(body.as_bytes()).unwrap_err();
        assert!(!error.to_string().contains(marker), "{error}");
        assert!(!format!("{error:?}").contains(marker), "{error:?}");
    }
}

/// `parse_event` reads most events in one typed pass and falls back to the slower pass that
/// tracks paths. Both must give the same result, or a fault would change behaviour only on
/// the fast path.
#[test]
fn fast_and_path_tracking_parses_agree() {
    let expanded_charge = succeeded_with_latest_charge(Some(serde_json::json!({
        "id": "ch_test_expanded_0001",
        "object": "charge"
    })));
    let without_charge = succeeded_with_latest_charge(None);
    let number_in_metadata = edited_succeeded(|event| {
        event["data"]["object"]["metadata"]["quantity"] = serde_json::json!(2);
    });
    let empty_data = edited_succeeded(|event| {
        event["data"] = serde_json::json!({});
    });
    let missing_id = edited_succeeded(|event| {
        event.as_object_mut().unwrap().remove("id");
    });
    let bodies: Vec<&str> = vec![
        SUCCEEDED,
        NEWER_API_VERSION,
        PAYMENT_FAILED,
        CHARGE_REFUNDED,
        TEXT_FIDELITY,
        &expanded_charge,
        &without_charge,
        &number_in_metadata,
        &empty_data,
        &missing_id,
        r#"{"id":"evt_1","id":"evt_2","type":"payment_intent.succeeded"}"#,
    ];
    for body in bodies {
        assert_eq!(
            parse_event(body.as_bytes()),
            parse_event_with_paths(body.as_bytes()),
            "{body}"
        );
    }
}
