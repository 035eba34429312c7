//! `replay payment` and `replay free`: the order path that the webhook and checkout run,
//! run again for one registration. The order ledger makes a repeated run safe, because a
//! completed claim returns the existing order instead of creating a second one.

use serde_json::{json, Value};
use shared::metrics::Tally;
use shared::orders::{
    fulfil_free, fulfil_payment, OrderDeps, OrderError, OrderOutcome, PaidIntent, PaymentFacts,
};
use shared::store::{Payment, StoreError};
use shared::stripe::{PaymentGateway, PaymentIntent, StripeError};
use std::error::Error;
use uuid::Uuid;

/// Exit code after an order was created, already existed, or was recovered.
pub const EXIT_OK: u8 = 0;
/// Exit code after any error, a rejected PaymentIntent included.
pub const EXIT_ERROR: u8 = 1;
/// Exit code while another attempt has claimed the order, or when the payment needs a person
/// to review it.
pub const EXIT_NOT_FINISHED: u8 = 2;

/// The only PaymentIntent status that can become an order.
const SUCCEEDED: &str = "succeeded";

/// Prefix of the source identifier, and so of the failure key, of a free registration.
const FREE_PREFIX: &str = "free_";

/// A replay that ran the order path to one of its outcomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    /// The PaymentIntent id, or `free_<registration id>` for a free registration.
    pub source_identifier: String,
    pub outcome: OrderOutcome,
    /// How long a claim of another attempt lasts at most, in seconds, for the message
    /// after [`OrderOutcome::InProgress`].
    pub lease_seconds: i64,
}

/// A replay that did not reach an order outcome. The order exists only after
/// [`ReplayError::ResolveFailure`].
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(
        "invalid PaymentIntent id {0:?}: expected an id of letters, digits and `_`, such as \
         pi_3MtwBwLkdIwHu7ix28a3tqPa"
    )]
    InvalidPaymentIntentId(String),
    #[error(
        "{source_identifier} belongs to a free registration, which has no PaymentIntent; run \
         `replay free {registration_id}`"
    )]
    FreeRegistrationGiven {
        source_identifier: String,
        registration_id: String,
    },
    #[error(
        "PaymentIntent {0} was not found in Stripe; check the id, and that the Stripe key is \
         for the same account and mode (test or live)"
    )]
    PaymentIntentNotFound(String),
    #[error("retrieving PaymentIntent {payment_intent_id} from Stripe failed")]
    Stripe {
        payment_intent_id: String,
        #[source]
        source: StripeError,
    },
    #[error(
        "PaymentIntent {payment_intent_id} has status {status}, not succeeded, so it cannot \
         become an order; nothing was changed"
    )]
    NotSucceeded {
        payment_intent_id: String,
        status: String,
    },
    #[error("invalid registration id {0:?}: expected a UUID, optionally prefixed with free_")]
    InvalidRegistrationId(String),
    #[error(
        "registration {0} was not found; check the id, or the record may have expired after \
         REGISTRATION_TTL_DAYS"
    )]
    RegistrationNotFound(Uuid),
    #[error(
        "registration {registration_id} is paid through Stripe, not free; replay it with \
         `replay payment {}`",
        payment_intent_id.as_deref().unwrap_or("<PaymentIntent id>")
    )]
    NotFree {
        registration_id: Uuid,
        payment_intent_id: Option<String>,
    },
    #[error("loading registration {registration_id} failed")]
    LoadRegistration {
        registration_id: Uuid,
        #[source]
        source: StoreError,
    },
    #[error("the order for {source_identifier} was not created; the failure is recorded")]
    Order {
        source_identifier: String,
        #[source]
        source: OrderError,
    },
    #[error(
        "order {order_name} exists for {source_identifier}, but removing its recorded failure \
         failed; run the replay again to remove it"
    )]
    ResolveFailure {
        source_identifier: String,
        order_name: String,
        #[source]
        source: StoreError,
    },
}

