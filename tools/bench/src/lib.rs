//! `make bench`: measures what the functions cost and writes docs/benchmarks.md.
//!
//! Each measure writes its results as JSON under `target/bench/`, and `report` turns those
//! files into the results page, so one measure can be re-run without the others.

pub mod burst;
pub mod cold_start;
pub mod counting_proxy;
pub mod criterion;
pub mod dev_server;
pub mod functions;
pub mod machine;
pub mod report;
pub mod results;
pub mod runtime_api;
pub mod sizes;
pub mod stack;
pub mod stats;
