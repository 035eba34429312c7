//! The order path: from a paid (or free) registration to exactly one Shopify order.

pub mod ledger;
