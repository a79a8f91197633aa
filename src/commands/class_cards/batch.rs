//! One class's batch: each student reset through the same code as a single
//! `/reset-password` (`reset_password::issue_temporary`: the hand-off, the
//! audit entry, the end of earlier email links), with the hashing spread over
//! the blocking pool, then the cards rendered. Shared by the Confirm button
//! and `hallpass cards`.
//!
//! Promises:
//! * a student is reset only when `can_reset_password` allows it and the
//!   account is enabled; the others are counted as skipped, never touched;
//! * all or nothing: if any reset or the PDF fails, every reset already made
//!   is rolled back (the same roll-back as an undelivered single reset);
//! * one `password.reset` entry per student, carrying the batch's id, and one
//!   `class.cards` summary with the counts; no password, no PDF;
//! * the burst alert is asked once, for the whole batch.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use secrecy::SecretSlice;
use serde_json::json;
use url::Url;

use crate::app::App;
use crate::audit::Action;
use crate::cards::{self, Card};
use crate::directory::{Class, SchoolId, User};
use crate::policy::{Subject, can_reset_password};
use crate::store::{HandoffId, StoreError};

use super::super::burst;
use super::super::context::Actor;
use super::super::delivery::roll_back_batch;
use super::super::reply::Invocation;
use super::super::reset_password::{Issued, issue_temporary};
use super::id::roster_digest;

/// The students of a class, as the actor may reset them.
#[derive(Debug)]
pub struct Roster {
    /// Those who would get a new temporary password, in the class's order.
    pub eligible: Vec<User>,
    /// Enrolled students the actor may not reset, or whose account is disabled.
    pub skipped: usize,
}

impl Roster {
    pub async fn of(app: &App, actor: &Actor, class: &Class) -> Result<Self, StoreError> {
        let me = actor.subject();
        let (eligible, skipped): (Vec<User>, Vec<User>) = app
            .store
            .class_students(class.id)
            .await?
            .into_iter()
            .partition(|s| !s.disabled && can_reset_password(&me, &Subject::from(s)).is_allowed());
        Ok(Self {
            eligible,
            skipped: skipped.len(),
        })
    }

    /// The fingerprint a prompt carries (see [`roster_digest`]).
    pub fn digest(&self) -> String {
        let ids: Vec<_> = self.eligible.iter().map(|u| u.id).collect();
        roster_digest(&ids)
    }
}

/// A batch done: the hand-offs to finish once the PDF is delivered (or to
/// roll back with [`roll_back_batch`]), and the PDF.
pub struct Printed {
    pub issued: Vec<(User, HandoffId)>,
    pub skipped: usize,
    pub expires: DateTime<Utc>,
    pub pdf: SecretSlice<u8>,
}

impl std::fmt::Debug for Printed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Printed")
            .field("issued", &self.issued.len())
            .field("skipped", &self.skipped)
            .field("expires", &self.expires)
            .field("pdf", &"<redacted>")
            .finish()
    }
}

/// Resets every student of `roster` and renders their cards; the caller
/// has checked the class and the roster. All or nothing.
pub async fn print_cards(
    app: &App,
    actor: &Actor,
    inv: &Invocation,
    class: &Class,
    roster: Roster,
) -> anyhow::Result<Printed> {
    let now = app.now();
    let batch = uuid::Uuid::now_v7().to_string();
    let mut issued = Vec::with_capacity(roster.eligible.len());
    let mut failure = None;
    for (who, result) in reset_all(app, actor, inv, class, &batch, roster.eligible, now).await {
        match result {
            Ok(done) => issued.push((who, done)),
            Err(e) => failure = Some(e),
        }
    }
    let handoffs: Vec<(User, HandoffId)> = issued
        .iter()
        .map(|(who, (_, handoff, _))| (who.clone(), handoff.clone()))
        .collect();
    if let Some(e) = failure {
        roll_back_batch(app, &handoffs).await;
        return Err(e.context("Failed to reset every student of the class"));
    }
    let expires = issued.first().map_or(now, |(_, (_, _, at))| *at);
    let pdf = match render(app, actor, class, issued).await {
        Ok(pdf) => pdf,
        Err(e) => {
            roll_back_batch(app, &handoffs).await;
            return Err(e);
        }
    };
    summarise(
        app,
        actor,
        inv,
        class,
        &batch,
        handoffs.len(),
        roster.skipped,
    )
    .await;
    burst::after_batch(app, actor, &class.label(), handoffs.len()).await;
    Ok(Printed {
        issued: handoffs,
        skipped: roster.skipped,
        expires,
        pdf,
    })
}

