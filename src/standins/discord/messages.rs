//! The message routes: DM channels, messages in DMs and server channels,
//! and an interaction's follow-ups and edits, with the files they carry.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::routes::{Answer, next_id};
use super::{BOT_USER_ID, MAX_CONTENT, Standin, Upload};

pub(super) fn snowflake(value: &Value) -> Option<u64> {
    match value {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
    .filter(|id| *id > 0)
}

fn user_object(id: u64, bot: bool) -> Value {
    json!({
        "id": id.to_string(),
        "username": if bot { "hallpass".to_owned() } else { format!("user{id}") },
        "global_name": null,
        "discriminator": "0",
        "avatar": null,
        "public_flags": 0,
        "bot": bot,
    })
}

/// `POST /users/@me/channels`: the existing DM channel with the recipient, or a new one.
pub(super) fn create_dm(state: &mut Standin, body: &Value) -> Answer {
    let Some(recipient) = snowflake(&body["recipient_id"]) else {
        return Answer::invalid_form(
            "recipient_id",
            "BASE_TYPE_REQUIRED",
            "This field is required",
        );
    };
    let existing = state
        .dm_channels
        .iter()
        .find(|(_, r)| **r == recipient)
        .map(|(channel, _)| *channel);
    let channel = match existing {
        Some(channel) => channel,
        None => {
            let channel = next_id(state);
            state.dm_channels.insert(channel, recipient);
            channel
        }
    };
    Answer::ok(json!({
        "id": channel.to_string(),
        "type": 1,
        "last_message_id": null,
        "flags": 0,
        "recipients": [user_object(recipient, false)],
    }))
}

/// The message's content; a message with a file may have none.
fn content(body: &Value, files: &[Upload]) -> Result<String, Answer> {
    match body["content"].as_str() {
        None if !files.is_empty() => Ok(String::new()),
        Some(text) if text.chars().count() > MAX_CONTENT => Err(Answer::invalid_form(
            "content",
            "BASE_TYPE_MAX_LENGTH",
            "Must be 2000 or fewer in length.",
        )),
        Some(text) if !text.trim().is_empty() => Ok(text.to_owned()),
        _ => Err(Answer::error(
            StatusCode::BAD_REQUEST,
            50006,
            "Cannot send an empty message",
        )),
    }
}

fn message_object(
    state: &mut Standin,
    channel: u64,
    content: &str,
    body: &Value,
    files: &[Upload],
) -> Value {
    let id = next_id(state);
    let attachments: Vec<Value> = files
        .iter()
        .map(|f| {
            json!({
                "id": next_id(state).to_string(),
                "filename": f.filename,
                "size": f.bytes.len(),
                "content_type": f.content_type,
                "url": format!("https://cdn.discordapp.com/attachments/{channel}/{id}/{}", f.filename),
                "proxy_url": format!("https://media.discordapp.net/attachments/{channel}/{id}/{}", f.filename),
            })
        })
        .collect();
    json!({
        "id": id.to_string(),
        "type": 0,
        "channel_id": channel.to_string(),
        "author": user_object(BOT_USER_ID, true),
        "content": content,
        "timestamp": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string(),
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": attachments,
        "embeds": [],
        "components": body.get("components").cloned().unwrap_or_else(|| json!([])),
        "pinned": false,
        "flags": body["flags"].as_u64().unwrap_or(0),
    })
}

/// `POST /channels/{channel.id}/messages`, to a DM channel opened before or
/// to a server text channel the test added.
pub(super) fn create_message(
    state: &mut Standin,
    channel: &str,
    body: &Value,
    files: &[Upload],
) -> Answer {
    let id = channel.parse::<u64>().ok();
    if let Some(id) = id.filter(|id| state.channels.contains_key(id)) {
        let text = match content(body, files) {
            Ok(text) => text,
            Err(answer) => return answer,
        };
        state.channels.entry(id).or_default().push(text.clone());
        return Answer::ok(message_object(state, id, &text, body, files));
    }
    let Some((channel, recipient)) = id.and_then(|c| state.dm_channels.get(&c).map(|r| (c, *r)))
    else {
        return Answer::error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
    };
    if let Some(code) = state.fail_dms {
        return Answer::error(
            StatusCode::FORBIDDEN,
            code,
            "Cannot send messages to this user",
        );
    }
    let text = match content(body, files).and_then(|t| attachments_named(body, files).map(|()| t)) {
        Ok(text) => text,
        Err(answer) => return answer,
    };
    state.dms.push((recipient, text.clone()));
    for file in files {
        state.dm_files.push((recipient, file.clone()));
    }
    Answer::ok(message_object(state, channel, &text, body, files))
}

/// `PATCH /webhooks/{application.id}/{interaction.token}/messages/@original`
/// and `POST /webhooks/{application.id}/{interaction.token}` (a follow-up,
/// where Discord always waits and answers the message).
pub(super) fn webhook_message(
    state: &mut Standin,
    app: &str,
    token: &str,
    body: &Value,
    files: &[Upload],
) -> Answer {
    if app.parse::<u64>().is_err() || token.is_empty() || state.fail_followups {
        return Answer::error(StatusCode::NOT_FOUND, 10015, "Unknown Webhook");
    }
    let text = match content(body, files).and_then(|t| attachments_named(body, files).map(|()| t)) {
        Ok(text) => text,
        Err(answer) => return answer,
    };
    for file in files {
        state.followup_files.push((token.to_owned(), file.clone()));
    }
    let channel = next_id(state);
    let mut message = message_object(state, channel, &text, body, files);
    message["webhook_id"] = json!(app);
    message["application_id"] = json!(app);
    Answer::ok(message)
}

/// Discord's rule for uploads: each file part `files[n]` is described in the
/// payload's `attachments` by an entry with `id` n (and its filename).
fn attachments_named(body: &Value, files: &[Upload]) -> Result<(), Answer> {
    if files.is_empty() {
        return Ok(());
    }
    let listed = body["attachments"].as_array().cloned().unwrap_or_default();
    for file in files {
        let described = listed.iter().any(|a| {
            a["id"].as_u64() == Some(file.index) && a["filename"].as_str() == Some(&file.filename)
        });
        if !described {
            return Err(Answer::invalid_form(
                "attachments",
                "ATTACHMENT_NOT_FOUND",
                "Each file needs an entry in attachments with its id and filename",
            ));
        }
    }
    Ok(())
}
