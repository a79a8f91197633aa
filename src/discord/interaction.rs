//! Discord's interactions, as serenity deserialises them, turned into the
//! transport-free [`Request`] the command handlers take. The gateway and the
//! HTTP endpoint both come through here.

use std::collections::BTreeMap;

use serenity::all::{
    ActionRowComponent, CommandDataOption, CommandDataOptionValue, CommandInteraction,
    ComponentInteraction, ComponentInteractionDataKind, Interaction,
};

use crate::commands::{Invocation, Request};
use crate::directory::{DiscordGuildId, DiscordUserId};

/// An interaction, understood.
#[derive(Debug)]
pub enum Incoming {
    Ping,
    Request(Box<Envelope>),
    /// A kind hallpass does not use (select menus, say).
    Unsupported,
}

/// A request and what is needed to answer it later (edits, follow-ups).
#[derive(Debug)]
pub struct Envelope {
    pub invocation: Invocation,
    pub request: Request,
    pub interaction_id: u64,
    pub token: String,
}

/// Parses a raw interaction body (the HTTP endpoint).
pub fn parse(body: &[u8]) -> Result<Incoming, serde_json::Error> {
    // The keystroke's way: read without serenity's model (see `lean`).
    if let Some(incoming) = super::lean::autocomplete(body) {
        return Ok(incoming);
    }
    let interaction: Interaction = serde_json::from_slice(body)?;
    Ok(understand(&interaction))
}

/// Understands an interaction (the gateway hands these over already parsed).
pub fn understand(interaction: &Interaction) -> Incoming {
    match interaction {
        Interaction::Ping(_) => Incoming::Ping,
        Interaction::Command(command) => {
            let request = Request::Command {
                name: command.data.name.clone(),
                options: options(&command.data.options),
            };
            envelope(command, request)
        }
        Interaction::Autocomplete(command) => {
            let focused = command
                .data
                .options
                .iter()
                .find(|o| matches!(o.value, CommandDataOptionValue::Autocomplete { .. }))
                .map(|o| o.name.clone())
                .unwrap_or_default();
            let request = Request::Autocomplete {
                name: command.data.name.clone(),
                focused,
                options: options(&command.data.options),
            };
            envelope(command, request)
        }
        Interaction::Modal(modal) => {
            let fields = modal
                .data
                .components
                .iter()
                .flat_map(|row| row.components.iter())
                .filter_map(|component| match component {
                    ActionRowComponent::InputText(input) => Some((
                        input.custom_id.clone(),
                        input.value.clone().unwrap_or_default(),
                    )),
                    _ => None,
                })
                .collect();
            let invocation = Invocation {
                guild: modal.guild_id.map(|g| DiscordGuildId::new(g.get())),
                channel: Some(modal.channel_id.to_string()),
                interaction_id: Some(modal.id.to_string()),
                user: Some(DiscordUserId::new(modal.user.id.get())),
                api_caller: None,
            };
            Incoming::Request(Box::new(Envelope {
                invocation,
                request: Request::ModalSubmit {
                    custom_id: modal.data.custom_id.clone(),
                    fields,
                },
                interaction_id: modal.id.get(),
                token: modal.token.clone(),
            }))
        }
        Interaction::Component(component) => match component.data.kind {
            ComponentInteractionDataKind::Button => button(component),
            _ => Incoming::Unsupported,
        },
        _ => Incoming::Unsupported,
    }
}

/// A click on a button of one of hallpass's prompts (MESSAGE_COMPONENT,
/// component type 2).
fn button(component: &ComponentInteraction) -> Incoming {
    let invocation = Invocation {
        guild: component.guild_id.map(|g| DiscordGuildId::new(g.get())),
        channel: Some(component.channel_id.to_string()),
        interaction_id: Some(component.id.to_string()),
        user: Some(DiscordUserId::new(component.user.id.get())),
        api_caller: None,
    };
    Incoming::Request(Box::new(Envelope {
        invocation,
        request: Request::Button {
            custom_id: component.data.custom_id.clone(),
        },
        interaction_id: component.id.get(),
        token: component.token.clone(),
    }))
}

fn envelope(command: &CommandInteraction, request: Request) -> Incoming {
    let invocation = Invocation {
        guild: command.guild_id.map(|g| DiscordGuildId::new(g.get())),
        channel: Some(command.channel_id.to_string()),
        interaction_id: Some(command.id.to_string()),
        user: Some(DiscordUserId::new(command.user.id.get())),
        api_caller: None,
    };
    Incoming::Request(Box::new(Envelope {
        invocation,
        request,
        interaction_id: command.id.get(),
        token: command.token.clone(),
    }))
}

/// All of hallpass's options are strings; other kinds are kept as text.
fn options(options: &[CommandDataOption]) -> BTreeMap<String, String> {
    options
        .iter()
        .filter_map(|o| {
            let value = match &o.value {
                CommandDataOptionValue::String(s) => s.clone(),
                CommandDataOptionValue::Autocomplete { value, .. } => value.clone(),
                CommandDataOptionValue::Integer(n) => n.to_string(),
                CommandDataOptionValue::Boolean(b) => b.to_string(),
                CommandDataOptionValue::Number(n) => n.to_string(),
                _ => return None,
            };
            Some((o.name.clone(), value))
        })
        .collect()
}
