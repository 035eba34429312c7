//! An HTTP proxy on 127.0.0.1 that forwards every request unchanged to one upstream server
//! and counts the requests by their `X-Amz-Target` header.
//!
//! The AWS SDK names the operation of every DynamoDB and Secrets Manager request in that
//! header (`DynamoDB_20120810.UpdateItem`, `secretsmanager.GetSecretValue`), so pointing
//! `AWS_ENDPOINT_URL` at the proxy counts a function's AWS calls by operation.
//!
//! The proxy keeps the method, path, query, body and headers, `Host` and the SigV4
//! `Authorization` included. It drops only the hop-by-hop headers and `Content-Length`,
//! which the HTTP client sets again for the same body.

use anyhow::Context;
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::Response;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The key under which requests without an `X-Amz-Target` header are counted.
pub const NO_TARGET: &str = "(no X-Amz-Target)";

/// Largest request or response body forwarded. DynamoDB items are at most 400 KB.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// How long [`CountingProxy::shutdown`] waits for open requests before it stops the server.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Headers that describe one connection rather than the request, so they are not forwarded
/// (RFC 9110, section 7.6.1).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
];

/// A running proxy.
pub struct CountingProxy {
    addr: SocketAddr,
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

struct ProxyState {
    upstream: String,
    client: reqwest::Client,
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl CountingProxy {
    /// Binds a free port of 127.0.0.1 and forwards every request to `upstream`, a base URL
    /// such as `http://127.0.0.1:5000`.
    pub async fn start(upstream: &str) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("building the proxy's HTTP client failed")?;
        let counts = Arc::new(Mutex::new(BTreeMap::new()));
        let state = Arc::new(ProxyState {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client,
            counts: counts.clone(),
        });
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .context("binding the counting proxy to 127.0.0.1 failed")?;
        let addr = listener.local_addr()?;
        let app = axum::Router::new().fallback(forward).with_state(state);
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serving = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(error) = serving.await {
                tracing::error!(error = %error, "the counting proxy stopped with an error");
            }
        });
        tracing::info!(%addr, upstream, "counting proxy listening");
        Ok(Self {
            addr,
            counts,
            shutdown: Some(shutdown),
            task,
        })
    }

    /// Returns the proxy's base URL, such as `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Returns the requests received since the start or the last [`reset`](Self::reset),
    /// by `X-Amz-Target` value ([`NO_TARGET`] for requests without one).
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        lock(&self.counts).clone()
    }

    /// Sets every count to zero.
    pub fn reset(&self) {
        lock(&self.counts).clear();
    }

    /// Stops accepting connections, waits up to two seconds for open requests, then stops.
    pub async fn shutdown(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(counts: &Mutex<BTreeMap<String, u64>>) -> MutexGuard<'_, BTreeMap<String, u64>> {
    // The counts stay valid after a panic elsewhere, so a poisoned lock is taken over.
    counts
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Counts one request and forwards it. A failed forward returns 502 Bad Gateway, as a
/// gateway would, and the request stays counted.
async fn forward(State(state): State<Arc<ProxyState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
        .unwrap_or(NO_TARGET)
        .to_owned();
    *lock(&state.counts).entry(target.clone()).or_default() += 1;

    let body = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(error) => return bad_gateway(&target, &format!("reading the request failed: {error}")),
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |path_and_query| path_and_query.as_str());
    let upstream = state
        .client
        .request(parts.method, format!("{}{path_and_query}", state.upstream))
        .headers(end_to_end(&parts.headers))
        .body(body)
        .send()
        .await;
    let upstream = match upstream {
        Ok(response) => response,
        Err(error) => return bad_gateway(&target, &format!("forwarding failed: {error}")),
    };
    let status = upstream.status();
    let headers = end_to_end(upstream.headers());
    let body = match upstream.bytes().await {
        Ok(body) => body,
        Err(error) => {
            return bad_gateway(&target, &format!("reading the response failed: {error}"))
        }
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// Copies `headers` without the hop-by-hop headers and `Content-Length`.
fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let mut copied = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if is_end_to_end(name) {
            copied.append(name.clone(), value.clone());
        }
    }
    copied
}

fn is_end_to_end(name: &HeaderName) -> bool {
    let name = name.as_str();
    name != "content-length" && !HOP_BY_HOP.contains(&name)
}

