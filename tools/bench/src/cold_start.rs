//! Cold start, latency and peak memory of one function binary under the local Runtime API.
//!
//! Each run starts a fresh process, as Lambda does for a new container. It records the
//! time from spawning the process to its first poll for an event (init), the first
//! invocation, a series of warm invocations, and the peak resident memory (`VmHWM`).

use crate::runtime_api::{Outcome, RuntimeApi};
use crate::stats::{millis, percentile, Summary};
use anyhow::{bail, Context};
use axum::body::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// Repeats of one invocation after the DynamoDB fake failed a write.
const MAX_STORAGE_RETRIES: usize = 3;

/// Time a function may take to start or to handle one event before the run fails.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// The memory size passed to the functions, as in template.yaml.
const MEMORY_SIZE_MB: &str = "256";

/// A function to measure: its binary, its settings and the events to send it.
pub struct FunctionUnderTest {
    pub name: String,
    pub binary: PathBuf,
    /// Settings besides the Lambda ones, which [`measure_run`] adds itself.
    pub env: Vec<(String, String)>,
    /// The HTTP status every response must carry.
    pub expected_status: u16,
}

/// Builds the event for invocation `index` of a run (0 is the first, cold one).
pub trait Events: Send {
    fn event(&mut self, index: usize) -> anyhow::Result<Bytes>;
}

impl<F> Events for F
where
    F: FnMut(usize) -> anyhow::Result<Bytes> + Send,
{
    fn event(&mut self, index: usize) -> anyhow::Result<Bytes> {
        self(index)
    }
}

/// One run: one process, its start, its first invocation and `warm` more.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    pub init_ms: f64,
    pub first_invocation_ms: f64,
    pub warm_median_ms: f64,
    pub warm_p99_ms: f64,
    pub peak_rss_kib: u64,
    /// Invocations repeated after a 503 `storage_unavailable` from the local DynamoDB fake.
    #[serde(default)]
    pub storage_retries: usize,
}

/// Every run of one function, summarised across runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FunctionResult {
    pub name: String,
    pub warm_invocations: usize,
    pub runs: Vec<Run>,
    pub init_ms: Summary,
    pub first_invocation_ms: Summary,
    pub warm_median_ms: Summary,
    pub warm_p99_ms: Summary,
    pub peak_rss_kib: Summary,
}

impl FunctionResult {
    /// Summarises `runs`; fails when there are none.
    pub fn from_runs(name: &str, warm: usize, runs: Vec<Run>) -> anyhow::Result<Self> {
        let summary = |pick: fn(&Run) -> f64| {
            Summary::of(&runs.iter().map(pick).collect::<Vec<_>>())
                .with_context(|| format!("no runs of {name}"))
        };
        Ok(Self {
            name: name.to_owned(),
            warm_invocations: warm,
            init_ms: summary(|run| run.init_ms)?,
            first_invocation_ms: summary(|run| run.first_invocation_ms)?,
            warm_median_ms: summary(|run| run.warm_median_ms)?,
            warm_p99_ms: summary(|run| run.warm_p99_ms)?,
            peak_rss_kib: summary(|run| run.peak_rss_kib as f64)?,
            runs,
        })
    }
}

/// Starts `function` under a fresh Runtime API, sends it `1 + warm` events and stops it.
/// Its output goes to `log`, as Lambda sends a function's output to CloudWatch.
pub async fn measure_run(
    function: &FunctionUnderTest,
    events: &mut dyn Events,
    warm: usize,
    log: &Path,
) -> anyhow::Result<Run> {
    let api = RuntimeApi::start().await?;
    let mut process = spawn(function, &api.host_and_port(), log)?;
    let result = drive(function, &api, &mut process, events, warm).await;
    // The process may already have exited after a failure; killing it then is harmless.
    drop(process.kill().await);
    result.with_context(|| {
        format!(
            "measuring {} (its output is in {})",
            function.name,
            log.display()
        )
    })
}

async fn drive(
    function: &FunctionUnderTest,
    api: &RuntimeApi,
    process: &mut SpawnedFunction,
    events: &mut dyn Events,
    warm: usize,
) -> anyhow::Result<Run> {
    let init = tokio::select! {
        polled = api.first_poll(STEP_TIMEOUT) => polled? - process.spawned,
        status = process.child.wait() => bail!("the function exited during init: {}", status?),
    };
    let mut latencies = Vec::with_capacity(warm + 1);
    let mut retried = 0;
    for index in 0..=warm {
        let mut attempt = 0;
        loop {
            let event = events.event(index)?;
            let invoked = tokio::select! {
                invoked = api.invoke(event, STEP_TIMEOUT) => invoked?,
                status = process.child.wait() => bail!("the function exited at invocation {index}: {}", status?),
            };
            // moto 5.2.5 sometimes fails a write that races another write inside its own
            // server, and the function then returns 503 as it would for a DynamoDB outage.
            // The client retries such a 503, so the measure does too and keeps only the
            // latency of the successful attempt.
            if is_storage_unavailable(&invoked.outcome) && attempt < MAX_STORAGE_RETRIES {
                attempt += 1;
                retried += 1;
                continue;
            }
            check_response(&invoked.outcome, function.expected_status)
                .with_context(|| format!("invocation {index}"))?;
            latencies.push(millis(invoked.latency));
            break;
        }
    }
    let peak_rss_kib = peak_rss_kib(process.pid)?;
    let warm_latencies = &latencies[1..];
    Ok(Run {
        init_ms: millis(init),
        first_invocation_ms: latencies[0],
        warm_median_ms: crate::stats::median(warm_latencies).unwrap_or(f64::NAN),
        warm_p99_ms: percentile(warm_latencies, 99.0).unwrap_or(f64::NAN),
        peak_rss_kib,
        storage_retries: retried,
    })
}

