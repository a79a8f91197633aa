//! The interactive prompt (rustyline): history, Tab completion from the
//! bot's own autocomplete, and forms for modals.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, DefaultEditor, Editor, Helper};
use tokio::runtime::Handle;

use super::{Console, Outcome, parse_line};

const COMMANDS: &[&str] = &[
    "/reset-password",
    "/edit-user",
    "/promote-request",
    "/link",
    "/link-code",
    "/whois",
    "/audit",
];

const HELP: &str = "Commands (as in Discord; Tab completes names and people):
  /reset-password [user:NAME] [method:temporary|email]   no user = yourself
  /edit-user user:NAME [school:SCHOOL] [district:DISTRICT] [role:school_admin|district_admin]
  /promote-request teacher:NAME reason:TEXT
  /link-code user:NAME
  /whois user:NAME
  /audit user:NAME
  /quit";

struct Completion {
    console: Arc<Console>,
    runtime: Handle,
}

impl Completer for Completion {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        if !before.contains(' ') {
            let found = COMMANDS
                .iter()
                .filter(|c| c.starts_with(before))
                .map(|c| Pair {
                    display: (*c).to_owned(),
                    replacement: format!("{c} "),
                })
                .collect();
            return Ok((0, found));
        }
        let Some((key, start)) = ["user:", "teacher:", "school:", "district:"]
            .iter()
            .filter_map(|k| {
                before
                    .rfind(&format!(" {k}"))
                    .map(|i| (*k, i + 1 + k.len()))
            })
            .max_by_key(|(_, start)| *start)
        else {
            return Ok((pos, Vec::new()));
        };
        let typed = &before[start..];
        let command = before
            .split_whitespace()
            .next()
            .unwrap_or("")
            .trim_start_matches('/')
            .to_owned();
        let options = parse_line(before).map(|p| p.options).unwrap_or_default();
        let key = key.trim_end_matches(':');
        let choices = self
            .runtime
            .block_on(self.console.complete(&command, key, typed, &options));
        let pairs = choices
            .into_iter()
            .map(|c| Pair {
                display: c.name,
                replacement: format!("{} ", c.value),
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for Completion {
    type Hint = String;
}
impl Highlighter for Completion {}
impl Validator for Completion {}
impl Helper for Completion {}

/// Runs the prompt until /quit or end of input. Blocks: call it from a
/// blocking thread (`spawn_blocking`), since completion waits on the runtime.
pub fn interactive(console: Arc<Console>, runtime: Handle) -> rustyline::Result<()> {
    let me = &console.actor().user;
    println!(
        "hallpass console: you are {} ({}, {}) in tenant {}. Type /help for commands, Tab to complete, /quit to leave.",
        me.display_name(),
        me.login,
        me.role.label(),
        console.actor().tenant.name
    );
    let mut editor: Editor<Completion, _> = Editor::new()?;
    editor.set_helper(Some(Completion {
        console: console.clone(),
        runtime: runtime.clone(),
    }));
    loop {
        let line = match editor.readline("hallpass> ") {
            Ok(line) => line,
            Err(ReadlineError::Interrupted | ReadlineError::Eof) => return Ok(()),
            Err(e) => return Err(e),
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(line);
        match line {
            "/quit" | "/exit" => return Ok(()),
            "/help" => {
                println!("{HELP}");
                continue;
            }
            _ => {}
        }
        let mut outcome = runtime.block_on(console.run_line(line));
        while let Outcome::Form(modal) = outcome {
            println!("{} (Enter keeps the value shown)", modal.title);
            let mut values = BTreeMap::new();
            let mut field_editor = DefaultEditor::new()?;
            for input in &modal.inputs {
                let value = field_editor
                    .readline_with_initial(&format!("  {}: ", input.label), (&input.value, ""))?;
                values.insert(input.custom_id.clone(), value);
            }
            outcome = runtime.block_on(console.submit_form(&modal, values));
        }
        if let Outcome::Lines(lines) = outcome {
            for line in lines {
                println!("{line}");
            }
        }
    }
}
