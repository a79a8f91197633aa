//! `hallpass console --tenant NAME --as LOGIN`: slash commands typed at a
//! prompt, answered by the same handlers the bot uses, as that user, with no
//! Discord account. What the bot would DM or show privately is printed with a
//! label saying so. Tab completes option values from the same autocomplete.
//! A prompt prints its buttons' labels, and the next line that is one of
//! them (in any case) clicks it. A file that would be attached is written
//! to the attachment folder (the current one unless told otherwise), readable
//! by its owner only and never over an existing file, and its path printed.

mod files;
mod line;
mod prompt;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::app::App;
use crate::commands::{
    Actor, Attachment, Body, Button, Choice, Courier, DeliveryError, Invocation, Modal, Request,
    deliver, handle_as,
};
use crate::directory::{DiscordUserId, Login, TenantName};

pub use line::{ParsedLine, parse_line};
pub use prompt::interactive;

/// Options whose values name something autocomplete can find.
const LOOKUP_OPTIONS: &[&str] = &["user", "teacher", "school", "district"];

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("No tenant named {0}.")]
    NoTenant(String),
    #[error("No user {login} in tenant {tenant}.")]
    NoUser { login: String, tenant: String },
    #[error(transparent)]
    Parse(#[from] crate::directory::ParseError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// What one typed line produced.
#[derive(Debug)]
pub enum Outcome {
    /// Lines to print.
    Lines(Vec<String>),
    /// A form to fill in (the edit modal), then [`Console::submit_form`].
    Form(Modal),
}

pub struct Console {
    app: App,
    actor: Actor,
    inv: Invocation,
    /// The buttons of the last prompt, until the next line.
    buttons: Mutex<Vec<Button>>,
    /// Where attachments are written.
    attachments: PathBuf,
}

impl Console {
    pub async fn new(app: App, tenant: &str, login: &str) -> Result<Self, ConsoleError> {
        let name = TenantName::parse(tenant)?;
        let tenant = app
            .store
            .tenant_by_name(&name)
            .await?
            .ok_or_else(|| ConsoleError::NoTenant(tenant.to_owned()))?;
        let user = app
            .store
            .user_by_login(tenant.id, &Login::parse(login)?)
            .await?
            .ok_or_else(|| ConsoleError::NoUser {
                login: login.to_owned(),
                tenant: tenant.name.to_string(),
            })?;
        let inv = Invocation {
            guild: None,
            channel: None,
            interaction_id: None,
            user: None,
            api_caller: Some("console".into()),
        };
        Ok(Self {
            app,
            actor: Actor {
                tenant,
                user,
                directory: None,
            },
            inv,
            buttons: Mutex::new(Vec::new()),
            attachments: PathBuf::from("."),
        })
    }

    /// Writes attachments into `dir` rather than the current folder.
    pub fn with_attachment_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.attachments = dir.into();
        self
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Runs one typed line such as `/reset-password user:ana`, or the label
    /// of a button of the prompt just shown.
    pub async fn run_line(&self, line: &str) -> Outcome {
        let shown = std::mem::take(&mut *self.lock_buttons());
        let typed = line.trim();
        if let Some(button) = shown.iter().find(|b| b.label.eq_ignore_ascii_case(typed)) {
            return self.answer(Request::button(&button.custom_id)).await;
        }
        let parsed = match parse_line(line) {
            Ok(parsed) => parsed,
            Err(message) => return Outcome::Lines(vec![message]),
        };
        let mut options = parsed.options;
        for key in LOOKUP_OPTIONS {
            if let Some(typed) = options.get(*key).cloned() {
                match self.pick(&parsed.name, key, &typed, &options).await {
                    Ok(Some(value)) => {
                        options.insert((*key).to_owned(), value);
                    }
                    Ok(None) => {}
                    Err(lines) => return Outcome::Lines(lines),
                }
            }
        }
        let request = Request::Command {
            name: parsed.name,
            options,
        };
        self.answer(request).await
    }

    /// Submits a filled-in form.
    pub async fn submit_form(&self, modal: &Modal, values: BTreeMap<String, String>) -> Outcome {
        self.answer(Request::ModalSubmit {
            custom_id: modal.custom_id.clone(),
            fields: values,
        })
        .await
    }

    /// Autocomplete choices for `key` of `command` given what was typed.
    pub async fn complete(
        &self,
        command: &str,
        key: &str,
        typed: &str,
        options: &BTreeMap<String, String>,
    ) -> Vec<Choice> {
        let mut options = options.clone();
        options.insert(key.to_owned(), typed.to_owned());
        let request = Request::Autocomplete {
            name: command.to_owned(),
            focused: key.to_owned(),
            options,
        };
        match handle_as(&self.app, &self.actor, &self.inv, request)
            .await
            .body
        {
            Body::Choices(choices) => choices,
            _ => Vec::new(),
        }
    }

    /// Turns a typed name into the id autocomplete would have given: one match
    /// is taken, several are listed so the person can be more specific.
    async fn pick(
        &self,
        command: &str,
        key: &str,
        typed: &str,
        options: &BTreeMap<String, String>,
    ) -> Result<Option<String>, Vec<String>> {
        if uuid::Uuid::parse_str(typed).is_ok() {
            return Ok(None);
        }
        let choices = self.complete(command, key, typed, options).await;
        match choices.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.value.clone())),
            many => {
                let exact = many
                    .iter()
                    .find(|c| c.name.ends_with(&format!(" · {typed}")));
                match exact {
                    Some(choice) => Ok(Some(choice.value.clone())),
                    None => {
                        let mut lines = vec![format!(
                            "Several match \"{typed}\"; be more specific (or press Tab):"
                        )];
                        lines.extend(many.iter().map(|c| format!("  {}", c.name)));
                        Err(lines)
                    }
                }
            }
        }
    }

    async fn answer(&self, request: Request) -> Outcome {
        let reply = handle_as(&self.app, &self.actor, &self.inv, request).await;
        if let Body::Modal(modal) = reply.body {
            return Outcome::Form(modal);
        }
        let courier = Transcript {
            lines: Mutex::new(Vec::new()),
            dir: self.attachments.clone(),
        };
        let (body, _route) = deliver(&self.app, &courier, reply).await;
        let mut lines = courier.lines();
        match body {
            Body::Text { content, ephemeral } => {
                let label = if ephemeral {
                    "(only you can see this) "
                } else {
                    ""
                };
                lines.insert(0, format!("{label}{content}"));
            }
            Body::Prompt { content, buttons } => {
                let labels: Vec<String> =
                    buttons.iter().map(|b| format!("[{}]", b.label)).collect();
                lines.insert(0, format!("(only you can see this) {content}"));
                lines.insert(
                    1,
                    format!("{}  (type a button's label to click it)", labels.join(" ")),
                );
                *self.lock_buttons() = buttons;
            }
            Body::Choices(choices) => lines.extend(choices.into_iter().map(|c| c.name)),
            Body::Modal(_) => {}
        }
        Outcome::Lines(lines)
    }

    fn lock_buttons(&self) -> std::sync::MutexGuard<'_, Vec<Button>> {
        self.buttons
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The console's courier: what would be DMed or shown privately, as lines;
/// a file, written into `dir`.
struct Transcript {
    lines: Mutex<Vec<String>>,
    dir: PathBuf,
}

impl Transcript {
    fn push(&self, line: String) {
        if let Ok(mut lines) = self.lines.lock() {
            lines.push(line);
        }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Writes the attachment, if any, and says where.
    fn attach(&self, label: &str, attachment: Option<&Attachment>) -> Result<(), DeliveryError> {
        let Some(file) = attachment else {
            return Ok(());
        };
        let path = files::write_new(&self.dir, file)
            .map_err(|e| DeliveryError::Failed(format!("could not write the file: {e}")))?;
        self.push(format!(
            "{label} attached {} ({} bytes), written to {}",
            file.filename,
            file.len(),
            path.display()
        ));
        Ok(())
    }
}

#[async_trait]
impl Courier for Transcript {
    async fn direct_message(
        &self,
        _to: DiscordUserId,
        text: &str,
        attachment: Option<&Attachment>,
    ) -> Result<(), DeliveryError> {
        self.push(format!("[DM to you] {text}"));
        self.attach("[DM to you]", attachment)
    }

    async fn private_reply(
        &self,
        text: &str,
        attachment: Option<&Attachment>,
    ) -> Result<(), DeliveryError> {
        self.push(format!("[only you can see this] {text}"));
        self.attach("[only you can see this]", attachment)
    }
}
