//! The stand-in's HTTP routes, answering with Zendesk's status codes and JSON.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::rate::RateAnswer;
use super::state::{
    CreationFault, IdempotentCreation, IssuedToken, RecordedRequest, Shared, State as Inner,
    StoredComment, StoredTicket, TokenIssue,
};
use crate::support::zendesk::{IDEMPOTENCY_KEY_HEADER, IDEMPOTENCY_LOOKUP_HEADER};

type SharedState = State<Arc<Shared>>;

/// The largest body the stand-in reads.
const MAX_BODY_BYTES: usize = 1 << 20;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/oauth/tokens", post(issue_token))
        .route("/api/v2/tickets", get(list_tickets).post(create_ticket))
        .route(
            "/api/v2/tickets.json",
            get(list_tickets).post(create_ticket),
        )
        .route("/api/v2/tickets/{id}", get(show_ticket).put(update_ticket))
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "InvalidEndpoint",
                "Not found (this stand-in serves tokens and tickets only)",
            )
        })
        .layer(middleware::from_fn_with_state(shared.clone(), record))
        .with_state(shared)
}

/// Keeps a copy of every request before it is answered.
async fn record(State(shared): SharedState, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "TooLarge", "Body too large");
    };
    let recorded = RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    shared.with(|s| s.requests.push(recorded));
    shared.changed();
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    shared.changed();
    response
}

fn error(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": code, "description": description})),
    )
        .into_response()
}

fn rate_limited(retry_after_seconds: Option<u64>) -> Response {
    let body = Json(json!({
        "error": "APIRateLimitExceeded",
        "description": "Number of allowed API requests per minute exceeded"
    }));
    match retry_after_seconds {
        Some(seconds) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(RETRY_AFTER, seconds.to_string())],
            body,
        )
            .into_response(),
        None => (StatusCode::TOO_MANY_REQUESTS, body).into_response(),
    }
}

fn server_error() -> Response {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalError",
        "Something went wrong (injected by the stand-in)",
    )
}

fn invalid(description: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({
            "error": "RecordInvalid",
            "description": "Record validation errors",
            "details": {"base": [{"description": description, "error": "InvalidValue"}]}
        })),
    )
        .into_response()
}

// ---------------------------------------------------------------- OAuth

async fn issue_token(State(shared): SharedState, headers: HeaderMap, body: Bytes) -> Response {
    let form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let fields: HashMap<String, String> = if form {
        url::form_urlencoded::parse(&body).into_owned().collect()
    } else {
        match serde_json::from_slice::<HashMap<String, Value>>(&body) {
            Ok(map) => map
                .into_iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k, v.to_owned())))
                .collect(),
            Err(_) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request"),
        }
    };
    let field = |name: &str| fields.get(name).map(String::as_str);
    if field("grant_type") != Some("client_credentials") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let options = &shared.options;
    if field("client_id") != Some(&options.oauth_client_id)
        || field("client_secret") != Some(&options.oauth_client_secret)
    {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let Some(asked) = field("scope").filter(|s| !s.trim().is_empty()) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_scope");
    };
    let issue = TokenIssue {
        client_id: options.oauth_client_id.clone(),
        scope: options
            .granted_scope
            .clone()
            .unwrap_or_else(|| asked.to_owned()),
        access_token: format!("standin_{}", uuid::Uuid::new_v4().simple()),
        expires_in: options.token_expires_in,
    };
    let mut answer = json!({
        "access_token": issue.access_token,
        "token_type": "bearer",
        "scope": issue.scope,
    });
    if let Some(expires_in) = issue.expires_in {
        answer["expires_in"] = json!(expires_in);
    }
    shared.with(|s| {
        s.tokens.push(IssuedToken {
            issue,
            issued_at: Instant::now(),
            revoked: false,
        })
    });
    (StatusCode::OK, Json(answer)).into_response()
}

