//! Helpers shared by the handler tests: loading the API Gateway events kept in `events/`.

#![allow(dead_code)]

pub mod gateway;
pub mod orders;
pub mod shopify;

use lambda_http::{Body, Request, Response};
use std::path::PathBuf;

/// Path of a file in the repository's `events/` folder.
pub fn event_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(name)
}

/// Loads an API Gateway event as `lambda_http` would hand it to a function.
pub fn load_event(name: &str) -> Request {
    let text = std::fs::read_to_string(event_path(name))
        .unwrap_or_else(|error| panic!("cannot read events/{name}: {error}"));
    lambda_http::request::from_str(&text)
        .unwrap_or_else(|error| panic!("events/{name} is not an API Gateway event: {error}"))
}

/// Loads an event and replaces its body with `body`.
pub fn event_with_body(name: &str, body: &serde_json::Value) -> Request {
    let mut request = load_event(name);
    *request.body_mut() = Body::Text(body.to_string());
    request
}

/// Parses the JSON body of a response.
pub fn json_of(response: &Response<Body>) -> serde_json::Value {
    let bytes: &[u8] = match response.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => b"null",
    };
    serde_json::from_slice(bytes).expect("the response body is JSON")
}

/// Returns a header of a response as text, when present.
pub fn header<'r>(response: &'r Response<Body>, name: &str) -> Option<&'r str> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
}
