//! [`ShopifyClient`]: the [`OrderGateway`] that calls Shopify's Admin GraphQL API.

mod auth;
mod documents;
mod response;
mod retry;

pub use auth::{ShopifyCredentials, ShopifySecret};
pub use documents::{ORDERS_BY_SOURCE_QUERY, ORDER_CREATE_MUTATION};
pub use retry::{RetryTimer, TokioTimer};

use super::{CreatedOrder, OrderGateway, ShopifyError, UserError};
use crate::clock::{Clock, SystemClock};
use crate::http_url::{normalize_base_url, BaseUrlProblem};
use async_trait::async_trait;
use auth::TokenSource;
use documents::Operation;
use reqwest::header::{HeaderMap, HeaderName, ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use retry::{backoff, may_repeat, parse_retry_after, AttemptFailure, FailureKind};
use serde::Deserialize;
use serde_json::{json, Value};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The Admin API version the documents and response parsing were written for.
pub const DEFAULT_API_VERSION: &str = "2026-10";

const ACCESS_TOKEN_HEADER: HeaderName = HeaderName::from_static("x-shopify-access-token");
/// Response header naming the version Shopify served, which differs from the requested one
/// when that version is unsupported or retired.
const API_VERSION_HEADER: HeaderName = HeaderName::from_static("x-shopify-api-version");

/// Maximum time budget for one call: 15 minutes, the maximum run time of a Lambda invocation.
/// Longer budgets are cut to it.
const MAX_BUDGET: Duration = Duration::from_secs(15 * 60);

/// Settings of a [`ShopifyClient`]. [`ShopifyConfig::new`] fills in the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopifyConfig {
    /// The shop's domain, such as `example.myshopify.com`, or a base URL such as
    /// `http://127.0.0.1:8080` for a local sandbox. Plain `http` is accepted only for
    /// loopback hosts.
    pub shop: String,
    /// Admin API version in the endpoint path, such as `2026-10`.
    pub api_version: String,
    /// Maximum time to open a connection, TLS handshake included.
    pub connect_timeout: Duration,
    /// Maximum time for one request, from sending it to reading the whole response.
    pub request_timeout: Duration,
    /// Maximum time for one call, retries and waits included, unless the caller passes its
    /// own budget. A retry is made only when its wait plus a full `request_timeout` fits in
    /// what is left, so a call never runs past its budget.
    pub retry_budget: Duration,
    /// First wait when Shopify gives no hint, doubled for each further such retry. It is
    /// also the shortest wait before any retry except the one after a token renewal.
    pub retry_backoff: Duration,
    /// How long before its expiry a client-credentials token is renewed. A token whose
    /// lifetime is shorter than twice this margin is renewed halfway through it.
    pub token_renewal_margin: Duration,
}

