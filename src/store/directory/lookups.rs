//! The callers' statements of concurrent interactions, run together.
//!
//! Every interaction starts by asking who is calling and whether the
//! directory changed ([`Store::caller_in_guild`]); autocomplete does it on
//! every keystroke. Asked one by one through the pool, each costs three
//! round trips, because sqlx pings a pooled connection when it is taken and
//! again when it is given back: on SQLite three hand-overs to the
//! connection's thread, on PostgreSQL three trips to the server.
//!
//! Promises:
//! - an ask is answered by a statement that started after the ask was made,
//!   so it sees every change committed before the keystroke, exactly as a
//!   statement of its own would (the freshness `store::directory` promises);
//! - asks made while a statement runs wait for the next one, which answers
//!   all of them at once (up to [`MOST_AT_ONCE`]); one statement is in
//!   flight at a time ([`WORKERS`]), so an ask waits for at most one other;
//! - the statements run on connections of their own, outside the pool
//!   (an in-memory SQLite database, one per connection, uses the pool);
//!   a statement that fails on a connection that had sat idle is tried
//!   once more on a new one (a server restart drops idle connections
//!   unseen); otherwise the asks it was answering get the error, and the
//!   next ask opens a new connection;
//! - [`Lookups::stop`] ends the workers and closes their connections, and
//!   an ask made after it is refused as a closed pool.

use std::sync::{Arc, Mutex};

use sqlx::any::{AnyConnectOptions, AnyRow};
use sqlx::{AnyConnection, AnyPool, Connection, Row};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::directory::{DiscordGuildId, DiscordUserId, TenantId};
use crate::store::{Backend, StoreError};

/// Asks one statement answers at most.
pub(crate) const MOST_AT_ONCE: usize = 64;

/// Statements in flight at once: while one runs, the next asks gather.
/// One: with two, each statement answered fewer asks, and every statement
/// costs a hand-over (SQLite) or the server's work (PostgreSQL); measured at
/// 100,000 users, SQLite's keystroke went from 2.5x to 2.3x PING's mean and
/// its p99 from 13.2 to 9.8 ms (one run each, 1 December 2026).
const WORKERS: usize = 1;

/// One caller's question, and where its answer goes.
pub(crate) struct Ask {
    pub guild: DiscordGuildId,
    pub discord: Option<DiscordUserId>,
    /// PostgreSQL: the tenant whose index snapshot is passed, and it.
    pub since: Option<(TenantId, String)>,
    pub reply: oneshot::Sender<Result<Option<AnyRow>, StoreError>>,
}

/// Where the workers' statements run.
#[derive(Clone)]
pub(crate) enum Source {
    /// Connections of their own, opened with these options.
    Own(AnyConnectOptions),
    /// The pool (an in-memory SQLite database is one per connection).
    Pool(AnyPool),
}

/// The workers and the queue they answer.
#[derive(Debug)]
pub(crate) struct Lookups {
    asks: mpsc::UnboundedSender<Ask>,
    stop: CancellationToken,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Own(_) => "Own",
            Self::Pool(_) => "Pool",
        })
    }
}

impl Lookups {
    /// Starts the workers (on the current tokio runtime).
    pub fn start(backend: Backend, source: Source) -> Self {
        let (asks, queue) = mpsc::unbounded_channel();
        let queue = Arc::new(tokio::sync::Mutex::new(queue));
        let stop = CancellationToken::new();
        let workers = (0..WORKERS)
            .map(|_| {
                let worker = Worker {
                    backend,
                    source: source.clone(),
                    own: None,
                    sql: super::caller::batch_statement(backend),
                };
                tokio::spawn(worker.run(queue.clone(), stop.clone()))
            })
            .collect();
        Self {
            asks,
            stop,
            workers: Mutex::new(workers),
        }
    }

    /// Queues `ask`; its reply says why when the workers have stopped.
    pub fn ask(&self, ask: Ask) {
        if let Err(refused) = self.asks.send(ask) {
            let _ = refused.0.reply.send(Err(sqlx::Error::PoolClosed.into()));
        }
    }

