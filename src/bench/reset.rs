//! `reset_throughput`: `resets` `/reset-password user:<student>` commands from
//! a district admin through `commands::handle`, `reset_concurrency` at a time,
//! on the SQLite directory with production hashing (OWASP argon2id,
//! m=19456,t=2,p=1): completed resets per second of wall time. Each reset
//! resolves the actor and target, checks the policy, draws a passphrase,
//! hashes it and stores the hash with its audit entry.
//!
//! Floor (`raw_hashes_per_s`): the same number of `PasswordHasher::hash` calls
//! alone, at the same concurrency, through the same hasher (and so the same
//! blocking pool and semaphore). `ratio = resets_per_s / raw_hashes_per_s`:
//! 1.0 means a reset costs exactly its hash.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Result, anyhow};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::commands::{Request, handle};

use super::BenchScale;
use super::stats::round3;
use super::world::Directory;

pub async fn scenario(dir: &Arc<Directory>, scale: &BenchScale) -> Result<Value> {
    let resets_per_s = resets(dir, scale).await?;
    let raw_hashes_per_s = raw_hashes(dir, scale).await?;
    Ok(json!({
        "resets_per_s": round3(resets_per_s),
        "raw_hashes_per_s": round3(raw_hashes_per_s),
        "ratio": round3(resets_per_s / raw_hashes_per_s.max(f64::EPSILON)),
    }))
}

async fn resets(dir: &Arc<Directory>, scale: &BenchScale) -> Result<f64> {
    let students: Arc<Vec<String>> = Arc::new(
        dir.students(scale.resets)
            .await?
            .iter()
            .map(|s| s.id.to_string())
            .collect(),
    );
    if students.is_empty() {
        return Err(anyhow!("the directory has no students to reset"));
    }
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..scale.reset_concurrency {
        let (dir, students, next) = (dir.clone(), students.clone(), next.clone());
        let total = scale.resets;
        workers.push(tokio::spawn(async move {
            let account = &dir.district_admins[0];
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return Ok(());
                }
                let target = &students[n % students.len()];
                let request = Request::command("reset-password", &[("user", target.as_str())]);
                let reply = handle(&dir.app, &account.inv, request).await;
                if reply.secret.is_none() {
                    return Err(format!("a reset was refused: {}", reply.text()));
                }
            }
        }));
    }
    for worker in workers {
        worker.await?.map_err(|e| anyhow!(e))?;
    }
    Ok(scale.resets as f64 / started.elapsed().as_secs_f64())
}

async fn raw_hashes(dir: &Arc<Directory>, scale: &BenchScale) -> Result<f64> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..scale.reset_concurrency {
        let (hasher, next) = (dir.app.hasher.clone(), next.clone());
        let total = scale.resets;
        workers.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < total {
                let password = SecretString::from("correct horse battery 42");
                hasher.hash(&password).await?;
            }
            Ok::<(), crate::credentials::CredentialError>(())
        }));
    }
    for worker in workers {
        worker.await??;
    }
    Ok(scale.resets as f64 / started.elapsed().as_secs_f64())
}