fn oauth_error(status: StatusCode, code: &str) -> Response {
    let description = match code {
        "invalid_client" => {
            "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."
        }
        "unsupported_grant_type" => "The authorization grant type is not supported.",
        "invalid_scope" => "The requested scope is invalid, unknown, or malformed.",
        _ => "The request is missing a required parameter or is otherwise malformed.",
    };
    (
        status,
        Json(json!({"error": code, "error_description": description})),
    )
        .into_response()
}

// ---------------------------------------------------------------- signing in

#[derive(Clone, Copy)]
enum Access {
    Read,
    Write,
}

/// Checks the credentials and the rate-limit switch for an `/api/v2`
/// request: `Some(answer)` when the request is refused.
fn refusal(shared: &Shared, headers: &HeaderMap, access: Access) -> Option<Response> {
    let unauthorised = || error(StatusCode::UNAUTHORIZED, "Couldn't authenticate you", "");
    let presented = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Some(token) = presented.strip_prefix("Bearer ") {
        let Some(scope) = shared.with(|s| bearer_scope(s, token.trim())) else {
            return Some(unauthorised());
        };
        let needed: &[&str] = match access {
            Access::Read => &["read", "tickets:read"],
            Access::Write => &["write", "tickets:write"],
        };
        if !scope.split_whitespace().any(|s| needed.contains(&s)) {
            return Some(error(
                StatusCode::FORBIDDEN,
                "Forbidden",
                &format!(
                    "You are missing the following required scopes: {}",
                    needed[1]
                ),
            ));
        }
    } else if let Some(encoded) = presented.strip_prefix("Basic ") {
        let options = &shared.options;
        let expected = format!("{}/token:{}", options.api_email, options.api_token);
        let decoded = STANDARD.decode(encoded.trim()).unwrap_or_default();
        if decoded != expected.as_bytes() {
            return Some(unauthorised());
        }
    } else {
        return Some(unauthorised());
    }
    if let Some(retry_after) = shared.with(|s| {
        let (nth, retry_after) = s.one_in?;
        s.api_requests_since_one_in += 1;
        (s.api_requests_since_one_in % u64::from(nth) == 0).then_some(retry_after)
    }) {
        return Some(rate_limited(retry_after));
    }
    shared
        .with(|s| {
            let bucket = s.bucket.as_mut()?;
            let at = Instant::now();
            let retry_after_seconds = bucket.take(at);
            s.rate_answers.push(RateAnswer {
                at,
                retry_after_seconds,
            });
            retry_after_seconds
        })
        .map(|seconds| rate_limited(Some(seconds)))
}

/// The scope of a live token, or `None` when it is unknown, revoked or expired.
fn bearer_scope(state: &Inner, token: &str) -> Option<String> {
    if state.refuse_all_tokens {
        return None;
    }
    let issued = state
        .tokens
        .iter()
        .find(|t| t.issue.access_token == token)?;
    let expired = issued
        .issue
        .expires_in
        .is_some_and(|s| issued.issued_at.elapsed() >= Duration::from_secs(s));
    (!issued.revoked && !expired).then(|| issued.issue.scope.clone())
}

// ---------------------------------------------------------------- tickets

fn ticket_json(shared: &Shared, ticket: &StoredTicket) -> Value {
    json!({
        "id": ticket.id,
        "url": format!("{}api/v2/tickets/{}.json", shared.base_url, ticket.id),
        "external_id": ticket.external_id,
        "subject": ticket.subject,
        "raw_subject": ticket.subject,
        "description": ticket.comments.first().map(|c| c.body.as_str()),
        "status": ticket.status,
        "requester_id": ticket.requester_id,
        "submitter_id": ticket.requester_id,
        "tags": ticket.tags,
    })
}

/// The fields of a ticket creation, checked as Zendesk would.
struct TicketFields {
    subject: Option<String>,
    comment: StoredComment,
    requester_name: Option<String>,
    requester_email: String,
    external_id: Option<String>,
    tags: Vec<String>,
}

