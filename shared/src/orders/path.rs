//! Creating exactly one Shopify order for a paid or free registration.
//!
//! The steps, for each PaymentIntent:
//! 1. load the registration stored at checkout (or rebuild it from the PaymentIntent's
//!    metadata when no stored copy exists);
//! 2. check that the amount received equals the quote's total, and record a failure for a
//!    person to review when it does not;
//! 3. claim the PaymentIntent in the order ledger with one conditional write;
//! 4. when the claim takes over an earlier attempt, look for an order that attempt may have
//!    created before it died, by `sourceIdentifier`;
//! 5. create the order, retrying without the phone or e-mail if Shopify rejects them;
//! 6. record the order as completed.
//!
//! A failure marks the claim failed and records the failure for replay, so a paid
//! registration always ends as an order or as a recorded failure.

use super::fallback::registration_from_metadata;
use super::ledger::{Claim, FailureLog, FailureRecord, OrderLedger};
use super::PaymentFacts;
use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::metrics::{Counter, Tally};
use crate::shopify::order_input::{order_variables, MappingOptions};
use crate::shopify::{CreatedOrder, OrderGateway, ShopifyError};
use crate::store::{RegistrationStore, StoreError, StoredRegistration};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Dependencies of the order path.
#[derive(Clone)]
pub struct OrderDeps {
    pub catalog: Arc<Catalog>,
    pub clock: Arc<dyn Clock>,
    pub registrations: Arc<dyn RegistrationStore>,
    pub ledger: Arc<dyn OrderLedger>,
    pub failures: Arc<dyn FailureLog>,
    pub shopify: Arc<dyn OrderGateway>,
    pub settings: OrderSettings,
}

/// Settings of the order path.
#[derive(Debug, Clone)]
pub struct OrderSettings {
    /// How long a claim keeps other attempts out. It must exceed the longest Shopify call
    /// budget, or a slow attempt could be taken over while it is still running.
    pub lease_seconds: i64,
    /// The orders' `sourceName`.
    pub source_name: String,
    /// Region for phone numbers in PaymentIntent metadata without a country code.
    pub phone_region: phonenumber::country::Id,
}

impl Default for OrderSettings {
    fn default() -> Self {
        Self {
            lease_seconds: 60,
            source_name: MappingOptions::default().source_name,
            phone_region: phonenumber::country::Id::US,
        }
    }
}

/// A PaymentIntent that succeeded, as the webhook event describes it.
#[derive(Debug, Clone)]
pub struct PaidIntent {
    pub facts: PaymentFacts,
    /// The PaymentIntent's metadata, used only when no stored registration exists.
    pub metadata: BTreeMap<String, String>,
}

/// Outcome of the order path when it ends without an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderOutcome {
    /// This call created the order.
    Created(CreatedOrder),
    /// An earlier delivery created it; nothing was done.
    AlreadyCreated(CreatedOrder),
    /// An earlier attempt created it but died before recording it; now recorded.
    Recovered(CreatedOrder),
    /// Another attempt is creating it right now.
    InProgress,
    /// The payment cannot become an order automatically; a failure is recorded for review.
    NeedsReview(String),
}

