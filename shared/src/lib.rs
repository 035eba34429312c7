//! The library behind every function of the registration pipeline: catalog, pricing,
//! registration form, Stripe and Shopify clients, and the DynamoDB stores.

pub mod catalog;
pub mod discount;
pub mod form;
pub mod money;
pub mod pricing;
pub mod rate;
pub mod store;
pub mod stripe;
pub mod validation;
