//! Checks that the local peers behave as the other integration tests expect:
//! localstripe with the shim from `scripts/peers/localstripe_shim.py`, and moto.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, BillingMode, TimeToLiveStatus};
use hmac::{Hmac, Mac};
use integration_tests::{
    confirm_with_test_card, create_test_table, localstripe_request, register_localstripe_webhook,
    send_for_json, stripe_get, stripe_post, FAKE_WEBHOOK_SECRET, PARTITION_KEY, SORT_KEY,
    TTL_ATTRIBUTE,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// localstripe sends a webhook about one second after the event.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(20);

async fn create_payment_intent(extra: &[(&str, &str)]) -> Value {
    let mut form = vec![("amount", "4500"), ("currency", "eur")];
    form.extend_from_slice(extra);
    stripe_post("/v1/payment_intents", &form).await
}

fn id_of(object: &Value) -> String {
    object["id"]
        .as_str()
        .unwrap_or_else(|| panic!("object without an id: {object}"))
        .to_owned()
}

#[tokio::test]
async fn shim_keeps_product_parameters() {
    let created = create_payment_intent(&[
        ("description", "Harbor Classic 2027: 2027-06-12"),
        ("receipt_email", "runner@example.com"),
        ("statement_descriptor_suffix", "HARBOR 2027"),
        ("automatic_payment_methods[enabled]", "true"),
        ("automatic_payment_methods[allow_redirects]", "never"),
        ("metadata[registration_id]", "reg-1"),
    ])
    .await;

    let retrieved = stripe_get(&format!("/v1/payment_intents/{}", id_of(&created))).await;

    assert_eq!(retrieved["description"], "Harbor Classic 2027: 2027-06-12");
    assert_eq!(retrieved["receipt_email"], "runner@example.com");
    assert_eq!(retrieved["statement_descriptor_suffix"], "HARBOR 2027");
    assert_eq!(
        retrieved["automatic_payment_methods"],
        json!({"enabled": true, "allow_redirects": "never"})
    );
    assert_eq!(retrieved["metadata"]["registration_id"], "reg-1");
    assert_eq!(retrieved["status"], "requires_payment_method");
}

#[tokio::test]
async fn shim_fields_default_to_null() {
    let created = create_payment_intent(&[]).await;

    let retrieved = stripe_get(&format!("/v1/payment_intents/{}", id_of(&created))).await;

    for field in [
        "description",
        "receipt_email",
        "statement_descriptor_suffix",
        "automatic_payment_methods",
    ] {
        assert_eq!(retrieved[field], Value::Null, "field {field}: {retrieved}");
    }
}

#[tokio::test]
async fn shim_updates_description() {
    let created = create_payment_intent(&[("description", "first")]).await;
    let path = format!("/v1/payment_intents/{}", id_of(&created));

    stripe_post(&path, &[("description", "second")]).await;

    assert_eq!(stripe_get(&path).await["description"], "second");
}

#[tokio::test]
async fn shim_still_rejects_unknown_parameters() {
    let request = localstripe_request(Method::POST, "/v1/payment_intents").form(&[
        ("amount", "4500"),
        ("currency", "eur"),
        ("not_a_stripe_parameter", "1"),
    ]);

    let (status, body) = send_for_json(request).await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["error"]["message"],
        "Unexpected not_a_stripe_parameter"
    );
}

#[tokio::test]
async fn shim_rejects_invalid_automatic_payment_methods() {
    let request = localstripe_request(Method::POST, "/v1/payment_intents").form(&[
        ("amount", "4500"),
        ("currency", "eur"),
        ("automatic_payment_methods[enabled]", "sometimes"),
    ]);

    let (status, body) = send_for_json(request).await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

/// The product must not rely on idempotency keys, because localstripe ignores them.
#[tokio::test]
async fn idempotency_key_is_ignored() {
    let key = uuid::Uuid::new_v4().to_string();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let request = localstripe_request(Method::POST, "/v1/payment_intents")
            .header("Idempotency-Key", &key)
            .form(&[("amount", "4500"), ("currency", "eur")]);
        let (status, body) = send_for_json(request).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        ids.push(id_of(&body));
    }

    assert_ne!(ids[0], ids[1]);
}

#[tokio::test]
async fn confirm_with_test_card_succeeds() {
    let created = create_payment_intent(&[]).await;
    let id = id_of(&created);

    let confirmed = confirm_with_test_card(&id).await;

    assert_eq!(confirmed["status"], "succeeded", "{confirmed}");
    let retrieved = stripe_get(&format!("/v1/payment_intents/{id}")).await;
    assert_eq!(retrieved["status"], "succeeded");
    assert_eq!(retrieved["amount"], 4500);
}

#[tokio::test]
async fn cancel_payment_intent() {
    let created = create_payment_intent(&[]).await;
    let path = format!("/v1/payment_intents/{}", id_of(&created));

    let cancelled = stripe_post(&format!("{path}/cancel"), &[]).await;

    assert_eq!(cancelled["status"], "canceled");
    assert_eq!(stripe_get(&path).await["status"], "canceled");
}

