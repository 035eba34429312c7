//! [`SecretStore`] backed by one AWS Secrets Manager secret whose `SecretString` is the
//! JSON document described on [`AppSecrets`].

use super::{AppSecrets, SecretStore, SecretsError};
use crate::clock::Clock;
use async_trait::async_trait;
use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use serde_path_to_error::Segment;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::Mutex;

/// Default minimum time between two fetches made by [`SecretStore::reload`].
pub const DEFAULT_MIN_RELOAD_INTERVAL: Duration = Duration::from_secs(60);

/// Reads the secrets from Secrets Manager once per container and caches them.
///
/// - [`SecretStore::secrets`] calls `GetSecretValue` only while nothing is cached.
///   Concurrent first calls wait for one shared fetch, and when that fetch fails, the calls
///   that were waiting for it return its error instead of fetching again.
/// - [`SecretStore::reload`] fetches again and replaces the cache, but at most once per
///   minimum reload interval (default [`DEFAULT_MIN_RELOAD_INTERVAL`]), measured on the
///   injected [`Clock`] from the start of the previous reload fetch, failed or not. Within
///   the interval it returns the cached secrets without fetching. This way a flood of
///   requests with forged webhook signatures, each of which triggers a reload, costs at
///   most one Secrets Manager call per interval. The fetch made by the first
///   [`SecretStore::secrets`] call does not start the interval, so a secret rolled just
///   after a cold start is picked up by the first reload.
///
/// `Debug` shows the secret id and the fetch count, never secret values.
pub struct SecretsManagerStore {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
    clock: Arc<dyn Clock>,
    min_reload_interval: Duration,
    /// The secrets last fetched. Readers take this lock only briefly, so they are not
    /// blocked while a fetch is in flight.
    cached: RwLock<Option<Arc<AppSecrets>>>,
    /// Held for the whole of each fetch, so that fetches never overlap.
    fetch_state: Mutex<FetchState>,
    /// Completed `GetSecretValue` calls, successful or not.
    fetch_count: AtomicU64,
}

/// Bookkeeping of fetches, guarded by the fetch lock.
#[derive(Default)]
struct FetchState {
    /// When the last fetch made by `reload` started.
    last_reload_at: Option<OffsetDateTime>,
    /// Error of the last fetch, or `None` when it succeeded.
    last_error: Option<SecretsError>,
}