/// A failure after which the payment has no order yet. The claim is marked failed and the
/// failure recorded, so a redelivery or a replay can try again.
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("Shopify order creation failed")]
    Shopify(#[source] ShopifyError),
    #[error("order bookkeeping failed")]
    Store(#[source] StoreError),
}

impl From<StoreError> for OrderError {
    fn from(error: StoreError) -> Self {
        OrderError::Store(error)
    }
}

/// Creates the order for a PaymentIntent that succeeded.
pub async fn fulfil_payment(
    deps: &OrderDeps,
    paid: &PaidIntent,
    tally: &mut Tally,
) -> Result<OrderOutcome, OrderError> {
    let facts = &paid.facts;
    let pi = facts.payment_intent_id.as_str();
    let record = match deps
        .registrations
        .registration_for_payment_intent(pi)
        .await?
    {
        Some(link) if link.replaced => {
            let reason = "payment received for a basket that was replaced".to_owned();
            return needs_review(deps, pi, reason, tally).await;
        }
        Some(link) => link.record,
        None => {
            tracing::warn!(payment_intent = %pi, "no stored registration; rebuilding it from the PaymentIntent metadata");
            let now = deps.clock.now().unix_timestamp();
            match registration_from_metadata(
                &paid.metadata,
                &deps.catalog,
                deps.settings.phone_region,
                pi,
                now,
            ) {
                Ok(record) => record,
                Err(reason) => {
                    let reason = format!("no stored registration, and {reason}");
                    return needs_review(deps, pi, reason, tally).await;
                }
            }
        }
    };

    let quoted = &record.quote;
    if facts.amount_received != quoted.total
        || !facts.currency.eq_ignore_ascii_case(quoted.currency.code())
    {
        let reason = format!(
            "amount mismatch: received {} {}, quoted {} {}",
            facts.amount_received,
            facts.currency.to_ascii_uppercase(),
            quoted.total,
            quoted.currency
        );
        return needs_review(deps, pi, reason, tally).await;
    }
    create_exactly_once(deps, &record, facts, tally).await
}

/// Creates the order for a registration whose total is zero, keyed by
/// [`PaymentFacts::free_source_identifier`].
pub async fn fulfil_free(
    deps: &OrderDeps,
    record: &StoredRegistration,
    livemode: bool,
    tally: &mut Tally,
) -> Result<OrderOutcome, OrderError> {
    let facts = PaymentFacts {
        payment_intent_id: PaymentFacts::free_source_identifier(
            &record.registration.registration_id,
        ),
        amount_received: 0,
        currency: record.quote.currency.code().to_ascii_lowercase(),
        livemode,
        latest_charge: None,
        free: true,
        paid_at: deps.clock.now().unix_timestamp(),
    };
    create_exactly_once(deps, record, &facts, tally).await
}

async fn create_exactly_once(
    deps: &OrderDeps,
    record: &StoredRegistration,
    facts: &PaymentFacts,
    tally: &mut Tally,
) -> Result<OrderOutcome, OrderError> {
    let pi = facts.payment_intent_id.as_str();
    let now = deps.clock.now().unix_timestamp();
    let (attempt, takeover) = match deps
        .ledger
        .claim(pi, now, deps.settings.lease_seconds)
        .await?
    {
        Claim::Completed(order) => {
            tally.add(Counter::DuplicatesSkipped);
            tracing::info!(payment_intent = %pi, order = %order.name, "order exists already; duplicate delivery skipped");
            return Ok(OrderOutcome::AlreadyCreated(order));
        }
        Claim::InProgress => {
            tally.add(Counter::DuplicatesSkipped);
            tracing::info!(payment_intent = %pi, "another attempt holds the claim; try again later");
            return Ok(OrderOutcome::InProgress);
        }
        Claim::Proceed { attempt, takeover } => (attempt, takeover),
    };

    // Only a takeover can find an order from an earlier attempt, so the usual path makes a
    // single Shopify call.
    // NOTE: each Shopify call has its own 20 s budget, so a takeover whose lookup and create
    // both exhaust theirs can outlast the 28 s function timeout. The lease and the lookup
    // still prevent a second order, but that failure is then not recorded.
    if takeover {
        let found = deps.shopify.find_order_by_source(pi).await;
        count_retries(deps, tally);
        match found {
            Ok(Some(order)) => {
                tracing::info!(payment_intent = %pi, order = %order.name, "found the order of an earlier attempt");
                finish(deps, pi, &order, attempt).await?;
                return Ok(OrderOutcome::Recovered(order));
            }
            Ok(None) => {}
            Err(error) => {
                return Err(fail(deps, pi, attempt, OrderError::Shopify(error), tally).await)
            }
        }
    }

    let event_name = deps
        .catalog
        .event(&record.registration.event_id)
        .map_or(record.registration.event_id.clone(), |event| {
            event.name.clone()
        });
    match create_with_fallbacks(deps, record, facts, &event_name, tally).await {
        Ok(order) => {
            finish(deps, pi, &order, attempt).await?;
            tally.add(Counter::OrdersCreated);
            tally.last_order_at = Some(deps.clock.now().unix_timestamp());
            tracing::info!(payment_intent = %pi, order = %order.name, attempt, "order created");
            Ok(OrderOutcome::Created(order))
        }
        Err(error) => Err(fail(deps, pi, attempt, OrderError::Shopify(error), tally).await),
    }
}

/// Calls `orderCreate`, and again without the phone and then without the e-mail when
/// Shopify rejects them, so a bad contact detail never drops a paid registration. The
/// rejected values stay on the order as custom attributes.
async fn create_with_fallbacks(
    deps: &OrderDeps,
    record: &StoredRegistration,
    facts: &PaymentFacts,
    event_name: &str,
    tally: &mut Tally,
) -> Result<CreatedOrder, ShopifyError> {
    let mut options = MappingOptions {
        source_name: deps.settings.source_name.clone(),
        ..MappingOptions::default()
    };
    loop {
        let variables = order_variables(record, facts, event_name, &options);
        let result = deps.shopify.create_order(&variables).await;
        count_retries(deps, tally);
        let errors = match result {
            Err(ShopifyError::UserErrors(errors)) => errors,
            other => return other,
        };
        let phone_rejected = errors.iter().any(|error| error.is_about("phone"));
        let email_rejected = errors.iter().any(|error| error.is_about("email"));
        if phone_rejected && options.include_customer_phone {
            tracing::warn!(payment_intent = %facts.payment_intent_id, "Shopify rejected the phone number; creating the order without it");
            options.include_customer_phone = false;
        } else if email_rejected && options.include_email {
            tracing::warn!(payment_intent = %facts.payment_intent_id, "Shopify rejected the e-mail address; creating the order without it");
            options.include_email = false;
        } else {
            return Err(ShopifyError::UserErrors(errors));
        }
    }
}

/// Adds the last Shopify call's retries and throttle waits to the tally.
fn count_retries(deps: &OrderDeps, tally: &mut Tally) {
    let (retries, throttles) = deps.shopify.last_call_retries();
    tally.add_many(Counter::ShopifyRetries, u64::from(retries));
    tally.add_many(Counter::ShopifyThrottles, u64::from(throttles));
}

async fn finish(
    deps: &OrderDeps,
    pi: &str,
    order: &CreatedOrder,
    attempt: u32,
) -> Result<(), StoreError> {
    let now = deps.clock.now().unix_timestamp();
    deps.ledger.complete(pi, order, now).await?;
    // A first attempt cannot have a recorded failure, so it saves the delete.
    if attempt > 1 {
        deps.failures.resolve(pi).await?;
    }
    Ok(())
}

/// Marks the claim failed, records the failure for replay, and returns the error.
async fn fail(
    deps: &OrderDeps,
    pi: &str,
    attempts: u32,
    error: OrderError,
    tally: &mut Tally,
) -> OrderError {
    let reason = failure_reason(&error);
    let now = deps.clock.now().unix_timestamp();
    tracing::error!(payment_intent = %pi, attempt = attempts, reason = %reason, "order creation failed");
    tally.add(Counter::OrdersFailed);
    tally.last_failure = Some((now, reason.clone()));

    // After a timeout or a 5xx, Shopify may still be creating the order. Releasing the claim
    // now would let a redelivery look the order up too early and create a second one. So
    // the claim is left to expire with its lease, and the next attempt takes over and looks
    // the order up first.
    if outcome_unknown(&error) {
        tracing::warn!(payment_intent = %pi, lease_seconds = deps.settings.lease_seconds, "Shopify may still create the order; the claim stays until its lease ends");
    } else if let Err(store_error) = deps.ledger.fail(pi, &reason, now).await {
        // The lease still expires, so a redelivery can take over later.
        tracing::error!(payment_intent = %pi, error = %store_error, "could not mark the claim failed");
    }
    let record = FailureRecord {
        payment_intent_id: pi.to_owned(),
        failed_at: now,
        attempts,
        reason,
    };
    if let Err(store_error) = deps.failures.record(&record).await {
        tracing::error!(payment_intent = %pi, error = %store_error, "could not record the failure");
    }
    error
}

/// True when the failed call may have created the order anyway.
fn outcome_unknown(error: &OrderError) -> bool {
    matches!(
        error,
        OrderError::Shopify(ShopifyError::Transport(_) | ShopifyError::Server(_))
    )
}

/// Records a payment that needs a person, without claiming it.
async fn needs_review(
    deps: &OrderDeps,
    pi: &str,
    reason: String,
    tally: &mut Tally,
) -> Result<OrderOutcome, OrderError> {
    let now = deps.clock.now().unix_timestamp();
    tracing::error!(payment_intent = %pi, reason = %reason, "payment needs review");
    tally.add(Counter::OrdersFailed);
    tally.last_failure = Some((now, reason.clone()));
    deps.failures
        .record(&FailureRecord {
            payment_intent_id: pi.to_owned(),
            failed_at: now,
            attempts: 0,
            reason: reason.clone(),
        })
        .await?;
    Ok(OrderOutcome::NeedsReview(reason))
}

/// Builds a short reason without personal data: the error kind, never a value from the input.
fn failure_reason(error: &OrderError) -> String {
    match error {
        OrderError::Shopify(ShopifyError::UserErrors(errors)) => {
            let fields: Vec<String> = errors.iter().map(|error| error.field.join(".")).collect();
            format!("shopify rejected fields: {}", fields.join(", "))
        }
        OrderError::Shopify(cause) => format!("shopify: {cause}"),
        OrderError::Store(cause) => format!("storage: {cause}"),
    }
}
