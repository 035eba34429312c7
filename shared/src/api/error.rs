//! Typed errors of the HTTP edge and their one mapping to status codes and JSON bodies.

use crate::discount::DiscountRejection;
use crate::store::StoreError;
use crate::stripe::StripeError;
use crate::validation::FieldError;
use http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::json;

/// Everything a handler can fail with. The caller's faults map to 4xx, ours to 5xx.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    InvalidField(#[from] FieldError),
    #[error("the request body is empty; send the JSON document")]
    MissingBody,
    #[error("the request body is not valid JSON: {message}")]
    InvalidJson {
        field: Option<String>,
        message: String,
    },
    #[error("{0}")]
    DiscountRejected(DiscountRejection),
    #[error(
        "the total {total} {currency} is below the minimum card charge of {minimum} {currency}"
    )]
    AmountBelowMinimum {
        currency: String,
        total: String,
        minimum: String,
    },
    #[error("no route matches this path")]
    NotFound,
    #[error("this route accepts {allowed} requests only")]
    MethodNotAllowed { allowed: http::Method },
    #[error("this origin may not call the API")]
    OriginNotAllowed,
    #[error("missing or invalid credentials")]
    Unauthorized,
    #[error("the webhook signature could not be verified")]
    InvalidSignature,
    #[error("{0}")]
    Conflict(String),
    #[error("the payment provider failed")]
    PaymentProvider(#[source] StripeError),
    #[error("storage failed")]
    Storage(#[source] StoreError),
    /// The order could not be created yet; the failure is recorded for replay.
    #[error("the order could not be created: {0}")]
    OrderNotCreated(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StripeError> for ApiError {
    fn from(error: StripeError) -> Self {
        ApiError::PaymentProvider(error)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError::Storage(error)
    }
}

impl ApiError {
    /// Returns the HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidField(_)
            | ApiError::MissingBody
            | ApiError::InvalidJson { .. }
            | ApiError::DiscountRejected(_)
            | ApiError::AmountBelowMinimum { .. }
            | ApiError::InvalidSignature => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::OriginNotAllowed => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PaymentProvider(_) => StatusCode::BAD_GATEWAY,
            ApiError::Storage(_) | ApiError::OrderNotCreated(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Returns a stable machine-readable code for the website.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidField(_) => "invalid_field",
            ApiError::MissingBody => "missing_body",
            ApiError::InvalidJson { .. } => "invalid_json",
            ApiError::DiscountRejected(_) => "invalid_discount_code",
            ApiError::AmountBelowMinimum { .. } => "amount_below_minimum",
            ApiError::NotFound => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::OriginNotAllowed => "origin_not_allowed",
            ApiError::Unauthorized => "unauthorized",
            ApiError::InvalidSignature => "invalid_signature",
            ApiError::Conflict(_) => "conflict",
            ApiError::PaymentProvider(_) => "payment_provider_error",
            ApiError::Storage(_) => "storage_unavailable",
            ApiError::OrderNotCreated(_) => "order_not_created",
            ApiError::Internal(_) => "internal_error",
        }
    }

    /// Returns the request field the error is about, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            ApiError::InvalidField(error) => Some(&error.field),
            ApiError::InvalidJson { field, .. } => field.as_deref(),
            ApiError::DiscountRejected(_) => Some("discount_code"),
            ApiError::AmountBelowMinimum { .. } => Some("total"),
            _ => None,
        }
    }

    /// Returns the message that is safe to show a caller. Our own failures get a fixed sentence so that no
    /// dependency's detail, key or body reaches the response; the log has the cause.
    pub fn public_message(&self) -> String {
        match self {
            ApiError::PaymentProvider(_) => {
                "the payment could not be prepared; try again in a minute".to_owned()
            }
            ApiError::Storage(_) => {
                "the registration could not be saved; try again in a minute".to_owned()
            }
            ApiError::OrderNotCreated(_) => {
                "the order could not be created yet; the failure is recorded and Stripe will retry"
                    .to_owned()
            }
            ApiError::Internal(_) => "something went wrong on our side; try again later".to_owned(),
            other => other.to_string(),
        }
    }

    /// True when the error is ours rather than the caller's.
    pub fn is_server_error(&self) -> bool {
        self.status().is_server_error()
    }
}

/// Builds the JSON response for `error`:
/// `{"error": {"code", "message", "field"}, "request_id"}`.
pub fn error_response(error: &ApiError, request_id: &str) -> Response<Body> {
    let mut body = json!({
        "error": {
            "code": error.code(),
            "message": error.public_message(),
            "field": error.field(),
        },
        "request_id": request_id,
    });
    if let ApiError::DiscountRejected(reason) = error {
        body["error"]["reason"] = json!(reason);
    }
    let mut response = super::json_response(error.status(), &body);
    if let ApiError::MethodNotAllowed { allowed } = error {
        if let Ok(value) = http::HeaderValue::from_str(allowed.as_str()) {
            response.headers_mut().insert(http::header::ALLOW, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(response: &Response<Body>) -> serde_json::Value {
        match response.body() {
            Body::Text(text) => serde_json::from_str(text).unwrap(),
            other => panic!("expected a text body, got {other:?}"),
        }
    }

    #[test]
    fn field_error_is_400_with_field() {
        let error = ApiError::from(FieldError::new("email", "is required"));
        let response = error_response(&error, "req-1");
        assert_eq!(response.status(), 400);
        let body = body_of(&response);
        assert_eq!(body["error"]["code"], "invalid_field");
        assert_eq!(body["error"]["field"], "email");
        assert_eq!(body["request_id"], "req-1");
    }

    #[test]
    fn dependency_detail_stays_out_of_the_body() {
        let error = ApiError::PaymentProvider(StripeError::Unavailable(
            "secret detail sk_test_fake_key".into(),
        ));
        let response = error_response(&error, "req-2");
        assert_eq!(response.status(), 502);
        let text = body_of(&response).to_string();
        assert!(!text.contains("sk_test_fake_key"), "{text}");
        assert!(!text.contains("secret detail"), "{text}");
    }

    #[test]
    fn method_not_allowed_sets_allow() {
        let error = ApiError::MethodNotAllowed {
            allowed: http::Method::POST,
        };
        let response = error_response(&error, "req-3");
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()[http::header::ALLOW], "POST");
    }

    #[test]
    fn discount_rejection_carries_reason() {
        let error = ApiError::DiscountRejected(DiscountRejection::Expired);
        let body = body_of(&error_response(&error, "req-4"));
        assert_eq!(body["error"]["reason"], "expired");
        assert_eq!(body["error"]["field"], "discount_code");
    }
}
