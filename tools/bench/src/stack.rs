//! The local servers a benchmark runs the functions against: localstripe and moto (started
//! by `scripts/peers/run.py`), the Shopify sandbox, and a counting proxy in front of moto.
//!
//! [`LocalStack::start`] needs `LOCALSTRIPE_URL` and `MOTO_URL`, which
//! `python3 scripts/peers/run.py -- COMMAND` sets. It starts the Shopify sandbox in this
//! process, creates a fresh DynamoDB table and a Secrets Manager secret in moto, and starts
//! a [`CountingProxy`] in front of moto. [`LocalStack::function_env`] then lists the
//! environment a function binary or the dev server needs to run against this stack as it
//! runs in Lambda: every AWS call goes through the proxy, and the keys come from the
//! secret.
//!
//! Every key is a fake that only the local servers accept.

use crate::counting_proxy::CountingProxy;
use anyhow::{bail, ensure, Context};
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use shared::orders::ledger::{FailureLog, FailureRecord};
use shared::orders::DynamoFailureLog;
use shared::store::keys::{sort_key, PARTITION_KEY, SORT_KEY};
use shared::store::table::create_table;
use shared::stripe::signature::{self, WebhookSecret};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Fake Stripe secret key, which localstripe accepts like any key starting with `sk_`.
pub const STRIPE_SECRET_KEY: &str = "sk_test_bench_fake_only";
/// Fake webhook signing secret of the benchmark's webhook endpoint.
pub const WEBHOOK_SECRET: &str = "whsec_bench_fake_only";
/// Fake API key of `/api/system-health`.
pub const HEALTH_API_KEY: &str = "bench-health-key-fake-only";
/// The website origin allowed to call the browser-facing routes.
pub const ALLOWED_ORIGIN: &str = "https://events.example.org";
/// The Shopify Admin API version the sandbox serves and the functions request.
pub const SHOPIFY_API_VERSION: &str = "2026-10";
/// The `type` of the events that [`LocalStack::signed_succeeded_event`] builds.
pub const PAYMENT_INTENT_SUCCEEDED: &str = "payment_intent.succeeded";

/// How many registrations [`LocalStack::prepare_payments`] creates at once.
const PREPARE_CONCURRENCY: usize = 10;
/// Largest count of payments [`LocalStack::prepare_payments`] can make distinct phone
/// numbers for: the last four digits of `(202) 555-1000` up to `555-9999`.
const MAX_PREPARED_PAYMENTS: usize = 9000;
/// Requests to `POST /api/create-payment-intent` per registration before giving up.
const CHECKOUT_ATTEMPTS: u32 = 5;
/// Wait before sending a registration again after a 503.
const CHECKOUT_RETRY_DELAY: std::time::Duration = std::time::Duration::from_millis(500);
/// Upper bound on the failures read back from the failure log.
const MAX_FAILURES_LISTED: usize = 100_000;

/// Kind of credentials the functions use with the Shopify sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShopifyAuth {
    /// A static Admin API token, as a custom app has.
    AccessToken,
    /// A client id and secret that the functions exchange for a token, as a Dev Dashboard
    /// app has.
    ClientCredentials,
}

/// Settings of a [`LocalStack`].
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Size of the sandbox's query-cost bucket, in cost points.
    pub cost_bucket_maximum: f64,
    /// Cost points the sandbox restores per second.
    pub cost_restore_rate: f64,
    pub shopify_auth: ShopifyAuth,
}

impl Default for StackOptions {
    /// Returns the sandbox's own defaults: a 2000-point bucket restored at 100 points per
    /// second, and a static access token.
    fn default() -> Self {
        Self {
            cost_bucket_maximum: 2000.0,
            cost_restore_rate: 100.0,
            shopify_auth: ShopifyAuth::AccessToken,
        }
    }
}

