//! `make demo`: one sample registration from the website's first call to the Shopify order,
//! on this machine.
//!
//! `scripts/peers/run.py` starts localstripe and moto and sets `LOCALSTRIPE_URL` and
//! `MOTO_URL`; this program starts the Shopify sandbox and the dev server, then does what
//! the registration page and the buyer would: checks a discount code, creates the
//! PaymentIntent, confirms it with a test card, and waits for localstripe's signed webhook
//! to become a Shopify order. It prints the order and the day's metrics from system-health,
//! and exits non-zero if any step fails.

use anyhow::{bail, ensure, Context};
use serde_json::{json, Value};
use shared::store::table::create_table;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ORIGIN: &str = "https://events.example.org";
const STRIPE_KEY: &str = "sk_test_demo_local_only";
const WEBHOOK_SECRET: &str = "whsec_test_local_only";
const HEALTH_KEY: &str = "demo-health-key";

fn main() -> anyhow::Result<()> {
    let localstripe = required("LOCALSTRIPE_URL")?;
    let moto = required("MOTO_URL")?;
    let sandbox_port = free_port()?;
    let table = format!("registration-demo-{}", std::process::id());

    // The dev server reads the same settings as the Lambda functions. They are set here,
    // before any thread starts, so that nothing reads the environment while it changes.
    for (name, value) in [
        ("TABLE_NAME", table.as_str()),
        ("AWS_ENDPOINT_URL", moto.as_str()),
        ("STRIPE_API_BASE", localstripe.as_str()),
        ("STRIPE_SECRET_KEY", STRIPE_KEY),
        ("STRIPE_WEBHOOK_SECRETS", WEBHOOK_SECRET),
        ("SHOPIFY_SHOP", &format!("http://127.0.0.1:{sandbox_port}")),
        ("SHOPIFY_CLIENT_ID", shopify_sandbox::DEFAULT_CLIENT_ID),
        (
            "SHOPIFY_CLIENT_SECRET",
            shopify_sandbox::DEFAULT_CLIENT_SECRET,
        ),
        ("HEALTH_API_KEY", HEALTH_KEY),
        ("ALLOWED_ORIGINS", ORIGIN),
        ("RUST_LOG", "warn"),
    ] {
        std::env::set_var(name, value);
    }
    std::env::remove_var("SECRETS_ARN");
    std::env::remove_var("SHOPIFY_ACCESS_TOKEN");

    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run(&localstripe, sandbox_port, &table))
}

