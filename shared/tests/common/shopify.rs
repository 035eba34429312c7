//! A recording stand-in for Shopify, for handler tests that count orders. Tests of the
//! real client and of the documents against Shopify's schema use the sandbox instead.

use async_trait::async_trait;
use serde_json::Value;
use shared::shopify::{CreatedOrder, OrderGateway, ShopifyError};
use std::collections::VecDeque;
use std::sync::Mutex;

#[derive(Default)]
pub struct RecordingShopify {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    orders: Vec<(CreatedOrder, Value)>,
    /// Outcomes of the next create calls, in order, before normal processing resumes.
    scripted: VecDeque<ScriptedCreate>,
    lookups: usize,
}

enum ScriptedCreate {
    Fail(ShopifyError),
    /// Creates the order and then reports a failure, as when the process dies after
    /// Shopify answered but before the order was recorded.
    CreateThenFail(ShopifyError),
}

impl RecordingShopify {
    /// Makes the next create call fail with `error`.
    pub fn fail_next(&self, error: ShopifyError) {
        self.lock().scripted.push_back(ScriptedCreate::Fail(error));
    }

    /// Makes the next create call create the order and still report `error`.
    pub fn create_then_fail(&self, error: ShopifyError) {
        self.lock()
            .scripted
            .push_back(ScriptedCreate::CreateThenFail(error));
    }

    /// Returns the variables of every created order, in order.
    pub fn orders(&self) -> Vec<Value> {
        self.lock()
            .orders
            .iter()
            .map(|(_, variables)| variables.clone())
            .collect()
    }

    /// Returns how many `sourceIdentifier` lookups were made.
    pub fn lookups(&self) -> usize {
        self.lock().lookups
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }
}

fn record(state: &mut State, variables: &Value) -> CreatedOrder {
    let number = state.orders.len() + 1;
    let order = CreatedOrder {
        id: format!("gid://shopify/Order/{number}"),
        name: format!("#{}", 1000 + number),
    };
    state.orders.push((order.clone(), variables.clone()));
    order
}

#[async_trait]
impl OrderGateway for RecordingShopify {
    async fn create_order(&self, variables: &Value) -> Result<CreatedOrder, ShopifyError> {
        tokio::task::yield_now().await;
        let mut state = self.lock();
        match state.scripted.pop_front() {
            Some(ScriptedCreate::Fail(error)) => Err(error),
            Some(ScriptedCreate::CreateThenFail(error)) => {
                record(&mut state, variables);
                Err(error)
            }
            None => Ok(record(&mut state, variables)),
        }
    }

    async fn find_order_by_source(
        &self,
        source_identifier: &str,
    ) -> Result<Option<CreatedOrder>, ShopifyError> {
        let mut state = self.lock();
        state.lookups += 1;
        Ok(state
            .orders
            .iter()
            .find(|(_, variables)| variables["order"]["sourceIdentifier"] == source_identifier)
            .map(|(order, _)| order.clone()))
    }
}
