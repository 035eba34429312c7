//! Tests of [`StripeClient`] against a canned HTTP server on 127.0.0.1.

use super::*;
use canned_server::{CannedResponse, CannedServer};

const FAKE_KEY: &str = "sk_test_fake_key";
/// Text in canned error bodies that must never reach an error message.
const BODY_MARKER: &str = "raw body text from stripe";

fn config(base_url: &str) -> StripeConfig {
    StripeConfig {
        base_url: base_url.to_owned(),
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(2),
        retry_backoff: Duration::from_millis(1),
        ..StripeConfig::default()
    }
}

fn client(server: &CannedServer) -> StripeClient {
    StripeClient::new(StripeSecretKey::new(FAKE_KEY), config(&server.base_url)).unwrap()
}

fn create_request() -> CreatePaymentIntent {
    CreatePaymentIntent {
        amount: 11_691,
        currency: "USD".to_owned(),
        description: "Harbor Classic 2027: 2027-06-12".to_owned(),
        metadata: vec![
            (
                "registration_id".to_owned(),
                "9b2f3c1e-4d5a-4e6f-8a7b-1c2d3e4f5a6b".to_owned(),
            ),
            ("total".to_owned(), "11691".to_owned()),
        ],
        idempotency_key: "reg_9b2f3c1e-4d5a-4e6f-8a7b-1c2d3e4f5a6b_abc123".to_owned(),
        receipt_email: None,
        statement_descriptor_suffix: None,
    }
}

fn intent_json(id: &str, status: &str) -> String {
    format!(
        r#"{{"id": "{id}", "object": "payment_intent", "amount": 11691, "currency": "usd",
            "status": "{status}", "client_secret": "{id}_secret_xyz", "livemode": false,
            "created": 1800000000, "metadata": {{}}}}"#
    )
}

fn error_json(error_type: &str, code: &str) -> String {
    format!(
        r#"{{"error": {{"type": "{error_type}", "code": "{code}",
            "message": "{BODY_MARKER}: {FAKE_KEY}"}}}}"#
    )
}

/// Checks that neither `Display` nor `Debug` of `error` shows the key or the body.
fn assert_no_secrets(error: &StripeError) {
    for text in [error.to_string(), format!("{error:?}")] {
        assert!(!text.contains(FAKE_KEY), "key in error: {text}");
        assert!(!text.contains(BODY_MARKER), "body in error: {text}");
    }
}

#[tokio::test]
async fn create_sends_form_and_headers() {
    let server = CannedServer::start(vec![CannedResponse::json(
        200,
        &intent_json("pi_123", "requires_payment_method"),
    )]);

    let intent = client(&server)
        .create_payment_intent(&create_request())
        .await
        .unwrap();

    assert_eq!(intent.id, "pi_123");
    assert_eq!(intent.client_secret, "pi_123_secret_xyz");
    assert_eq!(intent.amount, 11_691);
    assert_eq!(intent.status, "requires_payment_method");

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/payment_intents");
    assert_eq!(
        request.header("authorization"),
        Some("Bearer sk_test_fake_key")
    );
    assert_eq!(request.header("stripe-version"), Some(DEFAULT_API_VERSION));
    assert_eq!(
        request.header("idempotency-key"),
        Some("reg_9b2f3c1e-4d5a-4e6f-8a7b-1c2d3e4f5a6b_abc123")
    );
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );

    let form: Vec<(String, String)> = serde_urlencoded::from_str(&request.body).unwrap();
    let value = |key: &str| {
        form.iter()
            .find(|(candidate, _)| candidate == key)
            .map(|(_, value)| value.as_str())
    };
    assert_eq!(
        value("metadata[registration_id]"),
        Some("9b2f3c1e-4d5a-4e6f-8a7b-1c2d3e4f5a6b")
    );
    assert_eq!(value("amount"), Some("11691"));
    assert_eq!(value("currency"), Some("usd"));
    assert_eq!(value("automatic_payment_methods[enabled]"), Some("true"));
    assert_eq!(
        value("description"),
        Some("Harbor Classic 2027: 2027-06-12")
    );
    assert_eq!(value("receipt_email"), None);
}

