//! The demo's class-cards scene: the prompt with its buttons, the click, and
//! the PDF that arrived by DM written to a file whose path is printed.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};

use super::super::Stage;
use super::{Show, indent, who};
use crate::directory::User;
use crate::standins::simulate::SimulatedDiscord;

impl Show<'_> {
    /// Runs `/class-cards class:<class>` as `actor`, prints the prompt and
    /// clicks the button whose label starts with `click`; answers the path
    /// the PDF that came by DM was written to, if one came.
    pub async fn class_cards(
        &mut self,
        stage: &Stage,
        actor: &User,
        class: &str,
        shown: &str,
        click: &str,
    ) -> Result<Option<PathBuf>> {
        let member = Stage::member(actor);
        let payload = stage
            .discord
            .command(member, "class-cards", &[("class", class)]);
        writeln!(self.out, "{} runs /class-cards {shown}", who(actor))?;
        let (_, answer) = self.send(stage, &payload).await?;
        let data = &answer["data"];
        writeln!(
            self.out,
            "  hallpass (only they can see this):\n{}",
            indent(data["content"].as_str().unwrap_or_default(), "    ")
        )?;
        let buttons = data["components"][0]["components"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let labels: Vec<&str> = buttons.iter().filter_map(|b| b["label"].as_str()).collect();
        writeln!(self.out, "    [{}]", labels.join("]  ["))?;
        let custom_id = buttons
            .iter()
            .find(|b| b["label"].as_str().is_some_and(|l| l.starts_with(click)))
            .and_then(|b| b["custom_id"].as_str())
            .ok_or_else(|| anyhow!("the prompt has no {click} button"))?;
        writeln!(self.out, "  {} clicks [{click}…]", who(actor))?;
        let files_before = stage.standin.dm_files().len();
        let dms_before = stage.standin.dms().len();
        let click = stage.discord.button(member, custom_id);
        let (_, answer) = self.send(stage, &click).await?;
        let content = if answer["type"] == 6 {
            let token = SimulatedDiscord::token_of(&click);
            self.wait_for_edit(stage, &token).await?
        } else {
            answer["data"]["content"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        };
        writeln!(
            self.out,
            "  hallpass (only they can see this):\n{}",
            indent(&content, "    ")
        )?;
        for (_, text) in stage.standin.dms().into_iter().skip(dms_before) {
            writeln!(
                self.out,
                "  ✉ DM from hallpass to {}:\n{}",
                who(actor),
                indent(&text, "    ")
            )?;
        }
        let Some((_, file)) = stage.standin.dm_files().into_iter().nth(files_before) else {
            return Ok(None);
        };
        let path = stage.cards_dir.join(&file.filename);
        write_private(&path, &file.bytes)?;
        writeln!(
            self.out,
            "    📎 {} ({} KB), saved to {}",
            file.filename,
            file.bytes.len().div_ceil(1024),
            path.display()
        )?;
        Ok(Some(path))
    }
}

/// Writes the cards readable by their owner only: they hold passwords.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("Failed to write {}", path.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("Failed to write {}", path.display()))?;
    Ok(())
}
