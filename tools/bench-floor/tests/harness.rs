//! The bench harness against the real floor function: a process started under the
//! local Runtime API must poll, respond to every event and report its memory.

use bench::cold_start::{measure_run, FunctionUnderTest};
use std::path::PathBuf;

fn health_event() -> axum::body::Bytes {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events/health.json");
    std::fs::read(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
        .into()
}

#[tokio::test]
async fn measures_the_floor_function() {
    let function = FunctionUnderTest {
        name: "floor".to_owned(),
        binary: env!("CARGO_BIN_EXE_bench-floor").into(),
        env: Vec::new(),
        expected_status: 200,
    };
    let log = std::env::temp_dir().join(format!("bench-floor-{}.log", std::process::id()));
    let mut sent = 0;
    let mut events = |_index: usize| {
        sent += 1;
        Ok(health_event())
    };
    let run = measure_run(&function, &mut events, 20, &log)
        .await
        .expect("the floor answers every event");
    assert_eq!(sent, 21, "one cold and 20 warm invocations");
    assert!(run.init_ms > 0.0, "init {} ms", run.init_ms);
    assert!(run.warm_p99_ms >= run.warm_median_ms);
    // Any process uses some memory, so zero would mean VmHWM was not read.
    assert!(run.peak_rss_kib > 100, "VmHWM {} KiB", run.peak_rss_kib);
    std::fs::remove_file(&log).ok();
}

#[tokio::test]
async fn wrong_status_fails_the_run() {
    let function = FunctionUnderTest {
        name: "floor".to_owned(),
        binary: env!("CARGO_BIN_EXE_bench-floor").into(),
        env: Vec::new(),
        expected_status: 404,
    };
    let log = std::env::temp_dir().join(format!("bench-floor-404-{}.log", std::process::id()));
    let mut events = |_index: usize| Ok(health_event());
    let error = measure_run(&function, &mut events, 1, &log)
        .await
        .expect_err("the floor answers 200, not 404");
    assert!(
        format!("{error:#}").contains("expected status 404"),
        "{error:#}"
    );
    std::fs::remove_file(&log).ok();
}

#[tokio::test]
async fn missing_binary_fails_the_run() {
    let function = FunctionUnderTest {
        name: "missing".to_owned(),
        binary: "/nonexistent/bootstrap".into(),
        env: Vec::new(),
        expected_status: 200,
    };
    let log = std::env::temp_dir().join(format!("bench-missing-{}.log", std::process::id()));
    let mut events = |_index: usize| Ok(health_event());
    let error = measure_run(&function, &mut events, 1, &log)
        .await
        .expect_err("no such binary");
    assert!(format!("{error:#}").contains("starting"), "{error:#}");
    std::fs::remove_file(&log).ok();
}
