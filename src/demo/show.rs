//! Printing the demo the way the people in it see it.

use std::io::Write;
use std::net::SocketAddr;

use anyhow::{Result, anyhow};
use url::Url;

use super::Stage;
use crate::directory::User;
use crate::standins::simulate::Member;

mod cards;
mod wire;

pub struct Show<'a> {
    out: &'a mut (dyn Write + Send),
    scene: usize,
}

fn who(user: &User) -> String {
    format!(
        "{} {} ({})",
        user.first_name,
        user.last_name,
        user.role.label()
    )
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|l| format!("{prefix}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl<'a> Show<'a> {
    pub fn new(out: &'a mut (dyn Write + Send)) -> Self {
        Self { out, scene: 0 }
    }

    pub fn intro(
        &mut self,
        database: &str,
        listener: SocketAddr,
        discord: &Url,
        zendesk: &Url,
    ) -> Result<()> {
        writeln!(self.out, "hallpass demo")?;
        writeln!(
            self.out,
            "  directory:        {database} (Lincoln Unified School District, 2 schools, 12 people, 1 class)"
        )?;
        writeln!(
            self.out,
            "  hallpass:         http://{listener} (the real service: POST /interactions, Ed25519-verified)"
        )?;
        writeln!(
            self.out,
            "  Discord REST API: {discord} (a local stand-in that records DMs and edits)"
        )?;
        writeln!(
            self.out,
            "  Zendesk API:      {zendesk} (a local stand-in: tickets, OAuth, idempotency)"
        )?;
        writeln!(
            self.out,
            "Every step below is a signed interaction sent to hallpass, as Discord would send it."
        )?;
        Ok(())
    }

    pub fn outro(&mut self) -> Result<()> {
        writeln!(
            self.out,
            "\nThat's the session; every change above went into the audit log of a throwaway database."
        )?;
        writeln!(
            self.out,
            "To run commands yourself: hallpass import oneroster DIR --tenant NAME, then hallpass console --tenant NAME --as LOGIN."
        )?;
        Ok(())
    }

    pub fn scene(&mut self, title: &str) -> Result<()> {
        self.scene += 1;
        let heading = format!("{}. {title}", self.scene);
        writeln!(
            self.out,
            "\n{heading}\n{}",
            "─".repeat(heading.chars().count())
        )?;
        Ok(())
    }

    pub fn narrate(&mut self, text: &str) -> Result<()> {
        writeln!(self.out, "  ({text})")?;
        Ok(())
    }

    /// Types into an autocompleted option and takes the first suggestion.
    pub async fn pick(
        &mut self,
        stage: &Stage,
        actor: &User,
        command: &str,
        option: &str,
        typed: &str,
    ) -> Result<String> {
        let payload =
            stage
                .discord
                .autocomplete(Stage::member(actor), command, option, &[(option, typed)]);
        let (_, answer) = self.send(stage, &payload).await?;
        let choices = answer["data"]["choices"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        writeln!(self.out, "{} types /{command} {option}:{typed}", who(actor))?;
        for choice in &choices {
            writeln!(
                self.out,
                "    suggestion: {}",
                choice["name"].as_str().unwrap_or_default()
            )?;
        }
        choices
            .first()
            .and_then(|c| c["value"].as_str())
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("autocomplete offered nothing for {typed:?}"))
    }

    pub async fn command(
        &mut self,
        stage: &Stage,
        actor: &User,
        name: &str,
        options: &[(&str, &str)],
        shown: &str,
    ) -> Result<()> {
        let payload = stage.discord.command(Stage::member(actor), name, options);
        writeln!(self.out, "{} runs /{name} {shown}", who(actor))?;
        self.answer(stage, &payload, &who(actor)).await
    }

    /// A command from a Discord account that may not be linked yet.
    pub async fn raw(
        &mut self,
        stage: &Stage,
        member: Member<'_>,
        display: &str,
        name: &str,
        options: &[(&str, &str)],
        shown: &str,
    ) -> Result<()> {
        let payload = stage.discord.command(member, name, options);
        writeln!(self.out, "{display} runs /{name} {shown}")?;
        self.answer(stage, &payload, display).await
    }

    /// Opens the edit form, changes some fields, submits it.
    pub async fn modal(
        &mut self,
        stage: &Stage,
        actor: &User,
        target: &str,
        shown: &str,
        changes: &[(&str, &str)],
    ) -> Result<()> {
        let payload = stage
            .discord
            .command(Stage::member(actor), "edit-user", &[("user", target)]);
        writeln!(self.out, "{} runs /edit-user {shown}", who(actor))?;
        let (_, answer) = self.send(stage, &payload).await?;
        let data = &answer["data"];
        writeln!(
            self.out,
            "  hallpass opens a form \"{}\":",
            data["title"].as_str().unwrap_or_default()
        )?;
        let mut fields = Vec::new();
        for row in data["components"].as_array().cloned().unwrap_or_default() {
            let input = &row["components"][0];
            let id = input["custom_id"].as_str().unwrap_or_default().to_owned();
            let mut value = input["value"].as_str().unwrap_or_default().to_owned();
            let changed = changes
                .iter()
                .find(|(k, _)| *k == id)
                .map(|(_, v)| (*v).to_owned());
            let label = input["label"].as_str().unwrap_or_default();
            match changed {
                Some(new) => {
                    writeln!(self.out, "    {label}: {value}  → typed: {new}")?;
                    value = new;
                }
                None => writeln!(self.out, "    {label}: {value}")?,
            }
            fields.push((id, value));
        }
        let custom_id = data["custom_id"].as_str().unwrap_or_default().to_owned();
        let fields: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let submit = stage
            .discord
            .modal_submit(Stage::member(actor), &custom_id, &fields);
        writeln!(self.out, "  {} submits the form", who(actor))?;
        self.answer(stage, &submit, &who(actor)).await
    }

    /// Runs /link-code for `user` and returns the code from the DM.
    pub async fn link_code(&mut self, stage: &Stage, actor: &User, user: &User) -> Result<String> {
        let target = user.id.to_string();
        self.command(
            stage,
            actor,
            "link-code",
            &[("user", &target)],
            &format!("user:{}", user.display_name()),
        )
        .await?;
        let dm = stage
            .standin
            .dms()
            .last()
            .map(|(_, text)| text.clone())
            .unwrap_or_default();
        dm.split('`')
            .nth(1)
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("no link code arrived"))
    }

    /// Runs the outbox worker once; prints the ticket and the DMs; returns the ticket id.
    pub async fn deliver_tickets(&mut self, stage: &Stage) -> Result<u64> {
        let dms_before = stage.standin.dms().len();
        stage.outbox.run_once().await?;
        let ticket = stage
            .zendesk
            .tickets()
            .pop()
            .ok_or_else(|| anyhow!("no ticket was created"))?;
        writeln!(
            self.out,
            "  (hallpass's outbox delivers the request to Zendesk)"
        )?;
        writeln!(
            self.out,
            "  🎫 Zendesk ticket #{}: {}",
            ticket.id,
            ticket.subject.clone().unwrap_or_default()
        )?;
        let requester = ticket.requester_name.clone().unwrap_or_default();
        writeln!(
            self.out,
            "     requester: {requester} <{}>, tags: {}",
            ticket.requester_email,
            ticket.tags.join(" ")
        )?;
        if let Some(note) = ticket.comments.first() {
            let kind = if note.public {
                "public comment"
            } else {
                "internal note"
            };
            writeln!(self.out, "     {kind}:\n{}", indent(&note.body, "       "))?;
        }
        self.dms_since(stage, dms_before)?;
        Ok(ticket.id)
    }

    /// A support agent approves in Zendesk; the trigger calls hallpass's signed webhook.
    pub async fn support_decides(
        &mut self,
        stage: &Stage,
        ticket: u64,
        teacher: &User,
        school: &str,
    ) -> Result<()> {
        use crate::support::webhook::{
            Decision, INVOCATION_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign,
        };
        let agent = "amy.agent@masteryprep.example";
        let payload = stage
            .zendesk
            .agent_decides(ticket, Decision::Approved, agent)
            .ok_or_else(|| anyhow!("the ticket vanished"))?;
        writeln!(
            self.out,
            "Support agent {agent} tags ticket #{ticket} hallpass_approved and solves it"
        )?;
        let body = serde_json::to_vec(&payload)?;
        let timestamp = stage
            .app
            .now()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let signature = sign(&stage.webhook_secret, &timestamp, &body);
        let dms_before = stage.standin.dms().len();
        let response = stage
            .client
            .post(stage.webhook.clone())
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header(TIMESTAMP_HEADER, timestamp)
            .header(INVOCATION_ID_HEADER, uuid::Uuid::new_v4().to_string())
            .body(body)
            .send()
            .await?;
        let status = response.status().as_u16();
        writeln!(
            self.out,
            "  Zendesk's trigger calls POST /webhooks/zendesk, signed; hallpass answers {status}"
        )?;
        self.dms_since(stage, dms_before)?;
        let now = stage
            .app
            .store
            .user(teacher.tenant_id, teacher.id)
            .await?
            .ok_or_else(|| anyhow!("the teacher vanished"))?;
        writeln!(
            self.out,
            "  {} {} is now a {} at {school}.",
            now.first_name,
            now.last_name,
            now.role.label()
        )?;
        Ok(())
    }
}