#[tokio::test]
async fn cancel_after_success_is_rejected() {
    let created = create_payment_intent(&[]).await;
    let id = id_of(&created);
    confirm_with_test_card(&id).await;

    let request = localstripe_request(Method::POST, &format!("/v1/payment_intents/{id}/cancel"));
    let (status, body) = send_for_json(request).await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

/// One HTTP request received by [`start_webhook_receiver`].
struct ReceivedWebhook {
    signature: String,
    body: String,
}

/// Starts an HTTP server on 127.0.0.1 that answers 200 to every request and sends each
/// request to the returned channel. Returns the server's URL and the channel.
async fn start_webhook_receiver() -> (String, mpsc::UnboundedReceiver<ReceivedWebhook>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhook", listener.local_addr().unwrap());
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let sender = sender.clone();
            tokio::spawn(async move {
                if let Some(webhook) = read_request(stream).await {
                    let _ = sender.send(webhook);
                }
            });
        }
    });
    (url, receiver)
}

/// Reads one HTTP/1.1 request with a `Content-Length` body, then answers 200.
async fn read_request(mut stream: TcpStream) -> Option<ReceivedWebhook> {
    let mut buffer = Vec::new();
    let header_end = loop {
        let mut chunk = [0u8; 4096];
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(position) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            break position + 4;
        }
    };

    let head = String::from_utf8_lossy(&buffer[..header_end]).into_owned();
    let headers: HashMap<String, String> = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let content_length: usize = headers.get("content-length")?.parse().ok()?;

    while buffer.len() < header_end + content_length {
        let mut chunk = [0u8; 4096];
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    let body = String::from_utf8_lossy(&buffer[header_end..header_end + content_length]);

    let _ = stream
        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .await;
    Some(ReceivedWebhook {
        signature: headers.get("stripe-signature").cloned().unwrap_or_default(),
        body: body.into_owned(),
    })
}

/// Checks a `Stripe-Signature` header of the form `t=TIMESTAMP,v1=HEX` against `body`.
fn signature_is_valid(header: &str, body: &str, secret: &str) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => timestamp = Some(value),
            Some(("v1", value)) => signatures.push(value),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return false;
    };
    signatures.into_iter().any(|signature| {
        let Ok(expected) = hex::decode(signature) else {
            return false;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{timestamp}.{body}").as_bytes());
        mac.verify_slice(&expected).is_ok()
    })
}

#[tokio::test]
async fn webhook_delivers_signed_success_event() {
    let (url, mut receiver) = start_webhook_receiver().await;
    register_localstripe_webhook(&url, FAKE_WEBHOOK_SECRET).await;
    let created = create_payment_intent(&[]).await;
    let id = id_of(&created);

    confirm_with_test_card(&id).await;

    // Every registered endpoint receives the events of all tests, so skip the others.
    let deadline = tokio::time::Instant::now() + WEBHOOK_TIMEOUT;
    let (webhook, event) = loop {
        let webhook = tokio::time::timeout_at(deadline, receiver.recv())
            .await
            .unwrap_or_else(|_| panic!("no payment_intent.succeeded event for {id} arrived"))
            .expect("the webhook receiver stopped");
        let event: Value = serde_json::from_str(&webhook.body).unwrap();
        if event["type"] == "payment_intent.succeeded" && event["data"]["object"]["id"] == id {
            break (webhook, event);
        }
    };

    assert!(
        signature_is_valid(&webhook.signature, &webhook.body, FAKE_WEBHOOK_SECRET),
        "invalid Stripe-Signature {:?}",
        webhook.signature
    );
    assert_eq!(event["data"]["object"]["status"], "succeeded");
}

#[tokio::test]
async fn moto_table_stores_and_reads_item() {
    let table = create_test_table("peers").await;
    let item = HashMap::from([
        (
            PARTITION_KEY.to_owned(),
            AttributeValue::S("REG#1".to_owned()),
        ),
        (SORT_KEY.to_owned(), AttributeValue::S("QUOTE".to_owned())),
        (
            TTL_ATTRIBUTE.to_owned(),
            AttributeValue::N("4102444800".to_owned()),
        ),
        ("amount".to_owned(), AttributeValue::N("4500".to_owned())),
    ]);

    table
        .client
        .put_item()
        .table_name(&table.name)
        .set_item(Some(item.clone()))
        .send()
        .await
        .expect("put_item failed");
    let read = table
        .client
        .get_item()
        .table_name(&table.name)
        .key(PARTITION_KEY, AttributeValue::S("REG#1".to_owned()))
        .key(SORT_KEY, AttributeValue::S("QUOTE".to_owned()))
        .consistent_read(true)
        .send()
        .await
        .expect("get_item failed");

    assert_eq!(read.item(), Some(&item));
}

#[tokio::test]
async fn moto_table_has_project_layout() {
    let table = create_test_table("peers").await;

    let description = table
        .client
        .describe_table()
        .table_name(&table.name)
        .send()
        .await
        .expect("describe_table failed");
    let ttl = table
        .client
        .describe_time_to_live()
        .table_name(&table.name)
        .send()
        .await
        .expect("describe_time_to_live failed");

    let table_description = description.table().expect("no table description");
    let billing_mode = table_description
        .billing_mode_summary()
        .and_then(|summary| summary.billing_mode());
    assert_eq!(billing_mode, Some(&BillingMode::PayPerRequest));
    let key_names: Vec<&str> = table_description
        .key_schema()
        .iter()
        .map(|element| element.attribute_name())
        .collect();
    assert_eq!(key_names, [PARTITION_KEY, SORT_KEY]);
    let ttl = ttl.time_to_live_description().expect("no TTL description");
    assert_eq!(ttl.attribute_name(), Some(TTL_ATTRIBUTE));
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
}