/// Retrieves the PaymentIntent from Stripe and, when it succeeded, runs the webhook's order
/// path for it. Afterwards removes a failure that is still recorded for an order that now
/// exists.
///
/// Nothing is written unless the PaymentIntent's status is `succeeded`.
pub async fn replay_payment(
    gateway: &dyn PaymentGateway,
    deps: &OrderDeps,
    payment_intent_id: &str,
) -> Result<Replayed, ReplayError> {
    let payment_intent_id = payment_intent_id.trim();
    if let Some(registration_id) = payment_intent_id.strip_prefix(FREE_PREFIX) {
        return Err(ReplayError::FreeRegistrationGiven {
            source_identifier: payment_intent_id.to_owned(),
            registration_id: registration_id.to_owned(),
        });
    }

    let intent = match gateway.retrieve_payment_intent(payment_intent_id).await {
        Ok(intent) => intent,
        Err(StripeError::Rejected { status: 404, .. }) => {
            return Err(ReplayError::PaymentIntentNotFound(
                payment_intent_id.to_owned(),
            ))
        }
        Err(StripeError::Rejected { kind, .. }) if kind == "invalid_payment_intent_id" => {
            return Err(ReplayError::InvalidPaymentIntentId(
                payment_intent_id.to_owned(),
            ))
        }
        Err(source) => {
            return Err(ReplayError::Stripe {
                payment_intent_id: payment_intent_id.to_owned(),
                source,
            })
        }
    };
    if intent.status != SUCCEEDED {
        return Err(ReplayError::NotSucceeded {
            payment_intent_id: intent.id,
            status: intent.status,
        });
    }

    let paid = paid_intent(intent);
    let source_identifier = paid.facts.payment_intent_id.clone();
    tracing::info!(payment_intent = %source_identifier, "replaying the order of a paid registration");
    let outcome = fulfil_payment(deps, &paid, &mut Tally::default()).await;
    finish(deps, source_identifier, outcome).await
}

/// Builds what the webhook would pass to the order path from a PaymentIntent that succeeded.
///
/// NOTE: `paid_at` is the PaymentIntent's `created` time, because a PaymentIntent carries no
/// time of success. The webhook uses the event's time, so a replayed order can show an
/// earlier payment time than a delivered one.
pub fn paid_intent(intent: PaymentIntent) -> PaidIntent {
    PaidIntent {
        facts: PaymentFacts {
            amount_received: intent.amount_received.unwrap_or(intent.amount),
            payment_intent_id: intent.id,
            currency: intent.currency,
            livemode: intent.livemode,
            latest_charge: intent.latest_charge,
            free: false,
            paid_at: intent.created,
        },
        metadata: intent.metadata,
    }
}

/// Loads a free registration and runs checkout's order path for it. `registration_id` is
/// the registration's UUID, with or without the `free_` prefix that the failure list
/// shows. `livemode` false makes a Shopify test order, as `LIVEMODE` does for checkout.
pub async fn replay_free(
    deps: &OrderDeps,
    registration_id: &str,
    livemode: bool,
) -> Result<Replayed, ReplayError> {
    let trimmed = registration_id.trim();
    let without_prefix = trimmed.strip_prefix(FREE_PREFIX).unwrap_or(trimmed);
    let registration_id = Uuid::parse_str(without_prefix)
        .map_err(|_| ReplayError::InvalidRegistrationId(registration_id.to_owned()))?;

    let record = deps
        .registrations
        .registration(&registration_id)
        .await
        .map_err(|source| ReplayError::LoadRegistration {
            registration_id,
            source,
        })?
        .ok_or(ReplayError::RegistrationNotFound(registration_id))?;
    if record.payment != Payment::Free {
        return Err(ReplayError::NotFree {
            registration_id,
            payment_intent_id: record.payment_intent_id,
        });
    }

    let source_identifier = PaymentFacts::free_source_identifier(&registration_id);
    tracing::info!(%registration_id, "replaying the order of a free registration");
    let outcome = fulfil_free(deps, &record, livemode, &mut Tally::default()).await;
    finish(deps, source_identifier, outcome).await
}

