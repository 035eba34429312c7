//! `POST /api/create-payment-intent`: validates the registration form, prices it on the
//! server, stores it, and creates the Stripe PaymentIntent the page confirms.
//!
//! A double submit of the same basket returns the same PaymentIntent because the stored
//! registration records which PaymentIntent pays for which quote fingerprint; Stripe's
//! idempotency key is a second line of defence, not the only one. A changed basket gets a
//! new PaymentIntent, and the earlier one is cancelled and marked replaced.

use super::QuoteView;
use crate::api::{json_body, json_response, ApiError};
use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::discount::find_applicable;
use crate::form::{self, FormLimits, Registration, RegistrationRequest};
use crate::metrics::{Counter, MetricsSink, Tally};
use crate::orders::{fulfil_free, OrderDeps};
use crate::pricing::{quote, Basket, Quote};
use crate::store::{CheckoutSlot, Payment, RegistrationStore, StoredRegistration};
use crate::stripe::{self, CreatePaymentIntent, PaymentGateway};
use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Settings of the checkout route, read from the environment at cold start.
#[derive(Debug, Clone)]
pub struct CheckoutSettings {
    /// How long stored registrations are kept before DynamoDB's TTL removes them.
    pub registration_ttl_seconds: i64,
    /// Region used for phone numbers typed without a country code.
    pub phone_region: phonenumber::country::Id,
    pub form_limits: FormLimits,
    /// Whether Stripe sends its own receipt; off by default because Shopify sends the
    /// order confirmation.
    pub send_stripe_receipt: bool,
    pub statement_descriptor_suffix: Option<String>,
    /// Whether free registrations make live Shopify orders (false marks them as test
    /// orders); paid ones take this from Stripe's `livemode`.
    pub livemode: bool,
}

impl Default for CheckoutSettings {
    fn default() -> Self {
        Self {
            registration_ttl_seconds: 90 * 24 * 3600,
            phone_region: phonenumber::country::Id::US,
            form_limits: FormLimits::default(),
            send_stripe_receipt: false,
            statement_descriptor_suffix: None,
            livemode: false,
        }
    }
}

/// Dependencies of the handler.
#[derive(Clone)]
pub struct CreateIntentDeps {
    pub catalog: Arc<Catalog>,
    pub clock: Arc<dyn Clock>,
    pub gateway: Arc<dyn PaymentGateway>,
    pub store: Arc<dyn RegistrationStore>,
    /// Creates the order of a free registration at once, since no webhook will come.
    pub orders: OrderDeps,
    pub metrics: Arc<dyn MetricsSink>,
    pub settings: CheckoutSettings,
}

/// How long a double submit waits for the first request to finish talking to Stripe.
const WAIT_FOR_FIRST_SUBMIT: Duration = Duration::from_secs(3);
const POLL_INTERVAL: Duration = Duration::from_millis(150);

/// Handles one request.
pub async fn handle(deps: &CreateIntentDeps, request: Request) -> Result<Response<Body>, ApiError> {
    let mut tally = Tally::default();
    let result = handle_counted(deps, request, &mut tally).await;
    if !tally.is_empty() {
        deps.metrics
            .record(&tally, deps.clock.now().unix_timestamp())
            .await;
    }
    result
}

