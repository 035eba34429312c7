//! [`StripeClient`]: the [`PaymentGateway`] that calls Stripe's REST API.

use super::wire;
use super::{CreatePaymentIntent, PaymentGateway, PaymentIntent, StripeError};
use crate::http_url::{normalize_base_url, BaseUrlProblem};
use async_trait::async_trait;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use std::fmt;
use std::time::Duration;

/// Stripe's production API.
pub const DEFAULT_BASE_URL: &str = "https://api.stripe.com";

/// The Stripe API version that the request encoding and response parsing were written for.
pub const DEFAULT_API_VERSION: &str = "2026-09-30.endive";

const STRIPE_VERSION: HeaderName = HeaderName::from_static("stripe-version");
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Stripe's hint whether a failed request is worth retrying (`true` or `false`).
const STRIPE_SHOULD_RETRY: HeaderName = HeaderName::from_static("stripe-should-retry");
/// Stripe's id of the request, which Stripe support needs to look a call up.
const REQUEST_ID: HeaderName = HeaderName::from_static("request-id");

const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// A Stripe secret or restricted API key. `Debug` prints `[redacted]`.
#[derive(Clone)]
pub struct StripeSecretKey(String);

impl StripeSecretKey {
    /// Wraps a key such as `sk_live_…`, `sk_test_…` or `rk_live_…`.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }
}

impl fmt::Debug for StripeSecretKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("[redacted]")
    }
}

/// Settings of a [`StripeClient`]. [`StripeConfig::default`] targets production Stripe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeConfig {
    /// Scheme, host and optional path prefix of the API, such as `https://api.stripe.com`
    /// or a localstripe URL in tests. Plain `http` is accepted only for loopback hosts.
    pub base_url: String,
    /// Value of the `Stripe-Version` header sent with every request.
    pub api_version: String,
    /// Maximum time to open a connection, TLS handshake included.
    pub connect_timeout: Duration,
    /// Maximum time for one attempt, from sending the request to reading the whole response.
    pub request_timeout: Duration,
    /// Maximum number of retries after the first attempt, for connection failures and
    /// HTTP 429 or 5xx responses.
    pub max_retries: u32,
    /// Wait before the first retry. Each further retry waits twice as long as the one before.
    pub retry_backoff: Duration,
}

impl Default for StripeConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            max_retries: 2,
            retry_backoff: Duration::from_millis(200),
        }
    }
}

