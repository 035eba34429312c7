//! A local Lambda Runtime API (version 2018-06-01) that hands one event at a time to a
//! function process and times it.
//!
//! A function built with `lambda_runtime` finds the API through `AWS_LAMBDA_RUNTIME_API`,
//! then loops: `GET /runtime/invocation/next` waits for an event, and the function posts
//! its result to `POST /runtime/invocation/{id}/response` (or `/error`). A failure before the first
//! poll is reported to `POST /runtime/init/error`. The first poll marks the end of the
//! function's initialisation, as it does in Lambda.

use anyhow::{anyhow, bail, Context};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

/// Time the function may take per invocation, sent in the deadline header.
const INVOCATION_DEADLINE: Duration = Duration::from_secs(30);

/// The result the function posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The body posted to `/response`.
    Response(Bytes),
    /// The body posted to `/error`.
    Error(Bytes),
}

/// One finished invocation.
#[derive(Debug, Clone)]
pub struct Invoked {
    /// Time from handing the event over (the response to `next`) to receiving the result.
    pub latency: Duration,
    pub outcome: Outcome,
}

/// The Runtime API of one function process, served on 127.0.0.1.
pub struct RuntimeApi {
    addr: SocketAddr,
    queue: mpsc::UnboundedSender<Queued>,
    state: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

struct Queued {
    request_id: String,
    event: Bytes,
    result: oneshot::Sender<Invoked>,
}

struct InFlight {
    handed_over: Instant,
    result: oneshot::Sender<Invoked>,
}

struct Shared {
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>,
    in_flight: Mutex<HashMap<String, InFlight>>,
    /// The first poll of `next`, or the init error's body; set once.
    started: watch::Sender<Option<Result<Instant, String>>>,
}

impl RuntimeApi {
    /// Serves the API on a free loopback port.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let (queue, receiver) = mpsc::unbounded_channel();
        let state = Arc::new(Shared {
            queue: tokio::sync::Mutex::new(receiver),
            in_flight: Mutex::new(HashMap::new()),
            started: watch::channel(None).0,
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(|state, id, body| receive_result(state, id, body, Outcome::Response)),
            )
            .route(
                "/2018-06-01/runtime/invocation/{id}/error",
                post(|state, id, body| receive_result(state, id, body, Outcome::Error)),
            )
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(state.clone());
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "runtime API stopped");
            }
        });
        Ok(Self {
            addr,
            queue,
            state,
            server,
        })
    }

    /// Returns the value for `AWS_LAMBDA_RUNTIME_API`, such as `127.0.0.1:41234`.
    pub fn host_and_port(&self) -> String {
        self.addr.to_string()
    }

    /// Waits for the function's first `next` poll and returns when it came. Fails if the
    /// function reported an init error or did not poll within `timeout`.
    pub async fn first_poll(&self, timeout: Duration) -> anyhow::Result<Instant> {
        let mut started = self.state.started.subscribe();
        let waited = tokio::time::timeout(timeout, started.wait_for(Option::is_some)).await;
        let value = waited
            .map_err(|_| anyhow!("the function did not poll for an event within {timeout:?}"))?
            .context("runtime API closed")?
            .clone();
        match value {
            Some(Ok(instant)) => Ok(instant),
            Some(Err(body)) => bail!("the function reported an init error: {body}"),
            None => unreachable!("wait_for returns only once the value is set"),
        }
    }

    /// Hands `event` to the function and waits for its result.
    pub async fn invoke(&self, event: Bytes, timeout: Duration) -> anyhow::Result<Invoked> {
        let (result, received) = oneshot::channel();
        self.queue
            .send(Queued {
                request_id: uuid::Uuid::new_v4().to_string(),
                event,
                result,
            })
            .map_err(|_| anyhow!("runtime API closed"))?;
        tokio::time::timeout(timeout, received)
            .await
            .map_err(|_| anyhow!("the function did not respond within {timeout:?}"))?
            .context("the invocation was dropped without a result")
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(state): State<Arc<Shared>>) -> Response {
    state.started.send_if_modified(|started| {
        let first = started.is_none();
        if first {
            *started = Some(Ok(Instant::now()));
        }
        first
    });
    // One poll at a time takes the queue, as Lambda sends one event per container.
    let queued = state.queue.lock().await.recv().await;
    let Some(queued) = queued else {
        return StatusCode::GONE.into_response();
    };
    let deadline = SystemTime::now() + INVOCATION_DEADLINE;
    let deadline_ms = deadline
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("lambda-runtime-aws-request-id", queued.request_id.clone()),
        ("lambda-runtime-deadline-ms", deadline_ms.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:000000000000:function:bench".to_owned(),
        ),
        (
            "lambda-runtime-trace-id",
            format!("Root=1-00000000-{}", queued.request_id.replace('-', "")),
        ),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    lock(&state.in_flight).insert(
        queued.request_id,
        InFlight {
            handed_over: Instant::now(),
            result: queued.result,
        },
    );
    (StatusCode::OK, headers, queued.event).into_response()
}