/// Every student reset, hashing at most as many at once as there are cores
/// (the hasher's own limit too), in the roster's order.
async fn reset_all(
    app: &App,
    actor: &Actor,
    inv: &Invocation,
    class: &Class,
    batch: &str,
    students: Vec<User>,
    now: DateTime<Utc>,
) -> Vec<(User, anyhow::Result<Issued>)> {
    let workers = std::thread::available_parallelism().map_or(2, NonZeroUsize::get);
    let mut done: Vec<(usize, User, anyhow::Result<Issued>)> =
        stream::iter(students.into_iter().enumerate())
            .map(|(i, who)| {
                // The batch's id links each student's entry to the summary.
                let audit = actor
                    .audit(app, inv, Action::PasswordReset)
                    .change(json!({}), json!({ "batch": batch, "class_id": class.id }));
                async move {
                    let result = issue_temporary(app, audit, &who, now, None).await;
                    (i, who, result)
                }
            })
            .buffer_unordered(workers)
            .collect()
            .await;
    done.sort_by_key(|(i, _, _)| *i);
    done.into_iter().map(|(_, who, r)| (who, r)).collect()
}

/// The PDF of the cards, rendered off the async threads.
async fn render(
    app: &App,
    actor: &Actor,
    class: &Class,
    issued: Vec<(User, Issued)>,
) -> anyhow::Result<SecretSlice<u8>> {
    let sign_in_url = Url::parse(&app.settings.sign_in_url())?;
    let tenant = actor.tenant.name.to_string();
    let mut schools: BTreeMap<SchoolId, String> = BTreeMap::new();
    let mut deck = Vec::with_capacity(issued.len());
    for (who, (password, _, expires)) in issued {
        let school = match who.place.school() {
            Some(id) => match schools.get(&id) {
                Some(name) => name.clone(),
                None => {
                    let name = app
                        .store
                        .school(actor.tenant.id, id)
                        .await?
                        .map(|s| s.name)
                        .unwrap_or_default();
                    schools.insert(id, name.clone());
                    name
                }
            },
            None => String::new(),
        };
        deck.push(Card {
            name: format!("{} {}", who.first_name, who.last_name),
            school,
            class: class.label(),
            login: who.login.to_string(),
            password,
            expires,
            qr_url: cards::qr_url(&sign_in_url, &tenant, who.login.as_str()),
            sign_in_url: sign_in_url.clone(),
        });
    }
    let title = class.label();
    let bytes = tokio::task::spawn_blocking(move || cards::render(&title, &deck)).await??;
    Ok(SecretSlice::from(bytes))
}

/// The batch's summary entry: which class, how many reset and skipped.
async fn summarise(
    app: &App,
    actor: &Actor,
    inv: &Invocation,
    class: &Class,
    batch: &str,
    reset: usize,
    skipped: usize,
) {
    let mut entry = actor.audit(app, inv, Action::ClassCards).change(
        json!({}),
        json!({
            "batch": batch,
            "class_id": class.id,
            "class_sourced_id": class.sourced_id,
            "reset": reset,
            "skipped": skipped,
        }),
    );
    entry.target_label = Some(class.label());
    if let Err(e) = app.store.append_audit(&entry).await {
        tracing::error!(error = %e, class = %class.id, "failed to audit a class batch");
    }
}