async fn run(localstripe: &str, sandbox_port: u16, table: &str) -> anyhow::Result<()> {
    shared::telemetry::init();
    step("Starting the Shopify sandbox (Admin API 2026-10, schema-checked)");
    let schema =
        tokio::task::spawn_blocking(|| shopify_sandbox::ensure_schema("2026-10")).await??;
    let mut sandbox_config = shopify_sandbox::Config::new(schema);
    sandbox_config.port = sandbox_port;
    let sandbox = shopify_sandbox::start(sandbox_config).await?;

    step(&format!("Creating the DynamoDB table {table} in moto"));
    let aws = shared::setup::aws_config().await;
    create_table(&aws_sdk_dynamodb::Client::new(&aws), table)
        .await
        .map_err(|error| anyhow::anyhow!("creating the table in moto failed: {error}"))?;

    step("Starting the dev server with the functions' handlers");
    let routes = dev_server::routes_from_env().await?;
    let server =
        dev_server::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), Arc::new(routes)).await?;
    let api = server.base_url();
    let http = reqwest::Client::new();
    let webhook_url = format!("{api}/api/stripe-webhook");
    let registered = http
        .post(format!("{localstripe}/_config/webhooks/demo"))
        .form(&[("url", webhook_url.as_str()), ("secret", WEBHOOK_SECRET)])
        .send()
        .await?;
    ensure!(
        registered.status().is_success(),
        "registering the webhook in localstripe failed: {}",
        registered.status()
    );
    println!("   API at {api}, webhooks from localstripe to {webhook_url}");

    step("Checking discount code SPRING2026 as the buyer types it");
    let basket = json!({"event_id": "harbor-classic-2027", "days": ["2027-06-12", "2027-06-13"], "quantity": 1});
    let mut check = basket.clone();
    check["code"] = json!("spring2026");
    let answer = post(&http, &api, "/api/validate-discount", &check).await?;
    println!(
        "   valid: {}, reason: {}, total without it: {} {}",
        answer["valid"],
        answer["reason"],
        answer["quote"]["display"]["total"],
        answer["quote"]["currency"]
    );

    step("Creating the PaymentIntent for the registration form");
    let mut form = basket.clone();
    for (key, value) in [
        ("first_name", json!("Avery")),
        ("last_name", json!("Example")),
        ("email", json!(" Avery.Example@Example.ORG ")),
        ("phone", json!("(202) 555-0143")),
        (
            "fields",
            json!({"club": "Harbor Rowing Club", "t_shirt_size": "M", "dietary_needs": ["vegetarian", "no nuts"]}),
        ),
    ] {
        form[key] = value;
    }
    let intent = post(&http, &api, "/api/create-payment-intent", &form).await?;
    let payment_intent = intent["payment_intent_id"]
        .as_str()
        .context("no payment_intent_id in the response")?
        .to_owned();
    let quote = &intent["quote"]["display"];
    println!(
        "   {payment_intent}: subtotal {}, tax {}, total {} {}",
        quote["subtotal"], quote["tax"], quote["total"], intent["quote"]["currency"]
    );
    ensure!(
        intent["quote"]["total"] == 27390,
        "expected a total of 273.90 USD, got {}",
        intent["quote"]["total"]
    );

    step("Paying with test card 4242 4242 4242 4242 in localstripe");
    let confirmed = confirm_with_test_card(&http, localstripe, &payment_intent).await?;
    println!("   PaymentIntent status: {}", confirmed["status"]);

    step("Waiting for localstripe's signed webhook to become a Shopify order");
    let order = wait_for_order(&http, &sandbox.base_url(), &payment_intent).await?;
    print_order(&order);

    step("Today's metrics from /api/system-health");
    let health = http
        .get(format!("{api}/api/system-health"))
        .header("x-api-key", HEALTH_KEY)
        .send()
        .await?
        .json::<Value>()
        .await?;
    println!("   status: {}", health["status"]);
    if let Some(counters) = health["today"]["counters"].as_object() {
        for (name, count) in counters
            .iter()
            .filter(|(_, count)| count.as_u64() != Some(0))
        {
            println!("   {name}: {count}");
        }
    }

    server.shutdown();
    sandbox.shutdown().await;
    println!(
        "\nDemo finished: one paid registration became Shopify order {}.",
        order["name"]
    );
    Ok(())
}