fn bad_gateway(target: &str, message: &str) -> Response {
    tracing::warn!(
        target_operation = target,
        message,
        "counting proxy request failed"
    );
    let mut response = Response::new(Body::from(message.to_owned()));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Method;

    /// Starts a server that returns, as JSON, what it received. A path of `/teapot`
    /// returns 418 so that statuses can be checked.
    async fn echo_server() -> (String, JoinHandle<()>) {
        let app = axum::Router::new().fallback(
            |method: Method, headers: HeaderMap, uri: axum::http::Uri, body: String| async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or("")
                        .to_owned()
                };
                let status = if uri.path() == "/teapot" {
                    StatusCode::IM_A_TEAPOT
                } else {
                    StatusCode::OK
                };
                let echoed = serde_json::json!({
                    "method": method.as_str(),
                    "uri": uri.to_string(),
                    "host": header("host"),
                    "target": header("x-amz-target"),
                    "authorization": header("authorization"),
                    "body": body,
                });
                (status, [("x-upstream", "yes")], echoed.to_string())
            },
        );
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("binding the echo server failed");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        (url, task)
    }

    async fn post(
        client: &reqwest::Client,
        url: &str,
        target: Option<&str>,
        body: &str,
    ) -> reqwest::Response {
        let mut request = client
            .post(url)
            .header("authorization", "AWS4-HMAC-SHA256 Credential=testing/fake")
            .body(body.to_owned());
        if let Some(target) = target {
            request = request.header("x-amz-target", target);
        }
        request
            .send()
            .await
            .expect("request through the proxy failed")
    }

    #[tokio::test]
    async fn proxy_counts_by_target() {
        let (upstream, _server) = echo_server().await;
        let proxy = CountingProxy::start(&upstream).await.unwrap();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let url = format!("{}/", proxy.url());
        for _ in 0..3 {
            post(&client, &url, Some("DynamoDB_20120810.UpdateItem"), "{}").await;
        }
        post(&client, &url, Some("DynamoDB_20120810.GetItem"), "{}").await;
        post(&client, &url, Some("secretsmanager.GetSecretValue"), "{}").await;
        post(&client, &url, None, "").await;

        let counts = proxy.snapshot();
        assert_eq!(counts.get("DynamoDB_20120810.UpdateItem"), Some(&3));
        assert_eq!(counts.get("DynamoDB_20120810.GetItem"), Some(&1));
        assert_eq!(counts.get("secretsmanager.GetSecretValue"), Some(&1));
        assert_eq!(counts.get(NO_TARGET), Some(&1));
        assert_eq!(counts.len(), 4);
        proxy.shutdown().await;
    }

    #[tokio::test]
    async fn proxy_reset_clears_counts() {
        let (upstream, _server) = echo_server().await;
        let proxy = CountingProxy::start(&upstream).await.unwrap();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let url = format!("{}/", proxy.url());
        post(&client, &url, Some("DynamoDB_20120810.PutItem"), "{}").await;
        proxy.reset();
        assert!(proxy.snapshot().is_empty());

        post(&client, &url, Some("DynamoDB_20120810.Query"), "{}").await;
        let counts = proxy.snapshot();
        assert_eq!(counts.get("DynamoDB_20120810.Query"), Some(&1));
        assert_eq!(counts.get("DynamoDB_20120810.PutItem"), None);
        proxy.shutdown().await;
    }

    #[tokio::test]
    async fn proxy_forwards_request_unchanged() {
        let (upstream, _server) = echo_server().await;
        let proxy = CountingProxy::start(&upstream).await.unwrap();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let proxy_host = proxy.url().trim_start_matches("http://").to_owned();
        let body = r#"{"TableName":"bench","Key":{"pk":{"S":"PAYMENT_INTENT#pi_1"}}}"#;
        let response = post(
            &client,
            &format!("{}/some/path?x=1", proxy.url()),
            Some("DynamoDB_20120810.GetItem"),
            body,
        )
        .await;

        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response
                .headers()
                .get("x-upstream")
                .and_then(|v| v.to_str().ok()),
            Some("yes")
        );
        let echoed: serde_json::Value = response.json().await.unwrap();
        assert_eq!(echoed["method"], "POST");
        assert_eq!(echoed["uri"], "/some/path?x=1");
        assert_eq!(echoed["host"], proxy_host.as_str());
        assert_eq!(echoed["target"], "DynamoDB_20120810.GetItem");
        assert_eq!(
            echoed["authorization"],
            "AWS4-HMAC-SHA256 Credential=testing/fake"
        );
        assert_eq!(echoed["body"], body);
        proxy.shutdown().await;
    }

    #[tokio::test]
    async fn proxy_returns_upstream_status() {
        let (upstream, _server) = echo_server().await;
        let proxy = CountingProxy::start(&upstream).await.unwrap();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let response = post(&client, &format!("{}/teapot", proxy.url()), None, "").await;
        assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);
        proxy.shutdown().await;
    }

    #[tokio::test]
    async fn proxy_counts_failed_forward() {
        // A port that was free a moment ago, so nothing listens on it.
        let closed = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .unwrap();
        let upstream = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let proxy = CountingProxy::start(&upstream).await.unwrap();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let response = post(
            &client,
            &format!("{}/", proxy.url()),
            Some("DynamoDB_20120810.UpdateItem"),
            "{}",
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(
            proxy.snapshot().get("DynamoDB_20120810.UpdateItem"),
            Some(&1)
        );
        proxy.shutdown().await;
    }
}
