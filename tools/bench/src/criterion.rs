//! Results of the criterion benchmarks (`cargo bench -p shared --bench per_event`), read
//! from the estimates criterion writes under `target/criterion/`.

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The benchmark group and ids that shared/benches/per_event.rs defines.
pub const GROUP: &str = "per_event";
pub const IDS: [&str; 4] = [
    "verify_signature_5kb",
    "price_quote",
    "order_create_variables",
    "webhook_event_cpu",
];

/// The webhook's own CPU per event (verify, parse, map) should stay under this.
pub const TARGET_WEBHOOK_CPU_MICROS: f64 = 50.0;

/// The median time of one benchmark with criterion's 95 % confidence interval.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Estimate {
    pub id: String,
    pub median_micros: f64,
    pub lower_micros: f64,
    pub upper_micros: f64,
}

#[derive(Deserialize)]
struct Estimates {
    median: Statistic,
}

#[derive(Deserialize)]
struct Statistic {
    point_estimate: f64,
    confidence_interval: Interval,
}

#[derive(Deserialize)]
struct Interval {
    lower_bound: f64,
    upper_bound: f64,
}

/// Reads every benchmark of [`GROUP`] from `criterion_dir` (normally `target/criterion`).
pub fn read_estimates(criterion_dir: &Path) -> anyhow::Result<Vec<Estimate>> {
    IDS.iter()
        .map(|id| {
            let path = criterion_dir
                .join(GROUP)
                .join(id)
                .join("new")
                .join("estimates.json");
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            parse_estimate(id, &text).with_context(|| format!("parsing {}", path.display()))
        })
        .collect()
}

fn parse_estimate(id: &str, text: &str) -> anyhow::Result<Estimate> {
    let estimates: Estimates = serde_json::from_str(text)?;
    // Criterion records nanoseconds.
    let micros = |nanos: f64| nanos / 1000.0;
    Ok(Estimate {
        id: id.to_owned(),
        median_micros: micros(estimates.median.point_estimate),
        lower_micros: micros(estimates.median.confidence_interval.lower_bound),
        upper_micros: micros(estimates.median.confidence_interval.upper_bound),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_median_in_microseconds() {
        let text = r#"{"mean":{"point_estimate":1.0,"standard_error":0.1,"confidence_interval":{"confidence_level":0.95,"lower_bound":0.9,"upper_bound":1.1}},
            "median":{"point_estimate":12500.0,"standard_error":40.0,"confidence_interval":{"confidence_level":0.95,"lower_bound":12400.0,"upper_bound":12650.0}}}"#;
        let estimate = parse_estimate("price_quote", text).expect("parses");
        assert_eq!(estimate.median_micros, 12.5);
        assert_eq!(estimate.lower_micros, 12.4);
        assert_eq!(estimate.upper_micros, 12.65);
    }

    #[test]
    fn estimates_without_median_are_an_error() {
        assert!(parse_estimate("x", r#"{"mean":{}}"#).is_err());
    }
}
