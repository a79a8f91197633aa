//! `signin`: `POST /api/v1/login` through the real listener, over real TCP
//! sockets on loopback, from `signin_clients` concurrent HTTP clients (more
//! than the cores, so the hasher is never idle), on a SQLite directory of
//! `signin_clients` students with production hashing (OWASP argon2id,
//! m=19456,t=2,p=1). `rps`: successful sign-ins per second of wall time.
//! Each sign-in parses the JSON, checks the per-address limit, finds the
//! tenant, the user and the hash, verifies the password on the blocking pool
//! and answers JSON.
//!
//! Floor (`raw_verifies_per_s`): the same number of `PasswordHasher::verify`
//! calls alone, in process, at the same concurrency, through the same hasher
//! against the same stored hashes. `ratio = rps / raw_verifies_per_s`: 1.0
//! means a sign-in costs exactly its verification.
//!
//! `unknown_login_mean_ms` and `wrong_password_mean_ms`: the mean time of one
//! sign-in, one at a time, for a login that does not exist and for a wrong
//! password of one that does, interleaved so that drift hits both alike, with
//! their medians (`unknown_login_p50_ms`, `wrong_password_p50_ms`), which one
//! stall of the machine cannot move. The promise is that they cannot be told
//! apart.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use chrono::Utc;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::app::{App, Settings};
use crate::audit::{Action, AuditActor, AuditEntry, Origin};
use crate::credentials::{HashParams, PasswordHash, PasswordHasher};
use crate::directory::{Grade, Login, PersonName, Place, Role, TenantName};
use crate::limits::Limits;
use crate::store::{NewUser, Store};
use crate::web::WebState;

use super::BenchScale;
use super::stats::{Latencies, ms, round3};
use super::world::FreshDb;

const TENANT: &str = "bench-signin";

pub async fn scenario(scale: &BenchScale) -> Result<Value> {
    let db = FreshDb::sqlite().await?;
    let store = db.open().await?;
    let result = measure(&store, scale).await;
    store.close().await;
    result
}

/// The students' logins and the hashes stored for them.
struct Directory {
    app: App,
    logins: Vec<String>,
    hashes: Vec<PasswordHash>,
}

async fn measure(store: &Store, scale: &BenchScale) -> Result<Value> {
    let dir = Arc::new(directory(store, scale.signin_clients.max(1)).await?);
    let listening = crate::web::listen("127.0.0.1:0", WebState::new(dir.app.clone()))
        .await
        .context("Failed to listen on loopback")?;
    let address = listening.addr();
    let figures = async {
        let rps = through_listener(&dir, address, scale).await?;
        let raw = raw_verifies(&dir, scale).await?;
        let (unknown, wrong) = one_at_a_time(&dir, address, scale).await?;
        Ok::<_, anyhow::Error>(json!({
            "rps": round3(rps),
            "raw_verifies_per_s": round3(raw),
            "ratio": round3(rps / raw.max(f64::EPSILON)),
            "clients": scale.signin_clients,
            "unknown_login_mean_ms": ms(unknown.mean()),
            "wrong_password_mean_ms": ms(wrong.mean()),
            "unknown_login_p50_ms": ms(unknown.percentile(50.0)),
            "wrong_password_p50_ms": ms(wrong.percentile(50.0)),
            "samples": scale.signin_samples,
        }))
    }
    .await;
    let _ = listening.shutdown().await;
    figures
}

fn password(i: usize) -> SecretString {
    SecretString::from(format!("bench passphrase number {i}"))
}

