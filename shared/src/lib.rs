//! The library behind every function of the registration pipeline: catalog, pricing,
//! registration form, Stripe and Shopify clients, and the DynamoDB stores.

pub mod api;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod discount;
pub mod form;
pub mod handlers;
pub(crate) mod http_url;
pub mod metrics;
pub mod money;
pub mod orders;
pub mod pricing;
pub mod rate;
pub mod secrets;
pub mod setup;
pub mod shopify;
pub mod store;
pub mod stripe;
pub mod telemetry;
pub mod validation;