/// A registration made through `POST /api/create-payment-intent`, with its PaymentIntent.
#[derive(Debug, Clone)]
pub struct PreparedPayment {
    pub payment_intent_id: String,
    pub registration_id: String,
    /// Amount in minor units, as the PaymentIntent states it.
    pub amount: i64,
    /// Lower-case ISO 4217 code, as Stripe sends it.
    pub currency: String,
    /// The PaymentIntent as localstripe returned it after checkout, before payment.
    pub payment_intent: Value,
    /// Requests to `POST /api/create-payment-intent` this registration took; more than 1
    /// when the route returned 503.
    pub checkout_attempts: u32,
}

/// A webhook body and the `Stripe-Signature` header value that signs it.
#[derive(Debug, Clone)]
pub struct SignedEvent {
    pub body: String,
    pub signature_header: String,
}

/// Shopify GraphQL calls counted by the sandbox, by operation name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopifyCalls {
    pub total: u64,
    pub by_operation: BTreeMap<String, u64>,
}

impl ShopifyCalls {
    /// Returns the calls made after `earlier` was read.
    fn since(&self, earlier: &ShopifyCalls) -> ShopifyCalls {
        let by_operation = self
            .by_operation
            .iter()
            .map(|(operation, count)| {
                let before = earlier.by_operation.get(operation).copied().unwrap_or(0);
                (operation.clone(), count.saturating_sub(before))
            })
            .filter(|(_, count)| *count > 0)
            .collect();
        ShopifyCalls {
            total: self.total.saturating_sub(earlier.total),
            by_operation,
        }
    }
}

/// The running servers of one benchmark, and the table and secret it created in moto.
pub struct LocalStack {
    localstripe_url: String,
    moto_url: String,
    sandbox: shopify_sandbox::Sandbox,
    proxy: CountingProxy,
    /// A DynamoDB client that talks to moto directly, so its reads are not counted.
    dynamodb: aws_sdk_dynamodb::Client,
    table_name: String,
    secret_arn: String,
    options: StackOptions,
    aws: FakeAwsSettings,
    http: reqwest::Client,
    webhook_secret: WebhookSecret,
    /// Sandbox call counts at the last [`LocalStack::reset_counts`].
    shopify_baseline: Mutex<ShopifyCalls>,
    /// Distinguishes the e-mail addresses of this stack's registrations from other runs'.
    run_tag: String,
}

/// The fake AWS region and credentials that moto accepts.
#[derive(Debug, Clone)]
struct FakeAwsSettings {
    region: String,
    access_key_id: String,
    secret_access_key: String,
}

impl FakeAwsSettings {
    /// Reads the values that `scripts/peers/run.py` sets, with its values as defaults.
    fn from_env() -> Self {
        let read = |name: &str, default: &str| {
            std::env::var(name)
                .ok()
                .filter(|value| !value.is_empty())
                .unwrap_or_else(|| default.to_owned())
        };
        Self {
            region: read("AWS_REGION", "us-east-1"),
            access_key_id: read("AWS_ACCESS_KEY_ID", "testing"),
            secret_access_key: read("AWS_SECRET_ACCESS_KEY", "testing"),
        }
    }

    async fn sdk_config(&self, endpoint_url: &str) -> aws_config::SdkConfig {
        let credentials = Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            None,
            None,
            "bench-fake",
        );
        aws_config::defaults(BehaviorVersion::latest())
            .http_client(shared::setup::aws_http_client())
            .endpoint_url(endpoint_url)
            .region(Region::new(self.region.clone()))
            .credentials_provider(credentials)
            .load()
            .await
    }
}

