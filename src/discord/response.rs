//! Replies rendered in Discord's interaction-response format. Every message
//! suppresses mentions, so a name can never ping a channel.

use serde_json::{Value, json};

use crate::commands::markdown::{self, limits};
use crate::commands::{Body, Choice, Modal};

pub const PONG: u8 = 1;
const CHANNEL_MESSAGE: u8 = 4;
const DEFERRED_CHANNEL_MESSAGE: u8 = 5;
const AUTOCOMPLETE_RESULT: u8 = 8;
const MODAL: u8 = 9;
const EPHEMERAL: u64 = 1 << 6;
/// Discord's limit on message content.
pub const MAX_CONTENT: usize = limits::CONTENT;

pub fn pong() -> Value {
    json!({ "type": PONG })
}

/// "Thinking…", visible only to the invoker; the answer is edited in later.
pub fn deferred_ephemeral() -> Value {
    json!({ "type": DEFERRED_CHANNEL_MESSAGE, "data": { "flags": EPHEMERAL } })
}

pub fn render(body: &Body) -> Value {
    match body {
        Body::Text { content, ephemeral } => {
            json!({ "type": CHANNEL_MESSAGE, "data": message(content, *ephemeral) })
        }
        Body::Choices(choices) => {
            json!({ "type": AUTOCOMPLETE_RESULT, "data": { "choices": choices_json(choices) } })
        }
        Body::Modal(modal) => json!({ "type": MODAL, "data": modal_json(modal) }),
        Body::Prompt { content, .. } => {
            json!({ "type": CHANNEL_MESSAGE, "data": message(content, true) })
        }
    }
}

/// The `data` of a message (also the body of an edit or a follow-up).
pub fn message(content: &str, ephemeral: bool) -> Value {
    let mut data = json!({ "content": clip(content), "allowed_mentions": { "parse": [] } });
    if ephemeral {
        data["flags"] = json!(EPHEMERAL);
    }
    data
}

pub fn clip(content: &str) -> String {
    markdown::clip(content, MAX_CONTENT)
}

fn choices_json(choices: &[Choice]) -> Vec<Value> {
    choices
        .iter()
        .take(25)
        .map(|c| json!({ "name": markdown::clip(&c.name, limits::CHOICE_NAME), "value": c.value }))
        .collect()
}

fn modal_json(modal: &Modal) -> Value {
    let rows: Vec<Value> = modal
        .inputs
        .iter()
        .take(5)
        .map(|input| {
            json!({ "type": 1, "components": [{
                "type": 4,
                "custom_id": input.custom_id,
                "label": input.label,
                "style": 1,
                "value": input.value,
                "required": input.required,
                "max_length": input.max_length,
            }]})
        })
        .collect();
    json!({ "custom_id": modal.custom_id, "title": markdown::clip(&modal.title, limits::MODAL_TITLE), "components": rows })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::TextInput;

    #[test]
    fn private_messages_carry_the_ephemeral_flag_and_never_mention_anyone() {
        let v = render(&Body::Text {
            content: "@everyone hi".into(),
            ephemeral: true,
        });
        assert_eq!(v["type"], 4);
        assert_eq!(v["data"]["flags"], 64);
        assert_eq!(v["data"]["allowed_mentions"]["parse"], json!([]));
    }

    #[test]
    fn a_modal_has_one_text_input_per_action_row() {
        let modal = Modal {
            custom_id: "edit-user:x:1".into(),
            title: "Edit Lopez, Ana".into(),
            inputs: vec![TextInput {
                custom_id: "first_name".into(),
                label: "First name".into(),
                value: "Ana".into(),
                required: true,
                max_length: 64,
            }],
        };
        let v = render(&Body::Modal(modal));
        assert_eq!(v["type"], 9);
        assert_eq!(v["data"]["components"][0]["type"], 1);
        assert_eq!(v["data"]["components"][0]["components"][0]["type"], 4);
        assert_eq!(v["data"]["components"][0]["components"][0]["value"], "Ana");
    }

    #[test]
    fn long_messages_are_clipped_to_discords_limit() {
        assert_eq!(clip(&"x".repeat(5000)).chars().count(), MAX_CONTENT);
    }
}
