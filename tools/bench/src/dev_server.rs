//! The dev server binary running as a child process, configured only by the environment
//! it is given.

use crate::burst::output_dir;
use anyhow::{bail, Context};
use std::fs::File;
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// How long the dev server may take to respond on `/api/health` after it is spawned.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How often to retry `/api/health` while the dev server starts.
const STARTUP_POLL: Duration = Duration::from_millis(100);

/// The dev server running as a child process.
pub struct DevServerProcess {
    child: Child,
    pub base_url: String,
}

impl DevServerProcess {
    /// Spawns `binary` with only `environment` (no inherited variables, as in Lambda), on a
    /// free port of 127.0.0.1, and waits until `/api/health` returns 200. Its output goes
    /// to `log_path`. It runs in a folder of its own, so it reads no developer's `.env`.
    pub async fn spawn(
        binary: &Path,
        environment: &[(String, String)],
        log_path: &Path,
    ) -> anyhow::Result<Self> {
        if !binary.is_file() {
            bail!(
                "the dev server binary {} does not exist; build it with `cargo build --release -p dev-server`",
                binary.display()
            );
        }
        let port = free_port()?;
        let workdir = output_dir().join("dev-server-workdir");
        std::fs::create_dir_all(&workdir)
            .with_context(|| format!("creating {} failed", workdir.display()))?;
        if let Some(parent) = log_path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let log = File::create(log_path)
            .with_context(|| format!("creating {} failed", log_path.display()))?;
        let child = Command::new(binary)
            .env_clear()
            .envs(environment.iter().map(|(name, value)| (name, value)))
            .env("DEV_SERVER_ADDR", format!("127.0.0.1:{port}"))
            .current_dir(&workdir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {} failed", binary.display()))?;
        let mut server = Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
        };
        server.wait_until_healthy(log_path).await?;
        Ok(server)
    }

    async fn wait_until_healthy(&mut self, log_path: &Path) -> anyhow::Result<()> {
        let http = reqwest::Client::builder().no_proxy().build()?;
        let url = format!("{}/api/health", self.base_url);
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "the dev server exited with {status} before it responded; its log {}:\n{}",
                    log_path.display(),
                    log_tail(log_path)
                );
            }
            let checked = http.get(&url).timeout(Duration::from_secs(2)).send().await;
            if checked.is_ok_and(|response| response.status().is_success()) {
                return Ok(());
            }
            if started.elapsed() > STARTUP_TIMEOUT {
                bail!(
                    "the dev server did not respond on {url} within {} s; its log {}:\n{}",
                    STARTUP_TIMEOUT.as_secs(),
                    log_path.display(),
                    log_tail(log_path)
                );
            }
            tokio::time::sleep(STARTUP_POLL).await;
        }
    }

    /// Kills the process (SIGKILL) and waits for it to exit.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.child
            .kill()
            .await
            .context("stopping the dev server failed")
    }
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}