impl LocalStack {
    /// Starts the sandbox and the proxy, and creates the table and the secret in moto.
    pub async fn start(options: StackOptions) -> anyhow::Result<LocalStack> {
        let localstripe_url = peer_url("LOCALSTRIPE_URL")?;
        let moto_url = peer_url("MOTO_URL")?;
        let aws = FakeAwsSettings::from_env();
        let run_tag = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();

        let schema =
            tokio::task::spawn_blocking(|| shopify_sandbox::ensure_schema(SHOPIFY_API_VERSION))
                .await
                .context("the schema download task failed")??;
        let mut sandbox_config = shopify_sandbox::Config::new(schema);
        sandbox_config.cost_bucket_maximum = options.cost_bucket_maximum;
        sandbox_config.cost_restore_rate = options.cost_restore_rate;
        let sandbox = shopify_sandbox::start(sandbox_config).await?;

        let sdk_config = aws.sdk_config(&moto_url).await;
        let dynamodb = aws_sdk_dynamodb::Client::new(&sdk_config);
        let table_name = format!("bench-registrations-{run_tag}");
        create_table(&dynamodb, &table_name)
            .await
            .map_err(|error| {
                anyhow::anyhow!("creating table {table_name} in moto failed: {error}")
            })?;
        let secrets = aws_sdk_secretsmanager::Client::new(&sdk_config);
        let secret_arn = create_secret(&secrets, &run_tag, &options).await?;

        let proxy = CountingProxy::start(&moto_url).await?;
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .context("building the HTTP client failed")?;
        Ok(LocalStack {
            localstripe_url,
            moto_url,
            sandbox,
            proxy,
            dynamodb,
            table_name,
            secret_arn,
            options,
            aws,
            http,
            webhook_secret: WebhookSecret::new(WEBHOOK_SECRET)?,
            shopify_baseline: Mutex::new(ShopifyCalls::default()),
            run_tag,
        })
    }

    /// Returns the environment a function binary or the dev server needs to run against
    /// this stack as in Lambda. It names the table, the secret's ARN, the counting proxy as
    /// the AWS endpoint, fake AWS credentials and region, localstripe as the Stripe API and
    /// the sandbox as the shop. No key is passed directly, because Lambda functions read
    /// them from the secret too.
    pub fn function_env(&self) -> Vec<(String, String)> {
        let pairs = [
            ("TABLE_NAME", self.table_name.as_str()),
            ("SECRETS_ARN", self.secret_arn.as_str()),
            ("AWS_ENDPOINT_URL", &self.proxy.url()),
            ("AWS_REGION", self.aws.region.as_str()),
            ("AWS_DEFAULT_REGION", self.aws.region.as_str()),
            ("AWS_ACCESS_KEY_ID", self.aws.access_key_id.as_str()),
            ("AWS_SECRET_ACCESS_KEY", self.aws.secret_access_key.as_str()),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("STRIPE_API_BASE", self.localstripe_url.as_str()),
            ("SHOPIFY_SHOP", &self.sandbox.base_url()),
            ("SHOPIFY_API_VERSION", SHOPIFY_API_VERSION),
            ("ALLOWED_ORIGINS", ALLOWED_ORIGIN),
            ("LIVEMODE", "false"),
            ("RUST_LOG", "warn"),
        ];
        pairs
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    }

    pub fn table_name(&self) -> &str {
        &self.table_name
    }

    pub fn secret_arn(&self) -> &str {
        &self.secret_arn
    }

    /// Returns the counting proxy's URL, which `AWS_ENDPOINT_URL` names.
    pub fn aws_endpoint_url(&self) -> String {
        self.proxy.url()
    }

    /// Returns moto's own URL, which the proxy forwards to.
    pub fn moto_url(&self) -> &str {
        &self.moto_url
    }

    pub fn localstripe_url(&self) -> &str {
        &self.localstripe_url
    }

    /// Returns the sandbox's base URL, which `SHOPIFY_SHOP` names.
    pub fn sandbox_url(&self) -> String {
        self.sandbox.base_url()
    }

    pub fn options(&self) -> &StackOptions {
        &self.options
    }

    /// Creates `count` distinct registrations through `POST /api/create-payment-intent` of
    /// the server at `api_base_url`, ten at a time, and reads each PaymentIntent back from
    /// localstripe. The result is in creation order. A registration that gets a 503 is
    /// sent again, up to five times, as the website would.
    ///
    /// Registrations differ in name, e-mail and phone number, so each one becomes a new
    /// Shopify customer. They alternate between the catalog's two events, one or both days
    /// and one or two participants, and every fifth Harbor Classic registration uses the
    /// discount code `CLUB20`.
    pub async fn prepare_payments(
        &self,
        api_base_url: &str,
        count: usize,
    ) -> anyhow::Result<Vec<PreparedPayment>> {
        ensure!(
            count <= MAX_PREPARED_PAYMENTS,
            "{count} payments requested, but at most {MAX_PREPARED_PAYMENTS} get distinct phone numbers"
        );
        let api = api_base_url.trim_end_matches('/');
        futures::stream::iter(0..count)
            .map(|index| self.prepare_payment(api, index))
            .buffered(PREPARE_CONCURRENCY)
            .try_collect()
            .await
    }