/// An invalid [`StripeConfig`] or secret key. No variant shows the key.
#[derive(Debug, thiserror::Error)]
pub enum StripeConfigError {
    #[error("invalid Stripe base URL {url}: {reason}")]
    InvalidBaseUrl { url: String, reason: &'static str },
    #[error("invalid Stripe API version {0:?}: expected a non-empty value such as {DEFAULT_API_VERSION:?}")]
    InvalidApiVersion(String),
    #[error("invalid Stripe {name}: must be greater than zero")]
    ZeroTimeout { name: &'static str },
    #[error("invalid Stripe secret key: it must be non-empty printable ASCII without spaces")]
    InvalidSecretKey,
    #[error("failed to build the HTTP client for Stripe")]
    HttpClient(#[source] reqwest::Error),
}

/// The [`PaymentGateway`] that calls Stripe's REST API.
///
/// It contains one `reqwest::Client`, so clones share the connection pool. Every request sends
/// the secret key as Bearer authentication and the configured `Stripe-Version`.
/// Create, retrieve and cancel are retried up to [`StripeConfig::max_retries`] times after a
/// connection failure or an HTTP 429 or 5xx response, unless Stripe's `Stripe-Should-Retry`
/// header says otherwise. Retrying a create is safe because it repeats the same
/// `Idempotency-Key`.
#[derive(Clone)]
pub struct StripeClient {
    http: reqwest::Client,
    /// Settings, with `base_url` normalised to have no trailing slash.
    config: StripeConfig,
}

impl fmt::Debug for StripeClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("StripeClient")
            .field("config", &self.config)
            .field("secret_key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl StripeClient {
    /// Builds the client. Fails when the key cannot be sent in an HTTP header, when the base
    /// URL is not `https` (or `http` on a loopback host), or when a timeout is zero.
    pub fn new(
        secret_key: StripeSecretKey,
        config: StripeConfig,
    ) -> Result<Self, StripeConfigError> {
        let base_url = check_base_url(&config.base_url)?;
        if config.connect_timeout.is_zero() {
            return Err(StripeConfigError::ZeroTimeout {
                name: "connect_timeout",
            });
        }
        if config.request_timeout.is_zero() {
            return Err(StripeConfigError::ZeroTimeout {
                name: "request_timeout",
            });
        }

        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, bearer_header(&secret_key)?);
        let api_version = HeaderValue::from_str(&config.api_version)
            .ok()
            .filter(|value| !value.is_empty())
            .ok_or_else(|| StripeConfigError::InvalidApiVersion(config.api_version.clone()))?;
        headers.insert(STRIPE_VERSION, api_version);

        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("registration-pipeline/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            // Stripe does not redirect API calls, and a redirect elsewhere must not take the
            // key along.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(StripeConfigError::HttpClient)?;

        Ok(Self {
            http,
            config: StripeConfig { base_url, ..config },
        })
    }

    fn payment_intents_url(&self, suffix: &str) -> String {
        format!("{}/v1/payment_intents{suffix}", self.config.base_url)
    }

    /// Sends `call`, retrying as the type documentation describes, and returns the body of
    /// the 2xx response.
    async fn send(&self, call: &Call<'_>) -> Result<Vec<u8>, StripeError> {
        let mut retries_done = 0;
        loop {
            let failure = match self.send_once(call).await {
                Ok(body) => return Ok(body),
                Err(failure) => failure,
            };
            if failure.retryable && retries_done < self.config.max_retries {
                let delay = self
                    .config
                    .retry_backoff
                    .saturating_mul(2_u32.saturating_pow(retries_done));
                tracing::warn!(
                    operation = call.operation,
                    retry = retries_done + 1,
                    delay_ms = delay.as_millis() as u64,
                    request_id = failure.request_id.as_deref(),
                    error = %failure.error,
                    "retrying Stripe request"
                );
                tokio::time::sleep(delay).await;
                retries_done += 1;
                continue;
            }
            tracing::warn!(
                operation = call.operation,
                attempts = retries_done + 1,
                request_id = failure.request_id.as_deref(),
                error = %failure.error,
                "Stripe request failed"
            );
            return Err(failure.error);
        }
    }

    async fn send_once(&self, call: &Call<'_>) -> Result<Vec<u8>, AttemptFailure> {
        let mut request = self.http.request(call.method.clone(), &call.url);
        if let Some(key) = call.idempotency_key {
            request = request.header(IDEMPOTENCY_KEY, key);
        }
        if let Some(body) = &call.form_body {
            request = request
                .header(CONTENT_TYPE, FORM_CONTENT_TYPE)
                .body(body.clone());
        }

        let response = request.send().await.map_err(transport_failure)?;
        let status = response.status();
        let should_retry = header_text(response.headers(), &STRIPE_SHOULD_RETRY)
            .and_then(|text| text.parse::<bool>().ok());
        let request_id = header_text(response.headers(), &REQUEST_ID).map(str::to_owned);

        let body = match response.bytes().await {
            Ok(body) => body,
            Err(error) => {
                let reason = if error.is_timeout() {
                    "timed out while reading the response"
                } else {
                    "failed to read the response"
                };
                return Err(AttemptFailure {
                    error: StripeError::Unavailable(reason.to_owned()),
                    retryable: false,
                    request_id,
                });
            }
        };

        if status.is_success() {
            return Ok(body.to_vec());
        }
        let (error, retryable_by_status) = classify_status(status, &body);
        // Stripe replays a saved response, even a 500, for a repeated idempotency key, so
        // its own hint takes precedence over the status.
        Err(AttemptFailure {
            error,
            retryable: should_retry.unwrap_or(retryable_by_status),
            request_id,
        })
    }
}

#[async_trait]
impl PaymentGateway for StripeClient {
    /// Creates the PaymentIntent with `automatic_payment_methods[enabled]=true`.
    ///
    /// An empty or over-long idempotency key, or one that cannot be sent in a header, is
    /// rejected without a request as `Rejected { status: 400, kind: "invalid_idempotency_key" }`.
    async fn create_payment_intent(
        &self,
        request: &CreatePaymentIntent,
    ) -> Result<PaymentIntent, StripeError> {
        if !is_valid_idempotency_key(&request.idempotency_key) {
            return Err(rejected_locally("invalid_idempotency_key"));
        }
        let pairs = wire::create_form_pairs(request);
        // serde_urlencoded fails only on values that are not strings or scalars, and every
        // value here is a string, so this branch is not expected to run.
        let form_body = wire::encode_form(&pairs).map_err(|_| {
            StripeError::Unavailable("failed to encode the request body".to_owned())
        })?;

        let call = Call {
            operation: "create_payment_intent",
            method: Method::POST,
            url: self.payment_intents_url(""),
            form_body: Some(form_body),
            idempotency_key: Some(&request.idempotency_key),
        };
        let body = self.send(&call).await?;
        parse_intent(&body)
    }

    /// Retrieves the PaymentIntent. An id that is not a Stripe object id is rejected without
    /// a request as `Rejected { status: 400, kind: "invalid_payment_intent_id" }`.
    async fn retrieve_payment_intent(&self, id: &str) -> Result<PaymentIntent, StripeError> {
        if !wire::is_valid_object_id(id) {
            return Err(rejected_locally("invalid_payment_intent_id"));
        }
        let call = Call {
            operation: "retrieve_payment_intent",
            method: Method::GET,
            url: self.payment_intents_url(&format!("/{id}")),
            form_body: None,
            idempotency_key: None,
        };
        let body = self.send(&call).await?;
        parse_intent(&body)
    }

    /// Cancels the PaymentIntent. Succeeds when it was already cancelled.
    ///
    /// Stripe rejects the cancel of a PaymentIntent that is already cancelled, succeeded or
    /// otherwise past cancelling with HTTP 400. After a 400 this retrieves the PaymentIntent
    /// and returns `Ok` if its status is `canceled`, or the original rejection otherwise.
    /// Ids are checked as in `retrieve_payment_intent`.
    async fn cancel_payment_intent(&self, id: &str) -> Result<(), StripeError> {
        if !wire::is_valid_object_id(id) {
            return Err(rejected_locally("invalid_payment_intent_id"));
        }
        let call = Call {
            operation: "cancel_payment_intent",
            method: Method::POST,
            url: self.payment_intents_url(&format!("/{id}/cancel")),
            form_body: Some(String::new()),
            idempotency_key: None,
        };
        let rejection = match self.send(&call).await {
            Ok(_) => return Ok(()),
            Err(rejection @ StripeError::Rejected { status: 400, .. }) => rejection,
            Err(other) => return Err(other),
        };

        match self.retrieve_payment_intent(id).await {
            Ok(intent) if intent.status == "canceled" => {
                tracing::info!(payment_intent = id, "PaymentIntent was already cancelled");
                Ok(())
            }
            Ok(_) => Err(rejection),
            Err(error) => {
                tracing::warn!(
                    payment_intent = id,
                    %error,
                    "failed to check the status of a PaymentIntent that Stripe did not cancel"
                );
                Err(rejection)
            }
        }
    }
}

/// One Stripe API call, enough to repeat it on retry.
struct Call<'a> {
    /// Name for logs.
    operation: &'static str,
    method: Method,
    url: String,
    form_body: Option<String>,
    idempotency_key: Option<&'a str>,
}

/// A failed attempt and whether it may be repeated.
struct AttemptFailure {
    error: StripeError,
    retryable: bool,
    request_id: Option<String>,
}

/// Maps a failure to send the request or receive the response headers. Only connection
/// failures are retried: after a timeout Stripe may still be working on the request, and
/// another full attempt would double the wait.
fn transport_failure(error: reqwest::Error) -> AttemptFailure {
    let (reason, retryable) = if error.is_connect() && error.is_timeout() {
        ("timed out while connecting", true)
    } else if error.is_connect() {
        ("failed to connect", true)
    } else if error.is_timeout() {
        ("timed out waiting for the response", false)
    } else {
        ("the request failed before a response arrived", false)
    };
    AttemptFailure {
        error: StripeError::Unavailable(reason.to_owned()),
        retryable,
        request_id: None,
    }
}

/// Maps a non-2xx status to an error, and returns whether the status alone makes it worth
/// retrying. The body is used only for the short `kind` of a 4xx rejection.
fn classify_status(status: StatusCode, body: &[u8]) -> (StripeError, bool) {
    let code = status.as_u16();
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        let error = StripeError::Unavailable(format!("Stripe responded with HTTP {code}"));
        return (error, true);
    }
    if status.is_client_error() {
        let error = StripeError::Rejected {
            status: code,
            kind: wire::rejection_kind(body),
        };
        return (error, false);
    }
    let error = StripeError::Unavailable(format!("unexpected HTTP status {code} from Stripe"));
    (error, false)
}

fn parse_intent(body: &[u8]) -> Result<PaymentIntent, StripeError> {
    wire::parse_payment_intent(body).ok_or_else(|| {
        StripeError::Unavailable("Stripe's response is not a valid PaymentIntent".to_owned())
    })
}

fn rejected_locally(kind: &str) -> StripeError {
    StripeError::Rejected {
        status: 400,
        kind: kind.to_owned(),
    }
}

fn is_valid_idempotency_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= super::idempotency::MAX_IDEMPOTENCY_KEY_CHARS
        && key.bytes().all(|byte| byte.is_ascii_graphic())
}

