//! A recording stand-in for Stripe, for handler tests that must count Stripe calls.
//! Tests of the real client run against localstripe in the `tests/` crate.

use async_trait::async_trait;
use shared::stripe::{CreatePaymentIntent, PaymentGateway, PaymentIntent, StripeError};
use std::sync::Mutex;

#[derive(Default)]
pub struct RecordingGateway {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    created: Vec<CreatePaymentIntent>,
    intents: Vec<PaymentIntent>,
    cancelled: Vec<String>,
    fail_next_create: bool,
}

impl RecordingGateway {
    /// Makes the next create fail as if Stripe were down.
    pub fn fail_next_create(&self) {
        self.state.lock().unwrap().fail_next_create = true;
    }

    /// Returns every create request received, in order.
    pub fn created(&self) -> Vec<CreatePaymentIntent> {
        self.state.lock().unwrap().created.clone()
    }

    /// Ids of cancelled PaymentIntents.
    pub fn cancelled(&self) -> Vec<String> {
        self.state.lock().unwrap().cancelled.clone()
    }
}

#[async_trait]
impl PaymentGateway for RecordingGateway {
    async fn create_payment_intent(
        &self,
        request: &CreatePaymentIntent,
    ) -> Result<PaymentIntent, StripeError> {
        // Yield once so that concurrent submits really interleave.
        tokio::task::yield_now().await;
        let mut state = self.state.lock().unwrap();
        if std::mem::take(&mut state.fail_next_create) {
            return Err(StripeError::Unavailable("test outage".to_owned()));
        }
        state.created.push(request.clone());
        let number = state.created.len();
        let intent = PaymentIntent {
            id: format!("pi_fake_{number}"),
            client_secret: format!("pi_fake_{number}_secret_test"),
            amount: request.amount,
            amount_received: Some(0),
            currency: request.currency.clone(),
            status: "requires_payment_method".to_owned(),
            livemode: false,
            metadata: request.metadata.iter().cloned().collect(),
            latest_charge: None,
            created: 1_800_000_000,
        };
        state.intents.push(intent.clone());
        Ok(intent)
    }

    async fn retrieve_payment_intent(&self, id: &str) -> Result<PaymentIntent, StripeError> {
        let state = self.state.lock().unwrap();
        state
            .intents
            .iter()
            .find(|intent| intent.id == id)
            .cloned()
            .ok_or_else(|| StripeError::Rejected {
                status: 404,
                kind: "resource_missing".to_owned(),
            })
    }

    async fn cancel_payment_intent(&self, id: &str) -> Result<(), StripeError> {
        self.state.lock().unwrap().cancelled.push(id.to_owned());
        Ok(())
    }
}