fn required(name: &str) -> anyhow::Result<String> {
    std::env::var(name).with_context(|| {
        format!("{name} is not set: run `make demo`, which starts the local peers")
    })
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

fn step(text: &str) {
    println!("\n== {text}");
}

async fn post(
    http: &reqwest::Client,
    api: &str,
    path: &str,
    body: &Value,
) -> anyhow::Result<Value> {
    let response = http
        .post(format!("{api}{path}"))
        .header("origin", ORIGIN)
        .json(body)
        .send()
        .await?;
    let status = response.status();
    let answer: Value = response.json().await?;
    ensure!(status.is_success(), "{path} returned {status}: {answer}");
    Ok(answer)
}

async fn confirm_with_test_card(
    http: &reqwest::Client,
    localstripe: &str,
    payment_intent: &str,
) -> anyhow::Result<Value> {
    let stripe = |path: String, form: Vec<(&'static str, String)>| {
        http.post(format!("{localstripe}{path}"))
            .bearer_auth(STRIPE_KEY)
            .form(&form)
            .send()
    };
    let method: Value = stripe(
        "/v1/payment_methods".to_owned(),
        vec![
            ("type", "card".to_owned()),
            ("card[number]", "4242424242424242".to_owned()),
            ("card[exp_month]", "12".to_owned()),
            (
                "card[exp_year]",
                (time::OffsetDateTime::now_utc().year() + 3).to_string(),
            ),
            ("card[cvc]", "123".to_owned()),
        ],
    )
    .await?
    .json()
    .await?;
    let method_id = method["id"]
        .as_str()
        .context("localstripe made no PaymentMethod")?
        .to_owned();
    // localstripe confirms only a PaymentIntent whose payment method was attached first.
    stripe(
        format!("/v1/payment_intents/{payment_intent}"),
        vec![("payment_method", method_id)],
    )
    .await?;
    let confirmed: Value = stripe(
        format!("/v1/payment_intents/{payment_intent}/confirm"),
        Vec::new(),
    )
    .await?
    .json()
    .await?;
    ensure!(
        confirmed["status"] == "succeeded",
        "the payment did not succeed: {}",
        confirmed["status"]
    );
    Ok(confirmed)
}

async fn wait_for_order(
    http: &reqwest::Client,
    sandbox: &str,
    payment_intent: &str,
) -> anyhow::Result<Value> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        let orders: Value = http
            .get(format!("{sandbox}/_sandbox/orders"))
            .send()
            .await?
            .json()
            .await?;
        let list = orders.get("orders").unwrap_or(&orders);
        if let Some(order) = list
            .as_array()
            .into_iter()
            .flatten()
            .find(|order| order["sourceIdentifier"] == payment_intent)
        {
            return Ok(order.clone());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    bail!("no Shopify order for {payment_intent} after 30 s; the dev server's log above shows why")
}

fn print_order(order: &Value) {
    let input = &order["input"];
    let money = |value: &Value| {
        value["shopMoney"]["amount"]
            .as_str()
            .unwrap_or("?")
            .to_owned()
    };
    println!(
        "   order {} ({}), {}",
        order["name"], order["id"], order["displayFinancialStatus"]
    );
    let customer = &input["customer"]["toUpsert"];
    println!(
        "   customer: {} {} <{}> {}",
        customer["firstName"].as_str().unwrap_or(""),
        customer["lastName"].as_str().unwrap_or(""),
        customer["email"].as_str().unwrap_or(""),
        customer["phone"].as_str().unwrap_or("")
    );
    for line in input["lineItems"].as_array().into_iter().flatten() {
        println!(
            "   line: {} x{} at {}",
            line["title"].as_str().unwrap_or(""),
            line["quantity"],
            money(&line["priceSet"])
        );
    }
    for tax in input["taxLines"].as_array().into_iter().flatten() {
        println!(
            "   tax: {} {} (rate {})",
            tax["title"].as_str().unwrap_or(""),
            money(&tax["priceSet"]),
            tax["rate"]
        );
    }
    let discount = &input["discountCode"]["itemFixedDiscountCode"];
    if discount.is_object() {
        println!(
            "   discount: {} {}",
            discount["code"],
            money(&discount["amountSet"])
        );
    } else {
        println!("   discount: none");
    }
    for transaction in input["transactions"].as_array().into_iter().flatten() {
        println!(
            "   paid: {} {} via {} ({})",
            money(&transaction["amountSet"]),
            input["currency"].as_str().unwrap_or(""),
            transaction["gateway"].as_str().unwrap_or(""),
            transaction["authorizationCode"].as_str().unwrap_or("")
        );
    }
    println!("   tags: {}", input["tags"]);
    for attribute in input["customAttributes"].as_array().into_iter().flatten() {
        println!(
            "   attribute {}: {}",
            attribute["key"].as_str().unwrap_or(""),
            attribute["value"].as_str().unwrap_or("")
        );
    }
}