/// Turns the order path's result into the replay's, and removes a recorded failure once the
/// order exists. The order path removes it only after a retried claim, which misses a
/// failure recorded for review without a claim, or one whose removal failed earlier.
async fn finish(
    deps: &OrderDeps,
    source_identifier: String,
    outcome: Result<OrderOutcome, OrderError>,
) -> Result<Replayed, ReplayError> {
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(source) => {
            return Err(ReplayError::Order {
                source_identifier,
                source,
            })
        }
    };
    if let Some(order) = order_of(&outcome) {
        if let Err(source) = deps.failures.resolve(&source_identifier).await {
            return Err(ReplayError::ResolveFailure {
                order_name: order.name.clone(),
                source_identifier,
                source,
            });
        }
    }
    Ok(Replayed {
        source_identifier,
        outcome,
        lease_seconds: deps.settings.lease_seconds,
    })
}

fn order_of(outcome: &OrderOutcome) -> Option<&shared::shopify::CreatedOrder> {
    match outcome {
        OrderOutcome::Created(order)
        | OrderOutcome::AlreadyCreated(order)
        | OrderOutcome::Recovered(order) => Some(order),
        OrderOutcome::InProgress | OrderOutcome::NeedsReview(_) => None,
    }
}

impl Replayed {
    /// Returns [`EXIT_OK`] when the order exists, else [`EXIT_NOT_FINISHED`].
    pub fn exit_code(&self) -> u8 {
        match order_of(&self.outcome) {
            Some(_) => EXIT_OK,
            None => EXIT_NOT_FINISHED,
        }
    }

    /// Describes the outcome in one line for a person.
    pub fn message(&self) -> String {
        let subject = &self.source_identifier;
        match &self.outcome {
            OrderOutcome::Created(order) => {
                format!("created: order {} ({}) for {subject}", order.name, order.id)
            }
            OrderOutcome::AlreadyCreated(order) => format!(
                "already created: order {} ({}) exists for {subject}; no new order was made",
                order.name, order.id
            ),
            OrderOutcome::Recovered(order) => format!(
                "recovered: order {} ({}) from an earlier attempt is now recorded for {subject}",
                order.name, order.id
            ),
            OrderOutcome::InProgress => format!(
                "in progress: another attempt is creating the order for {subject}; try again \
                 in {} seconds, by which time its claim has expired",
                self.lease_seconds
            ),
            OrderOutcome::NeedsReview(reason) => {
                format!("needs review: {reason}; the failure of {subject} stays recorded")
            }
        }
    }

    /// Describes the outcome as JSON: `source_identifier`, `outcome` (`created`,
    /// `already_created`, `recovered`, `in_progress` or `needs_review`), and `order` with
    /// `id` and `name` or `reason` where they apply.
    pub fn to_json(&self) -> Value {
        let (outcome, order, reason) = match &self.outcome {
            OrderOutcome::Created(order) => ("created", Some(order), None),
            OrderOutcome::AlreadyCreated(order) => ("already_created", Some(order), None),
            OrderOutcome::Recovered(order) => ("recovered", Some(order), None),
            OrderOutcome::InProgress => ("in_progress", None, None),
            OrderOutcome::NeedsReview(reason) => ("needs_review", None, Some(reason)),
        };
        let mut document = json!({
            "source_identifier": self.source_identifier,
            "outcome": outcome,
        });
        if let Some(order) = order {
            document["order"] = json!({"id": order.id, "name": order.name});
        }
        if let Some(reason) = reason {
            document["reason"] = json!(reason);
        }
        document
    }
}

/// Joins an error's message with those of its sources, such as `the order for pi_1 was not
/// created; the failure is recorded: Shopify order creation failed: Shopify failed: HTTP 503`.
pub fn error_chain(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests;
