//! Replies rendered in Discord's interaction-response format. Every message
//! suppresses mentions, so a name can never ping a channel. A prompt is an
//! ephemeral message with one action row of buttons; the answer to a click
//! replaces that message (its buttons gone) rather than adding another.

use serde_json::{Value, json};

use crate::commands::markdown::{self, limits};
use crate::commands::{Body, Button, ButtonStyle, Choice, Modal, Request};

pub const PONG: u8 = 1;
const CHANNEL_MESSAGE: u8 = 4;
const DEFERRED_CHANNEL_MESSAGE: u8 = 5;
const DEFERRED_UPDATE_MESSAGE: u8 = 6;
const UPDATE_MESSAGE: u8 = 7;
const AUTOCOMPLETE_RESULT: u8 = 8;
const MODAL: u8 = 9;
const EPHEMERAL: u64 = 1 << 6;
/// Discord's limits on an action row: 5 buttons, each label 80 characters.
const MAX_BUTTONS: usize = 5;
const MAX_BUTTON_LABEL: usize = 80;
/// Discord's limit on message content.
pub const MAX_CONTENT: usize = limits::CONTENT;

pub fn pong() -> Value {
    json!({ "type": PONG })
}

/// "Thinking…", visible only to the invoker; the answer is edited in later.
pub fn deferred_ephemeral() -> Value {
    json!({ "type": DEFERRED_CHANNEL_MESSAGE, "data": { "flags": EPHEMERAL } })
}

/// The acknowledgement of a slow request: "thinking…" for a command or a
/// form; for a button, a silent one (the prompt is edited in place later).
pub fn deferral(request: &Request) -> Value {
    match request {
        Request::Button { .. } => json!({ "type": DEFERRED_UPDATE_MESSAGE }),
        _ => deferred_ephemeral(),
    }
}

/// The first answer to `request`: a click on a prompt's button replaces the
/// prompt (its buttons removed, or the new prompt's in their place).
pub fn render_answer(request: &Request, body: &Body) -> Value {
    match (request, body) {
        (Request::Button { .. }, Body::Text { content, .. }) => {
            json!({ "type": UPDATE_MESSAGE, "data": edit(content, Some(&[])) })
        }
        (Request::Button { .. }, Body::Prompt { content, buttons }) => {
            json!({ "type": UPDATE_MESSAGE, "data": edit(content, Some(buttons)) })
        }
        _ => render(body),
    }
}

/// The body of an edit of the first answer: its content, and its buttons
/// when `buttons` is given (`Some(&[])` removes them).
pub fn edit(content: &str, buttons: Option<&[Button]>) -> Value {
    let mut data = message(content, false);
    if let Some(buttons) = buttons {
        data["components"] = action_rows(buttons);
    }
    data
}

/// How a deferred answer is edited in: the text, with the prompt's buttons
/// removed when the request was a click, or a new prompt's buttons.
pub fn deferred_edit(request: &Request, body: &Body) -> Value {
    match body {
        Body::Prompt { content, buttons } => edit(content, Some(buttons)),
        Body::Text { content, .. } => {
            let clicked = matches!(request, Request::Button { .. });
            edit(content, clicked.then_some(&[][..]))
        }
        _ => edit("", None),
    }
}

