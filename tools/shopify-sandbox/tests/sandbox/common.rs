//! Starting a sandbox in-process and talking to it over HTTP.

use std::path::PathBuf;
use std::sync::OnceLock;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::{json, Value};
use shopify_sandbox::{Config, Sandbox, DEFAULT_ACCESS_TOKEN, DEFAULT_API_VERSION};

/// The `orderCreate` document the tests send. It selects the order fields that the product
/// is expected to read.
pub const ORDER_CREATE: &str = r#"
mutation CreateOrder($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
  orderCreate(order: $order, options: $options) {
    order {
      id
      name
      sourceIdentifier
      email
      phone
      test
      tags
      note
      displayFinancialStatus
      createdAt
      totalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
      currentTotalTaxSet { shopMoney { amount currencyCode } }
      customer { id email }
      customAttributes { key value }
      lineItems(first: 10) { nodes { title quantity taxLines { title rate } } }
      taxLines { title rate priceSet { shopMoney { amount } } }
    }
    userErrors { field message code }
  }
}
"#;

/// Returns the cached Admin schema, fetching it on first use. Fails the test (never skips
/// it) when the cache cannot be made, because every test here needs the real schema.
pub fn schema_path() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        shopify_sandbox::ensure_schema(DEFAULT_API_VERSION).unwrap_or_else(|err| {
            panic!(
                "The Shopify Admin schema could not be cached, so the sandbox cannot validate \
                 anything. Run scripts/shopify-schema.sh (it needs npm and the npm registry) \
                 and check its output. Error: {err:#}"
            )
        })
    })
    .clone()
}

pub async fn start() -> TestSandbox {
    start_with(|_| {}).await
}

pub async fn start_with(configure: impl FnOnce(&mut Config)) -> TestSandbox {
    let mut config = Config::new(schema_path());
    configure(&mut config);
    let sandbox = shopify_sandbox::start(config)
        .await
        .expect("the sandbox should start");
    TestSandbox {
        sandbox,
        http: reqwest::Client::new(),
    }
}

pub struct TestSandbox {
    pub sandbox: Sandbox,
    pub http: reqwest::Client,
}

/// A response read as JSON (`Value::Null` when the body is empty or not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Reply {
    async fn read(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response
            .text()
            .await
            .expect("the response body should be readable");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Returns the first GraphQL error's `extensions.code`.
    pub fn error_code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {}", self.body))
    }
}

impl TestSandbox {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.base_url())
    }

    /// Sends a GraphQL request with the default static token.
    pub async fn graphql(&self, query: &str, variables: Value) -> Reply {
        self.graphql_with_token(DEFAULT_ACCESS_TOKEN, query, variables)
            .await
    }

    pub async fn graphql_with_token(&self, token: &str, query: &str, variables: Value) -> Reply {
        let response = self
            .send_graphql(&self.sandbox.graphql_url(), token, query, variables)
            .await
            .expect("the GraphQL request should get a response");
        Reply::read(response).await
    }

    pub async fn send_graphql(
        &self,
        url: &str,
        token: &str,
        query: &str,
        variables: Value,
    ) -> reqwest::Result<reqwest::Response> {
        self.http
            .post(url)
            .header("X-Shopify-Access-Token", token)
            .json(&json!({"query": query, "variables": variables}))
            .send()
            .await
    }

    /// Sends `orderCreate` with [`ORDER_CREATE`] and returns `data.orderCreate`.
    pub async fn create_order(&self, order: Value) -> Value {
        let reply = self
            .graphql(
                ORDER_CREATE,
                json!({"order": order, "options": {"sendReceipt": true}}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert!(
            reply.body.get("errors").is_none(),
            "GraphQL errors: {}",
            reply.body
        );
        reply.body["data"]["orderCreate"].clone()
    }

    pub async fn get(&self, path: &str) -> Reply {
        let response = self
            .http
            .get(self.url(path))
            .send()
            .await
            .expect("the control request should get a response");
        Reply::read(response).await
    }

    pub async fn post_json(&self, path: &str, body: Value) -> Reply {
        let response = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("the control request should get a response");
        Reply::read(response).await
    }

    pub async fn push_faults(&self, faults: Value) {
        let reply = self.post_json("/_sandbox/faults", faults).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    }
}

/// Returns the input of a paid registration order: one line item with its own tax line
/// and one Stripe sale.
pub fn order_input(source_identifier: &str, email: &str) -> Value {
    json!({
        "currency": "USD",
        "email": email,
        "sourceIdentifier": source_identifier,
        "sourceName": "registration-form",
        "test": true,
        "tags": ["registration", "10k"],
        "note": "Registered online",
        "financialStatus": "PAID",
        "customAttributes": [
            {"key": "registration_id", "value": source_identifier},
            {"key": "bib_name", "value": "ANN"}
        ],
        "customer": {"toUpsert": {
            "email": email,
            "firstName": "Ann",
            "lastName": "Lee",
            "phone": "+14155552671"
        }},
        "lineItems": [{
            "title": "10K race entry",
            "quantity": 1,
            "requiresShipping": false,
            "priceSet": {"shopMoney": {"amount": "50.00", "currencyCode": "USD"}},
            "taxLines": [{
                "title": "Sales tax",
                "rate": "0.1",
                "priceSet": {"shopMoney": {"amount": "5.00", "currencyCode": "USD"}}
            }]
        }],
        "transactions": [{
            "kind": "SALE",
            "status": "SUCCESS",
            "gateway": "stripe",
            "authorizationCode": "pi_sandbox_1",
            "amountSet": {"shopMoney": {"amount": "55.00", "currencyCode": "USD"}}
        }]
    })
}

/// Returns the `orderCreate` user errors as `(field path joined by dots, message)`.
pub fn user_errors(payload: &Value) -> Vec<(String, String)> {
    payload["userErrors"]
        .as_array()
        .expect("userErrors is a list")
        .iter()
        .map(|error| {
            let field: Vec<&str> = error["field"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            (
                field.join("."),
                error["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}
