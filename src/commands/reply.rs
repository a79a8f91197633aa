//! What a command answers, free of any transport: the gateway, the HTTP
//! interactions endpoint, the console and the demo each render it their way.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretSlice, SecretString};

use crate::directory::{DiscordGuildId, DiscordUserId, User};
use crate::store::HandoffId;

/// Who is asking, from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub guild: Option<DiscordGuildId>,
    pub channel: Option<String>,
    pub interaction_id: Option<String>,
    /// The chat account; `None` in the console, which has no Discord account.
    pub user: Option<DiscordUserId>,
    /// Who called when it was not Discord ("console", "demo").
    pub api_caller: Option<String>,
}

/// What is asked. All of hallpass's options are strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Command {
        name: String,
        options: BTreeMap<String, String>,
    },
    /// `focused` names the option being typed; its text is in `options`.
    Autocomplete {
        name: String,
        focused: String,
        options: BTreeMap<String, String>,
    },
    ModalSubmit {
        custom_id: String,
        fields: BTreeMap<String, String>,
    },
    /// A button clicked on one of hallpass's prompts.
    Button { custom_id: String },
}

impl Request {
    pub fn command(name: &str, options: &[(&str, &str)]) -> Self {
        Self::Command {
            name: name.to_owned(),
            options: to_map(options),
        }
    }

    pub fn autocomplete(name: &str, focused: &str, options: &[(&str, &str)]) -> Self {
        Self::Autocomplete {
            name: name.to_owned(),
            focused: focused.to_owned(),
            options: to_map(options),
        }
    }

    pub fn modal_submit(custom_id: &str, fields: &[(&str, &str)]) -> Self {
        Self::ModalSubmit {
            custom_id: custom_id.to_owned(),
            fields: to_map(fields),
        }
    }

    pub fn button(custom_id: &str) -> Self {
        Self::Button {
            custom_id: custom_id.to_owned(),
        }
    }

    /// Whether answering takes long enough that the transport must
    /// acknowledge first (see [`super::is_slow`], which the definitions decide).
    pub fn is_slow(&self) -> bool {
        super::is_slow(self)
    }
}

fn to_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextInput {
    pub custom_id: String,
    pub label: String,
    pub value: String,
    pub required: bool,
    pub max_length: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Modal {
    pub custom_id: String,
    pub title: String,
    pub inputs: Vec<TextInput>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// A message; every message about a person is ephemeral.
    Text {
        content: String,
        ephemeral: bool,
    },
    Modal(Modal),
    Choices(Vec<Choice>),
    /// An ephemeral message with buttons (one action row, up to 5).
    Prompt {
        content: String,
        buttons: Vec<Button>,
    },
}

/// How a button looks: Discord's primary (blurple), secondary (grey) and
/// danger (red) styles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ButtonStyle {
    Primary,
    Secondary,
    Danger,
}

/// A button on a [`Body::Prompt`]; clicking it sends [`Request::Button`]
/// with its `custom_id`, which a [`super::Form`] owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub custom_id: String,
    pub label: String,
    pub style: ButtonStyle,
}

/// A file sent with a secret (a class's login cards). Its bytes are as
/// secret as the text: `Debug` shows only the name, the type and the size.
#[derive(Clone)]
pub struct Attachment {
    pub filename: String,
    pub content_type: &'static str,
    pub bytes: SecretSlice<u8>,
}

impl Attachment {
    pub fn new(filename: impl Into<String>, content_type: &'static str, bytes: Vec<u8>) -> Self {
        Self {
            filename: filename.into(),
            content_type,
            bytes: SecretSlice::from(bytes),
        }
    }

    /// The size in bytes.
    pub fn len(&self) -> usize {
        self.bytes.expose_secret().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

/// A secret (temporary password, link code) for the invoker's eyes only: by DM,
/// or where DMs are closed, in a reply only they can see. `undo` reverses the
/// action when neither can be delivered.
pub struct SecretDelivery {
    /// The invoker's chat account; `None` (console): shown privately instead.
    pub to: Option<DiscordUserId>,
    pub text: SecretString,
    /// A file that goes with the text, by the same route.
    pub attachment: Option<Attachment>,
    pub undo: Option<Undo>,
}

impl std::fmt::Debug for SecretDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretDelivery")
            .field("to", &self.to)
            .field("text", &"<redacted>")
            .field("attachment", &self.attachment)
            .finish_non_exhaustive()
    }
}

/// How to take back an action whose secret nobody received. What the undo
/// needs (the previous password's hash) stays in the store: only the
/// hand-off's id travels with the reply.
#[derive(Debug)]
pub enum Undo {
    Password {
        user: Box<User>,
        handoff: HandoffId,
    },
    /// A batch (class cards): every hand-off rolled back / finished together.
    Passwords(Vec<(User, HandoffId)>),
}

/// A message to someone other than the invoker (promotion updates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub to: DiscordUserId,
    pub text: String,
}

#[derive(Debug)]
pub struct Reply {
    pub body: Body,
    pub secret: Option<SecretDelivery>,
    pub notices: Vec<Notice>,
}

impl Reply {
    /// An ephemeral message.
    pub fn private(content: impl Into<String>) -> Self {
        Self {
            body: Body::Text {
                content: content.into(),
                ephemeral: true,
            },
            secret: None,
            notices: Vec::new(),
        }
    }

    pub fn modal(modal: Modal) -> Self {
        Self {
            body: Body::Modal(modal),
            secret: None,
            notices: Vec::new(),
        }
    }

    /// An ephemeral message with buttons.
    pub fn prompt(content: impl Into<String>, buttons: Vec<Button>) -> Self {
        Self {
            body: Body::Prompt {
                content: content.into(),
                buttons,
            },
            secret: None,
            notices: Vec::new(),
        }
    }

    pub fn choices(choices: Vec<Choice>) -> Self {
        Self {
            body: Body::Choices(choices),
            secret: None,
            notices: Vec::new(),
        }
    }

    pub fn with_secret(mut self, secret: SecretDelivery) -> Self {
        self.secret = Some(secret);
        self
    }

    /// The text of a message reply or a prompt (empty for modals and choices).
    pub fn text(&self) -> &str {
        match &self.body {
            Body::Text { content, .. } | Body::Prompt { content, .. } => content,
            _ => "",
        }
    }
}