impl ShopifyConfig {
    /// Returns the defaults for `shop`: API version [`DEFAULT_API_VERSION`], 3 s to connect,
    /// 8 s per request and a 20 s budget per call, which stays well under API Gateway's
    /// 29 s limit.
    pub fn new(shop: impl Into<String>) -> Self {
        Self {
            shop: shop.into(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(8),
            retry_budget: Duration::from_secs(20),
            retry_backoff: Duration::from_millis(500),
            token_renewal_margin: Duration::from_secs(5 * 60),
        }
    }
}

/// An invalid [`ShopifyConfig`] or credentials. No variant shows a secret.
#[derive(Debug, thiserror::Error)]
pub enum ShopifyConfigError {
    #[error("invalid Shopify shop {shop}: {reason}")]
    InvalidShop { shop: String, reason: &'static str },
    #[error("invalid Shopify API version {0:?}: expected letters, digits and dashes, such as {DEFAULT_API_VERSION:?}")]
    InvalidApiVersion(String),
    #[error("invalid Shopify {name}: must be greater than zero")]
    ZeroDuration { name: &'static str },
    #[error("invalid Shopify credentials: the access token and client id must be non-empty printable ASCII without spaces, and the client secret must be non-empty")]
    InvalidCredentials,
    #[error("failed to build the HTTP client for Shopify")]
    HttpClient(#[source] reqwest::Error),
}

/// Counts of what happened during one call, for health checks and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Attempts made, the first included. An attempt whose token request failed counts too.
    pub attempts: u32,
    /// Attempts after the first.
    pub retries: u32,
    /// Responses that were HTTP 429 or a GraphQL `THROTTLED` error.
    pub throttles: u32,
    /// Requests to the access token endpoint.
    pub token_requests: u32,
    /// Total time spent waiting between attempts.
    pub waited: Duration,
}

/// The [`OrderGateway`] that calls Shopify's Admin GraphQL API.
///
/// It contains one `reqwest::Client` and, for client credentials, one cached access token,
/// so one client should serve every call of a Lambda container.
///
/// Each call retries within its time budget ([`ShopifyConfig::retry_budget`] by default).
/// `orderCreate` is repeated only when Shopify certainly did not run it: after HTTP 429, a
/// GraphQL `THROTTLED` error, a failed connection or token request, or one HTTP 401 that a
/// token renewal can fix. It is never repeated after a timeout or a 5xx, because the order
/// may exist. The lookup is also repeated after those.
pub struct ShopifyClient {
    http: reqwest::Client,
    graphql_url: String,
    token_url: String,
    /// Settings, with `shop` normalised to the base URL without a trailing slash.
    config: ShopifyConfig,
    tokens: TokenSource,
    timer: Arc<dyn RetryTimer>,
    served_version: Mutex<Option<String>>,
    version_drift_logged: AtomicBool,
    last_stats: Mutex<CallStats>,
}

impl fmt::Debug for ShopifyClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ShopifyClient")
            .field("config", &self.config)
            .field("credentials", self.tokens.credentials())
            .finish_non_exhaustive()
    }
}

impl ShopifyClient {
    /// Builds the client.
    ///
    /// Fails when the shop is neither a `*.myshopify.com` domain nor an `https` URL (or
    /// `http` on a loopback host), or when a duration is zero. It also fails when the API
    /// version is empty or has characters other than letters, digits and dashes, and when
    /// the credentials cannot be sent.
    pub fn new(
        config: ShopifyConfig,
        credentials: ShopifyCredentials,
    ) -> Result<Self, ShopifyConfigError> {
        let base_url = normalize_shop(&config.shop)?;
        if !is_valid_api_version(&config.api_version) {
            return Err(ShopifyConfigError::InvalidApiVersion(
                config.api_version.clone(),
            ));
        }
        for (name, duration) in [
            ("connect_timeout", config.connect_timeout),
            ("request_timeout", config.request_timeout),
            ("retry_budget", config.retry_budget),
            ("retry_backoff", config.retry_backoff),
        ] {
            if duration.is_zero() {
                return Err(ShopifyConfigError::ZeroDuration { name });
            }
        }
        if !credentials.is_valid() {
            return Err(ShopifyConfigError::InvalidCredentials);
        }

        let http = reqwest::Client::builder()
            .user_agent(concat!("registration-pipeline/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            // The Admin API does not redirect, and a redirect elsewhere must not take the
            // token along.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(ShopifyConfigError::HttpClient)?;

        let graphql_url = format!("{base_url}/admin/api/{}/graphql.json", config.api_version);
        let token_url = format!("{base_url}/admin/oauth/access_token");
        let tokens = TokenSource::new(
            credentials,
            Arc::new(SystemClock),
            config.token_renewal_margin,
        );
        Ok(Self {
            http,
            graphql_url,
            token_url,
            config: ShopifyConfig {
                shop: base_url,
                ..config
            },
            tokens,
            timer: Arc::new(TokioTimer),
            served_version: Mutex::new(None),
            version_drift_logged: AtomicBool::new(false),
            last_stats: Mutex::new(CallStats::default()),
        })
    }

    /// Replaces the clock that decides when a client-credentials token is due for renewal.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.tokens.set_clock(clock);
        self
    }

    /// Replaces the timer that measures the time budget and waits between attempts.
    pub fn with_timer(mut self, timer: Arc<dyn RetryTimer>) -> Self {
        self.timer = timer;
        self
    }

    /// The API version in the endpoint path.
    pub fn requested_api_version(&self) -> &str {
        &self.config.api_version
    }

    /// The version named by the latest `X-Shopify-API-Version` response header, or `None`
    /// before the first response that had one.
    pub fn served_api_version(&self) -> Option<String> {
        lock(&self.served_version).clone()
    }

    /// Counts of the most recently finished call. When calls on one client overlap, this is
    /// the call that finished last.
    pub fn last_call_stats(&self) -> CallStats {
        *lock(&self.last_stats)
    }

    /// Runs `orderCreate` with `variables` (`{"order": …, "options": …}`), retrying within
    /// `budget` instead of [`ShopifyConfig::retry_budget`].
    pub async fn create_order_within(
        &self,
        variables: &Value,
        budget: Duration,
    ) -> Result<CreatedOrder, ShopifyError> {
        let data = self.call(Operation::CreateOrder, variables, budget).await?;
        parse_created_order(&data)
    }

    /// Finds the order whose `sourceIdentifier` equals `source_identifier` exactly,
    /// retrying within `budget` instead of [`ShopifyConfig::retry_budget`].
    ///
    /// NOTE: the search returns at most 5 orders. If Shopify's search ranked more than 5
    /// near matches before the exact one, the exact one would be missed.
    pub async fn find_order_by_source_within(
        &self,
        source_identifier: &str,
        budget: Duration,
    ) -> Result<Option<CreatedOrder>, ShopifyError> {
        let variables = json!({ "query": source_identifier_query(source_identifier) });
        let data = self
            .call(Operation::FindOrdersBySource, &variables, budget)
            .await?;
        let matches = exact_matches(&data, source_identifier)?;
        if matches.len() > 1 {
            let order_ids: Vec<&str> = matches.iter().map(|order| order.id.as_str()).collect();
            tracing::warn!(
                source_identifier,
                ?order_ids,
                "several Shopify orders have the same sourceIdentifier, so the first is returned"
            );
        }
        Ok(matches.into_iter().next())
    }

    /// Reads the shop's name within `budget`, to check the credentials and learn the API
    /// version Shopify serves (then in [`ShopifyClient::served_api_version`]).
    pub async fn check_connection(&self, budget: Duration) -> Result<String, ShopifyError> {
        let data = self.call(Operation::ShopName, &json!({}), budget).await?;
        data["shop"]["name"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ShopifyError::Server("the shop query returned no name".to_owned()))
    }

    /// Sends `operation` until it succeeds, fails for good, or the next retry would not
    /// fit in `budget`, and returns the response's `data` object.
    async fn call(
        &self,
        operation: Operation,
        variables: &Value,
        budget: Duration,
    ) -> Result<Value, ShopifyError> {
        let body = json!({ "query": operation.document(), "variables": variables }).to_string();
        let deadline = self.timer.now() + budget.min(MAX_BUDGET);
        let mut stats = CallStats::default();
        let mut retry_state = RetryState::default();

        let outcome = loop {
            stats.attempts += 1;
            let mut failure = match self.attempt(&body, deadline, &mut stats).await {
                Ok(data) => break Ok(data),
                Err(failure) => failure,
            };
            if matches!(failure.error, ShopifyError::Throttled { .. }) {
                stats.throttles += 1;
            }
            if let Some(rejected) = &failure.rejected_token {
                self.tokens.discard(rejected).await;
            }
            let Some(wait) = self.wait_before_retry(operation, &failure, &mut retry_state) else {
                break Err(failure.error);
            };

            let remaining = deadline.saturating_duration_since(self.timer.now());
            if wait.saturating_add(self.config.request_timeout) > remaining {
                tracing::warn!(
                    operation = operation.name(),
                    attempts = stats.attempts,
                    wait_ms = duration_ms(wait),
                    remaining_ms = duration_ms(remaining),
                    error = %failure.error,
                    "giving up on the Shopify request because the next attempt would not fit in the time budget"
                );
                if let ShopifyError::Throttled { retry_after: None } = failure.error {
                    failure.error = ShopifyError::Throttled {
                        retry_after: Some(wait),
                    };
                }
                break Err(failure.error);
            }

            stats.retries += 1;
            stats.waited += wait;
            tracing::warn!(
                operation = operation.name(),
                retry = stats.retries,
                wait_ms = duration_ms(wait),
                error = %failure.error,
                "retrying Shopify request"
            );
            if !wait.is_zero() {
                self.timer.sleep(wait).await;
            }
        };

        *lock(&self.last_stats) = stats;
        outcome
    }

    /// Returns how long to wait before repeating a failed attempt, or `None` when it must
    /// not be repeated, leaving the time budget aside.
    fn wait_before_retry(
        &self,
        operation: Operation,
        failure: &AttemptFailure,
        state: &mut RetryState,
    ) -> Option<Duration> {
        if !may_repeat(operation, failure.kind) {
            if failure.kind == FailureKind::OutcomeUnknown {
                tracing::warn!(
                    operation = operation.name(),
                    error = %failure.error,
                    "not repeating the request because Shopify may have run it"
                );
            }
            return None;
        }
        match failure.kind {
            // One renewal per call: a second 401 means the new token is rejected too.
            FailureKind::TokenRejected => {
                if state.renewed_after_401 || !self.tokens.can_renew() {
                    return None;
                }
                state.renewed_after_401 = true;
                Some(Duration::ZERO)
            }
            FailureKind::NotRun { wait: Some(hint) } => Some(hint.max(self.config.retry_backoff)),
            _ => {
                let wait = backoff(self.config.retry_backoff, state.backoff_step);
                state.backoff_step += 1;
                Some(wait)
            }
        }
    }

    /// Sends one GraphQL request, requesting an access token first when needed.
    async fn attempt(
        &self,
        body: &str,
        deadline: Instant,
        stats: &mut CallStats,
    ) -> Result<Value, AttemptFailure> {
        let timeout = self.attempt_timeout(deadline)?;
        let token = self
            .tokens
            .token(&self.http, &self.token_url, timeout, stats)
            .await?;
        // Both token sources check this already, so the branch is not expected to run.
        let token_header = token.header_value().ok_or_else(|| {
            AttemptFailure::new(ShopifyError::Unauthorized, FailureKind::Permanent)
        })?;
        let timeout = self.attempt_timeout(deadline)?;

        let response = self
            .http
            .post(&self.graphql_url)
            .header(ACCESS_TOKEN_HEADER, token_header)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .timeout(timeout)
            .body(body.to_owned())
            .send()
            .await
            .map_err(|error| transport_failure(&error))?;

        let status = response.status();
        self.record_served_version(response.headers());
        let retry_after = header_text(response.headers(), &RETRY_AFTER).and_then(parse_retry_after);
        let response_body = response
            .bytes()
            .await
            .map_err(|error| read_failure(&error))?;

        response::classify(status, retry_after, &response_body).map_err(|mut failure| {
            if failure.kind == FailureKind::TokenRejected {
                failure.rejected_token = Some(token);
            }
            failure
        })
    }

    /// Returns the timeout of the next request: `request_timeout`, or less when less of the
    /// budget is left.
    fn attempt_timeout(&self, deadline: Instant) -> Result<Duration, AttemptFailure> {
        let remaining = deadline.saturating_duration_since(self.timer.now());
        if remaining.is_zero() {
            return Err(AttemptFailure::new(
                ShopifyError::Transport(
                    "the call's time budget ran out before the request".to_owned(),
                ),
                FailureKind::NotRun { wait: None },
            ));
        }
        Ok(remaining.min(self.config.request_timeout))
    }

    /// Stores the served version and logs a warning the first time it differs from the
    /// requested one.
    fn record_served_version(&self, headers: &HeaderMap) {
        let Some(served) = header_text(headers, &API_VERSION_HEADER) else {
            return;
        };
        if !is_valid_api_version(served) {
            return;
        }
        *lock(&self.served_version) = Some(served.to_owned());
        let requested = self.config.api_version.as_str();
        if served != requested && !self.version_drift_logged.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                requested,
                served,
                "Shopify served a different Admin API version than requested; the requested \
                 version may be unsupported or retired"
            );
        }
    }
}

