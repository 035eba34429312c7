//! Tests of [`ShopifyClient`] against a scripted HTTP server on 127.0.0.1.
//!
//! A [`FakeTimer`] replaces real waits, so retry tests finish at once and can check each
//! wait. Only the timeout tests wait for real, for less than a second.

use super::test_server::{refused_url, Reply, TestServer};
use super::*;
use std::sync::Mutex;
use time::macros::datetime;
use time::OffsetDateTime;

const TOKEN: &str = "shpat_static_token_0123";
const CLIENT_ID: &str = "client-id-abc";
const CLIENT_SECRET: &str = "client-secret-xyz-789";
/// Personal data in the order variables and response bodies. It must reach no error or log.
const PERSONAL_MARKER: &str = "ann.personal@example.com";

/// A [`RetryTimer`] whose `sleep` returns at once and moves its `now` forward.
struct FakeTimer {
    start: Instant,
    slept: Mutex<Vec<Duration>>,
}

impl FakeTimer {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            slept: Mutex::new(Vec::new()),
        })
    }

    fn sleeps(&self) -> Vec<Duration> {
        self.slept.lock().unwrap().clone()
    }
}

#[async_trait]
impl RetryTimer for FakeTimer {
    fn now(&self) -> Instant {
        self.start + self.slept.lock().unwrap().iter().sum::<Duration>()
    }

    async fn sleep(&self, duration: Duration) {
        self.slept.lock().unwrap().push(duration);
    }
}

/// A wall clock that tests move forward by hand.
struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(datetime!(2026-11-02 09:00 UTC))))
    }

    fn advance(&self, duration: Duration) {
        *self.0.lock().unwrap() += duration;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

fn test_config(base_url: &str) -> ShopifyConfig {
    ShopifyConfig {
        connect_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(2),
        ..ShopifyConfig::new(base_url)
    }
}

fn static_token() -> ShopifyCredentials {
    ShopifyCredentials::AccessToken(ShopifySecret::new(TOKEN))
}

fn client_credentials() -> ShopifyCredentials {
    ShopifyCredentials::ClientCredentials {
        client_id: CLIENT_ID.to_owned(),
        client_secret: ShopifySecret::new(CLIENT_SECRET),
    }
}

/// Builds a client with a static token and a [`FakeTimer`].
fn client_for(server: &TestServer) -> (ShopifyClient, Arc<FakeTimer>) {
    client_with(
        &server.base_url,
        test_config(&server.base_url),
        static_token(),
    )
}

fn client_with(
    base_url: &str,
    config: ShopifyConfig,
    credentials: ShopifyCredentials,
) -> (ShopifyClient, Arc<FakeTimer>) {
    let timer = FakeTimer::new();
    let config = ShopifyConfig {
        shop: base_url.to_owned(),
        ..config
    };
    let client = ShopifyClient::new(config, credentials)
        .unwrap()
        .with_timer(timer.clone());
    (client, timer)
}

fn order_variables() -> Value {
    json!({
        "order": {
            "email": PERSONAL_MARKER,
            "sourceIdentifier": "pi_123",
            "currency": "USD",
            "lineItems": [{"title": "Entry", "quantity": 1,
                "priceSet": {"shopMoney": {"amount": "10.00", "currencyCode": "USD"}}}]
        },
        "options": {"sendReceipt": false}
    })
}

fn created_body(id: &str, name: &str) -> String {
    json!({"data": {"orderCreate": {"order": {"id": id, "name": name}, "userErrors": []}}})
        .to_string()
}

fn orders_body(nodes: Value) -> String {
    json!({"data": {"orders": {"nodes": nodes}}}).to_string()
}

fn token_body(token: &str, expires_in: u64) -> String {
    json!({"access_token": token, "scope": "write_orders,read_orders", "expires_in": expires_in})
        .to_string()
}

fn graphql_error_body(code: &str) -> String {
    json!({"errors": [{"message": format!("failed for {PERSONAL_MARKER}"),
        "extensions": {"code": code}}]})
    .to_string()
}

fn throttled_body(requested: f64, available: f64, restore_rate: f64) -> String {
    json!({
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": {"cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": null,
            "throttleStatus": {
                "maximumAvailable": 100.0,
                "currentlyAvailable": available,
                "restoreRate": restore_rate
            }
        }}
    })
    .to_string()
}

