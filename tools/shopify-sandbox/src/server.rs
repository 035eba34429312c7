//! HTTP routes: the Admin GraphQL endpoint, the OAuth token endpoint and the `/_sandbox/`
//! control endpoints.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use apollo_compiler::validation::Valid;
use apollo_compiler::Schema;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::cost::Bucket;
use crate::faults::{CrashMode, Fault, FaultQueue};
use crate::graphql::{self, ExecutionSettings, ExecutionState, GraphqlRequest};
use crate::store::Store;
use crate::views::ShopInfo;
use crate::Config;
use crate::{control, oauth};

/// The body Shopify sends with 401 for a missing, unknown or expired access token.
const INVALID_TOKEN_BODY: &str =
    r#"{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}"#;

pub struct AppState {
    schema: Arc<Valid<Schema>>,
    pub(crate) config: Config,
    shop: ShopInfo,
    inner: Mutex<Inner>,
}

/// Everything that changes while the sandbox runs.
pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) faults: FaultQueue,
    pub(crate) calls: BTreeMap<String, u64>,
    pub(crate) total_calls: u64,
    /// Tokens issued by the token endpoint, with their expiry.
    pub(crate) issued_tokens: HashMap<String, Instant>,
    pub(crate) bucket: Bucket,
}

impl AppState {
    pub fn new(schema: Arc<Valid<Schema>>, config: Config) -> Self {
        let shop = ShopInfo {
            name: config.shop_name.clone(),
            email: config.shop_email.clone(),
            myshopify_domain: config.shop_domain.clone(),
            currency: config.shop_currency.clone(),
        };
        let bucket = Bucket::new(config.cost_bucket_maximum, config.cost_restore_rate);
        Self {
            schema,
            config,
            shop,
            inner: Mutex::new(Inner {
                store: Store::new(),
                faults: FaultQueue::default(),
                calls: BTreeMap::new(),
                total_calls: 0,
                issued_tokens: HashMap::new(),
                bucket,
            }),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while the lock was held leaves data that is still usable for a test
        // double, so a poisoned lock is taken over.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn served_version(&self) -> &str {
        self.config
            .served_version
            .as_deref()
            .unwrap_or(&self.config.api_version)
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/admin/api/{version}/graphql.json", post(graphql_endpoint))
        .route("/admin/oauth/access_token", post(oauth::access_token))
        .route(
            "/_sandbox/faults",
            post(control::push_faults)
                .get(control::list_faults)
                .delete(control::clear_faults),
        )
        .route("/_sandbox/orders", get(control::list_orders))
        .route("/_sandbox/customers", get(control::list_customers))
        .route("/_sandbox/calls", get(control::list_calls))
        .route("/_sandbox/reset", post(control::reset))
        .layer(middleware::from_fn_with_state(state.clone(), log_and_tag))
        .with_state(state)
}

/// Facts about a GraphQL call that the request log line shows.
#[derive(Clone)]
struct CallLog {
    operation: String,
    fault: Option<&'static str>,
}

/// Marks a response whose connection is closed before the client reads anything, so the
/// log does not show the status the client never got.
#[derive(Clone, Copy)]
struct ConnectionDropped;

/// Adds `X-Shopify-API-Version` to every response and logs one line per request.
async fn log_and_tag(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;

    if let Ok(version) = HeaderValue::from_str(state.served_version()) {
        response
            .headers_mut()
            .insert("x-shopify-api-version", version);
    }
    let call = response.extensions().get::<CallLog>().cloned();
    let status = if response.extensions().get::<ConnectionDropped>().is_some() {
        "dropped".to_owned()
    } else {
        response.status().as_u16().to_string()
    };
    tracing::info!(
        target: "shopify_sandbox",
        %method,
        path,
        status,
        operation = call.as_ref().map(|call| call.operation.as_str()),
        fault = call.as_ref().and_then(|call| call.fault),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

async fn graphql_endpoint(
    State(state): State<Arc<AppState>>,
    Path(_version): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Every version is served with the sandbox's schema. `X-Shopify-API-Version` names the
    // version served, which is how Shopify reports a fallback from an unsupported version.
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    let request = match GraphqlRequest::parse(content_type, &body) {
        Ok(request) => request,
        Err(message) => return json_response(StatusCode::BAD_REQUEST, json!({"errors": message})),
    };

    let operation = request.label();
    let fault = {
        let mut inner = state.lock();
        inner.total_calls += 1;
        *inner.calls.entry(operation.clone()).or_default() += 1;
        inner.faults.next()
    };
    let mut response = handle_graphql(&state, &headers, &request, fault.as_ref()).await;
    response.extensions_mut().insert(CallLog {
        operation,
        fault: fault.as_ref().map(fault_name),
    });
    response
}

async fn handle_graphql(
    state: &AppState,
    headers: &HeaderMap,
    request: &GraphqlRequest,
    fault: Option<&Fault>,
) -> Response {
    match fault {
        Some(Fault::Delay { millis }) => tokio::time::sleep(Duration::from_millis(*millis)).await,
        Some(Fault::Http429 { retry_after }) => {
            let mut response = json_response(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"errors": "Too Many Requests (simulated by the Shopify sandbox)"}),
            );
            if let Some(value) = retry_after
                .as_ref()
                .and_then(|retry_after| HeaderValue::from_str(&retry_after.header_value()).ok())
            {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return response;
        }
        Some(Fault::Http503Html) => {
            let page = "<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head>\
                        <body><h1>Service Unavailable</h1><p>Simulated by the Shopify sandbox.</p>\
                        </body></html>";
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                page,
            )
                .into_response();
        }
        Some(Fault::Http500Empty) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Some(Fault::Http { status }) => return http_fault(*status),
        _ => {}
    }

    if !is_authorized(state, headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::CONTENT_TYPE, "application/json")],
            INVALID_TOKEN_BODY,
        )
            .into_response();
    }

    let settings = ExecutionSettings {
        schema: &state.schema,
        shop: &state.shop,
        require_transactions_match_total: state.config.require_transactions_match_total,
    };
    let outcome = {
        let mut inner = state.lock();
        let Inner { store, bucket, .. } = &mut *inner;
        graphql::run(&settings, ExecutionState { store, bucket }, request, fault)
    };

    if let Some(Fault::CrashAfterCreate { mode }) = fault {
        tracing::warn!(
            target: "shopify_sandbox",
            created_orders = ?outcome.created_orders,
            "simulating a crash after processing the call"
        );
        return match mode {
            CrashMode::Http500 => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            CrashMode::Drop => broken_response(),
        };
    }
    let mut response = json_response(StatusCode::OK, outcome.body);
    if let Ok(request_id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        response.headers_mut().insert("x-request-id", request_id);
    }
    response
}