#[async_trait]
impl OrderGateway for ShopifyClient {
    /// Runs `orderCreate` within [`ShopifyConfig::retry_budget`]. It is not repeated after a
    /// timeout or 5xx, because Shopify may have created the order.
    async fn create_order(&self, variables: &Value) -> Result<CreatedOrder, ShopifyError> {
        self.create_order_within(variables, self.config.retry_budget)
            .await
    }

    /// Finds the order within [`ShopifyConfig::retry_budget`].
    async fn find_order_by_source(
        &self,
        source_identifier: &str,
    ) -> Result<Option<CreatedOrder>, ShopifyError> {
        self.find_order_by_source_within(source_identifier, self.config.retry_budget)
            .await
    }

    fn last_call_retries(&self) -> (u32, u32) {
        let stats = self.last_call_stats();
        (stats.retries, stats.throttles)
    }

    fn api_version_drift(&self) -> Option<(String, String)> {
        let served = self.served_api_version()?;
        let requested = self.requested_api_version();
        (served != requested).then(|| (requested.to_owned(), served))
    }
}

/// What one call has used up of the retries that are limited per call.
#[derive(Default)]
struct RetryState {
    /// Number of backoff waits so far. Each one doubles the next.
    backoff_step: u32,
    renewed_after_401: bool,
}

