//! Decoding JSON request bodies.

use super::ApiError;
use lambda_http::{Body, Request};
use serde::de::DeserializeOwned;

/// Decodes the request body as JSON into `T`.
///
/// The content type is not checked: browsers send `text/plain` for simple CORS requests and
/// some clients send none. `lambda_http` has already decoded a base64 body flagged by API
/// Gateway. A JSON error names the field where it happened.
pub fn json_body<T: DeserializeOwned>(request: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::MissingBody);
    }

    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let field = (path != ".").then_some(path);
        ApiError::InvalidJson {
            field,
            message: error.into_inner().to_string(),
        }
    })?;
    deserializer.end().map_err(|error| ApiError::InvalidJson {
        field: None,
        message: error.to_string(),
    })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Probe {
        code: String,
        quantity: u32,
    }

    fn request(body: Body) -> Request {
        http::Request::builder().body(body).unwrap()
    }

    #[test]
    fn empty_body_is_missing() {
        let error = json_body::<Probe>(&request(Body::Empty)).unwrap_err();
        assert!(matches!(error, ApiError::MissingBody));
        let error = json_body::<Probe>(&request(Body::Text(" \n".into()))).unwrap_err();
        assert!(matches!(error, ApiError::MissingBody));
    }

    #[test]
    fn text_and_binary_bodies_decode() {
        let json = r#"{"code":"A","quantity":2}"#;
        assert_eq!(
            json_body::<Probe>(&request(Body::Text(json.into())))
                .unwrap()
                .quantity,
            2
        );
        assert_eq!(
            json_body::<Probe>(&request(Body::Binary(json.into())))
                .unwrap()
                .code,
            "A"
        );
    }

    #[test]
    fn type_error_names_the_field() {
        let body = Body::Text(r#"{"code":"A","quantity":"two"}"#.into());
        match json_body::<Probe>(&request(body)).unwrap_err() {
            ApiError::InvalidJson { field, .. } => assert_eq!(field.as_deref(), Some("quantity")),
            other => panic!("unexpected error {other:?}"),
        }
    }

    #[test]
    fn trailing_garbage_is_rejected() {
        let body = Body::Text(r#"{"code":"A","quantity":1} x"#.into());
        assert!(matches!(
            json_body::<Probe>(&request(body)),
            Err(ApiError::InvalidJson { .. })
        ));
    }
}
