//! `make bench`: runs the measures and writes docs/benchmarks.md.
//!
//! The cold-start and burst measures need localstripe and moto, so run them under
//! `python3 scripts/peers/run.py -- target/release/bench ...`, as `make bench` does, after
//! building the release binaries. Each measure writes its JSON under `target/bench/`;
//! `report` reads whatever is there.

use anyhow::Context;
use bench::burst::{run_burst, BurstConfig, BurstResult};
use bench::functions::{run_cold_starts, ColdStartConfig, ColdStartResults};
use bench::machine::Machine;
use bench::report::{render, Results};
use bench::sizes::{read_sizes, ArtifactSize};
use bench::stack::{LocalStack, StackOptions};
use bench::{criterion, results};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

/// Measures what the functions cost and writes the results page.
#[derive(Debug, Parser)]
#[command(name = "bench")]
struct Args {
    /// The workspace folder, which contains target/, events/ and docs/.
    #[arg(long, default_value = ".")]
    root: PathBuf,
    #[command(subcommand)]
    measure: Measure,
}

#[derive(Debug, Subcommand)]
enum Measure {
    /// Cold start, latency and memory of every function and the floor.
    ColdStart {
        /// Fresh processes per function.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Warm invocations per process after the first.
        #[arg(long, default_value_t = 200)]
        warm: usize,
        /// Folder of the function, floor and dev-server binaries.
        #[arg(long, default_value = "target/release")]
        bin_dir: PathBuf,
    },
    /// Signed webhook deliveries at concurrency against the dev server.
    Burst {
        #[arg(long, default_value_t = 500)]
        payments: usize,
        #[arg(long, default_value_t = 20)]
        concurrency: usize,
    },
    /// Reads the zipped artifacts under target/lambda/.
    Sizes,
    /// Writes docs/benchmarks.md from target/bench/ and target/criterion/.
    Report {
        #[arg(long, default_value = "docs/benchmarks.md")]
        out: PathBuf,
    },
}

/// The four functions of template.yaml, by binary name.
const FUNCTIONS: [&str; 4] = ["validate-discount", "create-intent", "webhook", "health"];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let root = args.root.canonicalize().context("the --root folder")?;
    let out_dir = root.join("target/bench");
    std::fs::create_dir_all(&out_dir)?;
    match args.measure {
        Measure::ColdStart {
            runs,
            warm,
            bin_dir,
        } => {
            let config = ColdStartConfig {
                bin_dir: root.join(bin_dir),
                events_dir: root.join("events"),
                runs,
                warm,
                log_dir: out_dir.join("logs"),
            };
            // No throttling here: the measure is the functions' own time.
            let stack = LocalStack::start(StackOptions {
                cost_bucket_maximum: 1e9,
                cost_restore_rate: 1e9,
                ..StackOptions::default()
            })
            .await?;
            let measured = run_cold_starts(&config, &stack).await;
            stack.shutdown().await;
            results::write(&out_dir.join(results::COLD_START), &measured?)?;
        }
        Measure::Burst {
            payments,
            concurrency,
        } => {
            let mut config = BurstConfig::standard(root.join("target/release/dev-server"));
            config.payments = payments;
            config.concurrency = concurrency;
            config.duplicates = payments / 10;
            let result = run_burst(config).await?;
            results::write(&out_dir.join(results::BURST), &result)?;
        }
        Measure::Sizes => {
            let lambda = root.join("target/lambda");
            let sizes = read_sizes(&lambda, &FUNCTIONS)?;
            results::write(&out_dir.join(results::SIZES), &sizes)?;
            let floor = read_sizes(&lambda, &["bench-floor"])?;
            results::write(&out_dir.join(results::FLOOR_SIZE), &floor)?;
        }
        Measure::Report { out } => {
            let page = render(&read_results(&root, &out_dir));
            let out = root.join(out);
            std::fs::write(&out, page).with_context(|| format!("writing {}", out.display()))?;
            println!("wrote {}", out.display());
        }
    }
    Ok(())
}

fn read_results(root: &Path, out_dir: &Path) -> Results {
    Results {
        machine: Machine::describe(),
        cold_start: results::read::<ColdStartResults>(&out_dir.join(results::COLD_START)),
        per_event: criterion::read_estimates(&root.join("target/criterion"))
            .map_err(|error| eprintln!("per-event CPU: {error:#}"))
            .ok(),
        sizes: results::read::<Vec<ArtifactSize>>(&out_dir.join(results::SIZES)),
        floor_size: results::read::<Vec<ArtifactSize>>(&out_dir.join(results::FLOOR_SIZE))
            .and_then(|sizes| sizes.into_iter().next()),
        burst: results::read::<BurstResult>(&out_dir.join(results::BURST)),
    }
}