impl SecretsManagerStore {
    /// Creates a store for the secret `secret_id`, an ARN or a name as accepted by
    /// `GetSecretValue`. Nothing is fetched until the first call.
    pub fn new(
        client: aws_sdk_secretsmanager::Client,
        secret_id: impl Into<String>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            client,
            secret_id: secret_id.into(),
            clock,
            min_reload_interval: DEFAULT_MIN_RELOAD_INTERVAL,
            cached: RwLock::new(None),
            fetch_state: Mutex::new(FetchState::default()),
            fetch_count: AtomicU64::new(0),
        }
    }

    /// Sets the minimum time between two fetches made by [`SecretStore::reload`].
    pub fn with_min_reload_interval(mut self, interval: Duration) -> Self {
        self.min_reload_interval = interval;
        self
    }

    /// Returns the secret's ARN or name, as given to [`SecretsManagerStore::new`].
    pub fn secret_id(&self) -> &str {
        &self.secret_id
    }

    /// Number of `GetSecretValue` calls made so far, successful or not.
    pub fn fetch_count(&self) -> u64 {
        self.fetch_count.load(Ordering::SeqCst)
    }

    fn cached(&self) -> Option<Arc<AppSecrets>> {
        // A poisoned lock still contains a whole `Option<Arc<_>>`, because the only
        // writer replaces it in one assignment.
        self.cached
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn store(&self, secrets: Arc<AppSecrets>) {
        *self
            .cached
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(secrets);
    }

    /// Fetches and parses the secret, caches it on success and records the outcome.
    /// The caller holds the fetch lock.
    async fn fetch(&self, state: &mut FetchState) -> Result<Arc<AppSecrets>, SecretsError> {
        let result = self.fetch_uncached().await;
        let count = self.fetch_count.fetch_add(1, Ordering::SeqCst) + 1;
        match &result {
            Ok(secrets) => {
                self.store(secrets.clone());
                state.last_error = None;
                tracing::info!(
                    secret_id = %self.secret_id,
                    fetch_count = count,
                    "fetched secrets from Secrets Manager"
                );
            }
            Err(error) => state.last_error = Some(error.clone()),
        }
        result
    }

    async fn fetch_uncached(&self) -> Result<Arc<AppSecrets>, SecretsError> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .send()
            .await
            .map_err(|error| sdk_error(&self.secret_id, error))?;
        let document = output.secret_string().ok_or_else(|| {
            SecretsError(format!(
                "secret `{}` in Secrets Manager has no SecretString. Store the secrets \
                 as a JSON text secret",
                self.secret_id
            ))
        })?;
        let secrets = parse_app_secrets(document).map_err(|reason| {
            SecretsError(format!(
                "the SecretString of secret `{}` in Secrets Manager is invalid: {reason}",
                self.secret_id
            ))
        })?;
        Ok(Arc::new(secrets))
    }

    /// Whether a reload that starts at `now` must wait, because the previous reload
    /// fetch started less than the minimum interval ago. A clock that went backwards
    /// allows the reload, and the next interval then counts from the earlier time.
    fn reload_too_soon(&self, state: &FetchState, now: OffsetDateTime) -> bool {
        let Some(last) = state.last_reload_at else {
            return false;
        };
        let elapsed = now - last;
        elapsed >= time::Duration::ZERO && elapsed < self.min_reload_interval
    }
}

#[async_trait]
impl SecretStore for SecretsManagerStore {
    async fn secrets(&self) -> Result<Arc<AppSecrets>, SecretsError> {
        if let Some(secrets) = self.cached() {
            return Ok(secrets);
        }
        // Read before waiting for the lock: when the count has changed once the lock is
        // held, another call fetched meanwhile, and its outcome is this call's outcome.
        let count_before_wait = self.fetch_count();
        let mut state = self.fetch_state.lock().await;
        if let Some(secrets) = self.cached() {
            return Ok(secrets);
        }
        if self.fetch_count() != count_before_wait {
            if let Some(error) = &state.last_error {
                return Err(error.clone());
            }
        }
        // NOTE: while Secrets Manager keeps failing and nothing is cached, each call that
        // starts after the previous fetch failed fetches again. Only the SDK's own retry
        // policy spaces these calls out.
        self.fetch(&mut state).await
    }

    /// Fetches the secret again and caches it. When the previous reload fetch started less
    /// than the minimum reload interval ago, returns the cached secrets without fetching.
    /// Never returns `Ok(None)`, because the secret can change at any time.
    async fn reload(&self) -> Result<Option<Arc<AppSecrets>>, SecretsError> {
        let mut state = self.fetch_state.lock().await;
        let now = self.clock.now();
        if self.reload_too_soon(&state, now) {
            if let Some(secrets) = self.cached() {
                tracing::debug!(
                    secret_id = %self.secret_id,
                    "secrets reload skipped: the minimum reload interval has not passed"
                );
                return Ok(Some(secrets));
            }
        }
        state.last_reload_at = Some(now);
        self.fetch(&mut state).await.map(Some)
    }
}

impl fmt::Debug for SecretsManagerStore {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SecretsManagerStore")
            .field("secret_id", &self.secret_id)
            .field("min_reload_interval", &self.min_reload_interval)
            .field("cached", &self.cached())
            .field("fetch_count", &self.fetch_count())
            .finish_non_exhaustive()
    }
}

