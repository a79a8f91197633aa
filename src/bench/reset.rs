//! `reset_throughput`: `resets` `/reset-password user:<student>` commands from
//! a district admin through `commands::handle`, `reset_concurrency` at a time,
//! on the SQLite directory with production hashing (OWASP argon2id,
//! m=19456,t=2,p=1): completed resets per second of wall time. Each reset
//! resolves the actor and target, checks the policy, draws a passphrase,
//! hashes it and stores the hash with its audit entry.
//!
//! Floor (`raw_hashes_per_s`): the same number of `PasswordHasher::hash` calls
//! alone, at the same concurrency, through the same hasher (and so the same
//! hashing threads and semaphore). `ratio = resets_per_s / raw_hashes_per_s`:
//! 1.0 means a reset costs exactly its hash.
//!
//! The two are interleaved in [`ROUNDS`] rounds, in ABBA order (resets then
//! hashes, hashes then resets, ...), and each rate is its count over the sum
//! of its rounds' wall time: the machine's load drifts while they run (other
//! processes, the page cache), and one run of each in turn would set a quiet
//! spell beside a busy one. Together they still make `resets` of each.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::commands::{Request, handle};

use super::BenchScale;
use super::stats::round3;
use super::world::Directory;

/// How many rounds the resets and the raw hashes are interleaved in.
const ROUNDS: usize = 4;

pub async fn scenario(dir: &Arc<Directory>, scale: &BenchScale) -> Result<Value> {
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
    let (mut reset_time, mut raw_time) = (Duration::ZERO, Duration::ZERO);
    let per_round = scale.resets.div_ceil(ROUNDS);
    let mut done = 0;
    for round in 0..ROUNDS {
        let count = per_round.min(scale.resets - done);
        if count == 0 {
            break;
        }
        if round % 2 == 0 {
            reset_time += resets(dir, scale, &students, done, count).await?;
            raw_time += raw_hashes(dir, scale, count).await?;
        } else {
            raw_time += raw_hashes(dir, scale, count).await?;
            reset_time += resets(dir, scale, &students, done, count).await?;
        }
        done += count;
    }
    let resets_per_s = done as f64 / reset_time.as_secs_f64();
    let raw_hashes_per_s = done as f64 / raw_time.as_secs_f64();
    Ok(json!({
        "resets_per_s": round3(resets_per_s),
        "raw_hashes_per_s": round3(raw_hashes_per_s),
        "ratio": round3(resets_per_s / raw_hashes_per_s.max(f64::EPSILON)),
    }))
}

/// `count` resets, the `first`-th onwards (each of a student in turn), at
/// the scale's concurrency: how long they took.
async fn resets(
    dir: &Arc<Directory>,
    scale: &BenchScale,
    students: &Arc<Vec<String>>,
    first: usize,
    count: usize,
) -> Result<Duration> {
    let next = Arc::new(AtomicUsize::new(first));
    let end = first + count;
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..scale.reset_concurrency {
        let (dir, students, next) = (dir.clone(), students.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let account = &dir.district_admins[0];
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= end {
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
    Ok(started.elapsed())
}

/// `count` raw hashes at the same concurrency: how long they took.
async fn raw_hashes(dir: &Arc<Directory>, scale: &BenchScale, count: usize) -> Result<Duration> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..scale.reset_concurrency {
        let (hasher, next) = (dir.app.hasher.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < count {
                let password = SecretString::from("correct horse battery 42");
                hasher.hash(&password).await?;
            }
            Ok::<(), crate::credentials::CredentialError>(())
        }));
    }
    for worker in workers {
        worker.await??;
    }
    Ok(started.elapsed())
}