fn optional_string(object: &Value, field: &str) -> Result<Option<String>, String> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{field} must be a string")),
    }
}

fn comment_of(ticket: &Value) -> Result<Option<StoredComment>, String> {
    let Some(comment) = ticket.get("comment") else {
        return Ok(None);
    };
    let body = optional_string(comment, "body")?.unwrap_or_default();
    if body.trim().is_empty() {
        return Err("Description: cannot be blank".into());
    }
    let public = match comment.get("public") {
        None => true,
        Some(Value::Bool(public)) => *public,
        Some(_) => return Err("comment.public must be true or false".into()),
    };
    Ok(Some(StoredComment { body, public }))
}

fn tags_of(ticket: &Value) -> Result<Option<Vec<String>>, String> {
    match ticket.get("tags") {
        None => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|t| {
                t.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| "tags must be strings".to_owned())
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err("tags must be an array of strings".into()),
    }
}

fn ticket_fields(request: &Value, default_email: &str) -> Result<TicketFields, String> {
    let ticket = request
        .get("ticket")
        .filter(|t| t.is_object())
        .ok_or("the body must be {\"ticket\": {...}}")?;
    let comment = comment_of(ticket)?.ok_or("Description: cannot be blank")?;
    let (requester_name, requester_email) = match ticket.get("requester") {
        None => (None, default_email.to_owned()),
        Some(requester) => {
            let email = optional_string(requester, "email")?
                .filter(|e| e.contains('@'))
                .ok_or("Requester: email is not valid")?;
            (optional_string(requester, "name")?, email)
        }
    };
    Ok(TicketFields {
        subject: optional_string(ticket, "subject")?,
        comment,
        requester_name,
        requester_email,
        external_id: optional_string(ticket, "external_id")?,
        tags: tags_of(ticket)?.unwrap_or_default(),
    })
}

enum Created {
    New(StoredTicket),
    Replayed(StoredTicket),
    KeyMismatch,
}

async fn create_ticket(State(shared): SharedState, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refused) = refusal(&shared, &headers, Access::Write) {
        return refused;
    }
    let mut stall_after_creating = None;
    match shared.with(|s| s.creation_faults.pop_front()) {
        Some(CreationFault::RateLimited {
            retry_after_seconds,
        }) => return rate_limited(retry_after_seconds),
        Some(CreationFault::ServerError) => return server_error(),
        Some(CreationFault::StallWithoutCreating(delay)) => {
            tokio::time::sleep(delay).await;
            return server_error();
        }
        Some(CreationFault::CreateThenStall(delay)) => stall_after_creating = Some(delay),
        None => {}
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidJSON",
            "The body is not JSON",
        );
    };
    let fields = match ticket_fields(&request, &shared.options.api_email) {
        Ok(fields) => fields,
        Err(description) => return invalid(&description),
    };
    let key = headers
        .get(IDEMPOTENCY_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let window = shared.options.idempotency_window;
    let created = shared.with(|s| {
        if let Some(earlier) = key
            .as_ref()
            .and_then(|k| s.idempotency.get(k))
            .filter(|e| e.at.elapsed() < window)
        {
            if earlier.request != request {
                return Created::KeyMismatch;
            }
            if let Some(ticket) = s.tickets.get(&earlier.ticket_id) {
                return Created::Replayed(ticket.clone());
            }
        }
        let ticket = store(s, fields);
        if let Some(key) = key.clone() {
            let entry = IdempotentCreation {
                request,
                ticket_id: ticket.id,
                at: Instant::now(),
            };
            s.idempotency.insert(key, entry);
        }
        Created::New(ticket)
    });
    if let Some(delay) = stall_after_creating {
        shared.changed();
        tokio::time::sleep(delay).await;
    }
    let (ticket, lookup) = match created {
        Created::New(ticket) => (ticket, "miss"),
        Created::Replayed(ticket) => (ticket, "hit"),
        Created::KeyMismatch => {
            return error(
                StatusCode::BAD_REQUEST,
                "IdempotentRequestError",
                "Request parameters don't match the given idempotency key",
            );
        }
    };
    let body = Json(json!({"ticket": ticket_json(&shared, &ticket)}));
    if key.is_some() {
        (
            StatusCode::CREATED,
            [(IDEMPOTENCY_LOOKUP_HEADER, lookup)],
            body,
        )
            .into_response()
    } else {
        (StatusCode::CREATED, body).into_response()
    }
}

