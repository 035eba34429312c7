//! `POST /api/validate-discount`: checks a discount code while the buyer types and returns
//! a full quote. It never calls Stripe, and a code that does not apply is a normal 200.

use super::QuoteView;
use crate::api::{json_body, json_response, ApiError};
use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::discount::{find_applicable, DiscountCode, DiscountRejection};
use crate::metrics::{Counter, MetricsSink, Tally};
use crate::pricing::{quote, Basket};
use crate::validation::FieldError;
use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Dependencies of the handler.
#[derive(Clone)]
pub struct ValidateDiscountDeps {
    pub catalog: Arc<Catalog>,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<dyn MetricsSink>,
}

#[derive(Debug, Deserialize)]
struct DiscountRequest {
    event_id: Option<String>,
    #[serde(default)]
    days: Vec<String>,
    quantity: Option<u32>,
    code: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum DiscountAnswer {
    Valid {
        valid: bool,
        code: String,
        quote: QuoteView,
    },
    Invalid {
        valid: bool,
        reason: DiscountRejection,
        message: String,
        quote: QuoteView,
    },
}

/// Handles one request.
pub async fn handle(
    deps: &ValidateDiscountDeps,
    request: Request,
) -> Result<Response<Body>, ApiError> {
    let body: DiscountRequest = json_body(&request)?;
    let event_id = body
        .event_id
        .ok_or_else(|| FieldError::new("event_id", "is required; send the event's id"))?;
    let quantity = body.quantity.unwrap_or(1);
    let basket = Basket::new(&deps.catalog, &event_id, &body.days, quantity)?;
    let typed = body.code.unwrap_or_default();
    if typed.trim().is_empty() {
        return Err(FieldError::new("code", "is required; send the code the buyer typed").into());
    }

    let price = |code: Option<&DiscountCode>| {
        quote(&basket, code).map_err(|error| ApiError::Internal(error.to_string()))
    };
    let applicable = find_applicable(&deps.catalog, &typed, basket.event, deps.clock.now());
    let mut tally = Tally::default();
    tally.add(if applicable.is_ok() {
        Counter::DiscountValid
    } else {
        Counter::DiscountInvalid
    });
    deps.metrics
        .record(&tally, deps.clock.now().unix_timestamp())
        .await;

    let answer = match applicable {
        Ok(code) => DiscountAnswer::Valid {
            valid: true,
            code: code.code.clone(),
            quote: QuoteView::from(&price(Some(code))?),
        },
        Err(reason) => DiscountAnswer::Invalid {
            valid: false,
            reason,
            message: reason.to_string(),
            quote: QuoteView::from(&price(None)?),
        },
    };
    Ok(json_response(StatusCode::OK, &answer))
}