/// Tells whether the function returned the 503 `storage_unavailable` error.
fn is_storage_unavailable(outcome: &Outcome) -> bool {
    let Outcome::Response(body) = outcome else {
        return false;
    };
    let Ok(response) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    response["statusCode"] == 503
        && response["body"]
            .as_str()
            .is_some_and(|text| text.contains("\"storage_unavailable\""))
}

struct SpawnedFunction {
    child: Child,
    pid: u32,
    spawned: Instant,
}

impl SpawnedFunction {
    async fn kill(&mut self) -> std::io::Result<()> {
        self.child.kill().await
    }
}

fn spawn(
    function: &FunctionUnderTest,
    runtime_api: &str,
    log: &Path,
) -> anyhow::Result<SpawnedFunction> {
    let output = File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let mut command = Command::new(&function.binary);
    // Only the settings given here reach the function, so the variables of the caller's
    // shell (RUST_LOG, AWS profiles) cannot change a measure.
    command
        .env_clear()
        .envs(function.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", &function.name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", MEMORY_SIZE_MB)
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", function.name),
        )
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .stdin(Stdio::null())
        .stdout(output.try_clone()?)
        .stderr(output)
        .kill_on_drop(true);
    let spawned = Instant::now();
    let child = command
        .spawn()
        .with_context(|| format!("starting {}", function.binary.display()))?;
    let pid = child.id().context("the function exited at once")?;
    Ok(SpawnedFunction {
        child,
        pid,
        spawned,
    })
}

/// Checks that the function returned an API Gateway response with the expected status.
fn check_response(outcome: &Outcome, expected_status: u16) -> anyhow::Result<()> {
    let body = match outcome {
        Outcome::Response(body) => body,
        Outcome::Error(body) => bail!(
            "the function reported an error: {}",
            String::from_utf8_lossy(body)
        ),
    };
    let response: Value = serde_json::from_slice(body).context("the response is not JSON")?;
    let status = response["statusCode"].as_u64();
    if status != Some(u64::from(expected_status)) {
        bail!(
            "expected status {expected_status}, got {}",
            String::from_utf8_lossy(body)
        );
    }
    Ok(())
}

/// Reads the peak resident set size from `/proc/<pid>/status`.
fn peak_rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .context("reading the function's /proc status")?;
    parse_vm_hwm(&status).context("no VmHWM line in /proc/<pid>/status")
}

fn parse_vm_hwm(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vm_hwm_in_kib() {
        let status =
            "Name:\tbootstrap\nVmPeak:\t  20000 kB\nVmHWM:\t    9876 kB\nVmRSS:\t 9000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(9876));
    }

    #[test]
    fn missing_vm_hwm_is_none() {
        assert_eq!(parse_vm_hwm("Name:\tx\n"), None);
    }

    #[test]
    fn accepts_the_expected_status() {
        let body = Bytes::from_static(br#"{"statusCode":200,"body":"ok"}"#);
        check_response(&Outcome::Response(body), 200).expect("200 expected");
    }

    #[test]
    fn rejects_another_status() {
        let body = Bytes::from_static(br#"{"statusCode":500,"body":"boom"}"#);
        let error = check_response(&Outcome::Response(body), 200).expect_err("500 is wrong");
        assert!(error.to_string().contains("expected status 200"), "{error}");
    }

    #[test]
    fn rejects_an_error_result() {
        let body = Bytes::from_static(br#"{"errorType":"Panic"}"#);
        let error = check_response(&Outcome::Error(body), 200).expect_err("error result");
        assert!(error.to_string().contains("Panic"), "{error}");
    }

    #[test]
    fn summarises_runs() {
        let run = |init_ms| Run {
            init_ms,
            first_invocation_ms: 2.0,
            warm_median_ms: 1.0,
            warm_p99_ms: 1.5,
            peak_rss_kib: 9000,
            storage_retries: 0,
        };
        let result =
            FunctionResult::from_runs("f", 10, vec![run(5.0), run(7.0), run(6.0)]).expect("runs");
        assert_eq!(result.init_ms.median, 6.0);
        assert_eq!(result.init_ms.max, 7.0);
        assert_eq!(result.peak_rss_kib.median, 9000.0);
    }

    #[test]
    fn no_runs_is_an_error() {
        assert!(FunctionResult::from_runs("f", 10, Vec::new()).is_err());
    }
}