fn store(state: &mut Inner, fields: TicketFields) -> StoredTicket {
    let ticket = StoredTicket {
        id: state.next_ticket_id(),
        subject: fields.subject,
        requester_id: state.user_id(&fields.requester_email),
        requester_name: fields.requester_name,
        requester_email: fields.requester_email,
        external_id: fields.external_id,
        tags: fields.tags,
        status: "new".into(),
        comments: vec![fields.comment],
    };
    state.tickets.insert(ticket.id, ticket.clone());
    ticket
}

async fn list_tickets(
    State(shared): SharedState,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = refusal(&shared, &headers, Access::Read) {
        return refused;
    }
    let wanted = query.get("external_id");
    let tickets: Vec<Value> = shared.with(|s| {
        s.tickets
            .values()
            .filter(|t| wanted.is_none() || t.external_id.as_ref() == wanted)
            .map(|t| ticket_json(&shared, t))
            .collect()
    });
    let count = tickets.len();
    Json(json!({
        "tickets": tickets,
        "next_page": null,
        "previous_page": null,
        "count": count,
    }))
    .into_response()
}

fn ticket_id(segment: &str) -> Option<u64> {
    segment
        .strip_suffix(".json")
        .unwrap_or(segment)
        .parse()
        .ok()
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "RecordNotFound", "Not found")
}

async fn show_ticket(
    State(shared): SharedState,
    headers: HeaderMap,
    Path(segment): Path<String>,
) -> Response {
    if let Some(refused) = refusal(&shared, &headers, Access::Read) {
        return refused;
    }
    let ticket = ticket_id(&segment).and_then(|id| shared.with(|s| s.tickets.get(&id).cloned()));
    match ticket {
        Some(ticket) => Json(json!({"ticket": ticket_json(&shared, &ticket)})).into_response(),
        None => not_found(),
    }
}

async fn update_ticket(
    State(shared): SharedState,
    headers: HeaderMap,
    Path(segment): Path<String>,
    body: Bytes,
) -> Response {
    if let Some(refused) = refusal(&shared, &headers, Access::Write) {
        return refused;
    }
    let Some(id) = ticket_id(&segment) else {
        return not_found();
    };
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidJSON",
            "The body is not JSON",
        );
    };
    let Some(changes) = request.get("ticket").filter(|t| t.is_object()) else {
        return invalid("the body must be {\"ticket\": {...}}");
    };
    let parsed = comment_of(changes).and_then(|comment| {
        Ok((
            comment,
            optional_string(changes, "status")?,
            tags_of(changes)?,
        ))
    });
    let (comment, status, tags) = match parsed {
        Ok(parsed) => parsed,
        Err(description) => return invalid(&description),
    };
    let updated = shared.with(|s| {
        let ticket = s.tickets.get_mut(&id)?;
        ticket.comments.extend(comment.clone());
        if let Some(status) = status {
            ticket.status = status;
        }
        if let Some(tags) = tags {
            ticket.tags = tags;
        }
        Some(ticket.clone())
    });
    let Some(ticket) = updated else {
        return not_found();
    };
    let events: Vec<Value> = comment
        .iter()
        .map(|c| json!({"type": "Comment", "body": c.body, "public": c.public}))
        .collect();
    Json(json!({
        "ticket": ticket_json(&shared, &ticket),
        "audit": {"ticket_id": ticket.id, "events": events},
    }))
    .into_response()
}