    /// Ends the workers and waits until their connections are closed.
    pub async fn stop(&self) {
        self.stop.cancel();
        let workers = match self.workers.lock() {
            Ok(mut workers) => std::mem::take(&mut *workers),
            Err(_) => Vec::new(),
        };
        for worker in workers {
            let _ = worker.await;
        }
    }
}

struct Worker {
    backend: Backend,
    source: Source,
    own: Option<AnyConnection>,
    /// The batch statement, built once.
    sql: String,
}

type Queue = Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Ask>>>;

impl Worker {
    async fn run(mut self, queue: Queue, stop: CancellationToken) {
        let mut asks = Vec::with_capacity(MOST_AT_ONCE);
        let mut cut_short = false;
        loop {
            let got = tokio::select! {
                biased;
                () = stop.cancelled() => 0,
                got = async { queue.lock().await.recv_many(&mut asks, MOST_AT_ONCE).await } => got,
            };
            if got == 0 {
                break;
            }
            // An ask whose caller gave up (a dropped request) needs no answer.
            asks.retain(|a| !a.reply.is_closed());
            if asks.is_empty() {
                continue;
            }
            let answered = tokio::select! {
                biased;
                () = stop.cancelled() => {
                    cut_short = true;
                    break;
                }
                answered = self.answer(&asks) => answered,
            };
            reply(asks.drain(..), answered);
        }
        if let Some(conn) = self.own.take() {
            // A statement stopped half-way leaves nothing to say goodbye on.
            let _ = match cut_short {
                true => conn.close_hard().await,
                false => conn.close().await,
            };
        }
    }

    /// One statement for `asks`: the row of each (in their order), or the error.
    async fn answer(&mut self, asks: &[Ask]) -> Result<Vec<Option<AnyRow>>, sqlx::Error> {
        let json = super::caller::batch_parameter(asks);
        let query = || sqlx::query(sqlx::AssertSqlSafe(self.sql.clone())).bind(json.clone());
        let rows = match &self.source {
            Source::Pool(pool) => query().fetch_all(pool).await?,
            Source::Own(options) => {
                // A connection that sat idle may have been dropped by the
                // server (a restart, a network cut) without this worker
                // knowing: the statement is read-only, so it is tried once
                // more on a new connection. One just opened is not retried.
                let mut tries = if self.own.is_some() { 2 } else { 1 };
                loop {
                    let conn = match self.own.as_mut() {
                        Some(conn) => conn,
                        None => self
                            .own
                            .insert(crate::store::connect_own(self.backend, options).await?),
                    };
                    match query().fetch_all(&mut *conn).await {
                        Ok(rows) => break rows,
                        Err(e) => {
                            if let Some(conn) = self.own.take() {
                                let _ = conn.close_hard().await;
                            }
                            tries -= 1;
                            if tries == 0 {
                                return Err(e);
                            }
                        }
                    }
                }
            }
        };
        let mut found: Vec<Option<AnyRow>> = (0..asks.len()).map(|_| None).collect();
        for row in rows {
            let at: i64 = row.try_get("ask")?;
            if let Some(slot) = usize::try_from(at).ok().and_then(|i| found.get_mut(i)) {
                *slot = Some(row);
            }
        }
        Ok(found)
    }
}

/// Sends each ask its row, or the statement's error (the first ask gets it
/// whole, the others its words).
fn reply(asks: impl Iterator<Item = Ask>, answered: Result<Vec<Option<AnyRow>>, sqlx::Error>) {
    match answered {
        Ok(rows) => {
            for (ask, row) in asks.zip(rows) {
                let _ = ask.reply.send(Ok(row));
            }
        }
        Err(e) => {
            let words = e.to_string();
            let mut first = Some(e);
            for ask in asks {
                let error = match first.take() {
                    Some(e) => e,
                    None => sqlx::Error::Io(std::io::Error::other(words.clone())),
                };
                let _ = ask.reply.send(Err(error.into()));
            }
        }
    }
}
