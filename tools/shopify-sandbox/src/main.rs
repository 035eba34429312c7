//! Command-line entry point: serves the sandbox until Ctrl-C.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use shopify_sandbox::{Config, DEFAULT_ACCESS_TOKEN, DEFAULT_API_VERSION};

/// Local stand-in for the Shopify Admin GraphQL API, validated against Shopify's schema.
#[derive(Debug, Parser)]
#[command(name = "shopify-sandbox", version)]
struct Args {
    /// Introspection schema file (.json.gz or .json). Default: fetch it with
    /// scripts/shopify-schema.sh into .cache/shopify/.
    #[arg(long)]
    schema: Option<PathBuf>,

    /// Admin API version that the schema describes.
    #[arg(long, default_value = DEFAULT_API_VERSION)]
    api_version: String,

    /// Version to name in the X-Shopify-API-Version header (default: --api-version).
    #[arg(long)]
    served_version: Option<String>,

    /// TCP port on 127.0.0.1 (0 picks a free port).
    #[arg(long, default_value_t = 0)]
    port: u16,

    /// Static access token to accept in X-Shopify-Access-Token. Repeat for several.
    #[arg(long = "access-token", default_value = DEFAULT_ACCESS_TOKEN)]
    access_tokens: Vec<String>,

    /// Client id that the client-credentials token endpoint accepts.
    #[arg(long, default_value = shopify_sandbox::DEFAULT_CLIENT_ID)]
    client_id: String,

    /// Client secret that the client-credentials token endpoint accepts.
    #[arg(long, default_value = shopify_sandbox::DEFAULT_CLIENT_SECRET)]
    client_secret: String,

    /// Lifetime of issued access tokens, in seconds.
    #[arg(long, default_value_t = 86_399)]
    token_lifetime_secs: u64,

    /// ISO 4217 code of the shop currency.
    #[arg(long, default_value = "USD")]
    shop_currency: String,

    /// Accept orders whose payments do not add up to the order total, as Shopify does.
    #[arg(long)]
    allow_partial_payments: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    let args = Args::parse();
    let schema_path = match args.schema {
        Some(path) => path,
        None => {
            let version = args.api_version.clone();
            tokio::task::spawn_blocking(move || shopify_sandbox::ensure_schema(&version)).await??
        }
    };

    let mut config = Config::new(schema_path);
    config.api_version = args.api_version;
    config.served_version = args.served_version;
    config.port = args.port;
    config.access_tokens = args.access_tokens;
    config.client_id = args.client_id;
    config.client_secret = args.client_secret;
    config.token_lifetime = Duration::from_secs(args.token_lifetime_secs);
    config.shop_currency = args.shop_currency;
    config.require_transactions_match_total = !args.allow_partial_payments;

    let sandbox = shopify_sandbox::start(config).await?;
    // The URL goes to stdout so that scripts can read it, and logs go to stderr.
    println!("{}", sandbox.graphql_url());

    tokio::signal::ctrl_c().await?;
    tracing::info!(target: "shopify_sandbox", "stopping on Ctrl-C");
    sandbox.shutdown().await;
    Ok(())
}
