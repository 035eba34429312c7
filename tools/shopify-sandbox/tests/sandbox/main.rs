//! End-to-end tests of the sandbox over HTTP, with Shopify's real Admin schema.

mod auth;
mod common;
mod faults;
mod orders;
mod validation;
