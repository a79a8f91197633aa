//! `autocomplete_sqlite` / `autocomplete_postgres`: `clients` concurrent load
//! clients, each its own keep-alive HTTP connection to `hallpass serve`
//! running as a child process on the scenario's database
//! ([`super::listener`], [`super::server`]), send signed Discord interactions to
//! `POST /interactions` over loopback TCP: `requests_per_client` `/whois
//! user:` autocomplete requests each (or fewer if `max_duration` passes), as
//! five chat accounts in turn ([`Directory::client_account_for`]: district
//! admins, school admins and teachers), typing a 1-3 letter prefix of a real first or
//! last name of the directory. Latency is the client's: from before signing
//! to the whole answer read (an autocomplete result, or the scenario fails;
//! the rate limit's one choice fails it too, as `serve` keeps production
//! limits). `rps`: answers per second of the phase's wall time.
//! `server_peak_rss_mib`: the serving process's peak resident memory.
//!
//! Floor (`floor_mean_ms`, `floor_p50_ms`, `floor_p99_ms`, `floor_rps`): the
//! same clients on the same connections, in the same run just before, sending
//! signed `PING`s: signature check and routing only. `ratio_to_floor` is
//! mean over floor mean.
//!
//! `index_load_seconds`: how long autocomplete's in-memory index of the
//! directory took to read in (the benchmark's own; `serve` reads its own at
//! start, before it listens).
//!
//! `in_process_mean_ms` / `in_process_p99_ms`: the old figure, the time
//! inside `commands::handle` alone (no HTTP, no signature, no replay check),
//! for profiling.
//!
//! `autocomplete_under_resets`: the same autocomplete load through the
//! listener while `reset_concurrency` tasks run `/reset-password` (OWASP
//! argon2id) for students without pause, in process (through
//! `commands::handle`; through the listener a reset is deferred and finished
//! in the background, so it could not be paced), so the listener is the
//! in-process one with the benchmark's raised limits; `alone_p99_ms` is the
//! p99 of the same autocomplete load on the same listener, measured just
//! before the resets start.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::commands::{Body, RATE_LIMITED_CHOICE, Request, handle};

use super::BenchScale;
use super::listener::{Listener, member};
use super::stats::{Latencies, ms, round3};
use super::world::{Directory, ROTATION};

/// What a client sends once per request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Work {
    Autocomplete,
    Ping,
}

/// A load phase: every latency, and the phase's wall time.
struct Phase {
    latencies: Latencies,
    wall: Duration,
}

impl Phase {
    fn rps(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64().max(f64::EPSILON)
    }
}

/// Runs the floor and the autocomplete load through the listener (and the
/// old in-process timing); the scenario's JSON, and the autocomplete
/// latencies (for `autocomplete_under_resets`).
pub async fn scenario(
    dir: &Arc<Directory>,
    scale: &BenchScale,
    users: usize,
    database_url: &str,
) -> Result<Value> {
    let prefixes = Arc::new(prefixes(dir).await?);
    let listener = Arc::new(Listener::spawn(database_url).await?);
    let clients = clients(scale.clients)?;
    let measured = async {
        let floor = run_load(dir, scale, &listener, &clients, &prefixes, Work::Ping).await?;
        let load = run_load(
            dir,
            scale,
            &listener,
            &clients,
            &prefixes,
            Work::Autocomplete,
        )
        .await?;
        Ok::<_, anyhow::Error>((floor, load))
    }
    .await;
    let rss = listener.server_peak_rss_mib();
    stop(listener).await;
    let (floor, load) = measured?;
    let in_process = in_process(dir, scale, &prefixes).await?;
    let (mean, floor_mean) = (load.latencies.mean(), floor.latencies.mean());
    let mut out = load.latencies.percentiles_json();
    out.insert("users".into(), json!(users));
    out.insert("clients".into(), json!(scale.clients));
    out.insert("mean_ms".into(), json!(ms(mean)));
    out.insert("rps".into(), json!(round3(load.rps())));
    out.insert("floor_mean_ms".into(), json!(ms(floor_mean)));
    out.insert(
        "floor_p50_ms".into(),
        json!(ms(floor.latencies.percentile(50.0))),
    );
    out.insert(
        "floor_p99_ms".into(),
        json!(ms(floor.latencies.percentile(99.0))),
    );
    out.insert("floor_rps".into(), json!(round3(floor.rps())));
    out.insert(
        "ratio_to_floor".into(),
        json!(round3(
            mean.as_secs_f64() / floor_mean.as_secs_f64().max(f64::EPSILON)
        )),
    );
    out.insert("requests".into(), json!(load.latencies.len()));
    out.insert(
        "index_load_seconds".into(),
        json!(round3(dir.index_load.as_secs_f64())),
    );
    out.insert("in_process_mean_ms".into(), json!(ms(in_process.mean())));
    out.insert(
        "in_process_p99_ms".into(),
        json!(ms(in_process.percentile(99.0))),
    );
    if let Some(rss) = rss {
        out.insert("server_peak_rss_mib".into(), json!(rss?));
    }
    Ok(Value::Object(out))
}