async fn handle_counted(
    deps: &CreateIntentDeps,
    request: Request,
    tally: &mut Tally,
) -> Result<Response<Body>, ApiError> {
    let body: RegistrationRequest = json_body(&request)?;
    let registration = form::validate(
        body,
        &deps.catalog,
        &deps.settings.form_limits,
        deps.settings.phone_region,
    )?;
    let quote = price(deps, &registration)?;
    let registration_id = registration.registration_id;
    tracing::info!(%registration_id, event_id = %registration.event_id, total = quote.total, "registration priced");

    if quote.total == 0 {
        let record = stored(deps, registration, &quote, Payment::Free);
        deps.store
            .begin_checkout(&record, deps.settings.registration_ttl_seconds)
            .await?;
        tally.add(Counter::FreeRegistrations);
        tracing::info!(%registration_id, "free registration recorded");
        // The buyer's registration is safe either way: a failure is recorded for replay.
        if let Err(error) = fulfil_free(&deps.orders, &record, deps.settings.livemode, tally).await
        {
            tracing::error!(%registration_id, error = %error, "free registration stored, but its order is not created yet");
        }
        return Ok(json_response(
            StatusCode::OK,
            &json!({
                "payment_required": false,
                "registration_id": registration_id,
                "quote": QuoteView::from(&quote),
            }),
        ));
    }

    let minimum = quote.currency.stripe_minimum_charge();
    if quote.total < minimum {
        return Err(ApiError::AmountBelowMinimum {
            currency: quote.currency.code().to_owned(),
            total: quote.currency.format_amount(quote.total),
            minimum: quote.currency.format_amount(minimum),
        });
    }

    let record = stored(deps, registration, &quote, Payment::Stripe);
    let intent = payment_intent_for(deps, &record).await?;
    tally.add(Counter::IntentsCreated);
    tracing::info!(%registration_id, payment_intent = %intent.id, "payment intent ready");
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "payment_required": true,
            "client_secret": intent.client_secret,
            "payment_intent_id": intent.id,
            "registration_id": registration_id,
            "quote": QuoteView::from(&quote),
        }),
    ))
}

/// Prices the validated registration, checking its discount code.
fn price(deps: &CreateIntentDeps, registration: &Registration) -> Result<Quote, ApiError> {
    let basket = Basket::new(
        &deps.catalog,
        &registration.event_id,
        &registration.days,
        registration.participants,
    )?;
    let discount = registration
        .discount_code
        .as_deref()
        .map(|code| find_applicable(&deps.catalog, code, basket.event, deps.clock.now()))
        .transpose()
        .map_err(ApiError::DiscountRejected)?;
    quote(&basket, discount).map_err(|error| ApiError::Internal(error.to_string()))
}

fn stored(
    deps: &CreateIntentDeps,
    registration: Registration,
    quote: &Quote,
    payment: Payment,
) -> StoredRegistration {
    StoredRegistration {
        registration,
        quote: quote.clone(),
        fingerprint: quote.fingerprint(),
        payment,
        payment_intent_id: None,
        created_at: deps.clock.now().unix_timestamp(),
    }
}

/// Returns the PaymentIntent for this exact basket, creating it only when no earlier
/// request did.
async fn payment_intent_for(
    deps: &CreateIntentDeps,
    record: &StoredRegistration,
) -> Result<stripe::PaymentIntent, ApiError> {
    let ttl = deps.settings.registration_ttl_seconds;
    match deps.store.begin_checkout(record, ttl).await? {
        CheckoutSlot::Written { replaced } => {
            if let Some(old) = replaced {
                replace_payment_intent(deps, &old).await?;
            }
            create_and_link(deps, record).await
        }
        CheckoutSlot::Existing {
            payment_intent_id: Some(id),
        } => {
            tracing::info!(payment_intent = %id, "double submit: returning the existing payment intent");
            Ok(deps.gateway.retrieve_payment_intent(&id).await?)
        }
        CheckoutSlot::Existing {
            payment_intent_id: None,
        } => match wait_for_first_submit(deps, record).await? {
            Some(id) => Ok(deps.gateway.retrieve_payment_intent(&id).await?),
            // The first request failed or died before linking its PaymentIntent. Creating
            // with the same idempotency key returns Stripe's earlier response if it had one.
            None => create_and_link(deps, record).await,
        },
    }
}

