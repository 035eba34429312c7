//! CORS for the routes the registration page calls. This is the only place the project
//! sets CORS headers; the SAM template leaves CORS off so the two cannot disagree.

use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, ORIGIN, VARY,
};
use http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};

/// The origins allowed to call the browser-facing routes.
#[derive(Debug, Clone, Default)]
pub struct Cors {
    allowed_origins: Vec<String>,
}

impl Cors {
    /// Builds the policy from exact origins such as `https://events.example.org`.
    pub fn new(allowed_origins: impl IntoIterator<Item = String>) -> Self {
        Self {
            allowed_origins: allowed_origins
                .into_iter()
                .map(|origin| origin.trim().trim_end_matches('/').to_owned())
                .filter(|origin| !origin.is_empty())
                .collect(),
        }
    }

    /// Parses a comma-separated list, as in the `ALLOWED_ORIGINS` setting.
    pub fn from_list(list: &str) -> Self {
        Self::new(list.split(',').map(str::to_owned))
    }

    /// Returns the request's origin when it is allowed.
    pub fn allowed_origin(&self, request: &Request) -> Option<String> {
        let origin = request.headers().get(ORIGIN)?.to_str().ok()?;
        self.allowed_origins
            .iter()
            .any(|allowed| allowed == origin)
            .then(|| origin.to_owned())
    }

    /// Builds the response to a preflight: 204 with the allowed method and headers for an allowed origin,
    /// 403 without any CORS header for any other.
    pub fn preflight(&self, request: &Request, method: &http::Method) -> Response<Body> {
        let Some(origin) = self.allowed_origin(request) else {
            let mut response = Response::new(Body::Empty);
            *response.status_mut() = StatusCode::FORBIDDEN;
            return response;
        };
        let mut response = Response::new(Body::Empty);
        *response.status_mut() = StatusCode::NO_CONTENT;
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&origin) {
            headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, value);
        }
        let methods = format!("{}, OPTIONS", method.as_str());
        if let Ok(value) = HeaderValue::from_str(&methods) {
            headers.insert(ACCESS_CONTROL_ALLOW_METHODS, value);
        }
        headers.insert(
            ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type"),
        );
        headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        headers.insert(VARY, HeaderValue::from_static("Origin"));
        response
    }

    /// Adds the allow-origin header to any response, errors included, when `allowed_origin`
    /// (from [`Cors::allowed_origin`]) is set.
    pub fn decorate(allowed_origin: Option<&str>, response: &mut Response<Body>) {
        let headers = response.headers_mut();
        headers.insert(VARY, HeaderValue::from_static("Origin"));
        if let Some(value) = allowed_origin.and_then(|origin| HeaderValue::from_str(origin).ok()) {
            headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_from(origin: &str) -> Request {
        http::Request::builder()
            .header(ORIGIN, origin)
            .body(Body::Empty)
            .unwrap()
    }

    #[test]
    fn allowed_origin_gets_preflight_headers() {
        let cors = Cors::from_list("https://events.example.org/, https://other.example.org");
        let response = cors.preflight(
            &request_from("https://events.example.org"),
            &http::Method::POST,
        );
        assert_eq!(response.status(), 204);
        let headers = response.headers();
        assert_eq!(
            headers[ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://events.example.org"
        );
        assert_eq!(headers[ACCESS_CONTROL_ALLOW_METHODS], "POST, OPTIONS");
        assert_eq!(headers[ACCESS_CONTROL_ALLOW_HEADERS], "content-type");
    }

    #[test]
    fn foreign_origin_gets_no_allow_origin() {
        let cors = Cors::from_list("https://events.example.org");
        let response = cors.preflight(&request_from("https://evil.example"), &http::Method::POST);
        assert_eq!(response.status(), 403);
        assert!(response
            .headers()
            .get(ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none());

        let mut response = Response::new(Body::Empty);
        let origin = cors.allowed_origin(&request_from("https://evil.example"));
        Cors::decorate(origin.as_deref(), &mut response);
        assert!(response
            .headers()
            .get(ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none());
    }
}
