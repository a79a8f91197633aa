//! `GET/POST /reset/{token}`: the page an email reset link opens. It asks for
//! the new password twice, checks it against the policy's rules, and uses the
//! token and sets the password in one transaction.
//!
//! Promises: an unknown, used or expired link gets one and the same page; the
//! token and the password never reach a log line (the handlers skip their
//! arguments, and the router logs no paths); a refused password leaves the
//! link usable; the page needs no JavaScript and is never cached or referred.
//! A submit claims the link before the password is hashed, so many submits of
//! one link cost one argon2 hash, and the page may not be framed (clickjacking).

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::WebState;
use super::html::{self, escape};
use crate::audit::{Action, AuditActor, AuditEntry, Origin};
use crate::credentials::OneTimeToken;
use crate::directory::User;
use crate::store::ResetTokenError;

const GONE: &str = "This reset link no longer works. Links work once and expire after a while; ask a teacher or an admin to send a new one.";

#[derive(Deserialize)]
pub struct ResetForm {
    password: SecretString,
    repeat: SecretString,
}

#[tracing::instrument(name = "reset_page", skip_all)]
pub async fn show(State(state): State<WebState>, Path(token): Path<String>) -> Response {
    match holder(&state, &token).await {
        Ok(Some((_, user))) => page(StatusCode::OK, &form_html(&state, &user, None)),
        Ok(None) => gone(),
        Err(response) => response,
    }
}

#[tracing::instrument(name = "reset_submit", skip_all)]
pub async fn submit(
    State(state): State<WebState>,
    Path(token): Path<String>,
    Form(form): Form<ResetForm>,
) -> Response {
    let app = &state.app;
    let (token, user) = match holder(&state, &token).await {
        Ok(Some(found)) => found,
        Ok(None) => return gone(),
        Err(response) => return response,
    };
    let refuse = |reason: &str| {
        page(
            StatusCode::BAD_REQUEST,
            &form_html(&state, &user, Some(reason)),
        )
    };
    if form.password.expose_secret() != form.repeat.expose_secret() {
        return refuse("The two passwords are different; type the same one twice.");
    }
    if let Err(weak) =
        app.settings
            .password_rules
            .check(&form.password, user.role, Some(&user.login))
    {
        return refuse(&weak.to_string());
    }
    // Authority before work: only the submit that claims the link pays for a hash.
    match app
        .store
        .claim_reset_token(&token.token_hash(&app.secret_key), &user, app.now())
        .await
    {
        Ok(true) => {}
        Ok(false) => return gone(),
        Err(e) => return broken(e),
    }
    let hash = match app.hasher.hash(&form.password).await {
        Ok(hash) => hash,
        Err(e) => {
            if let Err(e) = app
                .store
                .release_reset_token(&token.token_hash(&app.secret_key))
                .await
            {
                tracing::error!(error = %e, "could not release a reset link's claim");
            }
            return broken(e);
        }
    };
    let audit = AuditEntry::new(
        Some(user.tenant_id),
        app.now(),
        AuditActor {
            user_id: Some(user.id),
            discord_user_id: None,
            label: format!("{} ({})", user.display_name(), user.login),
        },
        Action::PasswordChange,
        Origin::api("reset page"),
    );
    match app
        .store
        .use_reset_token(
            &token.token_hash(&app.secret_key),
            &user,
            hash.as_str(),
            audit,
        )
        .await
    {
        Ok(()) => page(
            StatusCode::OK,
            "<h1>Your password is changed</h1>\n<p>You can sign in with your new password now. This link won't work again.</p>",
        ),
        Err(ResetTokenError::Invalid) => gone(),
        Err(ResetTokenError::Store(e)) => broken(e),
    }
}

/// The token, and whose password it resets while it still works.
async fn holder(
    state: &WebState,
    presented: &str,
) -> Result<Option<(OneTimeToken, User)>, Response> {
    let Ok(token) = OneTimeToken::parse(presented) else {
        return Ok(None);
    };
    match state
        .app
        .store
        .reset_token_user(&token.token_hash(&state.app.secret_key), state.app.now())
        .await
    {
        Ok(Some(user)) => Ok(Some((token, user))),
        Ok(None) => Ok(None),
        Err(e) => Err(broken(e)),
    }
}

fn gone() -> Response {
    page(
        StatusCode::NOT_FOUND,
        &format!("<h1>This link no longer works</h1>\n<p>{GONE}</p>"),
    )
}

fn broken(error: impl std::fmt::Display) -> Response {
    tracing::error!(%error, "the reset page failed");
    page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "<h1>Something went wrong</h1>\n<p>Your password was not changed. Please try again in a minute.</p>",
    )
}

fn form_html(state: &WebState, user: &User, problem: Option<&str>) -> String {
    let min = state.app.settings.password_rules.min_length(user.role);
    let problem = html::problem(problem);
    format!(
        "<h1>Choose a new password</h1>\n\
         <p>For {login}. Use at least {min} characters; a few words you'll remember work well.</p>\n\
         {problem}\
         <form method=\"post\">\n\
         <label for=\"password\">New password</label>\n\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" minlength=\"{min}\" required>\n\
         <label for=\"repeat\">Type it again</label>\n\
         <input id=\"repeat\" name=\"repeat\" type=\"password\" autocomplete=\"new-password\" minlength=\"{min}\" required>\n\
         <button type=\"submit\">Change my password</button>\n\
         </form>",
        login = escape(user.login.as_str()),
    )
}

fn page(status: StatusCode, main: &str) -> Response {
    html::page(status, "Reset your password", main)
}