#[tokio::test]
async fn configured_api_version_is_sent() {
    let server = CannedServer::start(vec![CannedResponse::json(
        200,
        &intent_json("pi_123", "canceled"),
    )]);
    let config = StripeConfig {
        api_version: "2025-01-27.acacia".to_owned(),
        ..config(&server.base_url)
    };
    let client = StripeClient::new(StripeSecretKey::new(FAKE_KEY), config).unwrap();

    client.retrieve_payment_intent("pi_123").await.unwrap();

    let requests = server.requests();
    assert_eq!(
        requests[0].header("stripe-version"),
        Some("2025-01-27.acacia")
    );
}

#[tokio::test]
async fn retrieve_gets_intent_by_id() {
    let server = CannedServer::start(vec![CannedResponse::json(
        200,
        &intent_json("pi_123", "succeeded"),
    )]);

    let intent = client(&server)
        .retrieve_payment_intent("pi_123")
        .await
        .unwrap();

    assert_eq!(intent.status, "succeeded");
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, "/v1/payment_intents/pi_123");
    assert_eq!(requests[0].header("idempotency-key"), None);
}

#[tokio::test]
async fn base_url_path_prefix_is_kept() {
    let server = CannedServer::start(vec![CannedResponse::json(
        200,
        &intent_json("pi_123", "succeeded"),
    )]);
    let base_url = format!("{}/stripe/", server.base_url);
    let client = StripeClient::new(StripeSecretKey::new(FAKE_KEY), config(&base_url)).unwrap();

    client.retrieve_payment_intent("pi_123").await.unwrap();

    assert_eq!(
        server.requests()[0].path,
        "/stripe/v1/payment_intents/pi_123"
    );
}

#[tokio::test]
async fn server_error_then_success_is_retried() {
    let server = CannedServer::start(vec![
        CannedResponse::json(500, &error_json("api_error", "internal")),
        CannedResponse::json(200, &intent_json("pi_123", "requires_payment_method")),
    ]);

    let intent = client(&server)
        .create_payment_intent(&create_request())
        .await
        .unwrap();

    assert_eq!(intent.id, "pi_123");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].body, requests[1].body);
    assert_eq!(
        requests[0].header("idempotency-key"),
        requests[1].header("idempotency-key")
    );
}

#[tokio::test]
async fn rate_limit_stops_after_two_retries() {
    let responses = (0..4)
        .map(|_| CannedResponse::json(429, &error_json("invalid_request_error", "rate_limit")))
        .collect();
    let server = CannedServer::start(responses);

    let error = client(&server)
        .retrieve_payment_intent("pi_123")
        .await
        .unwrap_err();

    assert!(
        matches!(&error, StripeError::Unavailable(reason) if reason.contains("429")),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 3);
    assert_no_secrets(&error);
}

