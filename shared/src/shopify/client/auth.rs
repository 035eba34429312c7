//! Credentials and the access-token cache, including the client-credentials grant.

use super::retry::{AttemptFailure, FailureKind};
use super::{header_text, parse_retry_after, transport_failure, CallStats};
use crate::clock::Clock;
use crate::shopify::ShopifyError;
use reqwest::header::{HeaderValue, ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;
use serde::Deserialize;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// Lifetime assumed when the token response has no `expires_in`. Client-credentials tokens
/// last about 24 hours, so this guess errs on the short side and only renews more often.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// Upper limit on a token lifetime, so that a wrong `expires_in` cannot overflow the date
/// arithmetic or keep a token for months.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// An Admin API access token or app client secret. `Debug` and `Display` print
/// `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct ShopifySecret(String);

impl ShopifySecret {
    /// Wraps a secret such as an `shpat_…` access token or a client secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub(super) fn expose(&self) -> &str {
        &self.0
    }

    /// Builds the `X-Shopify-Access-Token` value, marked sensitive so that `Debug` output
    /// of a header map and HTTP/2 header compression leave it out.
    pub(super) fn header_value(&self) -> Option<HeaderValue> {
        if !is_header_safe(&self.0) {
            return None;
        }
        let mut value = HeaderValue::from_str(&self.0).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

impl fmt::Debug for ShopifySecret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("[redacted]")
    }
}

impl fmt::Display for ShopifySecret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("[redacted]")
    }
}

/// Credentials for the Admin API: a fixed access token, or a client id and secret.
#[derive(Debug, Clone)]
pub enum ShopifyCredentials {
    /// A fixed Admin API access token, such as one from a custom app created in the admin.
    AccessToken(ShopifySecret),
    /// An app's client id and secret, exchanged for an access token with the OAuth
    /// client-credentials grant at `POST /admin/oauth/access_token`. The token is cached and
    /// renewed shortly before it expires and after Shopify rejects it with HTTP 401.
    ClientCredentials {
        client_id: String,
        client_secret: ShopifySecret,
    },
}

impl ShopifyCredentials {
    /// Checks that the values can be sent: a non-empty token or client id of printable
    /// ASCII without spaces, and a non-empty client secret.
    pub(super) fn is_valid(&self) -> bool {
        match self {
            ShopifyCredentials::AccessToken(token) => is_header_safe(token.expose()),
            ShopifyCredentials::ClientCredentials {
                client_id,
                client_secret,
            } => is_header_safe(client_id) && !client_secret.expose().is_empty(),
        }
    }
}

fn is_header_safe(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_graphic())
}

/// A token from the client-credentials grant and when to replace it.
struct CachedToken {
    value: ShopifySecret,
    renew_at: OffsetDateTime,
}

/// The access token source of one client: the fixed token, or the cached token of the
/// client-credentials grant. One cache per client, so one per Lambda container.
pub(super) struct TokenSource {
    credentials: ShopifyCredentials,
    clock: Arc<dyn Clock>,
    renewal_margin: Duration,
    /// Locked across the token request, so that concurrent calls wait for one request
    /// instead of each asking for a token.
    cached: tokio::sync::Mutex<Option<CachedToken>>,
}

