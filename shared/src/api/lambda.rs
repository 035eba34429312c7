//! Running one route as a Lambda function.

use super::{serve, ApiError, Cors, Route};
use lambda_http::{service_fn, Body, Request, Response};
use std::convert::Infallible;
use std::future::Future;

/// Runs `handler` for `route` under the Lambda runtime until the container is shut down.
///
/// Every request goes through [`serve`], so the function answers every HTTP event with a
/// response. An event that is not an HTTP event fails that invocation inside `lambda_http`
/// and the runtime goes on to the next one.
pub async fn run<H, Fut>(route: Route, cors: Cors, handler: H) -> Result<(), lambda_http::Error>
where
    H: Fn(Request) -> Fut + Sync,
    Fut: Future<Output = Result<Response<Body>, ApiError>> + Send,
{
    lambda_http::run(service_fn(|request| async {
        Ok::<_, Infallible>(serve(request, route, &cors, &handler).await)
    }))
    .await
}
