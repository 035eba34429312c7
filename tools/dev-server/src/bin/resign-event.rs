//! Re-signs a Stripe webhook fixture in `events/` with the current time, because Stripe
//! signatures are only accepted for five minutes.
//!
//! Usage: `resign-event EVENT_FILE [SECRET]`. The secret defaults to the
//! `STRIPE_WEBHOOK_SECRET` environment variable, then to the first entry of
//! `STRIPE_WEBHOOK_SECRETS`, then to `whsec_test_local_only`, the fixtures' own test secret. The event is printed to standard output with a fresh
//! `Stripe-Signature` header and its body untouched (base64 bodies are signed over their
//! decoded bytes, as Stripe signs what it sends).

use base64::Engine as _;
use serde_json::Value;
use shared::stripe::signature::{sign, WebhookSecret};
use std::process::ExitCode;

const FIXTURE_SECRET: &str = "whsec_test_local_only";

fn main() -> ExitCode {
    match run() {
        Ok(event) => {
            println!("{event}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("resign-event: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<String, String> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("missing EVENT_FILE; usage: resign-event EVENT_FILE [SECRET]")?;
    let secret = args
        .next()
        .or_else(|| std::env::var("STRIPE_WEBHOOK_SECRET").ok())
        .or_else(|| first_configured_secret(std::env::var("STRIPE_WEBHOOK_SECRETS").ok()))
        .unwrap_or_else(|| FIXTURE_SECRET.to_owned());
    let secret = WebhookSecret::new(secret).map_err(|_| "the secret is empty".to_owned())?;

    let text =
        std::fs::read_to_string(&path).map_err(|error| format!("cannot read {path}: {error}"))?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    resign(&text, &secret, now).map_err(|message| format!("{path}: {message}"))
}

/// Returns the first secret of a comma-separated list, as the functions read
/// `STRIPE_WEBHOOK_SECRETS`.
fn first_configured_secret(list: Option<String>) -> Option<String> {
    list?
        .split(',')
        .map(str::trim)
        .find(|secret| !secret.is_empty())
        .map(str::to_owned)
}

/// Replaces the event's `stripe-signature` header with one made at `now`.
fn resign(text: &str, secret: &WebhookSecret, now: i64) -> Result<String, String> {
    let mut event: Value =
        serde_json::from_str(text).map_err(|error| format!("not JSON: {error}"))?;
    let body = event["body"].as_str().ok_or("no string `body`")?;
    let bytes = if event["isBase64Encoded"] == Value::Bool(true) {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|error| format!("the base64 body is invalid: {error}"))?
    } else {
        body.as_bytes().to_vec()
    };

    let headers = event["headers"]
        .as_object_mut()
        .ok_or("no `headers` object")?;
    headers.insert(
        "stripe-signature".to_owned(),
        Value::String(sign(now, &bytes, secret)),
    );
    serde_json::to_string_pretty(&event).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::stripe::signature::verify;

    fn fixture(name: &str) -> String {
        let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn resigned_fixtures_verify_now() {
        let secret = WebhookSecret::new(FIXTURE_SECRET).unwrap();
        let now = 2_000_000_000;
        for name in [
            "stripe-webhook-payment-succeeded.json",
            "stripe-webhook-payment-succeeded-base64.json",
        ] {
            let event: Value =
                serde_json::from_str(&resign(&fixture(name), &secret, now).unwrap()).unwrap();
            let header = event["headers"]["stripe-signature"].as_str().unwrap();
            assert!(header.starts_with("t=2000000000,v1="), "{name}: {header}");
            let body = event["body"].as_str().unwrap();
            let bytes = if event["isBase64Encoded"] == Value::Bool(true) {
                base64::engine::general_purpose::STANDARD
                    .decode(body)
                    .unwrap()
            } else {
                body.as_bytes().to_vec()
            };
            assert_eq!(
                verify(
                    Some(header),
                    &bytes,
                    std::slice::from_ref(&secret),
                    now,
                    300
                ),
                Ok(()),
                "{name}"
            );
        }
    }

    #[test]
    fn first_configured_secret_skips_blanks() {
        let list = Some(" , whsec_test_one, whsec_test_two".to_owned());
        assert_eq!(
            first_configured_secret(list).as_deref(),
            Some("whsec_test_one")
        );
        assert_eq!(first_configured_secret(Some(" ".to_owned())), None);
        assert_eq!(first_configured_secret(None), None);
    }

    #[test]
    fn event_without_body_is_rejected() {
        let secret = WebhookSecret::new(FIXTURE_SECRET).unwrap();
        let error = resign(&fixture("health.json"), &secret, 0).unwrap_err();
        assert!(error.contains("body"), "{error}");
    }
}
