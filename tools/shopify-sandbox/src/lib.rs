//! A stateful local stand-in for the Shopify Admin GraphQL API.
//!
//! Every document and its variables are validated against Shopify's published Admin schema
//! (fetched by `scripts/shopify-schema.sh`), and the operations the product uses
//! (`orderCreate`, `orders`, `order`, `customers`, `customer`, `node`, `nodes`, `shop`)
//! run against orders and customers kept in memory. Control endpoints under `/_sandbox/`
//! let tests queue faults and read what was created.
//!
//! Start it in-process with [`start`]:
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let schema = shopify_sandbox::ensure_schema(shopify_sandbox::DEFAULT_API_VERSION)?;
//! let sandbox = shopify_sandbox::start(shopify_sandbox::Config::new(schema)).await?;
//! println!("GraphQL endpoint: {}", sandbox.graphql_url());
//! sandbox.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod control;
mod cost;
mod faults;
mod graphql;
mod inputs;
mod money;
mod oauth;
mod objects;
mod roots;
pub mod schema;
mod search;
mod server;
mod store;
mod totals;
mod views;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use cost::MUTATION_FIELD_COST;
pub use faults::{CrashMode, Fault, FaultSpec, RetryAfter};

/// The Admin API version the sandbox serves unless configured otherwise.
pub const DEFAULT_API_VERSION: &str = "2026-10";
/// The static access token accepted unless configured otherwise.
pub const DEFAULT_ACCESS_TOKEN: &str = "sandbox-admin-token";
pub const DEFAULT_CLIENT_ID: &str = "sandbox-client-id";
pub const DEFAULT_CLIENT_SECRET: &str = "sandbox-client-secret";

/// Settings of one sandbox.
#[derive(Debug, Clone)]
pub struct Config {
    /// Introspection result (`admin_<version>.json.gz` or plain JSON) to validate against.
    pub schema_path: PathBuf,
    /// Admin API version that the schema describes, such as `2026-10`.
    pub api_version: String,
    /// Version named in the `X-Shopify-API-Version` response header; `None` names
    /// `api_version`. Set it to simulate a store that serves another version than the one
    /// requested.
    pub served_version: Option<String>,
    /// TCP port on 127.0.0.1 (0 picks a free one).
    pub port: u16,
    /// Static tokens accepted in `X-Shopify-Access-Token`, besides issued ones.
    pub access_tokens: Vec<String>,
    /// Client credentials that the token endpoint accepts.
    pub client_id: String,
    pub client_secret: String,
    /// Lifetime of tokens issued by the token endpoint (default 86399 s, one day).
    pub token_lifetime: Duration,
    pub shop_name: String,
    pub shop_email: String,
    /// The `myshopify.com` domain that `shop { myshopifyDomain }` returns.
    pub shop_domain: String,
    /// ISO 4217 code of the shop currency, used when an order gives no `currency`.
    pub shop_currency: String,
    /// Size of the query-cost bucket, in cost points (default 2000).
    pub cost_bucket_maximum: f64,
    /// Cost points restored per second (default 100).
    pub cost_restore_rate: f64,
    /// Rejects an order whose successful SALE and CAPTURE transactions differ from its
    /// total. Shopify accepts such orders, but the product should never send one.
    pub require_transactions_match_total: bool,
}

impl Config {
    /// Returns the default settings with the given schema file.
    pub fn new(schema_path: impl Into<PathBuf>) -> Self {
        Self {
            schema_path: schema_path.into(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            served_version: None,
            port: 0,
            access_tokens: vec![DEFAULT_ACCESS_TOKEN.to_owned()],
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            token_lifetime: Duration::from_secs(86_399),
            shop_name: "Sandbox Shop".to_owned(),
            shop_email: "owner@sandbox-shop.example".to_owned(),
            shop_domain: "sandbox-shop.myshopify.com".to_owned(),
            shop_currency: "USD".to_owned(),
            cost_bucket_maximum: 2000.0,
            cost_restore_rate: 100.0,
            require_transactions_match_total: true,
        }
    }
}

/// A running sandbox. Dropping it stops the server, and [`Sandbox::shutdown`] also waits
/// for the server task to end.
pub struct Sandbox {
    addr: SocketAddr,
    api_version: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Sandbox {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Returns `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Returns the GraphQL endpoint URL for the configured API version.
    pub fn graphql_url(&self) -> String {
        self.graphql_url_for(&self.api_version)
    }

    /// Returns the GraphQL endpoint URL for any API version.
    pub fn graphql_url_for(&self, api_version: &str) -> String {
        format!("{}/admin/api/{api_version}/graphql.json", self.base_url())
    }

    /// Returns the client-credentials token endpoint URL.
    pub fn token_url(&self) -> String {
        format!("{}/admin/oauth/access_token", self.base_url())
    }

    /// Stops accepting connections and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// Loads the schema, binds 127.0.0.1 and serves in a background task of the current
/// Tokio runtime. The schema is loaded once per path and process.
pub async fn start(config: Config) -> anyhow::Result<Sandbox> {
    let schema_path = config.schema_path.clone();
    let schema = tokio::task::spawn_blocking(move || {
        // The phone number metadata loads on first use, which is slow in debug builds, so
        // it is loaded here rather than during the first request.
        store::phone_is_valid("+14155552671");
        schema::load_cached(&schema_path)
    })
    .await
    .context("the schema loading task failed")??;

    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))
        .await
        .with_context(|| format!("failed to bind 127.0.0.1:{}", config.port))?;
    let addr = listener.local_addr()?;
    let api_version = config.api_version.clone();
    let app = server::router(Arc::new(server::AppState::new(schema, config)));

    let (shutdown, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serving = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        if let Err(err) = serving.await {
            tracing::error!(target: "shopify_sandbox", error = %err, "the sandbox server failed");
        }
    });
    tracing::info!(target: "shopify_sandbox", %addr, api_version, "sandbox listening");

    Ok(Sandbox {
        addr,
        api_version,
        shutdown: Some(shutdown),
        task: Some(task),
    })
}

/// Returns the path of the cached Admin schema for `api_version`, running
/// `scripts/shopify-schema.sh` (which needs npm the first time) to fetch it if needed.
///
/// The script runs synchronously; call this before starting servers, or from
/// `spawn_blocking` inside async code.
pub fn ensure_schema(api_version: &str) -> anyhow::Result<PathBuf> {
    let script = workspace_root().join("scripts/shopify-schema.sh");
    let output = Command::new("bash")
        .arg(&script)
        .arg(api_version)
        .output()
        .with_context(|| format!("failed to run {}", script.display()))?;
    if !output.status.success() {
        bail!(
            "{} {api_version} failed ({}); its output:\n{}",
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let path = PathBuf::from(stdout.lines().last().unwrap_or_default().trim());
    if !path.is_file() {
        bail!(
            "{} printed {:?}, which is not a file",
            script.display(),
            path.display()
        );
    }
    Ok(path)
}

/// Returns the workspace root, two levels above this crate's manifest.
fn workspace_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}
