//! The HTTP edge shared by every function: routing, CORS, body decoding, and the one
//! mapping from typed errors to JSON responses.

mod body;
mod cors;
mod error;
mod lambda;
mod route;
mod serve;

pub use body::json_body;
pub use cors::Cors;
pub use error::{error_response, ApiError};
pub use lambda::{run, run_routes};
pub use route::{route_path, Route};
pub use serve::{json_response, request_id, serve};
