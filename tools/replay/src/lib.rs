//! The replay tool: lists the order failures recorded in DynamoDB, and runs the webhook's
//! order path again for one paid or free registration so that a person can finish it.
//!
//! Every function here takes its dependencies as arguments. The binary builds them from
//! the functions' environment with [`environment`], and tests pass local ones.

pub mod environment;
pub mod failures;
pub mod replay;

pub use failures::{failures_json, failures_table, list_failures, DEFAULT_LIST_LIMIT};
pub use replay::{
    error_chain, replay_free, replay_payment, ReplayError, Replayed, EXIT_ERROR, EXIT_NOT_FINISHED,
    EXIT_OK,
};