    async fn prepare_payment(&self, api: &str, index: usize) -> anyhow::Result<PreparedPayment> {
        let form = registration_form(&self.run_tag, index);
        let mut checkout_attempts = 0;
        let answer = loop {
            checkout_attempts += 1;
            let (status, answer) = self.create_payment_intent(api, index, &form).await?;
            // The route returns 503 when the registration could not be stored, and its
            // error message recommends a retry. The same form, with the same
            // registration id, is safe to send again.
            if status == reqwest::StatusCode::SERVICE_UNAVAILABLE
                && checkout_attempts < CHECKOUT_ATTEMPTS
            {
                tracing::warn!(index, %answer, "create-payment-intent returned 503; trying again");
                tokio::time::sleep(CHECKOUT_RETRY_DELAY).await;
                continue;
            }
            ensure!(
                status.is_success() && answer["payment_required"] == true,
                "POST /api/create-payment-intent for registration {index} returned {status} \
                 after {checkout_attempts} attempts: {answer}"
            );
            break answer;
        };
        let payment_intent_id = answer["payment_intent_id"]
            .as_str()
            .with_context(|| format!("no payment_intent_id in {answer}"))?
            .to_owned();

        let payment_intent = self.retrieve_payment_intent(&payment_intent_id).await?;
        let amount = payment_intent["amount"]
            .as_i64()
            .with_context(|| format!("PaymentIntent {payment_intent_id} has no amount"))?;
        let currency = payment_intent["currency"]
            .as_str()
            .with_context(|| format!("PaymentIntent {payment_intent_id} has no currency"))?
            .to_owned();
        ensure!(
            answer["quote"]["total"].as_i64() == Some(amount),
            "PaymentIntent {payment_intent_id} is for {amount}, but the quote's total is {}",
            answer["quote"]["total"]
        );
        Ok(PreparedPayment {
            payment_intent_id,
            registration_id: answer["registration_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            amount,
            currency,
            payment_intent,
            checkout_attempts,
        })
    }

    async fn create_payment_intent(
        &self,
        api: &str,
        index: usize,
        form: &Value,
    ) -> anyhow::Result<(reqwest::StatusCode, Value)> {
        let response = self
            .http
            .post(format!("{api}/api/create-payment-intent"))
            .header("origin", ALLOWED_ORIGIN)
            .json(form)
            .send()
            .await
            .with_context(|| {
                format!("POST /api/create-payment-intent for registration {index} failed")
            })?;
        let status = response.status();
        let answer: Value = response.json().await.with_context(|| {
            format!("the create-payment-intent response for registration {index} is not JSON")
        })?;
        Ok((status, answer))
    }

    async fn retrieve_payment_intent(&self, payment_intent_id: &str) -> anyhow::Result<Value> {
        let url = format!(
            "{}/v1/payment_intents/{payment_intent_id}",
            self.localstripe_url
        );
        let response = self
            .http
            .get(url)
            .bearer_auth(STRIPE_SECRET_KEY)
            .send()
            .await
            .with_context(|| {
                format!("reading PaymentIntent {payment_intent_id} from localstripe failed")
            })?;
        let status = response.status();
        let body: Value = response.json().await?;
        ensure!(
            status.is_success(),
            "reading PaymentIntent {payment_intent_id} from localstripe returned {status}: {body}"
        );
        Ok(body)
    }

    /// Builds the `payment_intent.succeeded` event Stripe would send once `payment` is paid,
    /// created at `unix_time`, and signs it at the same time with [`WEBHOOK_SECRET`].
    ///
    /// The PaymentIntent is the one read from localstripe after checkout, with the fields
    /// that paying changes set as Stripe sets them: `status`, `amount_received` and
    /// `latest_charge` (a made-up charge id, because the payment is never confirmed in
    /// localstripe). Its metadata is what the create-payment-intent route stored.
    pub fn signed_succeeded_event(
        &self,
        payment: &PreparedPayment,
        event_id: &str,
        unix_time: i64,
    ) -> SignedEvent {
        let body = succeeded_event_body(payment, event_id, unix_time);
        let signature_header = self.sign(&body, unix_time);
        SignedEvent {
            body,
            signature_header,
        }
    }

    /// Returns the `Stripe-Signature` header for `body` signed at `unix_time`, as Stripe
    /// signs every delivery attempt of an event again.
    pub fn sign(&self, body: &str, unix_time: i64) -> String {
        signature::sign(unix_time, body.as_bytes(), &self.webhook_secret)
    }

    /// Returns the AWS requests that passed the proxy since the start or the last
    /// [`reset_counts`](Self::reset_counts), by `X-Amz-Target` (such as
    /// `DynamoDB_20120810.UpdateItem`).
    pub fn dynamo_calls(&self) -> BTreeMap<String, u64> {
        self.proxy.snapshot()
    }

    /// Sets the proxy's counts to zero and makes [`shopify_calls`](Self::shopify_calls)
    /// count from now. The sandbox's own counts are not changed.
    pub async fn reset_counts(&self) -> anyhow::Result<()> {
        let current = self.sandbox_calls().await?;
        self.proxy.reset();
        *self
            .shopify_baseline
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = current;
        Ok(())
    }

    /// Returns the GraphQL calls the sandbox received since the last
    /// [`reset_counts`](Self::reset_counts), by operation name. Token requests are not
    /// GraphQL calls and are not counted.
    pub async fn shopify_calls(&self) -> anyhow::Result<ShopifyCalls> {
        let current = self.sandbox_calls().await?;
        let baseline = self
            .shopify_baseline
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        Ok(current.since(&baseline))
    }

    async fn sandbox_calls(&self) -> anyhow::Result<ShopifyCalls> {
        let calls = self.sandbox_get("/_sandbox/calls").await?;
        let by_operation = calls["byOperation"]
            .as_object()
            .with_context(|| format!("the sandbox's call counts have no byOperation: {calls}"))?
            .iter()
            .map(|(operation, count)| (operation.clone(), count.as_u64().unwrap_or(0)))
            .collect();
        Ok(ShopifyCalls {
            total: calls["total"].as_u64().unwrap_or(0),
            by_operation,
        })
    }

    /// Returns every order in the sandbox, as `GET /_sandbox/orders` lists them.
    pub async fn shopify_orders(&self) -> anyhow::Result<Vec<Value>> {
        match self.sandbox_get("/_sandbox/orders").await? {
            Value::Array(orders) => Ok(orders),
            other => bail!("the sandbox's order list is not an array: {other}"),
        }
    }

    async fn sandbox_get(&self, path: &str) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.sandbox.base_url());
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .with_context(|| format!("GET {url} failed"))?;
        let status = response.status();
        ensure!(status.is_success(), "GET {url} returned {status}");
        Ok(response.json().await?)
    }

    /// Returns the failures the order path recorded and no later attempt resolved, read
    /// from moto directly, so the read is not counted.
    pub async fn failures(&self) -> anyhow::Result<Vec<FailureRecord>> {
        let log = DynamoFailureLog::new(self.dynamodb.clone(), &self.table_name, 0);
        Ok(log.list(MAX_FAILURES_LISTED).await?)
    }

    /// Returns the `status` of every order-ledger record (`in_progress`, `completed` or
    /// `failed`) by PaymentIntent id, read from moto directly with a Scan.
    pub async fn order_record_statuses(&self) -> anyhow::Result<BTreeMap<String, String>> {
        let items: Vec<_> = self
            .dynamodb
            .scan()
            .table_name(&self.table_name)
            .filter_expression("#sk = :order")
            .expression_attribute_names("#sk", SORT_KEY)
            .expression_attribute_values(":order", AttributeValue::S(sort_key::ORDER.to_owned()))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .context("scanning the table for order records failed")?;
        let text = |item: &std::collections::HashMap<String, AttributeValue>, name: &str| {
            item.get(name)
                .and_then(|value| value.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        Ok(items
            .iter()
            .filter_map(|item| {
                let pk = text(item, PARTITION_KEY);
                let payment_intent_id = pk.strip_prefix("PAYMENT_INTENT#")?.to_owned();
                Some((payment_intent_id, text(item, "status")))
            })
            .collect())
    }

    /// Stops the proxy and the sandbox. The table and the secret stay in moto until moto
    /// stops, because moto keeps its data in memory only.
    pub async fn shutdown(self) {
        self.proxy.shutdown().await;
        self.sandbox.shutdown().await;
    }
}

fn peer_url(name: &str) -> anyhow::Result<String> {
    match std::env::var(name) {
        Ok(url) if !url.is_empty() => Ok(url.trim_end_matches('/').to_owned()),
        _ => bail!(
            "{name} is not set: run the benchmark through `python3 scripts/peers/run.py -- ...`, \
             which starts localstripe and moto"
        ),
    }
}

/// Stores the secret document that `shared::secrets::AppSecrets` reads, and returns the
/// secret's ARN.
async fn create_secret(
    client: &aws_sdk_secretsmanager::Client,
    run_tag: &str,
    options: &StackOptions,
) -> anyhow::Result<String> {
    let mut document = json!({
        "stripe_secret_key": STRIPE_SECRET_KEY,
        "stripe_webhook_secrets": [WEBHOOK_SECRET],
        "health_api_key": HEALTH_API_KEY,
    });
    match options.shopify_auth {
        ShopifyAuth::AccessToken => {
            document["shopify_access_token"] = json!(shopify_sandbox::DEFAULT_ACCESS_TOKEN);
        }
        ShopifyAuth::ClientCredentials => {
            document["shopify_client_id"] = json!(shopify_sandbox::DEFAULT_CLIENT_ID);
            document["shopify_client_secret"] = json!(shopify_sandbox::DEFAULT_CLIENT_SECRET);
        }
    }
    let name = format!("bench/registration-pipeline/{run_tag}");
    let created = client
        .create_secret()
        .name(&name)
        .secret_string(document.to_string())
        .send()
        .await
        .with_context(|| format!("creating secret {name} in moto failed"))?;
    created
        .arn()
        .map(str::to_owned)
        .with_context(|| format!("moto returned no ARN for secret {name}"))
}

/// Builds registration number `index` of a run: distinct names, e-mail and phone number,
/// and a basket that varies with `index`.
fn registration_form(run_tag: &str, index: usize) -> Value {
    let harbor = index % 2 == 0;
    let (event_id, all_days) = if harbor {
        ("harbor-classic-2027", ["2027-06-12", "2027-06-13"])
    } else {
        ("youth-clinic-2027", ["2027-05-08", "2027-05-09"])
    };
    let days: Vec<&str> = match index % 3 {
        0 => all_days.to_vec(),
        1 => vec![all_days[0]],
        _ => vec![all_days[1]],
    };
    let t_shirt_size = ["S", "M", "L"][index % 3];
    let mut form = json!({
        "registration_id": uuid::Uuid::new_v4().to_string(),
        "event_id": event_id,
        "days": days,
        "quantity": 1 + index % 2,
        "first_name": "Bench",
        "last_name": format!("Runner {index:04}"),
        "email": format!("bench.runner.{index:04}.{run_tag}@example.org"),
        "phone": format!("(202) 555-{:04}", 1000 + index),
        "fields": {"club": "Harbor Rowing Club", "t_shirt_size": t_shirt_size},
    });
    if harbor && index % 5 == 0 {
        form["discount_code"] = json!("CLUB20");
    }
    form
}

/// Builds the event body as Stripe renders it: pretty-printed JSON, with the PaymentIntent
/// of `payment` marked paid.
fn succeeded_event_body(payment: &PreparedPayment, event_id: &str, unix_time: i64) -> String {
    let mut intent = payment.payment_intent.clone();
    let charge_id = format!(
        "ch_{}",
        payment
            .payment_intent_id
            .strip_prefix("pi_")
            .unwrap_or(&payment.payment_intent_id)
    );
    intent["status"] = json!("succeeded");
    intent["amount_received"] = json!(payment.amount);
    intent["latest_charge"] = json!(charge_id);
    let event = json!({
        "id": event_id,
        "object": "event",
        "api_version": shared::stripe::StripeConfig::default().api_version,
        "created": unix_time,
        "data": {"object": intent},
        "livemode": false,
        "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "type": PAYMENT_INTENT_SUCCEEDED,
    });
    serde_json::to_string_pretty(&event).expect("a JSON value always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::stripe::event::{parse_event, EventKind};

    fn payment() -> PreparedPayment {
        PreparedPayment {
            payment_intent_id: "pi_bench_1".to_owned(),
            registration_id: "7d2c8f4e-3b1a-4c5d-9e6f-0a1b2c3d4e5f".to_owned(),
            amount: 27390,
            currency: "usd".to_owned(),
            checkout_attempts: 1,
            payment_intent: json!({
                "id": "pi_bench_1",
                "object": "payment_intent",
                "amount": 27390,
                "amount_received": 0,
                "currency": "usd",
                "status": "requires_payment_method",
                "metadata": {"registration_id": "7d2c8f4e-3b1a-4c5d-9e6f-0a1b2c3d4e5f"},
            }),
        }
    }

    #[test]
    fn event_body_marks_intent_paid() {
        let body = succeeded_event_body(&payment(), "evt_bench_1", 1_796_396_400);
        let event = parse_event(body.as_bytes()).expect("the product must read the event");
        assert_eq!(event.id, "evt_bench_1");
        assert_eq!(event.kind, EventKind::PaymentIntentSucceeded);
        assert_eq!(event.created, 1_796_396_400);
        assert!(!event.livemode);
        let intent = event.payment_intent.expect("a PaymentIntent");
        assert_eq!(intent.id, "pi_bench_1");
        assert_eq!(intent.status, "succeeded");
        assert_eq!(intent.amount_received, Some(27390));
        assert_eq!(intent.latest_charge.as_deref(), Some("ch_bench_1"));
        assert_eq!(
            intent.metadata.get("registration_id").map(String::as_str),
            Some("7d2c8f4e-3b1a-4c5d-9e6f-0a1b2c3d4e5f")
        );
    }

    #[test]
    fn event_signature_verifies() {
        let body = succeeded_event_body(&payment(), "evt_bench_2", 1_796_396_400);
        let secret = WebhookSecret::new(WEBHOOK_SECRET).unwrap();
        let header = signature::sign(1_796_396_400, body.as_bytes(), &secret);
        let verified = signature::verify(
            Some(&header),
            body.as_bytes(),
            &[secret],
            1_796_396_400,
            signature::DEFAULT_TOLERANCE_SECONDS,
        );
        assert_eq!(verified, Ok(()));
    }

    #[test]
    fn registration_forms_are_distinct() {
        let forms: Vec<Value> = (0..30)
            .map(|index| registration_form("tag", index))
            .collect();
        let distinct = |field: &str| {
            forms
                .iter()
                .map(|form| form[field].to_string())
                .collect::<std::collections::HashSet<_>>()
                .len()
        };
        assert_eq!(distinct("email"), 30);
        assert_eq!(distinct("phone"), 30);
        assert_eq!(distinct("last_name"), 30);
        assert_eq!(distinct("registration_id"), 30);
    }

    #[test]
    fn shopify_calls_since_subtracts() {
        let earlier = ShopifyCalls {
            total: 3,
            by_operation: BTreeMap::from([("OrderCreate".to_owned(), 3)]),
        };
        let later = ShopifyCalls {
            total: 6,
            by_operation: BTreeMap::from([
                ("OrderCreate".to_owned(), 5),
                ("FindOrders".to_owned(), 1),
            ]),
        };
        let since = later.since(&earlier);
        assert_eq!(since.total, 3);
        assert_eq!(since.by_operation.get("OrderCreate"), Some(&2));
        assert_eq!(since.by_operation.get("FindOrders"), Some(&1));
    }
}