/// Returns a response whose body fails right away, so the server closes the connection
/// before the client has read a response.
fn broken_response() -> Response {
    let failing = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "simulated crash after processing the call",
        ))
    });
    let mut response = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(failing))
        .expect("static response parts are valid");
    response.extensions_mut().insert(ConnectionDropped);
    response
}

fn http_fault(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status == StatusCode::UNAUTHORIZED {
        return (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            INVALID_TOKEN_BODY,
        )
            .into_response();
    }
    let reason = status.canonical_reason().unwrap_or("Error");
    json_response(
        status,
        json!({"errors": format!("{reason} (simulated by the Shopify sandbox)")}),
    )
}

fn is_authorized(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(token) = headers
        .get("x-shopify-access-token")
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    if state
        .config
        .access_tokens
        .iter()
        .any(|known| known == token)
    {
        return true;
    }
    let inner = state.lock();
    inner
        .issued_tokens
        .get(token)
        .is_some_and(|expires| Instant::now() < *expires)
}

fn fault_name(fault: &Fault) -> &'static str {
    match fault {
        Fault::Http429 { .. } => "http_429",
        Fault::Throttled => "throttled",
        Fault::Http503Html => "http_503_html",
        Fault::Http500Empty => "http_500_empty",
        Fault::Http { .. } => "http",
        Fault::AccessDenied => "access_denied",
        Fault::InternalError => "internal_error",
        Fault::Delay { .. } => "delay",
        Fault::PhoneUserError => "phone_user_error",
        Fault::CrashAfterCreate { .. } => "crash_after_create",
    }
}

pub(crate) fn json_response(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}