/// A tenant with one school and `n` students, each with a password.
async fn directory(store: &Store, n: usize) -> Result<Directory> {
    let now = Utc::now();
    let audit = |action| {
        AuditEntry::new(
            None,
            now,
            AuditActor::system("bench"),
            action,
            Origin::api("bench"),
        )
    };
    let tenant = store
        .create_tenant(&TenantName::parse(TENANT)?, now)
        .await?;
    let district = store
        .create_district(tenant.id, "Bench District", None)
        .await?;
    let school = store
        .create_school(tenant.id, district.id, "Bench School", None)
        .await?;
    let hasher = PasswordHasher::new(HashParams::owasp())?;
    let mut app = App::new(store.clone(), hasher.clone(), Settings::default());
    // The per-address limit would answer most of the clients "429" in
    // microseconds; the scenario measures the work behind a sign-in.
    app.limits = Arc::new(Limits::default().with_signins_per_minute(u32::MAX));
    let (mut logins, mut hashes) = (Vec::new(), Vec::new());
    for i in 0..n {
        let login = format!("bench.student{i}");
        let user = store
            .insert_user(
                tenant.id,
                &NewUser {
                    login: Login::parse(&login)?,
                    first_name: PersonName::parse("Bench")?,
                    last_name: PersonName::parse(&format!("Student{i}"))?,
                    role: Role::Student,
                    place: Place::School {
                        school: school.id,
                        district: district.id,
                    },
                    grade: Some(Grade::parse("07")?),
                    title: None,
                    source_id: None,
                    disabled: false,
                },
                audit(Action::UserCreate),
            )
            .await?;
        let hash = hasher.hash(&password(i)).await?;
        store
            .set_password(
                &user,
                hash.as_str(),
                false,
                None,
                audit(Action::PasswordReset),
            )
            .await?;
        logins.push(login);
        hashes.push(hash);
    }
    hasher.prepare_dummy().await?;
    Ok(Directory {
        app,
        logins,
        hashes,
    })
}

fn client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .context("Failed to build the HTTP client")
}

async fn sign_in(client: &reqwest::Client, url: &str, login: &str, password: &str) -> Result<u16> {
    let body = json!({ "tenant": TENANT, "login": login, "password": password });
    let response = client.post(url).json(&body).send().await?;
    let status = response.status().as_u16();
    response.bytes().await?;
    Ok(status)
}

async fn through_listener(
    dir: &Arc<Directory>,
    address: SocketAddr,
    scale: &BenchScale,
) -> Result<f64> {
    let url = Arc::new(format!("http://{address}/api/v1/login"));
    let next = Arc::new(AtomicUsize::new(0));
    let total = scale.signins;
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..scale.signin_clients.max(1) {
        let (dir, url, next, client) = (dir.clone(), url.clone(), next.clone(), client()?);
        workers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return Ok(());
                }
                let i = n % dir.logins.len();
                let secret = format!("bench passphrase number {i}");
                let status = sign_in(&client, &url, &dir.logins[i], &secret).await?;
                if status != 200 {
                    return Err(anyhow!("a sign-in with the right password got {status}"));
                }
            }
        }));
    }
    for worker in workers {
        worker.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

async fn raw_verifies(dir: &Arc<Directory>, scale: &BenchScale) -> Result<f64> {
    let next = Arc::new(AtomicUsize::new(0));
    let total = scale.signins;
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..scale.signin_clients.max(1) {
        let (dir, next) = (dir.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return Ok(());
                }
                let i = n % dir.hashes.len();
                if !dir.app.hasher.verify(&password(i), &dir.hashes[i]).await? {
                    return Err(anyhow!("a stored hash did not verify its password"));
                }
            }
        }));
    }
    for worker in workers {
        worker.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// The times of an unknown login and of a wrong password, one request at a time.
async fn one_at_a_time(
    dir: &Arc<Directory>,
    address: SocketAddr,
    scale: &BenchScale,
) -> Result<(Latencies, Latencies)> {
    let url = format!("http://{address}/api/v1/login");
    let client = client()?;
    let samples = scale.signin_samples.max(1);
    let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
    for n in 0..samples {
        let started = Instant::now();
        let status = sign_in(&client, &url, &format!("nobody.{n}"), "a guess").await?;
        unknown.push(started.elapsed());
        if status != 401 {
            return Err(anyhow!("an unknown login got {status}"));
        }
        // Spread over the students so that none comes near the lock.
        let login = &dir.logins[n % dir.logins.len()];
        let started = Instant::now();
        let status = sign_in(&client, &url, login, "a guess").await?;
        wrong.push(started.elapsed());
        if status != 401 {
            return Err(anyhow!("a wrong password got {status}"));
        }
    }
    let (mut unknown_times, mut wrong_times) = (Latencies::default(), Latencies::default());
    unknown_times.extend(unknown);
    wrong_times.extend(wrong);
    Ok((unknown_times, wrong_times))
}