fn header_text<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn bearer_header(secret_key: &StripeSecretKey) -> Result<HeaderValue, StripeConfigError> {
    let key = &secret_key.0;
    if key.is_empty() || !key.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(StripeConfigError::InvalidSecretKey);
    }
    let mut value = HeaderValue::from_str(&format!("Bearer {key}"))
        .map_err(|_| StripeConfigError::InvalidSecretKey)?;
    // Keeps the value out of `Debug` output of the header map and out of HTTP/2 header
    // compression tables.
    value.set_sensitive(true);
    Ok(value)
}

/// Checks the base URL and returns it without a trailing slash.
fn check_base_url(text: &str) -> Result<String, StripeConfigError> {
    let invalid = |reason: &'static str| StripeConfigError::InvalidBaseUrl {
        url: format!("{text:?}"),
        reason,
    };
    normalize_base_url(text).map_err(|problem| match problem {
        BaseUrlProblem::Unparsable => {
            invalid("expected an absolute URL such as https://api.stripe.com")
        }
        BaseUrlProblem::Credentials => StripeConfigError::InvalidBaseUrl {
            url: "(not shown because it contains credentials)".to_owned(),
            reason: "remove the user name and password, the client sends the key itself",
        },
        BaseUrlProblem::QueryOrFragment => invalid("remove the query and fragment"),
        BaseUrlProblem::PlainHttp => {
            invalid("plain http is allowed only for loopback hosts such as 127.0.0.1, use https")
        }
        BaseUrlProblem::UnsupportedScheme => invalid("expected an https URL"),
    })
}

#[cfg(test)]
mod tests;
