//! `POST /api/stripe-webhook`: verifies Stripe's signature over the exact bytes received,
//! and turns `payment_intent.succeeded` into exactly one Shopify order.
//!
//! Responses: 200 when the event is handled or needs nothing, 400 for a bad signature or an
//! unreadable event (nothing is written), 409 while another attempt holds the order's
//! claim, and 5xx when the order could not be created yet, so Stripe delivers the event
//! again later.

use crate::api::{json_response, ApiError};
use crate::clock::Clock;
use crate::metrics::{Counter, MetricsSink, Tally};
use crate::orders::{
    fulfil_payment, OrderDeps, OrderError, OrderOutcome, PaidIntent, PaymentFacts,
};
use crate::secrets::WebhookSecretSource;
use crate::stripe::event::{parse_event, EventKind, WebhookEvent};
use crate::stripe::signature::{self, SignatureError};
use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use std::sync::Arc;
use tracing::Instrument;

/// Dependencies of the handler.
#[derive(Clone)]
pub struct WebhookDeps {
    pub orders: OrderDeps,
    pub secrets: Arc<dyn WebhookSecretSource>,
    pub metrics: Arc<dyn MetricsSink>,
    pub clock: Arc<dyn Clock>,
    /// Maximum distance in seconds between the signature's timestamp and now, either way.
    pub tolerance_seconds: i64,
}

/// Handles one delivery.
pub async fn handle(deps: &WebhookDeps, request: Request) -> Result<Response<Body>, ApiError> {
    let mut tally = Tally::default();
    tally.add(Counter::WebhooksReceived);
    let result = handle_counted(deps, &request, &mut tally).await;
    deps.metrics
        .record(&tally, deps.clock.now().unix_timestamp())
        .await;
    result
}

async fn handle_counted(
    deps: &WebhookDeps,
    request: &Request,
    tally: &mut Tally,
) -> Result<Response<Body>, ApiError> {
    // The signature covers the bytes exactly as received; lambda_http has already undone
    // API Gateway's base64 encoding.
    let body: &[u8] = match request.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    let header = request
        .headers()
        .get(signature::SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok());

    if let Err(error) = verify(deps, header, body).await {
        tally.add(Counter::SignatureFailures);
        tracing::warn!(reason = %error, "webhook signature rejected");
        return Err(ApiError::InvalidSignature);
    }

    let event = parse_event(body).map_err(|error| {
        tracing::warn!(reason = %error, "webhook event could not be read");
        ApiError::InvalidJson {
            field: None,
            message: error.to_string(),
        }
    })?;
    let span = tracing::info_span!("event", event_id = %event.id, event_type = %event.event_type);
    dispatch(deps, event, tally).instrument(span).await
}

async fn dispatch(
    deps: &WebhookDeps,
    event: WebhookEvent,
    tally: &mut Tally,
) -> Result<Response<Body>, ApiError> {
    match &event.kind {
        EventKind::PaymentIntentSucceeded => payment_succeeded(deps, event, tally).await,
        EventKind::PaymentIntentPaymentFailed => {
            tally.add(Counter::PaymentsFailed);
            let pi = event
                .payment_intent
                .as_ref()
                .map(|intent| intent.id.as_str());
            tracing::info!(
                payment_intent = pi.unwrap_or(""),
                "payment failed; the buyer may try again"
            );
            Ok(received("payment_failed_counted"))
        }
        EventKind::Other(_) => {
            tally.add(Counter::EventsIgnored);
            tracing::info!("event type not handled; ignored");
            Ok(received("ignored"))
        }
    }
}

/// Verifies the signature against the cached secrets, and once more against freshly
/// loaded ones when no secret matched, because the secret may have been rolled.
async fn verify(
    deps: &WebhookDeps,
    header: Option<&str>,
    body: &[u8],
) -> Result<(), SignatureError> {
    let now = deps.clock.now().unix_timestamp();
    let secrets = match deps.secrets.webhook_secrets().await {
        Ok(secrets) => secrets,
        Err(error) => {
            tracing::error!(error = %error, "webhook secrets unavailable");
            Vec::new()
        }
    };
    let first = signature::verify(header, body, &secrets, now, deps.tolerance_seconds);
    if first != Err(SignatureError::NoMatchingSignature) {
        return first;
    }
    match deps.secrets.refresh_webhook_secrets().await {
        Ok(Some(fresh)) => {
            tracing::info!("no webhook secret matched; verifying again with reloaded secrets");
            signature::verify(header, body, &fresh, now, deps.tolerance_seconds)
        }
        Ok(None) => first,
        Err(error) => {
            tracing::error!(error = %error, "reloading webhook secrets failed");
            first
        }
    }
}

/// Builds the order path's input from an event's PaymentIntent, moving its fields out of
/// the event. Returns `None` when the event carries no PaymentIntent.
///
/// It does not check the event type, so call it only for `payment_intent.succeeded`. The
/// amount paid is `amount_received`, or `amount` when Stripe sent no `amount_received`, and
/// the payment time is the event's `created`.
pub fn paid_intent(event: WebhookEvent) -> Option<PaidIntent> {
    let intent = event.payment_intent?;
    Some(PaidIntent {
        facts: PaymentFacts {
            payment_intent_id: intent.id,
            amount_received: intent.amount_received.unwrap_or(intent.amount),
            currency: intent.currency,
            livemode: event.livemode,
            latest_charge: intent.latest_charge,
            free: false,
            paid_at: event.created,
        },
        metadata: intent.metadata,
    })
}

async fn payment_succeeded(
    deps: &WebhookDeps,
    event: WebhookEvent,
    tally: &mut Tally,
) -> Result<Response<Body>, ApiError> {
    let Some(paid) = paid_intent(event) else {
        return Err(ApiError::InvalidJson {
            field: Some("data.object".to_owned()),
            message: "the event carries no PaymentIntent".to_owned(),
        });
    };
    let span = tracing::info_span!("payment", payment_intent = %paid.facts.payment_intent_id);

    let outcome = fulfil_payment(&deps.orders, &paid, tally)
        .instrument(span)
        .await;
    match outcome {
        Ok(OrderOutcome::Created(order)) | Ok(OrderOutcome::Recovered(order)) => Ok(json_response(
            StatusCode::OK,
            &json!({"received": true, "result": "order_created", "order": order.name}),
        )),
        Ok(OrderOutcome::AlreadyCreated(order)) => Ok(json_response(
            StatusCode::OK,
            &json!({"received": true, "result": "duplicate", "order": order.name}),
        )),
        Ok(OrderOutcome::InProgress) => Err(ApiError::Conflict(
            "this payment's order is being created by another delivery; retry later".to_owned(),
        )),
        Ok(OrderOutcome::NeedsReview(_)) => Ok(received("recorded_for_review")),
        Err(OrderError::Shopify(error)) => Err(ApiError::OrderNotCreated(error.to_string())),
        Err(OrderError::Store(error)) => Err(ApiError::Storage(error)),
    }
}

fn received(result: &str) -> Response<Body> {
    json_response(StatusCode::OK, &json!({"received": true, "result": result}))
}
