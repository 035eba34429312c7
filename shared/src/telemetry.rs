//! Logging setup shared by every binary.

use tracing_subscriber::EnvFilter;

/// Installs the global `tracing` subscriber: JSON lines inside Lambda (where CloudWatch
/// indexes the fields), plain text elsewhere. `RUST_LOG` overrides the default `info` level.
///
/// Calling it twice is harmless, so tests and the dev server may call it freely.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let result = if in_lambda {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .without_time()
            .try_init()
    } else {
        builder.try_init()
    };
    // An error only means a subscriber is already installed.
    drop(result);
}
