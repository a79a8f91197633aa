//! The routes the stand-in answers, as Discord answers them.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::faults::{play_fault, record};
use super::messages::{create_dm, create_message, webhook_message};
use super::multipart::{self, Body};
use super::{RecordedRequest, Shared, Standin, Upload, lock};

/// An answer: status, JSON body, extra headers.
#[derive(Clone)]
pub(super) struct Answer(StatusCode, Value, Vec<(&'static str, &'static str)>);

impl Answer {
    pub(super) fn ok(body: Value) -> Self {
        Self(StatusCode::OK, body, Vec::new())
    }

    /// Discord's error body: `{"message": ..., "code": ...}`.
    pub(super) fn error(status: StatusCode, code: u64, message: &str) -> Self {
        Self(
            status,
            json!({ "message": message, "code": code }),
            Vec::new(),
        )
    }

    pub(super) fn invalid_form(field: &str, code: &str, message: &str) -> Self {
        Self(
            StatusCode::BAD_REQUEST,
            json!({
                "message": "Invalid Form Body",
                "code": 50035,
                "errors": { field: { "_errors": [{ "code": code, "message": message }] } }
            }),
            Vec::new(),
        )
    }
}

/// Every request: a scripted fault, a rate limit, or the route's answer;
/// recorded either way.
pub(super) async fn handle(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let authorization = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let parsed = parse_body(&headers, body).await;
    let (json, files) = match &parsed {
        Ok(body) => (body.json.clone(), body.files.clone()),
        Err(_) => (None, Vec::new()),
    };
    if let Some(faulty) =
        play_fault(&state, &method, uri.path(), json, &files, &authorization).await
    {
        return faulty;
    }
    let mut state = lock(&state);
    let Answer(status, answer, extra) =
        answer(&mut state, &method, uri.path(), &authorization, &parsed);
    let (body, files) = match parsed {
        Ok(Body { json, files }) => (json, files),
        Err(_) => (None, Vec::new()),
    };
    record(
        &mut state,
        RecordedRequest {
            method: method.to_string(),
            path: uri.path().to_owned(),
            body,
            files,
            authorization,
            status: status.as_u16(),
        },
    );
    let mut response = (status, axum::Json(answer)).into_response();
    for (name, value) in extra {
        response.headers_mut().insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}

/// A rate limit when one is due, else Discord's answer to a readable body.
fn answer(
    state: &mut Standin,
    method: &Method,
    path: &str,
    authorization: &Option<String>,
    parsed: &Result<Body, Answer>,
) -> Answer {
    if state.rate_limited > 0 {
        state.rate_limited -= 1;
        return Answer(
            StatusCode::TOO_MANY_REQUESTS,
            json!({ "message": "You are being rate limited.", "retry_after": 0.05, "global": false }),
            vec![("retry-after", "1"), ("x-ratelimit-scope", "user")],
        );
    }
    match parsed {
        Err(refused) => refused.clone(),
        Ok(body) => {
            let json = body.json.clone().unwrap_or(Value::Null);
            route(
                state,
                method,
                path,
                authorization.as_deref(),
                &json,
                &body.files,
            )
        }
    }
}

/// The JSON of a request (from `payload_json` when it is multipart) and its
/// files; Discord's refusal when the body cannot be read.
async fn parse_body(headers: &HeaderMap, body: Bytes) -> Result<Body, Answer> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("multipart/form-data") {
        return multipart::parse(content_type, body).await;
    }
    if body.is_empty() {
        return Ok(Body::default());
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(json) => Ok(Body {
            json: Some(json),
            files: Vec::new(),
        }),
        Err(_) => Err(Answer::error(
            StatusCode::BAD_REQUEST,
            50109,
            "The request body contains invalid JSON.",
        )),
    }
}