/// Converts an SDK error into a [`SecretsError`] with the secret id and the error code or
/// kind. A service error's message is dropped, so no text from the service reaches logs.
fn sdk_error<E>(secret_id: &str, error: SdkError<E>) -> SecretsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let cause = match &error {
        SdkError::ServiceError(_) => error.code().unwrap_or("unknown service error").to_owned(),
        SdkError::TimeoutError(_) => "timed out".to_owned(),
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) => {
            DisplayErrorContext(&error).to_string()
        }
        _ => "the response could not be read".to_owned(),
    };
    SecretsError(format!(
        "Secrets Manager GetSecretValue for secret `{secret_id}` failed: {cause}"
    ))
}

/// Fields of the secret document and the JSON type each one must have.
const DOCUMENT_FIELDS: [(&str, &str); 6] = [
    ("stripe_secret_key", "a string"),
    ("stripe_webhook_secrets", "a list of strings"),
    ("shopify_access_token", "a string"),
    ("shopify_client_id", "a string"),
    ("shopify_client_secret", "a string"),
    ("health_api_key", "a string"),
];

const NOT_AN_OBJECT: &str = "it must be a JSON object";

/// Parses the secret document described on [`AppSecrets`]. Absent fields, `null` and
/// strings that are empty or only whitespace count as absent.
///
/// The error names the field that is wrong and the type it must have, but never quotes
/// the document, because serde's messages can contain the values.
pub(crate) fn parse_app_secrets(document: &str) -> Result<AppSecrets, String> {
    // serde's derived `Deserialize` also accepts a JSON array, taking the fields in
    // order, which would silently read a list of secrets into the wrong fields.
    if !document.trim_start().starts_with('{') {
        return Err(NOT_AN_OBJECT.to_owned());
    }
    let mut deserializer = serde_json::Deserializer::from_str(document);
    let parsed: Result<AppSecrets, _> = serde_path_to_error::deserialize(&mut deserializer);
    let mut secrets = match parsed {
        Ok(secrets) => secrets,
        Err(error) => return Err(describe_document_error(&error)),
    };
    // Rejects text after the JSON object, as `serde_json::from_str` does.
    deserializer.end().map_err(|error| {
        format!(
            "the text after the JSON object at line {}, column {} is not allowed",
            error.line(),
            error.column()
        )
    })?;

    for value in [
        &mut secrets.stripe_secret_key,
        &mut secrets.shopify_access_token,
        &mut secrets.shopify_client_id,
        &mut secrets.shopify_client_secret,
        &mut secrets.health_api_key,
    ] {
        if value.as_deref().is_some_and(|text| text.trim().is_empty()) {
            *value = None;
        }
    }
    Ok(secrets)
}

/// Describes a parse error by its position or field path, without serde's message.
fn describe_document_error(error: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let inner = error.inner();
    if !inner.is_data() {
        return format!(
            "it is not valid JSON (error at line {}, column {})",
            inner.line(),
            inner.column()
        );
    }

    let mut segments = error.path().iter();
    let Some(first) = segments.next() else {
        // With the document known to start as an object, an error at the top level is a
        // repeated field. serde words it "duplicate field `name`", and only a known name
        // is quoted back.
        let repeated = DOCUMENT_FIELDS.iter().find(|(name, _)| {
            inner
                .to_string()
                .starts_with(&format!("duplicate field `{name}`"))
        });
        return match repeated {
            Some((name, _)) => format!("field `{name}` appears more than once"),
            None => "it is not a valid secret document".to_owned(),
        };
    };
    // Only the known field names are quoted, because an unexpected key could itself be
    // a misplaced secret.
    let known = match first {
        Segment::Map { key } => DOCUMENT_FIELDS
            .iter()
            .find(|(name, _)| name == key)
            .copied(),
        _ => None,
    };
    let Some((name, expected)) = known else {
        return "it contains a field with a value of the wrong type".to_owned();
    };
    match segments.next() {
        None => format!("field `{name}` must be {expected}"),
        Some(Segment::Seq { index }) => format!("field `{name}[{index}]` must be a string"),
        Some(_) => format!("field `{name}` is invalid: it must be {expected}"),
    }
}

#[cfg(test)]
mod tests;