/// Builds the search query `source_identifier:"…"`, with backslashes and double quotes in
/// the value escaped by a backslash, so the value stays one quoted term.
fn source_identifier_query(source_identifier: &str) -> String {
    let mut query = String::with_capacity(source_identifier.len() + 21);
    query.push_str("source_identifier:\"");
    for character in source_identifier.chars() {
        if character == '"' || character == '\\' {
            query.push('\\');
        }
        query.push(character);
    }
    query.push('"');
    query
}

#[derive(Deserialize)]
struct OrderNode {
    id: String,
    name: String,
    #[serde(default, rename = "sourceIdentifier")]
    source_identifier: Option<String>,
}

/// Returns the orders in `data.orders.nodes` whose `sourceIdentifier` equals
/// `source_identifier` exactly.
fn exact_matches(data: &Value, source_identifier: &str) -> Result<Vec<CreatedOrder>, ShopifyError> {
    let nodes = data
        .pointer("/orders/nodes")
        .cloned()
        .and_then(|nodes| serde_json::from_value::<Vec<OrderNode>>(nodes).ok())
        .ok_or_else(|| {
            ShopifyError::Server("the orders response has an unexpected shape".to_owned())
        })?;
    Ok(nodes
        .into_iter()
        .filter(|node| node.source_identifier.as_deref() == Some(source_identifier))
        .map(|node| CreatedOrder {
            id: node.id,
            name: node.name,
        })
        .collect())
}

