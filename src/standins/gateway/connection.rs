//! One websocket connection of the gateway stand-in: the handshake, HELLO,
//! and its answers to IDENTIFY, RESUME and heartbeats.

use super::*;

/// One websocket connection, from HELLO until either side ends it.
// The handshake callback's error type is tungstenite's (an HTTP response).
#[allow(clippy::result_large_err)]
pub(super) async fn connection(shared: Arc<Shared>, stream: TcpStream) {
    let mut query = String::new();
    let callback = |request: &Request, response: Response| {
        query = request.uri().query().unwrap_or_default().to_owned();
        Ok(response)
    };
    let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
        return;
    };
    shared.record.send_modify(|r| r.connections.push(query));
    let interval = lock(&shared).heartbeat_interval_ms;
    let hello = opcode(10, json!({ "heartbeat_interval": interval }));
    if socket.send(Message::Text(hello)).await.is_err() {
        return;
    }
    let (sender, mut controls) = mpsc::unbounded_channel::<Control>();
    loop {
        tokio::select! {
            incoming = socket.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(frame))) => {
                        let code = frame.map_or(1005, |f| u16::from(f.code));
                        shared.record.send_modify(|r| r.closes_received.push(code));
                        forget_socket(&shared, &sender);
                        // tungstenite answers the close frame; read until it is done.
                        while let Some(Ok(_)) = socket.next().await {}
                        return;
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => {
                        forget_socket(&shared, &sender);
                        return;
                    }
                };
                for reply in answer(&shared, &sender, &text) {
                    let sent = match reply {
                        Reply::Frame(frame) => socket.send(Message::Text(frame)).await,
                        Reply::Close(code, reason) => {
                            shared.record.send_modify(|r| r.closes_sent.push(code));
                            socket.send(Message::Close(Some(CloseFrame {
                                code: CloseCode::from(code),
                                reason: reason.into(),
                            }))).await
                        }
                    };
                    if sent.is_err() {
                        forget_socket(&shared, &sender);
                        return;
                    }
                }
            }
            control = controls.recv() => match control {
                Some(Control::Frame(frame)) => {
                    if socket.send(Message::Text(frame)).await.is_err() {
                        return;
                    }
                }
                Some(Control::Drop) | None => return,
            },
        }
    }
}

/// The socket went away: if it carried a shard's live session, that shard
/// is not live now.
fn forget_socket(shared: &Shared, sender: &mpsc::UnboundedSender<Control>) {
    let mut state = lock(shared);
    let before = state.current.len();
    state.current.retain(|_, (_, s)| !s.same_channel(sender));
    if state.current.len() != before {
        publish_live(shared, &state);
    }
}

