//! The floor for `make bench`: a `lambda_http` function that answers every request with
//! 200 and does nothing else. Its start-up time and memory are what the runtime alone
//! costs on the machine, so the benchmark reports each real function as a ratio to it.

use lambda_http::{service_fn, Body, Error, Request, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_request: Request| async {
        Ok::<_, Error>(Response::new(Body::from("ok")))
    }))
    .await
}
