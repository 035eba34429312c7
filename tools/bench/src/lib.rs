//! `make bench`: measures what the functions cost and writes docs/benchmarks.md.
//!
//! Each measure writes its results as JSON under `target/bench/`, and `report` turns those
//! files into the results page, so one measure can be re-run without the others.

pub mod cold_start;
pub mod runtime_api;
pub mod stats;
