//! Route handlers. Each takes its dependencies as an argument, so the same code serves
//! Lambda, the local dev server and the tests.

pub mod create_intent;
pub mod health;
mod quote_view;
pub mod system_health;
pub mod validate_discount;
pub mod webhook;

pub use quote_view::QuoteView;
