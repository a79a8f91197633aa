//! `edit_submit_sqlite`: the `/edit-user` modal round trip on the SQLite
//! directory. `editors` concurrent tasks, as the district admin, each edit
//! their own student `submits_per_editor` times: open the modal
//! (`/edit-user user:<id>`, not timed: it is how the current version is
//! read), then submit it with the first name changed and every other field as
//! prefilled. Timed: the submit inside `commands::handle` (policy checks, the
//! optimistic-concurrency update and its audit entry in one transaction).
//! Afterwards every student's version must have moved by exactly the number
//! of submits, or the scenario reports an error instead of figures.
//!
//! No floor: the spec reports percentiles only.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, anyhow};
use serde_json::Value;

use crate::commands::{Body, Request, handle};

use super::BenchScale;
use super::stats::Latencies;
use super::world::Directory;

const NAMES: &[&str] = &["Alex", "Robin", "Sasha", "Noor"];

pub async fn scenario(dir: &Arc<Directory>, scale: &BenchScale) -> Result<Value> {
    let students = dir.students(scale.editors).await?;
    if students.is_empty() {
        return Err(anyhow!("the directory has no students to edit"));
    }
    let mut editors = Vec::new();
    for student in students.clone() {
        let dir = dir.clone();
        let submits = scale.submits_per_editor;
        editors.push(tokio::spawn(async move {
            let account = &dir.district_admins[0];
            let id = student.id.to_string();
            let mut latencies = Vec::with_capacity(submits);
            for n in 0..submits {
                let opened = handle(
                    &dir.app,
                    &account.inv,
                    Request::command("edit-user", &[("user", id.as_str())]),
                )
                .await;
                let Body::Modal(modal) = opened.body else {
                    return Err(format!("/edit-user opened no modal: {}", opened.text()));
                };
                let fields: Vec<(String, String)> = modal
                    .inputs
                    .iter()
                    .map(|input| match input.custom_id.as_str() {
                        "first_name" => (input.custom_id.clone(), NAMES[n % NAMES.len()].into()),
                        _ => (input.custom_id.clone(), input.value.clone()),
                    })
                    .collect();
                let fields: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let t = Instant::now();
                handle(
                    &dir.app,
                    &account.inv,
                    Request::modal_submit(&modal.custom_id, &fields),
                )
                .await;
                latencies.push(t.elapsed());
            }
            Ok(latencies)
        }));
    }
    let mut all = Latencies::default();
    for editor in editors {
        all.extend(editor.await?.map_err(|e| anyhow!(e))?);
    }
    for before in &students {
        let after = dir
            .app
            .store
            .user(dir.tenant.id, before.id)
            .await?
            .ok_or_else(|| anyhow!("an edited student disappeared"))?;
        let applied = after.version - before.version;
        if applied != scale.submits_per_editor as i64 {
            return Err(anyhow!(
                "{applied} of {} submits changed a record",
                scale.submits_per_editor
            ));
        }
    }
    let mut out = all.percentiles_json();
    out.insert("submits".into(), all.len().into());
    Ok(Value::Object(out))
}