pub fn render(body: &Body) -> Value {
    match body {
        Body::Prompt { content, buttons } => {
            let mut data = message(content, true);
            data["components"] = action_rows(buttons);
            json!({ "type": CHANNEL_MESSAGE, "data": data })
        }
        Body::Text { content, ephemeral } => {
            json!({ "type": CHANNEL_MESSAGE, "data": message(content, *ephemeral) })
        }
        Body::Choices(choices) => {
            json!({ "type": AUTOCOMPLETE_RESULT, "data": { "choices": choices_json(choices) } })
        }
        Body::Modal(modal) => json!({ "type": MODAL, "data": modal_json(modal) }),
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

/// One action row of up to 5 buttons; none at all when there are none.
fn action_rows(buttons: &[Button]) -> Value {
    if buttons.is_empty() {
        return json!([]);
    }
    let buttons: Vec<Value> = buttons
        .iter()
        .take(MAX_BUTTONS)
        .map(|b| {
            json!({
                "type": 2,
                "style": style(&b.style),
                "label": markdown::clip(&b.label, MAX_BUTTON_LABEL),
                "custom_id": b.custom_id,
            })
        })
        .collect();
    json!([{ "type": 1, "components": buttons }])
}

fn style(style: &ButtonStyle) -> u8 {
    match style {
        ButtonStyle::Primary => 1,
        ButtonStyle::Secondary => 2,
        ButtonStyle::Danger => 4,
    }
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

    fn confirm_cancel() -> Vec<Button> {
        vec![
            Button {
                custom_id: "class-cards:confirm:1".into(),
                label: "Confirm".into(),
                style: ButtonStyle::Danger,
            },
            Button {
                custom_id: "class-cards:cancel:1".into(),
                label: "Cancel".into(),
                style: ButtonStyle::Secondary,
            },
        ]
    }

    #[test]
    fn a_prompt_is_an_ephemeral_message_with_one_row_of_buttons() {
        let v = render(&Body::Prompt {
            content: "Reset 28 passwords?".into(),
            buttons: confirm_cancel(),
        });
        assert_eq!(v["type"], 4);
        assert_eq!(v["data"]["flags"], 64);
        assert_eq!(v["data"]["content"], "Reset 28 passwords?");
        let row = &v["data"]["components"][0];
        assert_eq!(row["type"], 1);
        assert_eq!(row["components"][0]["type"], 2);
        assert_eq!(row["components"][0]["style"], 4);
        assert_eq!(row["components"][0]["label"], "Confirm");
        assert_eq!(row["components"][0]["custom_id"], "class-cards:confirm:1");
        assert_eq!(row["components"][1]["style"], 2);
        assert_eq!(v["data"]["components"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn a_prompts_content_is_clipped_and_it_keeps_at_most_five_buttons() {
        let many: Vec<Button> = (0..7)
            .map(|i| Button {
                custom_id: format!("x:{i}"),
                label: "b".repeat(200),
                style: ButtonStyle::Primary,
            })
            .collect();
        let v = render(&Body::Prompt {
            content: "y".repeat(5000),
            buttons: many,
        });
        assert_eq!(
            v["data"]["content"].as_str().map(|c| c.chars().count()),
            Some(MAX_CONTENT)
        );
        let row = v["data"]["components"][0]["components"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(row.len(), 5);
        assert!(row.iter().all(|b| {
            b["label"]
                .as_str()
                .is_some_and(|l| l.chars().count() <= MAX_BUTTON_LABEL)
        }));
    }

    #[test]
    fn a_click_is_answered_by_replacing_the_prompt_and_removing_its_buttons() {
        let click = Request::button("class-cards:cancel:1");
        let v = render_answer(
            &click,
            &Body::Text {
                content: "Cancelled.".into(),
                ephemeral: true,
            },
        );
        assert_eq!(v["type"], 7);
        assert_eq!(v["data"]["content"], "Cancelled.");
        assert_eq!(v["data"]["components"], json!([]));
        assert_eq!(deferral(&click), json!({ "type": 6 }));
        let edit = deferred_edit(
            &click,
            &Body::Text {
                content: "Done.".into(),
                ephemeral: true,
            },
        );
        assert_eq!(edit["components"], json!([]));
        assert_eq!(edit["content"], "Done.");
        let command = Request::command("whois", &[]);
        assert_eq!(deferral(&command)["type"], 5);
        assert!(
            deferred_edit(
                &command,
                &Body::Text {
                    content: "x".into(),
                    ephemeral: true
                }
            )
            .get("components")
            .is_none()
        );
        assert_eq!(
            render_answer(
                &command,
                &Body::Text {
                    content: "x".into(),
                    ephemeral: true
                }
            )["type"],
            4
        );
    }

    #[test]
    fn long_messages_are_clipped_to_discords_limit() {
        assert_eq!(clip(&"x".repeat(5000)).chars().count(), MAX_CONTENT);
    }
}
