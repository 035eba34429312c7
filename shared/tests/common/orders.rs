//! An in-memory order path for handler tests.

use super::shopify::RecordingShopify;
use shared::catalog::Catalog;
use shared::clock::Clock;
use shared::orders::{MemoryFailureLog, MemoryOrderLedger, OrderDeps, OrderSettings};
use shared::store::MemoryRegistrationStore;
use std::sync::Arc;

const TTL_SECONDS: i64 = 90 * 24 * 3600;

/// The order path's dependencies, with handles on the parts tests inspect.
pub struct MemoryOrders {
    pub deps: OrderDeps,
    pub shopify: Arc<RecordingShopify>,
    pub registrations: Arc<MemoryRegistrationStore>,
    pub ledger: Arc<MemoryOrderLedger>,
    pub failures: Arc<MemoryFailureLog>,
}

/// Builds the order path over in-memory stores and the recording Shopify.
pub fn memory_orders(catalog: Arc<Catalog>, clock: Arc<dyn Clock>) -> MemoryOrders {
    let shopify = Arc::new(RecordingShopify::default());
    let registrations = Arc::new(MemoryRegistrationStore::new());
    let ledger = Arc::new(MemoryOrderLedger::new(TTL_SECONDS));
    let failures = Arc::new(MemoryFailureLog::new(TTL_SECONDS));
    let deps = OrderDeps {
        catalog,
        clock,
        registrations: registrations.clone(),
        ledger: ledger.clone(),
        failures: failures.clone(),
        shopify: shopify.clone(),
        settings: OrderSettings::default(),
    };
    MemoryOrders {
        deps,
        shopify,
        registrations,
        ledger,
        failures,
    }
}