fn order_1001() -> CreatedOrder {
    CreatedOrder {
        id: "gid://shopify/Order/1001".to_owned(),
        name: "#1001".to_owned(),
    }
}

fn created_1001() -> Reply {
    Reply::json(200, created_body("gid://shopify/Order/1001", "#1001"))
}

fn found_1001() -> Reply {
    Reply::json(
        200,
        orders_body(json!([{"id": "gid://shopify/Order/1001", "name": "#1001",
            "sourceIdentifier": "pi_123"}])),
    )
}

fn secs(seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds)
}

// --- Success and user errors ---

#[tokio::test]
async fn create_order_returns_order() {
    let server = TestServer::start(vec![created_1001()]);
    let (client, timer) = client_for(&server);
    let variables = order_variables();

    let order = client.create_order(&variables).await.unwrap();

    assert_eq!(order, order_1001());
    let requests = server.received();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/admin/api/2026-10/graphql.json");
    assert_eq!(request.header("x-shopify-access-token"), Some(TOKEN));
    assert_eq!(request.header("content-type"), Some("application/json"));
    let body = request.json();
    assert_eq!(body["query"], ORDER_CREATE_MUTATION);
    assert_eq!(body["variables"], variables);
    assert!(timer.sleeps().is_empty());
    assert_eq!(
        client.last_call_stats(),
        CallStats {
            attempts: 1,
            ..CallStats::default()
        }
    );
}

#[tokio::test]
async fn configured_api_version_is_in_path() {
    let server = TestServer::start(vec![created_1001()]);
    let config = ShopifyConfig {
        api_version: "2026-07".to_owned(),
        ..test_config(&server.base_url)
    };
    let (client, _) = client_with(&server.base_url, config, static_token());

    client.create_order(&order_variables()).await.unwrap();

    assert_eq!(client.requested_api_version(), "2026-07");
    assert_eq!(server.received()[0].path, "/admin/api/2026-07/graphql.json");
}