/// `orderCreate`'s payload. `userErrors[].field` may be null in the schema.
#[derive(Deserialize)]
struct OrderCreatePayload {
    order: Option<OrderFields>,
    #[serde(rename = "userErrors")]
    user_errors: Vec<UserErrorFields>,
}

#[derive(Deserialize)]
struct OrderFields {
    id: String,
    name: String,
}

#[derive(Deserialize)]
struct UserErrorFields {
    field: Option<Vec<String>>,
    message: String,
    code: Option<String>,
}

fn parse_created_order(data: &Value) -> Result<CreatedOrder, ShopifyError> {
    let payload = data
        .get("orderCreate")
        .cloned()
        .and_then(|payload| serde_json::from_value::<OrderCreatePayload>(payload).ok())
        .ok_or_else(|| {
            ShopifyError::Server("the orderCreate response has an unexpected shape".to_owned())
        })?;
    if !payload.user_errors.is_empty() {
        let errors = payload
            .user_errors
            .into_iter()
            .map(|error| UserError {
                field: error.field.unwrap_or_default(),
                message: error.message,
                code: error.code,
            })
            .collect();
        return Err(ShopifyError::UserErrors(errors));
    }
    match payload.order {
        Some(order) => Ok(CreatedOrder {
            id: order.id,
            name: order.name,
        }),
        None => Err(ShopifyError::Server(
            "orderCreate returned neither an order nor userErrors".to_owned(),
        )),
    }
}

