//! Running one route as a Lambda function.

use super::{route_path, serve, ApiError, Cors, Route};
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

/// Runs a function that serves several routes, such as the health function, choosing the
/// route by path. A path of none of `routes` gets the JSON 404.
pub async fn run_routes<H, Fut>(
    routes: &[Route],
    cors: Cors,
    handler: H,
) -> Result<(), lambda_http::Error>
where
    H: Fn(Route, Request) -> Fut + Sync,
    Fut: Future<Output = Result<Response<Body>, ApiError>> + Send,
{
    let first = *routes
        .first()
        .ok_or("run_routes needs at least one route")?;
    lambda_http::run(service_fn(|request| async {
        let route = Route::from_path(&route_path(&request))
            .filter(|route| routes.contains(route))
            .unwrap_or(first);
        // `serve` returns the 404 itself when the path is not the chosen route's.
        let response = serve(request, route, &cors, |request| handler(route, request)).await;
        Ok::<_, Infallible>(response)
    }))
    .await
}
