//! Serves every route on 127.0.0.1 through the Lambda handlers, configured like the
//! functions: from the environment, or from a `.env` file in the current folder.
//!
//! `DEV_SERVER_ADDR` sets the address (default `127.0.0.1:3000`). `make demo` runs it
//! against localstripe, moto and the Shopify sandbox; with real Stripe test keys and a
//! Shopify development store it works against those, with `stripe listen
//! --forward-to 127.0.0.1:3000/api/stripe-webhook` delivering the webhooks.

use std::net::SocketAddr;
use std::sync::Arc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let loaded = shared::secrets::load_dotenv()?;
    shared::telemetry::init();
    if loaded {
        tracing::info!("settings read from .env");
    }
    let addr: SocketAddr = shared::config::parse_or("DEV_SERVER_ADDR", "127.0.0.1:3000".parse()?)?;
    let routes = dev_server::routes_from_env().await?;
    let server = dev_server::start(addr, Arc::new(routes)).await?;
    println!("dev server listening on {}", server.base_url());
    tokio::signal::ctrl_c().await?;
    server.shutdown();
    Ok(())
}
