//! The routes of the API and the path normalisation they share.

use http::Method;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

/// Every route the bundle serves. Each function serves one; the local dev server all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    ValidateDiscount,
    CreatePaymentIntent,
    StripeWebhook,
    Health,
    SystemHealth,
}

impl Route {
    /// All routes, for servers that dispatch by path.
    pub const ALL: [Route; 5] = [
        Route::ValidateDiscount,
        Route::CreatePaymentIntent,
        Route::StripeWebhook,
        Route::Health,
        Route::SystemHealth,
    ];

    /// Returns the path below the stage, such as `/api/health`.
    pub fn path(self) -> &'static str {
        match self {
            Route::ValidateDiscount => "/api/validate-discount",
            Route::CreatePaymentIntent => "/api/create-payment-intent",
            Route::StripeWebhook => "/api/stripe-webhook",
            Route::Health => "/api/health",
            Route::SystemHealth => "/api/system-health",
        }
    }

    /// The one method the route accepts besides the CORS preflight.
    pub fn method(self) -> Method {
        match self {
            Route::Health | Route::SystemHealth => Method::GET,
            _ => Method::POST,
        }
    }

    /// True for routes that browsers call from the registration page, which need CORS.
    pub fn is_browser_facing(self) -> bool {
        matches!(self, Route::ValidateDiscount | Route::CreatePaymentIntent)
    }

    /// Finds the route for a path that has already had its stage removed.
    pub fn from_path(path: &str) -> Option<Route> {
        let path = path
            .strip_suffix('/')
            .filter(|rest| !rest.is_empty())
            .unwrap_or(path);
        Route::ALL.into_iter().find(|route| route.path() == path)
    }
}

/// Returns the request path without the API Gateway stage.
///
/// Under a named stage (`prod`) API Gateway puts the stage in the raw path
/// (`/prod/api/health`), and `lambda_http` adds it when it is missing, while the `$default`
/// stage has none. Removing it here lets one route table serve both.
pub fn route_path(request: &Request) -> String {
    let path = request.uri().path();
    let stage = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.stage.clone(),
        Some(RequestContext::ApiGatewayV1(context)) => context.stage.clone(),
        _ => None,
    };
    // A path that already names a route is kept: under a stage called `api`, lambda_http
    // leaves `/api/health` as it is, and stripping the stage would break it.
    if Route::from_path(path).is_some() {
        return path.to_owned();
    }
    match stage.as_deref() {
        Some(stage) if stage != "$default" && !stage.is_empty() => {
            let prefix = format!("/{stage}");
            match path.strip_prefix(&prefix) {
                Some(rest) if rest.starts_with('/') => rest.to_owned(),
                _ => path.to_owned(),
            }
        }
        _ => path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_path_matches_exact_paths() {
        assert_eq!(Route::from_path("/api/health"), Some(Route::Health));
        assert_eq!(Route::from_path("/api/health/"), Some(Route::Health));
        assert_eq!(Route::from_path("/api/nope"), None);
        assert_eq!(Route::from_path("/"), None);
    }
}
