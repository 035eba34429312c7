//! A local HTTP server that hands every request to the same route handlers the Lambda
//! functions run, converting between plain HTTP and `lambda_http`'s request and response.

use axum::body::{to_bytes, Body as AxumBody};
use axum::extract::{Request, State};
use axum::response::Response as AxumResponse;
use lambda_http::Body;
use shared::api::{serve, ApiError, Cors, Route};
use shared::catalog::Catalog;
use shared::clock::{Clock, SystemClock};
use shared::config;
use shared::handlers::create_intent::{self, CreateIntentDeps};
use shared::handlers::health::{self, HealthInfo};
use shared::handlers::system_health::{self, SystemHealthDeps};
use shared::handlers::validate_discount::{self, ValidateDiscountDeps};
use shared::handlers::webhook::{self, WebhookDeps};
use shared::metrics::DynamoMetrics;
use shared::orders::DynamoFailureLog;
use shared::secrets::WebhookSecretsFrom;
use shared::setup;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Largest request body accepted, far above any registration or Stripe event.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The handlers' dependencies, built once like a Lambda cold start.
pub struct Routes {
    pub cors: Cors,
    pub validate_discount: ValidateDiscountDeps,
    pub create_intent: CreateIntentDeps,
    pub webhook: WebhookDeps,
    pub health: HealthInfo,
    /// `None` serves `/api/system-health` as a 404.
    pub system_health: Option<SystemHealthDeps>,
}

/// Builds every route's dependencies from the environment, exactly as the Lambda functions
/// do at cold start (see `shared::setup` for the settings).
pub async fn routes_from_env() -> anyhow::Result<Routes> {
    let aws = setup::aws_config().await;
    let (store, secrets) = setup::secrets(&aws).await?;
    let catalog = Arc::new(Catalog::bundled()?);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let metrics = setup::metrics(&aws)?;
    let orders = setup::order_deps(&aws, &secrets, catalog.clone(), clock.clone())?;
    let client = aws_sdk_dynamodb::Client::new(&aws);
    let table = setup::table_name()?;
    let health = HealthInfo {
        function_name: "dev-server".to_owned(),
        version: env!("CARGO_PKG_VERSION"),
    };
    Ok(Routes {
        cors: Cors::from_list(&config::optional("ALLOWED_ORIGINS").unwrap_or_default()),
        validate_discount: ValidateDiscountDeps {
            catalog: catalog.clone(),
            clock: clock.clone(),
            metrics: metrics.clone(),
        },
        create_intent: CreateIntentDeps {
            catalog,
            clock: clock.clone(),
            gateway: Arc::new(setup::stripe_client(&secrets)?),
            store: orders.registrations.clone(),
            orders: orders.clone(),
            metrics: metrics.clone(),
            settings: setup::checkout_settings()?,
        },
        webhook: WebhookDeps {
            orders,
            secrets: Arc::new(WebhookSecretsFrom(store.clone())),
            metrics,
            clock: clock.clone(),
            tolerance_seconds: config::parse_or("WEBHOOK_TOLERANCE_SECONDS", 300)?,
        },
        system_health: Some(SystemHealthDeps {
            metrics: Arc::new(DynamoMetrics::new(client.clone(), &table, 0)),
            failures: Arc::new(DynamoFailureLog::new(client, &table, 0)),
            secrets: store,
            shopify: Arc::new(setup::shopify_client(&secrets)?),
            clock,
            thresholds: setup::health_thresholds()?,
            info: health.clone(),
        }),
        health,
    })
}

/// A running server.
pub struct DevServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl DevServer {
    /// Returns the bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Returns the base URL, such as `http://127.0.0.1:8080`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving.
    pub fn shutdown(self) {
        self.task.abort();
    }
}

/// Binds `addr` (port 0 picks a free port) and serves `routes` in the background.
pub async fn start(addr: SocketAddr, routes: Arc<Routes>) -> anyhow::Result<DevServer> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new().fallback(dispatch).with_state(routes);
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(error = %error, "dev server stopped");
        }
    });
    tracing::info!(%addr, "dev server listening");
    Ok(DevServer { addr, task })
}

async fn dispatch(State(routes): State<Arc<Routes>>, request: Request) -> AxumResponse {
    let request = match to_lambda(request).await {
        Ok(request) => request,
        Err(response) => return *response,
    };
    let route = Route::from_path(request.uri().path());
    let cors = &routes.cors;
    let response = match route {
        Some(Route::ValidateDiscount) => {
            serve(request, Route::ValidateDiscount, cors, |request| {
                validate_discount::handle(&routes.validate_discount, request)
            })
            .await
        }
        Some(Route::CreatePaymentIntent) => {
            serve(request, Route::CreatePaymentIntent, cors, |request| {
                create_intent::handle(&routes.create_intent, request)
            })
            .await
        }
        Some(Route::StripeWebhook) => {
            serve(request, Route::StripeWebhook, cors, |request| {
                webhook::handle(&routes.webhook, request)
            })
            .await
        }
        Some(Route::Health) => {
            serve(request, Route::Health, cors, |request| {
                health::handle(&routes.health, request)
            })
            .await
        }
        Some(Route::SystemHealth) => {
            serve(request, Route::SystemHealth, cors, |request| async {
                match &routes.system_health {
                    Some(deps) => system_health::handle(deps, request).await,
                    None => Err(ApiError::NotFound),
                }
            })
            .await
        }
        // Any other path gets the same JSON 404 as Lambda.
        None => {
            serve(request, Route::Health, cors, |_| async {
                Err(ApiError::NotFound)
            })
            .await
        }
    };
    from_lambda(response)
}

/// Converts a plain HTTP request into the `lambda_http` request a function receives.
async fn to_lambda(request: Request) -> Result<lambda_http::Request, Box<AxumResponse>> {
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        let mut response = AxumResponse::new(AxumBody::from("request body too large"));
        *response.status_mut() = http::StatusCode::PAYLOAD_TOO_LARGE;
        Box::new(response)
    })?;
    // API Gateway hands text bodies over as text and anything else base64-decoded.
    let body = if bytes.is_empty() {
        Body::Empty
    } else {
        match String::from_utf8(bytes.to_vec()) {
            Ok(text) => Body::Text(text),
            Err(error) => Body::Binary(error.into_bytes()),
        }
    };
    Ok(http::Request::from_parts(parts, body))
}

fn from_lambda(response: lambda_http::Response<Body>) -> AxumResponse {
    let (parts, body) = response.into_parts();
    let body = match body {
        Body::Empty => AxumBody::empty(),
        Body::Text(text) => AxumBody::from(text),
        Body::Binary(bytes) => AxumBody::from(bytes),
        _ => AxumBody::empty(),
    };
    AxumResponse::from_parts(parts, body)
}