/// Waits while a concurrent request with the same basket is creating the PaymentIntent.
async fn wait_for_first_submit(
    deps: &CreateIntentDeps,
    record: &StoredRegistration,
) -> Result<Option<String>, ApiError> {
    let id = record.registration.registration_id;
    let started = tokio::time::Instant::now();
    loop {
        let current = deps.store.registration(&id).await?;
        let Some(current) = current else {
            return Ok(None);
        };
        if current.fingerprint != record.fingerprint {
            return Err(ApiError::Conflict(
                "this registration changed while it was being submitted; submit it again"
                    .to_owned(),
            ));
        }
        if current.payment_intent_id.is_some() {
            return Ok(current.payment_intent_id);
        }
        // A record this old without a PaymentIntent belongs to a request that gave up.
        let age = deps.clock.now().unix_timestamp() - current.created_at;
        if age > WAIT_FOR_FIRST_SUBMIT.as_secs() as i64
            || started.elapsed() >= WAIT_FOR_FIRST_SUBMIT
        {
            return Ok(None);
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

async fn create_and_link(
    deps: &CreateIntentDeps,
    record: &StoredRegistration,
) -> Result<stripe::PaymentIntent, ApiError> {
    let request = payment_intent_request(deps, record);
    let intent = deps.gateway.create_payment_intent(&request).await?;
    deps.store
        .link_payment_intent(record, &intent.id, deps.settings.registration_ttl_seconds)
        .await?;
    Ok(intent)
}

/// Marks the PaymentIntent of an earlier basket as replaced and cancels it at Stripe, so it
/// can no longer lead to an order.
async fn replace_payment_intent(deps: &CreateIntentDeps, old: &str) -> Result<(), ApiError> {
    deps.store.mark_replaced(old).await?;
    if let Err(error) = deps.gateway.cancel_payment_intent(old).await {
        // A payment that still succeeds on it is recorded for review by the webhook,
        // because the stored link marks it as replaced.
        tracing::warn!(payment_intent = %old, error = %error, "could not cancel the replaced payment intent");
    } else {
        tracing::info!(payment_intent = %old, "replaced payment intent cancelled");
    }
    Ok(())
}

fn payment_intent_request(
    deps: &CreateIntentDeps,
    record: &StoredRegistration,
) -> CreatePaymentIntent {
    let registration = &record.registration;
    let quote = &record.quote;
    let event_name = deps
        .catalog
        .event(&registration.event_id)
        .map_or(registration.event_id.as_str(), |event| event.name.as_str());
    let participants = match registration.participants {
        1 => "1 participant".to_owned(),
        count => format!("{count} participants"),
    };
    CreatePaymentIntent {
        amount: quote.total,
        currency: quote.currency.code().to_ascii_lowercase(),
        description: format!(
            "{event_name}: {} ({participants})",
            registration.days.join(", ")
        ),
        metadata: payment_metadata(registration, quote),
        idempotency_key: format!(
            "reg_{}_{}",
            registration.registration_id, record.fingerprint
        ),
        receipt_email: deps
            .settings
            .send_stripe_receipt
            .then(|| registration.email.as_str().to_owned()),
        statement_descriptor_suffix: deps.settings.statement_descriptor_suffix.clone(),
    }
}

/// Returns the PaymentIntent metadata for `registration` charged at `quote`.
pub fn payment_metadata(registration: &Registration, quote: &Quote) -> Vec<(String, String)> {
    let tax_rate = quote.tax_rate.to_fraction_string();
    let required = stripe::RequiredMetadata {
        registration_id: registration.registration_id,
        event_id: &registration.event_id,
        days: &registration.days,
        participants: registration.participants,
        currency: quote.currency.code(),
        subtotal: quote.subtotal,
        discount_code: quote.discount.as_ref().map(|applied| applied.code.as_str()),
        discount_amount: quote.discount_amount(),
        tax: quote.tax,
        tax_rate: &tax_rate,
        total: quote.total,
        first_name: &registration.first_name,
        last_name: &registration.last_name,
        email: registration.email.as_str(),
        phone: &registration.phone.e164,
    };
    stripe::build_metadata(&required, &registration.fields)
}