/// Maps a failure to send the request or to receive the response headers.
///
/// Only a failure to connect proves that Shopify did not get the request. After a timeout
/// or a broken connection Shopify may still have run it.
fn transport_failure(error: &reqwest::Error) -> AttemptFailure {
    let (reason, kind) = if error.is_connect() && error.is_timeout() {
        (
            "timed out while connecting",
            FailureKind::NotRun { wait: None },
        )
    } else if error.is_connect() {
        ("failed to connect", FailureKind::NotRun { wait: None })
    } else if error.is_builder() {
        ("failed to build the request", FailureKind::Permanent)
    } else if error.is_timeout() {
        (
            "timed out waiting for the response",
            FailureKind::OutcomeUnknown,
        )
    } else {
        (
            "the connection failed before a response arrived",
            FailureKind::OutcomeUnknown,
        )
    };
    AttemptFailure::new(ShopifyError::Transport(reason.to_owned()), kind)
}

/// Maps a failure to read the response body, which comes after Shopify ran the request.
fn read_failure(error: &reqwest::Error) -> AttemptFailure {
    let reason = if error.is_timeout() {
        "timed out while reading the response"
    } else {
        "failed to read the response"
    };
    AttemptFailure::new(
        ShopifyError::Transport(reason.to_owned()),
        FailureKind::OutcomeUnknown,
    )
}

fn header_text<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn duration_ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn is_valid_api_version(version: &str) -> bool {
    !version.is_empty()
        && version.len() <= 32
        && version
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
}

/// Turns the configured shop into a base URL without a trailing slash.
fn normalize_shop(shop: &str) -> Result<String, ShopifyConfigError> {
    let invalid = |reason: &'static str| ShopifyConfigError::InvalidShop {
        shop: format!("{shop:?}"),
        reason,
    };
    if !shop.contains("://") {
        if !is_myshopify_domain(shop) {
            return Err(invalid(
                "expected a domain such as example.myshopify.com or a URL such as http://127.0.0.1:8080",
            ));
        }
        return Ok(format!("https://{}", shop.to_ascii_lowercase()));
    }

    normalize_base_url(shop).map_err(|problem| match problem {
        BaseUrlProblem::Unparsable => invalid("the URL cannot be parsed"),
        BaseUrlProblem::Credentials => ShopifyConfigError::InvalidShop {
            shop: "(not shown because it contains credentials)".to_owned(),
            reason: "remove the user name and password from the URL",
        },
        BaseUrlProblem::QueryOrFragment => invalid("remove the query and fragment"),
        BaseUrlProblem::PlainHttp => {
            invalid("plain http is allowed only for loopback hosts such as 127.0.0.1; use https")
        }
        BaseUrlProblem::UnsupportedScheme => invalid("expected an https URL"),
    })
}

/// True for `<name>.myshopify.com` with a name of letters, digits and dashes.
fn is_myshopify_domain(domain: &str) -> bool {
    let lower = domain.to_ascii_lowercase();
    let Some(name) = lower.strip_suffix(".myshopify.com") else {
        return false;
    };
    !name.is_empty()
        && name.len() <= 63
        && !name.starts_with('-')
        && !name.ends_with('-')
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
}

#[cfg(test)]
mod test_server;
#[cfg(test)]
mod tests;
