//! Summaries of repeated measures: median, 99th percentile and spread.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The median and the range of a set of samples, in the samples' own unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub samples: usize,
}

impl Summary {
    /// Summarises `values`; `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Self> {
        let sorted = sorted(values);
        Some(Self {
            median: median_of_sorted(&sorted)?,
            min: *sorted.first()?,
            max: *sorted.last()?,
            samples: sorted.len(),
        })
    }

    /// Returns the range as a share of the median, such as 0.08 for ±4 %.
    pub fn relative_spread(&self) -> f64 {
        if self.median == 0.0 {
            0.0
        } else {
            (self.max - self.min) / self.median
        }
    }
}

/// Returns the median of `values`: the middle value, or the mean of the two middle ones.
pub fn median(values: &[f64]) -> Option<f64> {
    median_of_sorted(&sorted(values))
}

/// Returns the nearest-rank percentile: the smallest sample that at least `percent` % of the
/// samples do not exceed. With 200 samples, p99 is the 198th smallest.
pub fn percentile(values: &[f64], percent: f64) -> Option<f64> {
    let sorted = sorted(values);
    if sorted.is_empty() {
        return None;
    }
    let rank = ((percent / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Milliseconds as a float, the unit every latency is reported in.
pub fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    sorted
}

fn median_of_sorted(sorted: &[f64]) -> Option<f64> {
    let middle = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        len if len % 2 == 1 => Some(sorted[middle]),
        _ => Some((sorted[middle - 1] + sorted[middle]) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_takes_the_middle_of_an_odd_count() {
        assert_eq!(median(&[9.0, 1.0, 5.0]), Some(5.0));
    }

    #[test]
    fn median_of_even_count_averages_middles() {
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn median_of_nothing_is_none() {
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn p99_of_200_samples_is_the_198th_smallest() {
        let values: Vec<f64> = (1..=200).rev().map(f64::from).collect();
        assert_eq!(percentile(&values, 99.0), Some(198.0));
    }

    #[test]
    fn p99_of_few_samples_is_the_largest() {
        assert_eq!(percentile(&[3.0, 1.0, 2.0], 99.0), Some(3.0));
    }

    #[test]
    fn summary_reports_range_and_count() {
        let summary = Summary::of(&[10.0, 12.0, 11.0, 30.0]).expect("four samples");
        assert_eq!(summary.median, 11.5);
        assert_eq!(summary.min, 10.0);
        assert_eq!(summary.max, 30.0);
        assert_eq!(summary.samples, 4);
    }

    #[test]
    fn relative_spread_is_range_over_median() {
        let summary = Summary::of(&[9.0, 10.0, 11.0]).expect("three samples");
        assert!((summary.relative_spread() - 0.2).abs() < 1e-9);
    }
}