async fn receive_result(
    State(state): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
    outcome: fn(Bytes) -> Outcome,
) -> StatusCode {
    let received = Instant::now();
    let Some(in_flight) = lock(&state.in_flight).remove(&id) else {
        return StatusCode::NOT_FOUND;
    };
    // The harness may have stopped waiting after a timeout, and the result is then dropped.
    drop(in_flight.result.send(Invoked {
        latency: received - in_flight.handed_over,
        outcome: outcome(body),
    }));
    StatusCode::ACCEPTED
}

async fn init_error(State(state): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    let text = String::from_utf8_lossy(&body).into_owned();
    state.started.send_if_modified(|started| {
        let first = started.is_none();
        if first {
            *started = Some(Err(text));
        }
        first
    });
    StatusCode::ACCEPTED
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plays the function's side of the API with plain HTTP calls.
    async fn poll_and_respond(base: String, path_suffix: &str, body: &'static str) -> Bytes {
        let client = reqwest::Client::new();
        let next = client
            .get(format!("{base}/2018-06-01/runtime/invocation/next"))
            .send()
            .await
            .expect("next");
        let id = next.headers()["lambda-runtime-aws-request-id"]
            .to_str()
            .expect("ascii id")
            .to_owned();
        let event = next.bytes().await.expect("event body");
        let posted = client
            .post(format!(
                "{base}/2018-06-01/runtime/invocation/{id}/{path_suffix}"
            ))
            .body(body)
            .send()
            .await
            .expect("answer");
        assert_eq!(posted.status(), reqwest::StatusCode::ACCEPTED);
        event
    }

    #[tokio::test]
    async fn hands_the_event_over_and_returns_the_response() {
        let api = RuntimeApi::start().await.expect("start");
        let base = format!("http://{}", api.host_and_port());
        let function = tokio::spawn(poll_and_respond(base, "response", "{\"ok\":true}"));
        let invoked = api
            .invoke(Bytes::from_static(b"{\"n\":1}"), Duration::from_secs(5))
            .await
            .expect("invoke");
        assert_eq!(
            invoked.outcome,
            Outcome::Response(Bytes::from_static(b"{\"ok\":true}"))
        );
        assert_eq!(function.await.expect("function task"), "{\"n\":1}");
        api.first_poll(Duration::from_secs(1))
            .await
            .expect("the poll was recorded");
    }

    #[tokio::test]
    async fn error_post_is_reported_as_error() {
        let api = RuntimeApi::start().await.expect("start");
        let base = format!("http://{}", api.host_and_port());
        tokio::spawn(poll_and_respond(base, "error", "{\"errorType\":\"x\"}"));
        let invoked = api
            .invoke(Bytes::from_static(b"{}"), Duration::from_secs(5))
            .await
            .expect("invoke");
        assert!(matches!(invoked.outcome, Outcome::Error(_)));
    }

    #[tokio::test]
    async fn init_error_fails_first_poll() {
        let api = RuntimeApi::start().await.expect("start");
        let posted = reqwest::Client::new()
            .post(format!(
                "http://{}/2018-06-01/runtime/init/error",
                api.host_and_port()
            ))
            .body("missing TABLE_NAME")
            .send()
            .await
            .expect("post");
        assert_eq!(posted.status(), reqwest::StatusCode::ACCEPTED);
        let error = api
            .first_poll(Duration::from_secs(1))
            .await
            .expect_err("init failed");
        assert!(error.to_string().contains("missing TABLE_NAME"), "{error}");
    }

    #[tokio::test]
    async fn no_poll_times_out() {
        let api = RuntimeApi::start().await.expect("start");
        let error = api
            .first_poll(Duration::from_millis(50))
            .await
            .expect_err("nobody polled");
        assert!(error.to_string().contains("did not poll"), "{error}");
    }
}
