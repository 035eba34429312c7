//! The floor for `make bench`: a `lambda_http` function that returns 200 for every request
//! and does nothing else. Its start-up time and memory are what the runtime alone
//! costs on the machine, so the benchmark reports each real function as a ratio to it.

use lambda_http::{service_fn, Body, Error, Request, Response};

// The same runtime flavor as the functions, so that the ratios measure their own work.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_request: Request| async {
        Ok::<_, Error>(Response::new(Body::from("ok")))
    }))
    .await
}
