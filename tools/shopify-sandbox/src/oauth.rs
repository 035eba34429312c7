//! `POST /admin/oauth/access_token`: access tokens for the client-credentials grant.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use crate::server::{json_response, AppState};

/// Access scopes named in issued tokens.
const GRANTED_SCOPES: &str = "read_customers,write_customers,read_orders,write_orders";

/// `POST /admin/oauth/access_token` with the client-credentials grant, as a form or JSON.
pub(crate) async fn access_token(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    let parameters: HashMap<String, String> = if is_json {
        match serde_json::from_slice::<HashMap<String, Value>>(&body) {
            Ok(map) => map
                .into_iter()
                .filter_map(|(key, value)| value.as_str().map(|text| (key, text.to_owned())))
                .collect(),
            Err(err) => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    &format!("The body is not a JSON object: {err}"),
                )
            }
        }
    } else {
        match serde_urlencoded::from_bytes(&body) {
            Ok(map) => map,
            Err(err) => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    &format!("The body is not a form: {err}"),
                )
            }
        }
    };

    for name in ["client_id", "client_secret", "grant_type"] {
        if parameters.get(name).is_none_or(|value| value.is_empty()) {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!("Parameter {name} is missing"),
            );
        }
    }
    if parameters["grant_type"] != "client_credentials" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!(
                "Grant type {} is not supported; use client_credentials",
                parameters["grant_type"]
            ),
        );
    }
    if parameters["client_id"] != state.config.client_id
        || parameters["client_secret"] != state.config.client_secret
    {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The client id or client secret is wrong",
        );
    }

    let token = format!("sandbox-token-{}", uuid::Uuid::new_v4().simple());
    let lifetime = state.config.token_lifetime;
    state
        .lock()
        .issued_tokens
        .insert(token.clone(), Instant::now() + lifetime);
    json_response(
        StatusCode::OK,
        json!({"access_token": token, "scope": GRANTED_SCOPES, "expires_in": lifetime.as_secs()}),
    )
}

/// Returns an OAuth 2.0 error response (RFC 6749, section 5.2).
///
/// Shopify's exact error bodies for this grant were not recorded, so the sandbox uses the
/// RFC's error codes.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json_response(
        status,
        json!({"error": error, "error_description": description}),
    )
}
