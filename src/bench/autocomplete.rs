//! `autocomplete_sqlite` / `autocomplete_postgres`: `clients` concurrent chat
//! accounts (tokio tasks; the mix of district admins, school admins and
//! teachers of [`Directory::client_account`]) each send `requests_per_client`
//! `/whois user:` autocomplete requests (or fewer if `max_duration` passes),
//! typing a 1-3 letter prefix of a real first or last name of the directory.
//! Latency is server-side: the time inside `commands::handle`, which resolves
//! the account, checks the limits and searches what the actor may see.
//!
//! Floor (`floor_mean_ms`): the same clients, measured the same way, doing the
//! cheapest round trip the store can: `SELECT 1` through the same pool.
//!
//! `autocomplete_under_resets`: the same autocomplete load while
//! `reset_concurrency` tasks run `/reset-password` (OWASP argon2id) for
//! students without pause; `alone_p99_ms` is the p99 of the same load on the
//! same directory with nothing else running, measured just before.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::commands::{Body, Request, handle};

use super::BenchScale;
use super::stats::{Latencies, ms, round3};
use super::world::Directory;

/// What a client does once per request.
#[derive(Clone, Copy)]
enum Work {
    Autocomplete,
    Ping,
}

/// Runs the autocomplete load and the floor; the scenario's JSON, and the
/// autocomplete latencies (for `autocomplete_under_resets`).
pub async fn scenario(
    dir: &Arc<Directory>,
    scale: &BenchScale,
    users: usize,
) -> Result<(Value, Latencies)> {
    let prefixes = Arc::new(prefixes(dir).await?);
    let load = run_load(dir, scale, &prefixes, Work::Autocomplete).await?;
    let floor = run_load(dir, scale, &prefixes, Work::Ping).await?;
    let (mean, floor_mean) = (load.mean(), floor.mean());
    let mut out = load.percentiles_json();
    out.insert("users".into(), json!(users));
    out.insert("clients".into(), json!(scale.clients));
    out.insert("mean_ms".into(), json!(ms(mean)));
    out.insert("floor_mean_ms".into(), json!(ms(floor_mean)));
    out.insert(
        "ratio_to_floor".into(),
        json!(round3(
            mean.as_secs_f64() / floor_mean.as_secs_f64().max(f64::EPSILON)
        )),
    );
    out.insert("requests".into(), json!(load.len()));
    Ok((Value::Object(out), load))
}

/// The autocomplete load again while resets run; `alone` is its p99 alone.
pub async fn under_resets(
    dir: &Arc<Directory>,
    scale: &BenchScale,
    alone: &Latencies,
) -> Result<Value> {
    let prefixes = Arc::new(prefixes(dir).await?);
    let students = dir.students(scale.reset_concurrency * 16).await?;
    let resetter = dir.district_admins[0].clone();
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for w in 0..scale.reset_concurrency {
        let mine: Vec<String> = students
            .iter()
            .skip(w)
            .step_by(scale.reset_concurrency)
            .map(|s| s.id.to_string())
            .collect();
        let (app, account, stop, done) = (
            dir.app.clone(),
            resetter.clone(),
            stop.clone(),
            done.clone(),
        );
        workers.push(tokio::spawn(async move {
            for target in mine.iter().cycle() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let request = Request::command("reset-password", &[("user", target.as_str())]);
                let reply = handle(&app, &account.inv, request).await;
                if reply.secret.is_some() {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    // Let the hashing pool fill before measuring.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let load = run_load(dir, scale, &prefixes, Work::Autocomplete).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await?;
    }
    let load = load?;
    let resets = done.load(Ordering::Relaxed);
    if resets == 0 {
        return Err(anyhow!("no reset succeeded while autocomplete ran"));
    }
    Ok(json!({
        "p99_ms": ms(load.percentile(99.0)),
        "alone_p99_ms": ms(alone.percentile(99.0)),
        "resets_during": resets,
    }))
}

async fn run_load(
    dir: &Arc<Directory>,
    scale: &BenchScale,
    prefixes: &Arc<Vec<String>>,
    work: Work,
) -> Result<Latencies> {
    let started = Instant::now();
    let mut clients = Vec::new();
    for i in 0..scale.clients {
        let (dir, prefixes) = (dir.clone(), prefixes.clone());
        let (requests, bound) = (scale.requests_per_client, scale.max_duration);
        clients.push(tokio::spawn(async move {
            let account = dir.client_account(i);
            let mut rng = StdRng::seed_from_u64(i as u64);
            let mut latencies = Vec::with_capacity(requests);
            for _ in 0..requests {
                if started.elapsed() > bound {
                    break;
                }
                let prefix = &prefixes[rng.gen_range(0..prefixes.len())];
                let t = Instant::now();
                match work {
                    Work::Autocomplete => {
                        let request =
                            Request::autocomplete("whois", "user", &[("user", prefix.as_str())]);
                        let reply = handle(&dir.app, &account.inv, request).await;
                        latencies.push(t.elapsed());
                        if !matches!(reply.body, Body::Choices(_)) {
                            return Err(format!(
                                "an autocomplete was answered with a message: {}",
                                reply.text()
                            ));
                        }
                    }
                    Work::Ping => {
                        let pinged = dir.app.store.ping().await;
                        latencies.push(t.elapsed());
                        if !pinged {
                            return Err("SELECT 1 failed".to_owned());
                        }
                    }
                }
            }
            Ok(latencies)
        }));
    }
    let mut all = Latencies::default();
    for client in clients {
        all.extend(client.await?.map_err(|e| anyhow!(e))?);
    }
    if all.is_empty() {
        return Err(anyhow!("no request completed within the time bound"));
    }
    Ok(all)
}

/// What people type: the first 1-3 letters of real first and last names.
async fn prefixes(dir: &Directory) -> Result<Vec<String>> {
    let names: Vec<(String, String)> =
        sqlx::query_as("SELECT first_name, last_name FROM users ORDER BY source_id LIMIT 2000")
            .fetch_all(dir.app.store.pool())
            .await?;
    let mut rng = StdRng::seed_from_u64(42);
    let prefixes: Vec<String> = names
        .iter()
        .flat_map(|(first, last)| [first, last])
        .map(|name| {
            let len = rng.gen_range(1..=3);
            name.chars()
                .take(len)
                .flat_map(char::to_lowercase)
                .collect()
        })
        .collect();
    if prefixes.is_empty() {
        return Err(anyhow!("the directory has no names to type"));
    }
    Ok(prefixes)
}
