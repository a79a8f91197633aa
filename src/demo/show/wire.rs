//! How the demo talks to hallpass and reads what came back: signed requests
//! to the listener, the deferred answer edited in, the DMs sent.

use std::time::Duration;

use anyhow::{Result, anyhow};
use serde_json::Value;

use super::super::{APPLICATION_ID, Stage};
use super::{Show, indent};
use crate::standins::simulate::SimulatedDiscord;

impl Show<'_> {
    pub(super) fn dms_since(&mut self, stage: &Stage, before: usize) -> Result<()> {
        for (to, text) in stage.standin.dms().into_iter().skip(before) {
            writeln!(
                self.out,
                "  ✉ DM from hallpass to Discord user {to}:\n{}",
                indent(&text, "    ")
            )?;
        }
        Ok(())
    }

    pub(super) async fn send(&mut self, stage: &Stage, payload: &Value) -> Result<(u16, Value)> {
        let (status, answer) = stage
            .discord
            .send(&stage.client, &stage.endpoint, payload, stage.app.now())
            .await?;
        if status != 200 {
            return Err(anyhow!("hallpass answered HTTP {status}: {answer}"));
        }
        Ok((status, answer))
    }

    /// Prints what the person sees: the answer (waiting for a deferred one to
    /// be edited in), follow-ups only they can see, and DMs that arrived.
    pub(super) async fn answer(
        &mut self,
        stage: &Stage,
        payload: &Value,
        person: &str,
    ) -> Result<()> {
        let dms_before = stage.standin.dms().len();
        let requests_before = stage.standin.requests().len();
        let (_, answer) = self.send(stage, payload).await?;
        let token = SimulatedDiscord::token_of(payload);
        let content = if answer["type"] == 5 {
            writeln!(
                self.out,
                "  hallpass is thinking… (only {person} can see this)"
            )?;
            self.wait_for_edit(stage, &token).await?
        } else {
            answer["data"]["content"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        };
        let private = if answer["data"]["flags"] == 64 || answer["type"] == 5 {
            " (only they can see this)"
        } else {
            ""
        };
        writeln!(
            self.out,
            "  hallpass{private}:\n{}",
            indent(&content, "    ")
        )?;
        let followup = format!("/api/v10/webhooks/{APPLICATION_ID}/{token}");
        for request in stage.standin.requests().into_iter().skip(requests_before) {
            if request.method == "POST" && request.path == followup {
                let text = request
                    .body
                    .as_ref()
                    .and_then(|b| b["content"].as_str())
                    .unwrap_or_default()
                    .to_owned();
                writeln!(
                    self.out,
                    "  hallpass, in a message only they can see:\n{}",
                    indent(&text, "    ")
                )?;
            }
        }
        for (_, text) in stage.standin.dms().into_iter().skip(dms_before) {
            writeln!(
                self.out,
                "  ✉ DM from hallpass to {person}:\n{}",
                indent(&text, "    ")
            )?;
        }
        Ok(())
    }

    pub(super) async fn wait_for_edit(&mut self, stage: &Stage, token: &str) -> Result<String> {
        let path = format!("/api/v10/webhooks/{APPLICATION_ID}/{token}/messages/@original");
        for _ in 0..500 {
            let edit = stage
                .standin
                .requests()
                .into_iter()
                .find(|r| r.method == "PATCH" && r.path == path);
            if let Some(edit) = edit {
                return Ok(edit
                    .body
                    .as_ref()
                    .and_then(|b| b["content"].as_str())
                    .unwrap_or_default()
                    .to_owned());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Err(anyhow!("hallpass never finished its deferred answer"))
    }
}