#[tokio::test]
async fn user_errors_are_returned_unretried() {
    let body = json!({"data": {"orderCreate": {"order": null, "userErrors": [
        {"field": ["order", "customer", "toUpsert", "phone"], "message": "Phone is invalid",
         "code": "INVALID"},
        {"field": null, "message": "Order could not be created", "code": null}
    ]}}});
    let server = TestServer::start(vec![Reply::json(200, body.to_string()), created_1001()]);
    let (client, _) = client_for(&server);

    let error = client.create_order(&order_variables()).await.unwrap_err();

    let ShopifyError::UserErrors(errors) = error else {
        panic!("expected UserErrors, got {error:?}");
    };
    assert_eq!(errors.len(), 2);
    assert!(errors[0].is_about("phone"));
    assert_eq!(errors[0].code.as_deref(), Some("INVALID"));
    assert!(errors[1].field.is_empty());
    assert_eq!(errors[1].code, None);
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn missing_order_and_user_errors_is_server_error() {
    let body = json!({"data": {"orderCreate": {"order": null, "userErrors": []}}});
    let server = TestServer::start(vec![Reply::json(200, body.to_string())]);
    let (client, _) = client_for(&server);

    let error = client.create_order(&order_variables()).await.unwrap_err();

    assert!(matches!(error, ShopifyError::Server(_)), "{error:?}");
}

// --- Throttling ---

#[tokio::test]
async fn throttled_waits_for_cost_refill() {
    let server = TestServer::start(vec![
        Reply::json(200, throttled_body(10.0, 4.0, 2.0)),
        created_1001(),
    ]);
    let (client, timer) = client_for(&server);

    let order = client.create_order(&order_variables()).await.unwrap();

    assert_eq!(order, order_1001());
    // (10 requested - 4 available) / 2 points per second.
    assert_eq!(timer.sleeps(), vec![secs(3.0)]);
    assert_eq!(server.received().len(), 2);
    assert_eq!(
        client.last_call_stats(),
        CallStats {
            attempts: 2,
            retries: 1,
            throttles: 1,
            token_requests: 0,
            waited: secs(3.0),
        }
    );
}

#[tokio::test]
async fn throttled_without_cost_backs_off() {
    let server = TestServer::start(vec![
        Reply::json(200, graphql_error_body("THROTTLED")),
        created_1001(),
    ]);
    let (client, timer) = client_for(&server);

    client.create_order(&order_variables()).await.unwrap();

    assert_eq!(timer.sleeps(), vec![secs(0.5)]);
}

#[tokio::test]
async fn retry_after_decimal_is_seconds() {
    let server = TestServer::start(vec![
        Reply::json(429, r#"{"errors":"Too Many Requests"}"#).header("Retry-After", "2.0"),
        created_1001(),
    ]);
    let (client, timer) = client_for(&server);

    let order = client.create_order(&order_variables()).await.unwrap();

    assert_eq!(order, order_1001());
    assert_eq!(timer.sleeps(), vec![secs(2.0)]);
    assert_eq!(client.last_call_stats().throttles, 1);
}

#[tokio::test]
async fn http_429_without_retry_after_backs_off() {
    let server = TestServer::start(vec![
        Reply::json(429, r#"{"errors":"Too Many Requests"}"#),
        Reply::json(429, r#"{"errors":"Too Many Requests"}"#),
        created_1001(),
    ]);
    let (client, timer) = client_for(&server);

    client.create_order(&order_variables()).await.unwrap();

    assert_eq!(timer.sleeps(), vec![secs(0.5), secs(1.0)]);
}

#[tokio::test]
async fn endless_429_gives_up_within_budget() {
    let script = (0..30)
        .map(|_| Reply::json(429, "{}").header("Retry-After", "2.0"))
        .collect();
    let server = TestServer::start(script);
    let (client, timer) = client_for(&server);

    let error = client.create_order(&order_variables()).await.unwrap_err();

    assert_eq!(
        error,
        ShopifyError::Throttled {
            retry_after: Some(secs(2.0))
        }
    );
    // A retry needs its wait plus a full 2 s request timeout to fit in the 20 s budget, so
    // the last retry starts after 18 s of waiting.
    let waited: Duration = timer.sleeps().iter().sum();
    assert_eq!(waited, secs(18.0));
    assert!(waited + Duration::from_secs(2) <= Duration::from_secs(20));
    assert_eq!(server.received().len(), 10);
    let stats = client.last_call_stats();
    assert_eq!(stats.attempts, 10);
    assert_eq!(stats.retries, 9);
    assert_eq!(stats.throttles, 10);
}

#[tokio::test]
async fn per_call_budget_limits_retries() {
    let server = TestServer::start(vec![
        Reply::json(429, "{}").header("Retry-After", "2.0"),
        found_1001(),
    ]);
    let (client, timer) = client_for(&server);

    let error = client
        .find_order_by_source_within("pi_123", Duration::from_secs(3))
        .await
        .unwrap_err();

    assert_eq!(
        error,
        ShopifyError::Throttled {
            retry_after: Some(secs(2.0))
        }
    );
    assert!(timer.sleeps().is_empty());
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn budget_exhaustion_fills_in_backoff_hint() {
    let server = TestServer::start(vec![Reply::json(429, "{}"), found_1001()]);
    let (client, _) = client_for(&server);

    let error = client
        .find_order_by_source_within("pi_123", Duration::from_secs(2))
        .await
        .unwrap_err();

    assert_eq!(
        error,
        ShopifyError::Throttled {
            retry_after: Some(secs(0.5))
        }
    );
}

// --- Server errors and timeouts ---

#[tokio::test]
async fn html_503_not_repeated_for_create() {
    let page = format!("<html><body>Service Unavailable {PERSONAL_MARKER}</body></html>");
    let server = TestServer::start(vec![Reply::html(503, page), created_1001()]);
    let (client, timer) = client_for(&server);

    let error = client.create_order(&order_variables()).await.unwrap_err();

    assert_eq!(error, ShopifyError::Server("HTTP 503".to_owned()));
    assert_eq!(server.received().len(), 1);
    assert!(timer.sleeps().is_empty());
    assert_eq!(client.last_call_stats().retries, 0);
}

#[tokio::test]
async fn html_503_repeated_for_lookup() {
    let server = TestServer::start(vec![
        Reply::html(503, "<html><body>Service Unavailable</body></html>"),
        found_1001(),
    ]);
    let (client, timer) = client_for(&server);

    let found = client.find_order_by_source("pi_123").await.unwrap();

    assert_eq!(found, Some(order_1001()));
    assert_eq!(timer.sleeps(), vec![secs(0.5)]);
    assert_eq!(server.received().len(), 2);
}

#[tokio::test]
async fn empty_500_is_server_error() {
    let server = TestServer::start(vec![Reply::empty(500), created_1001()]);
    let (client, _) = client_for(&server);

    let error = client.create_order(&order_variables()).await.unwrap_err();

    assert_eq!(error, ShopifyError::Server("HTTP 500".to_owned()));
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn unreadable_json_is_server_error() {
    let server = TestServer::start(vec![
        Reply::json(200, "<html>not json</html>"),
        created_1001(),
    ]);
    let (client, _) = client_for(&server);

    let error = client.create_order(&order_variables()).await.unwrap_err();

    assert!(matches!(error, ShopifyError::Server(_)), "{error:?}");
    assert_eq!(server.received().len(), 1);
}

fn short_timeout_config(base_url: &str) -> ShopifyConfig {
    ShopifyConfig {
        request_timeout: Duration::from_millis(300),
        ..test_config(base_url)
    }
}

#[tokio::test]
async fn timeout_not_repeated_for_create() {
    let server = TestServer::start(vec![
        created_1001().after(Duration::from_millis(800)),
        created_1001(),
    ]);
    let config = short_timeout_config(&server.base_url);
    let (client, timer) = client_with(&server.base_url, config, static_token());

    let error = client.create_order(&order_variables()).await.unwrap_err();

    assert!(matches!(error, ShopifyError::Transport(_)), "{error:?}");
    assert!(timer.sleeps().is_empty());
    assert_eq!(client.last_call_stats().attempts, 1);
}

#[tokio::test]
async fn timeout_repeated_for_lookup() {
    let server = TestServer::start(vec![
        found_1001().after(Duration::from_millis(800)),
        found_1001(),
    ]);
    let config = short_timeout_config(&server.base_url);
    let (client, _) = client_with(&server.base_url, config, static_token());

    let found = client.find_order_by_source("pi_123").await.unwrap();

    assert_eq!(found, Some(order_1001()));
    assert_eq!(client.last_call_stats().attempts, 2);
}

#[tokio::test]
async fn refused_connection_repeated_for_create() {
    let base_url = refused_url();
    let (client, timer) = client_with(&base_url, test_config(&base_url), static_token());

    let error = client.create_order(&order_variables()).await.unwrap_err();

    assert_eq!(
        error,
        ShopifyError::Transport("failed to connect".to_owned())
    );
    // Backoff doubles from 0.5 s until the next wait plus the 2 s timeout passes 20 s.
    assert_eq!(
        timer.sleeps(),
        vec![secs(0.5), secs(1.0), secs(2.0), secs(4.0), secs(8.0)]
    );
    assert_eq!(client.last_call_stats().attempts, 6);
}

// --- HTTP status and GraphQL error mapping ---

#[tokio::test]
async fn shop_status_codes_are_mapped() {
    let cases = [
        (402, ShopifyError::ShopUnavailable(402)),
        (404, ShopifyError::ShopUnavailable(404)),
        (423, ShopifyError::ShopUnavailable(423)),
    ];
    for (status, expected) in cases {
        let server = TestServer::start(vec![
            Reply::json(status, r#"{"errors":"Not Found"}"#),
            created_1001(),
        ]);
        let (client, _) = client_for(&server);

        let error = client.create_order(&order_variables()).await.unwrap_err();

        assert_eq!(error, expected, "HTTP {status}");
        assert_eq!(server.received().len(), 1, "HTTP {status}");
    }
}

#[tokio::test]
async fn http_403_is_access_denied() {
    let server = TestServer::start(vec![Reply::json(403, "{}"), found_1001()]);
    let (client, _) = client_for(&server);

    let error = client.find_order_by_source("pi_123").await.unwrap_err();

    assert!(matches!(error, ShopifyError::AccessDenied(_)), "{error:?}");
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn graphql_access_denied_is_mapped() {
    let server = TestServer::start(vec![
        Reply::json(200, graphql_error_body("ACCESS_DENIED")),
        created_1001(),
    ]);
    let (client, _) = client_for(&server);

    let error = client.create_order(&order_variables()).await.unwrap_err();

    assert!(matches!(error, ShopifyError::AccessDenied(_)), "{error:?}");
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn graphql_internal_error_not_repeated_for_create() {
    let server = TestServer::start(vec![
        Reply::json(200, graphql_error_body("INTERNAL_SERVER_ERROR")),
        created_1001(),
    ]);
    let (client, _) = client_for(&server);

    let error = client.create_order(&order_variables()).await.unwrap_err();

    assert_eq!(
        error,
        ShopifyError::Server("GraphQL INTERNAL_SERVER_ERROR".to_owned())
    );
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn graphql_internal_error_repeated_for_lookup() {
    let server = TestServer::start(vec![
        Reply::json(200, graphql_error_body("INTERNAL_SERVER_ERROR")),
        found_1001(),
    ]);
    let (client, _) = client_for(&server);

    let found = client.find_order_by_source("pi_123").await.unwrap();

    assert_eq!(found, Some(order_1001()));
}

#[tokio::test]
async fn other_graphql_error_not_repeated() {
    let server = TestServer::start(vec![
        Reply::json(200, graphql_error_body("undefinedField")),
        found_1001(),
    ]);
    let (client, _) = client_for(&server);

    let error = client.find_order_by_source("pi_123").await.unwrap_err();

    assert_eq!(
        error,
        ShopifyError::Server("GraphQL error undefinedField".to_owned())
    );
    assert_eq!(server.received().len(), 1);
}

// --- Access tokens ---

#[tokio::test]
async fn static_token_401_is_unauthorized() {
    let server = TestServer::start(vec![Reply::json(401, "{}"), created_1001()]);
    let (client, _) = client_for(&server);

    let error = client.create_order(&order_variables()).await.unwrap_err();

    assert_eq!(error, ShopifyError::Unauthorized);
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn unauthorized_renews_token_once() {
    let server = TestServer::start(vec![
        Reply::json(200, token_body("token-a", 86_399)),
        Reply::json(401, r#"{"errors":"[API] Invalid API key or access token"}"#),
        Reply::json(200, token_body("token-b", 86_399)),
        created_1001(),
    ]);
    let (client, timer) = client_with(
        &server.base_url,
        test_config(&server.base_url),
        client_credentials(),
    );

    let order = client.create_order(&order_variables()).await.unwrap();

    assert_eq!(order, order_1001());
    let requests = server.received();
    let paths: Vec<&str> = requests
        .iter()
        .map(|request| request.path.as_str())
        .collect();
    assert_eq!(
        paths,
        vec![
            "/admin/oauth/access_token",
            "/admin/api/2026-10/graphql.json",
            "/admin/oauth/access_token",
            "/admin/api/2026-10/graphql.json",
        ]
    );
    assert_eq!(
        requests[1].header("x-shopify-access-token"),
        Some("token-a")
    );
    assert_eq!(
        requests[3].header("x-shopify-access-token"),
        Some("token-b")
    );
    assert!(timer.sleeps().is_empty());
    let stats = client.last_call_stats();
    assert_eq!(stats.token_requests, 2);
    assert_eq!(stats.retries, 1);
}

#[tokio::test]
async fn token_request_sends_client_credentials_form() {
    let server = TestServer::start(vec![
        Reply::json(200, token_body("token-a", 86_399)),
        created_1001(),
    ]);
    let (client, _) = client_with(
        &server.base_url,
        test_config(&server.base_url),
        client_credentials(),
    );

    client.create_order(&order_variables()).await.unwrap();

    let request = &server.received()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form: Vec<(String, String)> = serde_urlencoded::from_str(&request.body).unwrap();
    let field = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    assert_eq!(field("grant_type"), Some("client_credentials"));
    assert_eq!(field("client_id"), Some(CLIENT_ID));
    assert_eq!(field("client_secret"), Some(CLIENT_SECRET));
}

#[tokio::test]
async fn second_401_is_unauthorized() {
    let server = TestServer::start(vec![
        Reply::json(200, token_body("token-a", 86_399)),
        Reply::json(401, "{}"),
        Reply::json(200, token_body("token-b", 86_399)),
        Reply::json(401, "{}"),
        Reply::json(200, token_body("token-c", 86_399)),
        created_1001(),
    ]);
    let (client, _) = client_with(
        &server.base_url,
        test_config(&server.base_url),
        client_credentials(),
    );

    let error = client.create_order(&order_variables()).await.unwrap_err();

    assert_eq!(error, ShopifyError::Unauthorized);
    assert_eq!(server.received().len(), 4);
}

#[tokio::test]
async fn rejected_client_credentials_are_unauthorized() {
    let body = r#"{"error":"invalid_client","error_description":"wrong secret"}"#;
    let server = TestServer::start(vec![Reply::json(401, body), created_1001()]);
    let (client, _) = client_with(
        &server.base_url,
        test_config(&server.base_url),
        client_credentials(),
    );

    let error = client.create_order(&order_variables()).await.unwrap_err();

    assert_eq!(error, ShopifyError::Unauthorized);
    assert!(server.graphql_requests().is_empty());
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn token_endpoint_503_is_repeated_for_create() {
    let server = TestServer::start(vec![
        Reply::html(503, "<html>busy</html>"),
        Reply::json(200, token_body("token-a", 86_399)),
        created_1001(),
    ]);
    let (client, timer) = client_with(
        &server.base_url,
        test_config(&server.base_url),
        client_credentials(),
    );

    let order = client.create_order(&order_variables()).await.unwrap();

    assert_eq!(order, order_1001());
    assert_eq!(timer.sleeps(), vec![secs(0.5)]);
    assert_eq!(server.graphql_requests().len(), 1);
}

#[tokio::test]
async fn token_renewed_before_expiry() {
    let server = TestServer::start(vec![
        Reply::json(200, token_body("token-a", 3600)),
        created_1001(),
        created_1001(),
        Reply::json(200, token_body("token-b", 3600)),
        created_1001(),
    ]);
    let clock = ManualClock::new();
    let (client, _) = client_with(
        &server.base_url,
        test_config(&server.base_url),
        client_credentials(),
    );
    let client = client.with_clock(clock.clone());

    client.create_order(&order_variables()).await.unwrap();
    assert_eq!(client.last_call_stats().token_requests, 1);

    // 50 minutes in, the token has 10 minutes left, more than the 5-minute margin.
    clock.advance(Duration::from_secs(50 * 60));
    client.create_order(&order_variables()).await.unwrap();
    assert_eq!(client.last_call_stats().token_requests, 0);

    // 56 minutes in, the token is within 5 minutes of expiry.
    clock.advance(Duration::from_secs(6 * 60));
    client.create_order(&order_variables()).await.unwrap();
    assert_eq!(client.last_call_stats().token_requests, 1);

    let tokens: Vec<String> = server
        .graphql_requests()
        .iter()
        .map(|request| request.header("x-shopify-access-token").unwrap().to_owned())
        .collect();
    assert_eq!(tokens, vec!["token-a", "token-a", "token-b"]);
}

#[tokio::test]
async fn short_lived_token_renewed_halfway() {
    let server = TestServer::start(vec![
        Reply::json(200, token_body("token-a", 60)),
        created_1001(),
        created_1001(),
        Reply::json(200, token_body("token-b", 60)),
        created_1001(),
    ]);
    let clock = ManualClock::new();
    let (client, _) = client_with(
        &server.base_url,
        test_config(&server.base_url),
        client_credentials(),
    );
    let client = client.with_clock(clock.clone());

    client.create_order(&order_variables()).await.unwrap();
    clock.advance(Duration::from_secs(29));
    client.create_order(&order_variables()).await.unwrap();
    assert_eq!(client.last_call_stats().token_requests, 0);
    clock.advance(Duration::from_secs(1));
    client.create_order(&order_variables()).await.unwrap();
    assert_eq!(client.last_call_stats().token_requests, 1);
}

// --- API version drift ---

#[tokio::test]
async fn version_drift_is_recorded() {
    let server = TestServer::start(vec![
        created_1001().header("X-Shopify-API-Version", "2026-07")
    ]);
    let (client, _) = client_for(&server);
    assert_eq!(client.served_api_version(), None);

    client.create_order(&order_variables()).await.unwrap();

    assert_eq!(client.requested_api_version(), "2026-10");
    assert_eq!(client.served_api_version().as_deref(), Some("2026-07"));
}

#[tokio::test]
async fn matching_version_is_recorded() {
    let server = TestServer::start(vec![
        created_1001().header("X-Shopify-API-Version", "2026-10")
    ]);
    let (client, _) = client_for(&server);

    client.create_order(&order_variables()).await.unwrap();

    assert_eq!(client.served_api_version().as_deref(), Some("2026-10"));
}

// --- Lookup by sourceIdentifier ---

#[test]
fn lookup_query_escapes_value() {
    assert_eq!(
        source_identifier_query("pi_123"),
        r#"source_identifier:"pi_123""#
    );
    assert_eq!(
        source_identifier_query(r#"a"b\c d"#),
        r#"source_identifier:"a\"b\\c d""#
    );
}

#[tokio::test]
async fn lookup_sends_escaped_query_and_filters_exact() {
    let id = r#"pi_1"x\y z"#;
    let nodes = json!([
        {"id": "gid://shopify/Order/1", "name": "#1", "sourceIdentifier": "pi_1"},
        {"id": "gid://shopify/Order/2", "name": "#2", "sourceIdentifier": r#"PI_1"X\Y Z"#},
        {"id": "gid://shopify/Order/3", "name": "#3", "sourceIdentifier": null},
        {"id": "gid://shopify/Order/4", "name": "#4", "sourceIdentifier": id},
    ]);
    let server = TestServer::start(vec![Reply::json(200, orders_body(nodes))]);
    let (client, _) = client_for(&server);

    let found = client.find_order_by_source(id).await.unwrap();

    assert_eq!(
        found,
        Some(CreatedOrder {
            id: "gid://shopify/Order/4".to_owned(),
            name: "#4".to_owned(),
        })
    );
    let body = server.received()[0].json();
    assert_eq!(body["query"], ORDERS_BY_SOURCE_QUERY);
    assert_eq!(
        body["variables"],
        json!({"query": r#"source_identifier:"pi_1\"x\\y z""#})
    );
}

#[tokio::test]
async fn lookup_without_exact_match_is_none() {
    let nodes = json!([
        {"id": "gid://shopify/Order/1", "name": "#1", "sourceIdentifier": "PI_123"},
        {"id": "gid://shopify/Order/2", "name": "#2", "sourceIdentifier": "pi_1234"},
    ]);
    let server = TestServer::start(vec![Reply::json(200, orders_body(nodes))]);
    let (client, _) = client_for(&server);

    let found = client.find_order_by_source("pi_123").await.unwrap();

    assert_eq!(found, None);
}

#[tokio::test]
async fn lookup_with_unexpected_shape_is_server_error() {
    let server = TestServer::start(vec![Reply::json(200, r#"{"data":{"orders":null}}"#)]);
    let (client, _) = client_for(&server);

    let error = client.find_order_by_source("pi_123").await.unwrap_err();

    assert!(matches!(error, ShopifyError::Server(_)), "{error:?}");
}

// --- Secrets and personal data ---

#[test]
fn debug_hides_secrets() {
    let static_client =
        ShopifyClient::new(ShopifyConfig::new("example.myshopify.com"), static_token()).unwrap();
    let grant_client = ShopifyClient::new(
        ShopifyConfig::new("example.myshopify.com"),
        client_credentials(),
    )
    .unwrap();
    let secret = ShopifySecret::new(CLIENT_SECRET);

    let texts = [
        format!("{static_client:?}"),
        format!("{grant_client:?}"),
        format!("{:?}", client_credentials()),
        format!("{:?}", static_token()),
        format!("{secret:?}"),
        format!("{secret}"),
    ];
    for text in &texts {
        assert!(!text.contains(TOKEN), "token in {text}");
        assert!(!text.contains(CLIENT_SECRET), "secret in {text}");
        assert!(text.contains("[redacted]"), "no redaction in {text}");
    }
    assert!(texts[1].contains(CLIENT_ID), "{}", texts[1]);
}

#[tokio::test]
async fn errors_and_logs_hide_bodies_and_secrets() {
    // With only one dispatcher registered, `tracing` caches each callsite's interest from
    // whichever thread reaches it first, so a callsite first reached by a parallel test
    // would stay disabled here. A second, silent dispatcher makes the cached interest
    // "sometimes", so `tracing` checks this thread's subscriber on every event.
    let _silent = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let logs = LogCapture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = TestServer::start(vec![
        Reply::json(200, token_body("token-a", 86_399)),
        Reply::json(401, format!(r#"{{"errors":"{PERSONAL_MARKER}"}}"#)),
        Reply::json(200, token_body("token-b", 86_399)),
        Reply::json(429, format!(r#"{{"errors":"{PERSONAL_MARKER}"}}"#)),
        Reply::html(503, format!("<html>{PERSONAL_MARKER}</html>")),
    ]);
    let (client, _) = client_with(
        &server.base_url,
        test_config(&server.base_url),
        client_credentials(),
    );

    let error = client.create_order(&order_variables()).await.unwrap_err();

    let texts = [error.to_string(), format!("{error:?}"), logs.text()];
    for text in &texts {
        assert!(!text.contains(PERSONAL_MARKER), "personal data in {text}");
        assert!(!text.contains("token-a"), "token in {text}");
        assert!(!text.contains("token-b"), "token in {text}");
        assert!(!text.contains(CLIENT_SECRET), "secret in {text}");
    }
    let log_text = logs.text();
    assert!(log_text.contains("retrying Shopify request"), "{log_text}");
    assert!(
        log_text.contains("not repeating the request because Shopify may have run it"),
        "{log_text}"
    );
}

/// A `tracing` writer that keeps everything written to it.
#[derive(Clone, Default)]
struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for LogCapture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

// --- Configuration ---

#[test]
fn shop_domain_becomes_https_endpoint() {
    let client = ShopifyClient::new(
        ShopifyConfig::new("Example-Shop.myshopify.com"),
        static_token(),
    )
    .unwrap();

    assert_eq!(
        client.graphql_url,
        "https://example-shop.myshopify.com/admin/api/2026-10/graphql.json"
    );
    assert_eq!(
        client.token_url,
        "https://example-shop.myshopify.com/admin/oauth/access_token"
    );
}

#[test]
fn loopback_urls_may_use_http() {
    for shop in [
        "http://127.0.0.1:8080",
        "http://localhost:8080/",
        "http://[::1]:8080",
    ] {
        let client = ShopifyClient::new(ShopifyConfig::new(shop), static_token());
        assert!(client.is_ok(), "{shop}: {client:?}");
    }
}

#[test]
fn invalid_shops_are_rejected() {
    for shop in [
        "http://example.myshopify.com",
        "example.com",
        "myshopify.com",
        ".myshopify.com",
        "-shop.myshopify.com",
        "shop.myshopify.com/admin",
        "ftp://127.0.0.1",
        "https://127.0.0.1/?x=1",
        "",
    ] {
        let result = ShopifyClient::new(ShopifyConfig::new(shop), static_token());
        assert!(
            matches!(result, Err(ShopifyConfigError::InvalidShop { .. })),
            "{shop}: {result:?}"
        );
    }
}

#[test]
fn credentials_in_shop_url_are_not_echoed() {
    let result = ShopifyClient::new(
        ShopifyConfig::new("https://user:hunter2@example.myshopify.com"),
        static_token(),
    );

    let error = result.unwrap_err();
    assert!(!error.to_string().contains("hunter2"), "{error}");
}

#[test]
fn invalid_settings_are_rejected() {
    let base = ShopifyConfig::new("example.myshopify.com");
    let version = ShopifyClient::new(
        ShopifyConfig {
            api_version: "2026-10/../x".to_owned(),
            ..base.clone()
        },
        static_token(),
    );
    assert!(matches!(
        version,
        Err(ShopifyConfigError::InvalidApiVersion(_))
    ));

    let budget = ShopifyClient::new(
        ShopifyConfig {
            retry_budget: Duration::ZERO,
            ..base.clone()
        },
        static_token(),
    );
    assert!(matches!(
        budget,
        Err(ShopifyConfigError::ZeroDuration {
            name: "retry_budget"
        })
    ));

    for credentials in [
        ShopifyCredentials::AccessToken(ShopifySecret::new("")),
        ShopifyCredentials::AccessToken(ShopifySecret::new("has space")),
        ShopifyCredentials::ClientCredentials {
            client_id: String::new(),
            client_secret: ShopifySecret::new(CLIENT_SECRET),
        },
        ShopifyCredentials::ClientCredentials {
            client_id: CLIENT_ID.to_owned(),
            client_secret: ShopifySecret::new(""),
        },
    ] {
        let result = ShopifyClient::new(base.clone(), credentials);
        assert!(
            matches!(result, Err(ShopifyConfigError::InvalidCredentials)),
            "{result:?}"
        );
    }
}