fn route(
    state: &mut Standin,
    method: &Method,
    path: &str,
    authorization: Option<&str>,
    body: &Value,
    files: &[Upload],
) -> Answer {
    let Some(rest) = path.strip_prefix("/api/v10/") else {
        return Answer::error(StatusCode::NOT_FOUND, 0, "404: Not Found");
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let bot = authorization.is_some_and(|a| a.starts_with("Bot ") && a.len() > 4);
    let unauthorized = || Answer::error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized");
    match (method.as_str(), segments.as_slice()) {
        ("POST", ["users", "@me", "channels"]) if bot => create_dm(state, body),
        ("POST", ["channels", channel, "messages"]) if bot => {
            create_message(state, channel, body, files)
        }
        ("PUT", ["applications", app, "commands"]) if bot => overwrite(state, app, None, body),
        ("PUT", ["applications", app, "guilds", guild, "commands"]) if bot => {
            overwrite(state, app, Some(guild), body)
        }
        ("POST", ["users", "@me", "channels"])
        | ("POST", ["channels", _, "messages"])
        | ("PUT", ["applications", _, "commands"])
        | ("PUT", ["applications", _, "guilds", _, "commands"]) => unauthorized(),
        // Interaction webhooks are authorised by their token, not the bot's.
        ("PATCH", ["webhooks", app, token, "messages", "@original"]) => {
            webhook_message(state, app, token, body, &[])
        }
        ("POST", ["webhooks", app, token]) => webhook_message(state, app, token, body, files),
        // The first answer to an interaction that came over the gateway.
        ("POST", ["interactions", id, _token, "callback"]) => match body["type"].as_u64() {
            Some(1 | 4 | 5 | 6 | 7 | 8 | 9) if !state.acknowledged.insert((*id).to_owned()) => {
                Answer::error(
                    StatusCode::BAD_REQUEST,
                    crate::discord::ALREADY_ACKNOWLEDGED,
                    "Interaction has already been acknowledged.",
                )
            }
            Some(1 | 4 | 5 | 6 | 7 | 8 | 9) => {
                Answer(StatusCode::NO_CONTENT, Value::Null, Vec::new())
            }
            _ => Answer::error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body"),
        },
        ("GET", ["gateway"]) => gateway(state, false),
        ("GET", ["gateway", "bot"]) if bot => gateway(state, true),
        ("GET", ["gateway", "bot"]) => unauthorized(),
        _ => Answer::error(StatusCode::NOT_FOUND, 0, "404: Not Found"),
    }
}

/// `GET /gateway` (`{url}`) and `GET /gateway/bot` (with the recommended
/// shards and the session start limit), when a gateway stand-in is served.
fn gateway(state: &Standin, bot: bool) -> Answer {
    let Some(url) = &state.gateway_url else {
        return Answer::error(StatusCode::NOT_FOUND, 0, "404: Not Found");
    };
    if !bot {
        return Answer::ok(json!({ "url": url }));
    }
    Answer::ok(json!({
        "url": url,
        "shards": state.gateway_shards.max(1),
        "session_start_limit": { "total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1 },
    }))
}

/// A fresh id (a plausible snowflake).
pub(super) fn next_id(state: &mut Standin) -> u64 {
    state.next_id += 1;
    state.next_id
}

/// `PUT /applications/{application.id}[/guilds/{guild.id}]/commands`: replaces
/// the whole set and answers the stored commands.
fn overwrite(state: &mut Standin, app: &str, guild: Option<&str>, body: &Value) -> Answer {
    let Ok(app) = app.parse::<u64>() else {
        return Answer::error(StatusCode::NOT_FOUND, 10002, "Unknown Application");
    };
    let guild = match guild.map(str::parse::<u64>) {
        None => None,
        Some(Ok(guild)) => Some(guild),
        Some(Err(_)) => return Answer::error(StatusCode::NOT_FOUND, 10004, "Unknown Guild"),
    };
    let Some(commands) = body.as_array() else {
        return Answer::invalid_form("_", "BASE_TYPE_ARRAY", "Must be an array.");
    };
    let mut stored = Vec::with_capacity(commands.len());
    for (i, command) in commands.iter().enumerate() {
        let named = command["name"].as_str().is_some_and(|n| !n.is_empty());
        let described = command["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty());
        if !named || !described {
            return Answer::invalid_form(
                &i.to_string(),
                "BASE_TYPE_REQUIRED",
                "name and description are required",
            );
        }
        let mut command = command.clone();
        command["id"] = json!(next_id(state).to_string());
        command["version"] = json!(next_id(state).to_string());
        command["application_id"] = json!(app.to_string());
        command["default_member_permissions"] = Value::Null;
        command["nsfw"] = json!(false);
        if command.get("type").is_none() {
            command["type"] = json!(1);
        }
        if let Some(guild) = guild {
            command["guild_id"] = json!(guild.to_string());
        }
        stored.push(command);
    }
    state.commands.insert(guild, stored.clone());
    Answer::ok(Value::Array(stored))
}