#[tokio::test]
async fn cancel_is_retried_after_server_error() {
    let server = CannedServer::start(vec![
        CannedResponse::json(503, "{}"),
        CannedResponse::json(200, &intent_json("pi_123", "canceled")),
    ]);

    client(&server)
        .cancel_payment_intent("pi_123")
        .await
        .unwrap();

    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn should_retry_false_stops_retries() {
    let server = CannedServer::start(vec![
        CannedResponse::json(503, "{}").with_header("Stripe-Should-Retry", "false"),
        CannedResponse::json(200, &intent_json("pi_123", "succeeded")),
    ]);

    let error = client(&server)
        .retrieve_payment_intent("pi_123")
        .await
        .unwrap_err();

    assert!(matches!(error, StripeError::Unavailable(_)), "{error:?}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn should_retry_true_retries_conflict() {
    let server = CannedServer::start(vec![
        CannedResponse::json(409, &error_json("idempotency_error", "lock_timeout"))
            .with_header("Stripe-Should-Retry", "true"),
        CannedResponse::json(200, &intent_json("pi_123", "requires_payment_method")),
    ]);

    let intent = client(&server)
        .create_payment_intent(&create_request())
        .await
        .unwrap();

    assert_eq!(intent.id, "pi_123");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn client_error_is_rejected_without_retry() {
    let server = CannedServer::start(vec![
        CannedResponse::json(
            400,
            &error_json("invalid_request_error", "parameter_invalid_integer"),
        ),
        CannedResponse::json(200, &intent_json("pi_123", "requires_payment_method")),
    ]);

    let error = client(&server)
        .create_payment_intent(&create_request())
        .await
        .unwrap_err();

    match &error {
        StripeError::Rejected { status, kind } => {
            assert_eq!(*status, 400);
            assert_eq!(kind, "invalid_request_error/parameter_invalid_integer");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert_eq!(server.requests().len(), 1);
    assert_no_secrets(&error);
}

#[tokio::test]
async fn missing_intent_is_rejected_with_404() {
    let server = CannedServer::start(vec![CannedResponse::json(
        404,
        &error_json("invalid_request_error", "resource_missing"),
    )]);

    let error = client(&server)
        .retrieve_payment_intent("pi_missing")
        .await
        .unwrap_err();

    assert!(
        matches!(&error, StripeError::Rejected { status: 404, kind }
            if kind == "invalid_request_error/resource_missing"),
        "{error:?}"
    );
}

#[tokio::test]
async fn unauthorized_is_rejected() {
    let server = CannedServer::start(vec![CannedResponse::json(
        401,
        &error_json("invalid_request_error", "api_key_invalid"),
    )]);

    let error = client(&server)
        .retrieve_payment_intent("pi_123")
        .await
        .unwrap_err();

    assert!(
        matches!(&error, StripeError::Rejected { status: 401, .. }),
        "{error:?}"
    );
    assert_no_secrets(&error);
}

#[tokio::test]
async fn html_rejection_has_unknown_kind() {
    let body = format!("<html><body>{BODY_MARKER}</body></html>");
    let server = CannedServer::start(vec![CannedResponse::json(403, &body)]);

    let error = client(&server)
        .retrieve_payment_intent("pi_123")
        .await
        .unwrap_err();

    assert!(
        matches!(&error, StripeError::Rejected { status: 403, kind } if kind == "unknown"),
        "{error:?}"
    );
    assert_no_secrets(&error);
}

#[tokio::test]
async fn unparseable_success_is_unavailable() {
    let body = format!(r#"{{"id": "pi_123", "amount": "{BODY_MARKER}"}}"#);
    let server = CannedServer::start(vec![CannedResponse::json(200, &body)]);

    let error = client(&server)
        .retrieve_payment_intent("pi_123")
        .await
        .unwrap_err();

    assert!(matches!(error, StripeError::Unavailable(_)), "{error:?}");
    assert_eq!(server.requests().len(), 1);
    assert_no_secrets(&error);
}

#[tokio::test]
async fn redirect_is_not_followed() {
    let server = CannedServer::start(vec![
        CannedResponse::json(302, "").with_header("Location", "http://127.0.0.1:9/steal")
    ]);

    let error = client(&server)
        .retrieve_payment_intent("pi_123")
        .await
        .unwrap_err();

    assert!(
        matches!(&error, StripeError::Unavailable(reason) if reason.contains("302")),
        "{error:?}"
    );
}

#[tokio::test]
async fn slow_response_times_out_without_retry() {
    let server = CannedServer::start(vec![
        CannedResponse::json(200, &intent_json("pi_123", "succeeded"))
            .delayed(Duration::from_secs(3)),
        CannedResponse::json(200, &intent_json("pi_123", "succeeded")),
    ]);
    let config = StripeConfig {
        request_timeout: Duration::from_millis(300),
        ..config(&server.base_url)
    };
    let client = StripeClient::new(StripeSecretKey::new(FAKE_KEY), config).unwrap();

    let error = client.retrieve_payment_intent("pi_123").await.unwrap_err();

    assert!(
        matches!(&error, StripeError::Unavailable(reason) if reason.contains("timed out")),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn refused_connection_is_unavailable() {
    let base_url = canned_server::closed_port_url();
    let client = StripeClient::new(StripeSecretKey::new(FAKE_KEY), config(&base_url)).unwrap();

    let error = client.retrieve_payment_intent("pi_123").await.unwrap_err();

    assert!(
        matches!(&error, StripeError::Unavailable(reason) if reason == "failed to connect"),
        "{error:?}"
    );
    assert_no_secrets(&error);
}

#[tokio::test]
async fn cancel_posts_to_cancel_path() {
    let server = CannedServer::start(vec![CannedResponse::json(
        200,
        &intent_json("pi_123", "canceled"),
    )]);

    client(&server)
        .cancel_payment_intent("pi_123")
        .await
        .unwrap();

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path, "/v1/payment_intents/pi_123/cancel");
}

#[tokio::test]
async fn cancel_of_cancelled_intent_succeeds() {
    let server = CannedServer::start(vec![
        CannedResponse::json(
            400,
            &error_json("invalid_request_error", "payment_intent_unexpected_state"),
        ),
        CannedResponse::json(200, &intent_json("pi_123", "canceled")),
    ]);

    client(&server)
        .cancel_payment_intent("pi_123")
        .await
        .unwrap();

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].method, "GET");
    assert_eq!(requests[1].path, "/v1/payment_intents/pi_123");
}

#[tokio::test]
async fn cancel_of_succeeded_intent_is_rejected() {
    let server = CannedServer::start(vec![
        CannedResponse::json(
            400,
            &error_json("invalid_request_error", "payment_intent_unexpected_state"),
        ),
        CannedResponse::json(200, &intent_json("pi_123", "succeeded")),
    ]);

    let error = client(&server)
        .cancel_payment_intent("pi_123")
        .await
        .unwrap_err();

    assert!(
        matches!(&error, StripeError::Rejected { status: 400, kind }
            if kind == "invalid_request_error/payment_intent_unexpected_state"),
        "{error:?}"
    );
    assert_no_secrets(&error);
}

#[tokio::test]
async fn cancel_of_missing_intent_is_rejected() {
    let server = CannedServer::start(vec![CannedResponse::json(
        404,
        &error_json("invalid_request_error", "resource_missing"),
    )]);

    let error = client(&server)
        .cancel_payment_intent("pi_missing")
        .await
        .unwrap_err();

    assert!(
        matches!(&error, StripeError::Rejected { status: 404, .. }),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn invalid_ids_are_rejected_without_request() {
    let server = CannedServer::start(vec![]);
    let client = client(&server);

    for id in ["", "pi_1/cancel", "../charges", "pi_1?expand[]=customer"] {
        let retrieve = client.retrieve_payment_intent(id).await.unwrap_err();
        let cancel = client.cancel_payment_intent(id).await.unwrap_err();

        for error in [retrieve, cancel] {
            assert!(
                matches!(&error, StripeError::Rejected { status: 400, kind }
                    if kind == "invalid_payment_intent_id"),
                "{id:?}: {error:?}"
            );
        }
    }
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn invalid_idempotency_key_is_rejected_without_request() {
    let server = CannedServer::start(vec![]);
    let client = client(&server);

    for key in [String::new(), "x".repeat(256), "has space".to_owned()] {
        let request = CreatePaymentIntent {
            idempotency_key: key.clone(),
            ..create_request()
        };

        let error = client.create_payment_intent(&request).await.unwrap_err();

        assert!(
            matches!(&error, StripeError::Rejected { status: 400, kind }
                if kind == "invalid_idempotency_key"),
            "{key:?}: {error:?}"
        );
    }
    assert!(server.requests().is_empty());
}

#[test]
fn debug_output_hides_key() {
    let client = StripeClient::new(
        StripeSecretKey::new(FAKE_KEY),
        config("http://127.0.0.1:8420"),
    )
    .unwrap();

    let client_debug = format!("{client:?}");
    let key_debug = format!("{:?}", StripeSecretKey::new(FAKE_KEY));

    assert!(!client_debug.contains(FAKE_KEY), "{client_debug}");
    assert!(client_debug.contains("[redacted]"), "{client_debug}");
    assert!(client_debug.contains("127.0.0.1:8420"), "{client_debug}");
    assert_eq!(key_debug, "[redacted]");
}

#[test]
fn default_config_targets_production() {
    let config = StripeConfig::default();

    assert_eq!(config.base_url, "https://api.stripe.com");
    assert_eq!(config.api_version, "2026-09-30.endive");
    assert_eq!(config.connect_timeout, Duration::from_secs(5));
    assert_eq!(config.request_timeout, Duration::from_secs(10));
    assert_eq!(config.max_retries, 2);
}

#[test]
fn plain_http_is_only_for_loopback() {
    let accepted = [
        "https://api.stripe.com",
        "http://127.0.0.1:8420",
        "http://localhost:8420/",
        "http://[::1]:8420",
    ];
    for base_url in accepted {
        let result = StripeClient::new(StripeSecretKey::new(FAKE_KEY), config(base_url));
        assert!(result.is_ok(), "{base_url}: {result:?}");
    }

    let rejected = [
        "http://api.stripe.com",
        "http://10.0.0.5:8420",
        "ftp://127.0.0.1",
        "api.stripe.com",
        "https://api.stripe.com/?x=1",
    ];
    for base_url in rejected {
        let result = StripeClient::new(StripeSecretKey::new(FAKE_KEY), config(base_url));
        assert!(
            matches!(result, Err(StripeConfigError::InvalidBaseUrl { .. })),
            "{base_url}: {result:?}"
        );
    }
}

#[test]
fn base_url_credentials_are_not_echoed() {
    let base_url = "https://user:hunter2@api.stripe.com";

    let error = StripeClient::new(StripeSecretKey::new(FAKE_KEY), config(base_url)).unwrap_err();

    assert!(!error.to_string().contains("hunter2"), "{error}");
    assert!(!format!("{error:?}").contains("hunter2"), "{error:?}");
}

#[test]
fn unusable_secret_keys_are_rejected() {
    for key in ["", "sk_test_fake key", "sk_test_fake_key\n", "sk_test_ключ"] {
        let result = StripeClient::new(StripeSecretKey::new(key), config("https://api.stripe.com"));

        let error = result.unwrap_err();
        assert!(
            matches!(error, StripeConfigError::InvalidSecretKey),
            "{key:?}: {error:?}"
        );
        if !key.is_empty() {
            assert!(!error.to_string().contains(key), "{error}");
        }
    }
}

#[test]
fn zero_timeouts_are_rejected() {
    let zero_connect = StripeConfig {
        connect_timeout: Duration::ZERO,
        ..config("https://api.stripe.com")
    };
    let zero_request = StripeConfig {
        request_timeout: Duration::ZERO,
        ..config("https://api.stripe.com")
    };

    let connect_error = StripeClient::new(StripeSecretKey::new(FAKE_KEY), zero_connect);
    let request_error = StripeClient::new(StripeSecretKey::new(FAKE_KEY), zero_request);

    assert!(matches!(
        connect_error,
        Err(StripeConfigError::ZeroTimeout {
            name: "connect_timeout"
        })
    ));
    assert!(matches!(
        request_error,
        Err(StripeConfigError::ZeroTimeout {
            name: "request_timeout"
        })
    ));
}

#[test]
fn empty_api_version_is_rejected() {
    let config = StripeConfig {
        api_version: String::new(),
        ..config("https://api.stripe.com")
    };

    let result = StripeClient::new(StripeSecretKey::new(FAKE_KEY), config);

    assert!(matches!(
        result,
        Err(StripeConfigError::InvalidApiVersion(_))
    ));
}

/// A blocking HTTP/1.1 server on 127.0.0.1 that serves one canned response per connection,
/// in order, and records each request. Responses carry `Connection: close`, so every
/// request opens a new connection.
mod canned_server {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::{Arc, Mutex};
    use std::thread;
    use std::time::Duration;

    pub struct CannedResponse {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
        delay: Duration,
    }

    impl CannedResponse {
        /// Builds a response with a JSON content type. The body need not be valid JSON.
        pub fn json(status: u16, body: &str) -> Self {
            Self {
                status,
                headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
                body: body.to_owned(),
                delay: Duration::ZERO,
            }
        }

        pub fn with_header(mut self, name: &str, value: &str) -> Self {
            self.headers.push((name.to_owned(), value.to_owned()));
            self
        }

        /// Waits `delay` after reading the request before writing the response.
        pub fn delayed(mut self, delay: Duration) -> Self {
            self.delay = delay;
            self
        }
    }

    #[derive(Debug, Clone)]
    pub struct RecordedRequest {
        pub method: String,
        pub path: String,
        /// Header names in lower case.
        pub headers: Vec<(String, String)>,
        pub body: String,
    }

    impl RecordedRequest {
        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(candidate, _)| candidate == name)
                .map(|(_, value)| value.as_str())
        }
    }

    pub struct CannedServer {
        pub base_url: String,
        requests: Arc<Mutex<Vec<RecordedRequest>>>,
    }

    impl CannedServer {
        /// Starts serving `responses` on a free port. Once they are used up, the server
        /// closes its socket and further connections are refused.
        pub fn start(responses: Vec<CannedResponse>) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let base_url = format!("http://{}", listener.local_addr().unwrap());
            let requests = Arc::new(Mutex::new(Vec::new()));
            let recorded = Arc::clone(&requests);
            thread::spawn(move || {
                for response in responses {
                    let Ok((stream, _)) = listener.accept() else {
                        return;
                    };
                    let Some(request) = read_request(&stream) else {
                        continue;
                    };
                    recorded.lock().unwrap().push(request);
                    thread::sleep(response.delay);
                    // The client may have timed out and closed the connection already.
                    let _ = write_response(stream, &response);
                }
            });
            Self { base_url, requests }
        }

        pub fn requests(&self) -> Vec<RecordedRequest> {
            self.requests.lock().unwrap().clone()
        }
    }

    /// Returns the URL of a local port that nothing listens on.
    pub fn closed_port_url() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        format!("http://{address}")
    }

    fn read_request(stream: &TcpStream) -> Option<RecordedRequest> {
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        let mut reader = BufReader::new(stream);

        let mut request_line = String::new();
        reader.read_line(&mut request_line).ok()?;
        let mut parts = request_line.split_whitespace();
        let method = parts.next()?.to_owned();
        let path = parts.next()?.to_owned();

        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).ok()?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':')?;
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }

        let content_length = headers
            .iter()
            .find(|(name, _)| name == "content-length")
            .and_then(|(_, value)| value.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0; content_length];
        reader.read_exact(&mut body).ok()?;

        Some(RecordedRequest {
            method,
            path,
            headers,
            body: String::from_utf8(body).ok()?,
        })
    }

    fn write_response(mut stream: TcpStream, response: &CannedResponse) -> std::io::Result<()> {
        let mut head = format!("HTTP/1.1 {} Canned\r\n", response.status);
        for (name, value) in &response.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            response.body.len()
        ));
        stream.write_all(head.as_bytes())?;
        stream.write_all(response.body.as_bytes())?;
        stream.flush()
    }
}
