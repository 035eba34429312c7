//! The cold-start measure of the product: every function binary and the floor, each
//! started several times under the local Runtime API with a realistic event and its
//! dependencies on the local stack.

use crate::cold_start::{measure_run, Events, FunctionResult, FunctionUnderTest};
use crate::dev_server::DevServerProcess;
use crate::machine::Machine;
use crate::stack::{
    LocalStack, PreparedPayment, HEALTH_API_KEY, STRIPE_SECRET_KEY, WEBHOOK_SECRET,
};
use anyhow::Context;
use axum::body::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Settings of one cold-start measure.
#[derive(Debug, Clone)]
pub struct ColdStartConfig {
    /// Folder of the release binaries, normally `target/release`.
    pub bin_dir: PathBuf,
    /// The `events/` folder whose files the events start from.
    pub events_dir: PathBuf,
    /// Processes started per function.
    pub runs: usize,
    /// Warm invocations per process after the first.
    pub warm: usize,
    /// Folder for each process's output.
    pub log_dir: PathBuf,
}

/// The floor and every function, measured on one machine in one session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColdStartResults {
    pub machine: Machine,
    pub runs: usize,
    pub warm: usize,
    pub floor: FunctionResult,
    pub functions: Vec<FunctionResult>,
}

/// Binary name of the floor function.
const FLOOR: &str = "bench-floor";

/// Measures the floor and the four functions against `stack`.
pub async fn run_cold_starts(
    config: &ColdStartConfig,
    stack: &LocalStack,
) -> anyhow::Result<ColdStartResults> {
    std::fs::create_dir_all(&config.log_dir)?;
    let per_function = config.runs * (config.warm + 1);
    // The webhook runs twice: with the secret from Secrets Manager and from the environment.
    // Each half has a tenth more payments for invocations repeated after a fake's failure.
    let half = per_function + per_function / 10;
    let payment_count = 2 * half;
    // The webhook needs one stored registration and PaymentIntent per invocation; the dev
    // server creates them through the same create-payment-intent route the website calls.
    let dev_server = DevServerProcess::spawn(
        &config.bin_dir.join("dev-server"),
        &stack.function_env(),
        &config.log_dir.join("dev-server.log"),
    )
    .await?;
    let payments = stack
        .prepare_payments(&dev_server.base_url, payment_count)
        .await;
    dev_server.stop().await?;
    let payments = payments?;

    let templates = Templates::read(&config.events_dir)?;
    let floor = measure_function(config, stack, FLOOR, 200, &mut |_| {
        Ok(templates.health.clone())
    })
    .await?;
    let mut functions = Vec::new();
    functions.push(
        measure_function(config, stack, "validate-discount", 200, &mut |_| {
            Ok(templates.validate_discount.clone())
        })
        .await?,
    );
    let mut registration = 0;
    functions.push(
        measure_function(config, stack, "create-intent", 200, &mut |_| {
            registration += 1;
            templates.create_intent(registration)
        })
        .await?,
    );
    let mut next_payment = payments[..half].iter();
    functions.push(
        measure_function(config, stack, "webhook", 200, &mut |_| {
            let payment = next_payment
                .next()
                .context("more webhook invocations than prepared payments")?;
            templates.webhook(stack, payment)
        })
        .await?,
    );
    // The same webhook with its keys in the environment instead of Secrets Manager: the
    // difference in init is the secret's round trip.
    let mut next_payment = payments[half..].iter();
    functions.push(
        measure_variant(
            config,
            "webhook",
            "webhook (keys from environment)",
            environment_with_secrets(stack),
            &mut |_| {
                let payment = next_payment
                    .next()
                    .context("more webhook invocations than prepared payments")?;
                templates.webhook(stack, payment)
            },
        )
        .await?,
    );
    functions.push(
        measure_function(config, stack, "health", 200, &mut |_| {
            Ok(templates.system_health.clone())
        })
        .await?,
    );
    Ok(ColdStartResults {
        machine: Machine::describe(),
        runs: config.runs,
        warm: config.warm,
        floor,
        functions,
    })
}

async fn measure_function(
    config: &ColdStartConfig,
    stack: &LocalStack,
    name: &str,
    expected_status: u16,
    events: &mut dyn Events,
) -> anyhow::Result<FunctionResult> {
    let function = FunctionUnderTest {
        name: name.to_owned(),
        binary: config.bin_dir.join(name),
        env: as_in_template(stack.function_env()),
        expected_status,
    };
    measure_runs(config, &function, name, events).await
}

