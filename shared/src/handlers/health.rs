//! `GET /api/health`: a liveness response with no I/O.

use crate::api::{json_response, ApiError};
use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

/// Identifies the running function in health responses.
#[derive(Debug, Clone)]
pub struct HealthInfo {
    pub function_name: String,
    pub version: &'static str,
}

/// Returns that the function is alive.
pub async fn handle(info: &HealthInfo, _request: Request) -> Result<Response<Body>, ApiError> {
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "status": "ok",
            "version": info.version,
            "function": info.function_name,
        }),
    ))
}
