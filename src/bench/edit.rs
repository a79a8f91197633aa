//! `edit_submit_sqlite`: the `/edit-user` modal round trip on the SQLite
//! directory, through the real listener ([`super::listener`]): signed Discord
//! interactions to `POST /interactions` over loopback TCP, one keep-alive
//! connection per editor. `editors` concurrent editors, as the district admin,
//! each edit their own student `submits_per_editor` times: open the modal
//! (`/edit-user user:<id>`, not timed: it is how the current version is
//! read), then submit it with the first name changed and every other field as
//! prefilled. Timed: the submit, from before signing to the answer read
//! (signature, replay check, policy checks, the optimistic-concurrency update
//! and its audit entry in one transaction). Afterwards every student's
//! version must have moved by exactly the number of submits, or the scenario
//! reports an error instead of figures.
//!
//! No floor: the spec reports percentiles only.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, anyhow};
use serde_json::Value;

use super::BenchScale;
use super::listener::{Listener, member};
use super::stats::Latencies;
use super::world::Directory;

const NAMES: &[&str] = &["Alex", "Robin", "Sasha", "Noor"];

/// The opened form's inputs as submitted: as prefilled, with a new first name.
fn filled_in(opened: &Value, first_name: &str) -> Vec<(String, String)> {
    opened["data"]["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().into_iter().flatten())
        .map(|input| {
            let key = input["custom_id"].as_str().unwrap_or_default().to_owned();
            let value = match key.as_str() {
                "first_name" => first_name.to_owned(),
                _ => input["value"].as_str().unwrap_or_default().to_owned(),
            };
            (key, value)
        })
        .collect()
}

pub async fn scenario(dir: &Arc<Directory>, scale: &BenchScale) -> Result<Value> {
    let students = dir.students(scale.editors).await?;
    if students.is_empty() {
        return Err(anyhow!("the directory has no students to edit"));
    }
    let listener = Arc::new(Listener::start(&dir.app).await?);
    let mut editors = Vec::new();
    for student in students.clone() {
        let (dir, listener) = (dir.clone(), listener.clone());
        let submits = scale.submits_per_editor;
        editors.push(tokio::spawn(async move {
            let client = Listener::client()?;
            let who = member(&dir.district_admins[0].inv);
            let id = student.id.to_string();
            let mut latencies = Vec::with_capacity(submits);
            for n in 0..submits {
                let open = listener
                    .discord
                    .command(who, "edit-user", &[("user", id.as_str())]);
                let (_, opened) = listener.send(&client, &open).await?;
                // A modal is type 9: its custom id and its prefilled inputs.
                if opened["type"] != 9 {
                    return Err(anyhow!("/edit-user opened no modal: {opened}"));
                }
                let custom_id = opened["data"]["custom_id"].as_str().unwrap_or_default();
                let fields = filled_in(&opened, NAMES[n % NAMES.len()]);
                let fields: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let submit = listener.discord.modal_submit(who, custom_id, &fields);
                let t = Instant::now();
                let (status, answer) = listener.send(&client, &submit).await?;
                latencies.push(t.elapsed());
                if status != 200 {
                    return Err(anyhow!("a submit was answered {status} {answer}"));
                }
            }
            Ok(latencies)
        }));
    }
    let mut all = Latencies::default();
    let mut failed = None;
    for editor in editors {
        match editor.await? {
            Ok(latencies) => all.extend(latencies),
            Err(e) => failed = Some(e),
        }
    }
    if let Some(listener) = Arc::into_inner(listener) {
        listener.stop().await;
    }
    if let Some(e) = failed {
        return Err(e);
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
