//! The serving process of the autocomplete scenarios: `hallpass serve`
//! itself, this same binary started as a child with a configuration of its
//! own (the benchmark's database, the simulated Discord's public key, a
//! loopback port, a fresh secret key, no gateway token), so its latency and
//! its peak resident memory are those of the process that serves in
//! production, apart from the load generator. `peak_rss_mib` reads the
//! child's `VmHWM` from `/proc/PID/status` before it is stopped.

use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use rand::RngCore;
use tokio::process::{Child, Command};
use url::Url;

use crate::standins::simulate::SimulatedDiscord;

/// How long `serve` may take to answer `GET /healthz`: it reads autocomplete's
/// index in before it listens (about 22 s at 1,000,000 people on SQLite).
const READY_WITHIN: Duration = Duration::from_secs(300);

/// A running `hallpass serve`; stopped (killed) by [`Served::stop`] or on drop.
pub struct Served {
    child: Child,
    pid: u32,
    pub base: Url,
}

impl Served {
    /// Starts `hallpass serve` on `database_url`, trusting `discord`'s key,
    /// and waits until it answers.
    pub async fn start(
        database_url: &str,
        discord: &SimulatedDiscord,
        application_id: u64,
    ) -> Result<Self> {
        let port = free_port()?;
        let exe = std::env::current_exe().context("Failed to find the hallpass binary")?;
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        let child = Command::new(exe)
            .arg("serve")
            // Only this configuration: none of the caller's DATABASE_URL or tokens.
            .env_clear()
            .env("DATABASE_URL", database_url)
            .env("HALLPASS_LISTEN", format!("127.0.0.1:{port}"))
            .env("DISCORD_PUBLIC_KEY", discord.public_key_hex())
            .env("DISCORD_APPLICATION_ID", application_id.to_string())
            .env("HALLPASS_SECRET_KEY", hex::encode(key))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("Failed to start hallpass serve")?;
        let pid = child
            .id()
            .ok_or_else(|| anyhow!("hallpass serve exited at once"))?;
        let base = Url::parse(&format!("http://127.0.0.1:{port}/"))?;
        let mut served = Self { child, pid, base };
        served.wait_until_ready().await?;
        Ok(served)
    }

    async fn wait_until_ready(&mut self) -> Result<()> {
        let client = reqwest::Client::new();
        let health = self.base.join("healthz")?;
        let started = std::time::Instant::now();
        while started.elapsed() < READY_WITHIN {
            if let Some(status) = self.child.try_wait()? {
                return Err(anyhow!("hallpass serve exited before answering: {status}"));
            }
            match client.get(health.clone()).send().await {
                Ok(r) if r.status().is_success() => return Ok(()),
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        Err(anyhow!(
            "hallpass serve did not answer /healthz within {READY_WITHIN:?}"
        ))
    }

    /// The child's peak resident memory so far, in MiB.
    pub fn peak_rss_mib(&self) -> Result<f64> {
        super::machine::peak_rss_mib_of(&format!("/proc/{}/status", self.pid))
    }

    pub async fn stop(mut self) {
        if let Err(e) = self.child.kill().await {
            tracing::warn!(error = %e, "hallpass serve could not be stopped");
        }
    }
}

/// A loopback port free now (the child binds it a moment later).
fn free_port() -> Result<u16> {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").context("No free loopback port")?;
    Ok(probe.local_addr()?.port())
}