enum Reply {
    Frame(String),
    Close(u16, &'static str),
}

/// The stand-in's answer to one text frame from the client.
fn answer(shared: &Shared, sender: &mpsc::UnboundedSender<Control>, text: &str) -> Vec<Reply> {
    let Ok(payload) = serde_json::from_str::<Value>(text) else {
        return vec![Reply::Close(4002, "Error while decoding payload.")];
    };
    let d = &payload["d"];
    match payload["op"].as_u64() {
        Some(1) => {
            shared.record.send_modify(|r| r.heartbeats += 1);
            vec![Reply::Frame(opcode(11, Value::Null))]
        }
        Some(2) => identify(shared, sender, d),
        Some(6) => resume(shared, sender, d),
        // Presence updates and the like: accepted, nothing to say.
        Some(3 | 4 | 8) => Vec::new(),
        _ => vec![Reply::Close(4001, "Unknown opcode.")],
    }
}

fn token_matches(expected: &str, presented: &str) -> bool {
    presented == expected || presented.strip_prefix("Bot ") == Some(expected)
}

fn identify(shared: &Shared, sender: &mpsc::UnboundedSender<Control>, d: &Value) -> Vec<Reply> {
    let (Some(token), Some(intents), true) = (
        d["token"].as_str(),
        d["intents"].as_u64(),
        d["properties"].is_object(),
    ) else {
        return vec![Reply::Close(4002, "Error while decoding payload.")];
    };
    let shard = match d.get("shard") {
        None | Some(Value::Null) => Some([0, 1]),
        Some(shard) => shard.as_array().and_then(|s| match s.as_slice() {
            [id, count] => Some([id.as_u64()?, count.as_u64()?]),
            _ => None,
        }),
    };
    let Some(shard) = shard else {
        return vec![Reply::Close(4002, "Error while decoding payload.")];
    };
    let mut state = lock(shared);
    let token_accepted = token_matches(&state.token, token);
    shared.record.send_modify(|r| {
        r.identifies.push(Identify {
            token_accepted,
            intents,
            shard,
        });
    });
    if !token_accepted {
        return vec![Reply::Close(4004, "Authentication failed.")];
    }
    if intents & PRIVILEGED_INTENTS != 0 {
        return vec![Reply::Close(4014, "Disallowed intent(s).")];
    }
    if shard[0] >= shard[1] {
        return vec![Reply::Close(4010, "Invalid shard.")];
    }
    if shard[1] < state.shards {
        return vec![Reply::Close(4011, "Sharding required.")];
    }
    let session_id = format!("standin-session-{}", state.next_session);
    state.next_session += 1;
    let ready = json!({
        "op": 0,
        "t": "READY",
        "s": 1,
        "d": {
            "v": 10,
            "user": {
                "id": BOT_USER_ID.to_string(),
                "username": "hallpass",
                "discriminator": "0",
                "global_name": null,
                "avatar": null,
                "bot": true,
                "verified": true,
                "mfa_enabled": false,
                "flags": 0,
            },
            "guilds": [],
            "session_id": session_id,
            "resume_gateway_url": state.url.as_str().trim_end_matches('/'),
            "shard": shard,
            "application": { "id": state.application_id.to_string(), "flags": 0 },
            "private_channels": [],
            "presences": [],
            "relationships": [],
            "guild_join_requests": [],
            "user_settings": {},
            "_trace": ["[\"hallpass-standin\"]"],
        }
    })
    .to_string();
    state.sessions.insert(
        session_id.clone(),
        Session {
            shard,
            seq: 1,
            dispatches: vec![(1, ready.clone())],
        },
    );
    state
        .current
        .insert(shard[0], (session_id.clone(), sender.clone()));
    shared.record.send_modify(|r| r.sessions.push(session_id));
    publish_live(shared, &state);
    vec![Reply::Frame(ready)]
}

fn resume(shared: &Shared, sender: &mpsc::UnboundedSender<Control>, d: &Value) -> Vec<Reply> {
    let (Some(token), Some(session_id), Some(seq)) = (
        d["token"].as_str(),
        d["session_id"].as_str(),
        d["seq"].as_u64(),
    ) else {
        return vec![Reply::Close(4002, "Error while decoding payload.")];
    };
    let mut state = lock(shared);
    if !token_matches(&state.token, token) {
        return vec![Reply::Close(4004, "Authentication failed.")];
    }
    let State {
        sessions, current, ..
    } = &mut *state;
    let Some(session) = sessions.get_mut(session_id) else {
        drop(state);
        shared.record.send_modify(|r| {
            r.resumes.push(Resume {
                session_id: session_id.to_owned(),
                seq,
                accepted: false,
            });
        });
        return vec![Reply::Frame(opcode(9, json!(false)))];
    };
    let mut replies: Vec<Reply> = session
        .dispatches
        .iter()
        .filter(|(s, _)| *s > seq)
        .map(|(_, frame)| Reply::Frame(frame.clone()))
        .collect();
    session.seq += 1;
    replies.push(Reply::Frame(
        json!({ "op": 0, "t": "RESUMED", "s": session.seq, "d": { "_trace": ["[\"hallpass-standin\"]"] } })
            .to_string(),
    ));
    current.insert(session.shard[0], (session_id.to_owned(), sender.clone()));
    shared.record.send_modify(|r| {
        r.resumes.push(Resume {
            session_id: session_id.to_owned(),
            seq,
            accepted: true,
        });
    });
    publish_live(shared, &state);
    replies
}