impl TokenSource {
    pub(super) fn new(
        credentials: ShopifyCredentials,
        clock: Arc<dyn Clock>,
        renewal_margin: Duration,
    ) -> Self {
        Self {
            credentials,
            clock,
            renewal_margin,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    pub(super) fn set_clock(&mut self, clock: Arc<dyn Clock>) {
        self.clock = clock;
    }

    pub(super) fn credentials(&self) -> &ShopifyCredentials {
        &self.credentials
    }

    /// True when a rejected token can be replaced by asking Shopify for a new one.
    pub(super) fn can_renew(&self) -> bool {
        matches!(
            self.credentials,
            ShopifyCredentials::ClientCredentials { .. }
        )
    }

    /// Returns the token to send, requesting a new one when none is cached or the cached
    /// one is due for renewal. `timeout` limits the token request.
    pub(super) async fn token(
        &self,
        http: &reqwest::Client,
        token_url: &str,
        timeout: Duration,
        stats: &mut CallStats,
    ) -> Result<ShopifySecret, AttemptFailure> {
        let (client_id, client_secret) = match &self.credentials {
            ShopifyCredentials::AccessToken(token) => return Ok(token.clone()),
            ShopifyCredentials::ClientCredentials {
                client_id,
                client_secret,
            } => (client_id, client_secret),
        };

        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref() {
            if self.clock.now() < token.renew_at {
                return Ok(token.value.clone());
            }
        }

        stats.token_requests += 1;
        let requested_at = self.clock.now();
        let granted = request_token(http, token_url, client_id, client_secret, timeout).await?;
        let lifetime = granted.lifetime.min(MAX_TOKEN_LIFETIME);
        // Renews `renewal_margin` before expiry, or halfway through a lifetime shorter than
        // twice the margin, so that a short-lived token is not renewed on every call.
        let early = self.renewal_margin.min(lifetime / 2);
        tracing::info!(
            expires_in_s = lifetime.as_secs(),
            "received a new Shopify access token"
        );
        let value = granted.value.clone();
        *cached = Some(CachedToken {
            value: granted.value,
            renew_at: requested_at + (lifetime - early),
        });
        Ok(value)
    }

    /// Drops `rejected` from the cache, unless another call has already replaced it.
    pub(super) async fn discard(&self, rejected: &ShopifySecret) {
        let mut cached = self.cached.lock().await;
        if cached
            .as_ref()
            .is_some_and(|token| &token.value == rejected)
        {
            *cached = None;
        }
    }
}

struct GrantedToken {
    value: ShopifySecret,
    lifetime: Duration,
}

/// The fields of the token response that the client uses. `scope` is not needed.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// Runs the client-credentials grant. Every failure is reported as not having run the
/// GraphQL request, because the token request comes first.
async fn request_token(
    http: &reqwest::Client,
    token_url: &str,
    client_id: &str,
    client_secret: &ShopifySecret,
    timeout: Duration,
) -> Result<GrantedToken, AttemptFailure> {
    let form = serde_urlencoded::to_string([
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", client_secret.expose()),
    ])
    .map_err(|_| {
        AttemptFailure::new(
            ShopifyError::Server("failed to encode the access token request".to_owned()),
            FailureKind::Permanent,
        )
    })?;

    let response = http
        .post(token_url)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ACCEPT, "application/json")
        .timeout(timeout)
        .body(form)
        .send()
        .await
        .map_err(|error| {
            let mut failure = transport_failure(&error);
            // The GraphQL request was not sent, whatever happened to the token request.
            failure.kind = FailureKind::NotRun { wait: None };
            failure
        })?;

    let status = response.status();
    let retry_after = header_text(response.headers(), &RETRY_AFTER).and_then(parse_retry_after);
    let body = response.bytes().await.map_err(|error| {
        let mut failure = transport_failure(&error);
        failure.kind = FailureKind::NotRun { wait: None };
        failure
    })?;

    if status.is_success() {
        let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|_| {
            AttemptFailure::new(
                ShopifyError::Server(
                    "the access token response is not the expected JSON".to_owned(),
                ),
                FailureKind::NotRun { wait: None },
            )
        })?;
        let value = ShopifySecret::new(parsed.access_token);
        if value.header_value().is_none() {
            return Err(AttemptFailure::new(
                ShopifyError::Server(
                    "the access token in the response cannot be sent in a header".to_owned(),
                ),
                FailureKind::NotRun { wait: None },
            ));
        }
        let lifetime = parsed
            .expires_in
            .map_or(DEFAULT_TOKEN_LIFETIME, Duration::from_secs);
        return Ok(GrantedToken { value, lifetime });
    }

    let code = status.as_u16();
    tracing::warn!(status = code, "the Shopify access token request failed");
    let (error, kind) = match status {
        // OAuth 2.0 (RFC 6749, section 5.2) rejects a wrong client id or secret with 400 or
        // 401, and retrying cannot help.
        StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED => {
            (ShopifyError::Unauthorized, FailureKind::Permanent)
        }
        StatusCode::FORBIDDEN => (
            ShopifyError::AccessDenied(
                "the access token endpoint rejected the client-credentials grant (HTTP 403)"
                    .to_owned(),
            ),
            FailureKind::Permanent,
        ),
        StatusCode::PAYMENT_REQUIRED | StatusCode::NOT_FOUND | StatusCode::LOCKED => {
            (ShopifyError::ShopUnavailable(code), FailureKind::Permanent)
        }
        StatusCode::TOO_MANY_REQUESTS => (
            ShopifyError::Throttled { retry_after },
            FailureKind::NotRun { wait: retry_after },
        ),
        _ if status.is_server_error() => (
            ShopifyError::Server(format!("HTTP {code} from the access token endpoint")),
            FailureKind::NotRun { wait: None },
        ),
        _ => (
            ShopifyError::Server(format!(
                "unexpected HTTP {code} from the access token endpoint"
            )),
            FailureKind::Permanent,
        ),
    };
    Err(AttemptFailure::new(error, kind))
}