/// Measures binary `binary_name` with settings `env` and reports it as `label`.
async fn measure_variant(
    config: &ColdStartConfig,
    binary_name: &str,
    label: &str,
    env: Vec<(String, String)>,
    events: &mut dyn Events,
) -> anyhow::Result<FunctionResult> {
    let function = FunctionUnderTest {
        name: binary_name.to_owned(),
        binary: config.bin_dir.join(binary_name),
        env,
        expected_status: 200,
    };
    measure_runs(config, &function, label, events).await
}

async fn measure_runs(
    config: &ColdStartConfig,
    function: &FunctionUnderTest,
    label: &str,
    events: &mut dyn Events,
) -> anyhow::Result<FunctionResult> {
    let file_stem: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let mut runs = Vec::with_capacity(config.runs);
    for run in 0..config.runs {
        let log = config.log_dir.join(format!("{file_stem}-{run}.log"));
        runs.push(measure_run(function, events, config.warm, &log).await?);
    }
    FunctionResult::from_runs(label, config.warm, runs)
}

/// Returns `env` with the logging and metrics settings that template.yaml gives every
/// function, so that the functions write the log and metrics lines they write in Lambda.
fn as_in_template(env: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = env
        .into_iter()
        .filter(|(name, _)| name != "RUST_LOG")
        .collect();
    for (name, value) in [
        ("RUST_LOG", "info"),
        ("METRICS_NAMESPACE", "RegistrationPipeline"),
        ("METRICS_SERVICE", "bench"),
    ] {
        env.push((name.to_owned(), value.to_owned()));
    }
    env
}

/// Returns the stack's settings with the keys passed directly, as a local run passes them,
/// instead of through Secrets Manager.
fn environment_with_secrets(stack: &LocalStack) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = as_in_template(stack.function_env())
        .into_iter()
        .filter(|(name, _)| name != "SECRETS_ARN")
        .collect();
    for (name, value) in [
        ("STRIPE_SECRET_KEY", STRIPE_SECRET_KEY),
        ("STRIPE_WEBHOOK_SECRETS", WEBHOOK_SECRET),
        (
            "SHOPIFY_ACCESS_TOKEN",
            shopify_sandbox::DEFAULT_ACCESS_TOKEN,
        ),
        ("HEALTH_API_KEY", HEALTH_API_KEY),
    ] {
        env.push((name.to_owned(), value.to_owned()));
    }
    env
}

/// The API Gateway events under `events/` that the measure sends, adapted to the stack.
struct Templates {
    health: Bytes,
    system_health: Bytes,
    validate_discount: Bytes,
    create_intent: Value,
    webhook: Value,
}

impl Templates {
    fn read(events_dir: &Path) -> anyhow::Result<Self> {
        let read = |name: &str| -> anyhow::Result<Value> {
            let path = events_dir.join(name);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
        };
        let mut system_health = read("system-health.json")?;
        system_health["headers"]["x-api-key"] = Value::from(HEALTH_API_KEY);
        Ok(Self {
            health: to_bytes(&read("health.json")?)?,
            system_health: to_bytes(&system_health)?,
            validate_discount: to_bytes(&read("validate-discount.json")?)?,
            create_intent: read("create-payment-intent.json")?,
            webhook: read("stripe-webhook-payment-succeeded.json")?,
        })
    }

    /// The sample registration as a new buyer: its own registration id and e-mail, so the
    /// function creates a new registration and PaymentIntent each time.
    fn create_intent(&self, number: usize) -> anyhow::Result<Bytes> {
        let mut event = self.create_intent.clone();
        let mut form: Value = serde_json::from_str(
            event["body"]
                .as_str()
                .context("create-payment-intent.json has no body")?,
        )?;
        form["registration_id"] = Value::from(uuid::Uuid::new_v4().to_string());
        form["email"] = Value::from(format!("cold-start-{number}@example.org"));
        event["body"] = Value::from(form.to_string());
        to_bytes(&event)
    }

    /// Builds a `payment_intent.succeeded` delivery for `payment`, signed now.
    fn webhook(&self, stack: &LocalStack, payment: &PreparedPayment) -> anyhow::Result<Bytes> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs() as i64);
        let event_id = format!("evt_cold_{}", payment.payment_intent_id);
        let signed = stack.signed_succeeded_event(payment, &event_id, now);
        let mut event = self.webhook.clone();
        event["body"] = Value::from(signed.body);
        event["headers"]["stripe-signature"] = Value::from(signed.signature_header);
        to_bytes(&event)
    }
}

fn to_bytes(value: &Value) -> anyhow::Result<Bytes> {
    Ok(Bytes::from(serde_json::to_vec(value)?))
}