/// The autocomplete load alone, then again while resets run.
pub async fn under_resets(dir: &Arc<Directory>, scale: &BenchScale) -> Result<Value> {
    let prefixes = Arc::new(prefixes(dir).await?);
    let listener = Arc::new(Listener::start(&dir.app).await?);
    let clients = clients(scale.clients)?;
    let alone = run_load(
        dir,
        scale,
        &listener,
        &clients,
        &prefixes,
        Work::Autocomplete,
    )
    .await;
    let alone = match alone {
        Ok(alone) => alone.latencies,
        Err(e) => {
            stop(listener).await;
            return Err(e);
        }
    };
    let students = dir.students(scale.reset_concurrency * 16).await?;
    let resetter = dir.district_admins[0].clone();
    let stop_resets = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for w in 0..scale.reset_concurrency {
        let mine: Vec<String> = students
            .iter()
            .skip(w)
            .step_by(scale.reset_concurrency)
            .map(|s| s.id.to_string())
            .collect();
        let (app, account, stop_resets, done) = (
            dir.app.clone(),
            resetter.clone(),
            stop_resets.clone(),
            done.clone(),
        );
        workers.push(tokio::spawn(async move {
            for target in mine.iter().cycle() {
                if stop_resets.load(Ordering::Relaxed) {
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
    let load = run_load(
        dir,
        scale,
        &listener,
        &clients,
        &prefixes,
        Work::Autocomplete,
    )
    .await;
    stop_resets.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await?;
    }
    stop(listener).await;
    let load = load?;
    let resets = done.load(Ordering::Relaxed);
    if resets == 0 {
        return Err(anyhow!("no reset succeeded while autocomplete ran"));
    }
    Ok(json!({
        "p99_ms": ms(load.latencies.percentile(99.0)),
        "alone_p99_ms": ms(alone.percentile(99.0)),
        "mean_ms": ms(load.latencies.mean()),
        "rps": round3(load.rps()),
        "resets_during": resets,
    }))
}

fn clients(n: usize) -> Result<Arc<Vec<reqwest::Client>>> {
    Ok(Arc::new(
        (0..n).map(|_| Listener::client()).collect::<Result<_>>()?,
    ))
}

async fn stop(listener: Arc<Listener>) {
    if let Some(listener) = Arc::into_inner(listener) {
        listener.stop().await;
    }
}

async fn run_load(
    dir: &Arc<Directory>,
    scale: &BenchScale,
    listener: &Arc<Listener>,
    clients: &Arc<Vec<reqwest::Client>>,
    prefixes: &Arc<Vec<String>>,
    work: Work,
) -> Result<Phase> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..clients.len() {
        let (dir, prefixes, listener, clients) = (
            dir.clone(),
            prefixes.clone(),
            listener.clone(),
            clients.clone(),
        );
        let (requests, bound) = (scale.requests_per_client, scale.max_duration);
        tasks.push(tokio::spawn(async move {
            let client = &clients[i];
            let whos: Vec<_> = (0..ROTATION)
                .map(|k| member(&dir.client_account_for(i, clients.len(), k).inv))
                .collect();
            let mut rng = StdRng::seed_from_u64(i as u64);
            let mut latencies = Vec::with_capacity(requests);
            for k in 0..requests {
                let who = &whos[k % ROTATION];
                if started.elapsed() > bound {
                    break;
                }
                let prefix = &prefixes[rng.gen_range(0..prefixes.len())];
                let t = Instant::now();
                let payload = match work {
                    Work::Autocomplete => listener.discord.autocomplete(
                        *who,
                        "whois",
                        "user",
                        &[("user", prefix.as_str())],
                    ),
                    Work::Ping => listener.discord.ping(),
                };
                let (status, answer) = listener.send(client, &payload).await?;
                latencies.push(t.elapsed());
                // PONG is type 1; an autocomplete result is type 8.
                let expected = if work == Work::Ping { 1 } else { 8 };
                let limited = answer["data"]["choices"][0]["value"] == RATE_LIMITED_CHOICE;
                if status != 200 || answer["type"] != expected || limited {
                    return Err(anyhow!(
                        "the listener answered {status} {answer} where type {expected} was due"
                    ));
                }
            }
            Ok(latencies)
        }));
    }
    let mut all = Latencies::default();
    for task in tasks {
        all.extend(task.await??);
    }
    let wall = started.elapsed();
    if all.is_empty() {
        return Err(anyhow!("no request completed within the time bound"));
    }
    Ok(Phase {
        latencies: all,
        wall,
    })
}

/// The old figure: the same load's time inside `commands::handle` alone.
async fn in_process(
    dir: &Arc<Directory>,
    scale: &BenchScale,
    prefixes: &Arc<Vec<String>>,
) -> Result<Latencies> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..scale.clients {
        let (dir, prefixes) = (dir.clone(), prefixes.clone());
        let (requests, bound) = (scale.requests_per_client, scale.max_duration);
        let clients = scale.clients;
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(i as u64);
            let mut latencies = Vec::with_capacity(requests);
            for k in 0..requests {
                let account = dir.client_account_for(i, clients, k);
                if started.elapsed() > bound {
                    break;
                }
                let prefix = &prefixes[rng.gen_range(0..prefixes.len())];
                let t = Instant::now();
                let request = Request::autocomplete("whois", "user", &[("user", prefix.as_str())]);
                let reply = handle(&dir.app, &account.inv, request).await;
                latencies.push(t.elapsed());
                if !matches!(reply.body, Body::Choices(_)) {
                    return Err(anyhow!(
                        "an autocomplete was answered with a message: {}",
                        reply.text()
                    ));
                }
            }
            Ok(latencies)
        }));
    }
    let mut all = Latencies::default();
    for task in tasks {
        all.extend(task.await??);
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
