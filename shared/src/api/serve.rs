//! The wrapper every route runs inside: it routes, responds to preflights, calls the handler,
//! maps its error to the JSON error shape, adds CORS, and logs the outcome.

use super::{error_response, ApiError, Cors, Route};
use http::{HeaderValue, Method, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use std::error::Error as _;
use std::future::Future;
use tracing::Instrument;

/// Serves `request` for `route` with `handler`, and always returns a response: an `Err`
/// out of a Lambda HTTP handler would reach the caller as a bare 502 from API Gateway.
pub async fn serve<F, Fut>(
    request: Request,
    route: Route,
    cors: &Cors,
    handler: F,
) -> Response<Body>
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    let request_id = request_id(&request);
    let span = tracing::info_span!("request", request_id = %request_id, route = route.path());
    async move {
        let allowed_origin = route
            .is_browser_facing()
            .then(|| cors.allowed_origin(&request))
            .flatten();
        let path_matches = Route::from_path(&super::route_path(&request)) == Some(route);
        let result = if !path_matches {
            Err(ApiError::NotFound)
        } else if request.method() == Method::OPTIONS && route.is_browser_facing() {
            return cors.preflight(&request, &route.method());
        } else if request.method() != route.method() {
            Err(ApiError::MethodNotAllowed {
                allowed: route.method(),
            })
        } else {
            handler(request).await
        };

        let mut response = match result {
            Ok(response) => response,
            Err(error) => {
                log_error(&error);
                error_response(&error, &request_id)
            }
        };
        if route.is_browser_facing() {
            Cors::decorate(allowed_origin.as_deref(), &mut response);
        }
        tracing::info!(status = response.status().as_u16(), "request finished");
        response
    }
    .instrument(span)
    .await
}

/// Logs an error with its cause chain: our failures as errors, the caller's as warnings.
fn log_error(error: &ApiError) {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    if error.is_server_error() {
        tracing::error!(code = error.code(), error = %chain, "request failed");
    } else {
        tracing::warn!(
            code = error.code(),
            field = error.field(),
            "request rejected"
        );
    }
}

/// Returns the id to quote in responses and logs: API Gateway's request id, else Lambda's, else a
/// new one for local requests.
pub fn request_id(request: &Request) -> String {
    let from_gateway = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.request_id.clone(),
        Some(RequestContext::ApiGatewayV1(context)) => context.request_id.clone(),
        _ => None,
    };
    from_gateway
        .filter(|id| !id.is_empty())
        .or_else(|| {
            request
                .lambda_context_ref()
                .map(|context| context.request_id.clone())
        })
        .unwrap_or_else(|| format!("local-{}", uuid::Uuid::new_v4()))
}

/// Builds a JSON response.
pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response<Body> {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".to_owned());
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
