//! `GET/POST /signin`: the sign-in page a login card's QR code opens
//! (`?tenant=&login=` fill the form in). It signs in through
//! `crate::signin`, the same code as `POST /api/v1/login`, and when a change
//! is due asks for a new password, checked by `signin::change_password`.
//!
//! Promises:
//! * The answers are the API's: one generic sentence for every failed
//!   sign-in, the expiry sentence only to whoever knows the password, the
//!   rules' reasons for a refused new password.
//! * Every submit is limited per source address like the API (429, with when
//!   to try again in words and in `Retry-After`).
//! * A password never reaches a URL, a log line or a hidden field: the form
//!   posts its fields in the body, the handlers skip their arguments, and the
//!   change step asks for the current password again instead of carrying it.
//! * Plain HTML with one inline style ([`super::html`]): no JavaScript, no
//!   external assets, never cached, referred or framed.

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::WebState;
use super::api::{ClientAddr, with_retry_after};
use super::html::{self, escape};
use crate::limits::RetryAfter;
use crate::signin::{self, Attempt, Change, SignIn, SignInError};

const TITLE: &str = "Sign in";
const INCOMPLETE: &str = "Fill in your school code, your login and your password.";
const DIFFERENT: &str = "The two new passwords are different; type the same one twice.";

/// What a link may fill in.
#[derive(Deserialize, Default)]
pub struct Prefill {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    login: String,
}

/// Both steps post here: the sign-in, and (with `new_password`) the change.
#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    login: String,
    password: SecretString,
    new_password: Option<SecretString>,
    repeat: Option<SecretString>,
}

/// `GET /signin`.
#[tracing::instrument(name = "signin_page", skip_all)]
pub async fn show(prefill: Result<Query<Prefill>, QueryRejection>) -> Response {
    // A link with a malformed query still opens an empty form.
    let prefill = prefill.map(|Query(p)| p).unwrap_or_default();
    page(
        StatusCode::OK,
        &sign_in_form(&prefill.tenant, &prefill.login, None),
    )
}

/// `POST /signin`.
#[tracing::instrument(name = "signin_submit", skip_all)]
pub async fn submit(
    State(state): State<WebState>,
    from: ClientAddr,
    form: Result<Form<SignInForm>, FormRejection>,
) -> Response {
    if let Err(retry) = state.app.limits.check_signin(from.ip()) {
        return too_many(&retry);
    }
    let Ok(Form(form)) = form else {
        return page(
            StatusCode::BAD_REQUEST,
            &sign_in_form("", "", Some(INCOMPLETE)),
        );
    };
    let caller = format!("sign-in page {}", from.ip());
    let attempt = Attempt {
        tenant: &form.tenant,
        login: &form.login,
        password: &form.password,
        caller: &caller,
    };
    match (&form.new_password, &form.repeat) {
        (Some(new), Some(repeat)) => change(&state, &attempt, new, repeat).await,
        _ => sign_in(&state, &attempt).await,
    }
}

async fn sign_in(state: &WebState, attempt: &Attempt<'_>) -> Response {
    match signin::sign_in(&state.app, attempt).await {
        Ok(SignIn::Accepted {
            user,
            must_change_password: true,
        }) => {
            let min = state.app.settings.password_rules.min_length(user.role);
            page(
                StatusCode::OK,
                &change_form(attempt.tenant, attempt.login, Some(min), None),
            )
        }
        Ok(SignIn::Accepted { user, .. }) => page(
            StatusCode::OK,
            &format!(
                "<h1>You're signed in</h1>\n<p>Welcome, {}. Your login and password work.</p>",
                escape(&user.display_name())
            ),
        ),
        Ok(SignIn::Refused(refusal)) => page(
            StatusCode::UNAUTHORIZED,
            &sign_in_form(attempt.tenant, attempt.login, Some(&refusal.to_string())),
        ),
        Err(e) => broken(&e),
    }
}

async fn change(
    state: &WebState,
    attempt: &Attempt<'_>,
    new: &SecretString,
    repeat: &SecretString,
) -> Response {
    if new.expose_secret() != repeat.expose_secret() {
        return page(
            StatusCode::BAD_REQUEST,
            &change_form(attempt.tenant, attempt.login, None, Some(DIFFERENT)),
        );
    }
    match signin::change_password(&state.app, attempt, new).await {
        Ok(Change::Changed) => page(
            StatusCode::OK,
            "<h1>You're all set</h1>\n<p>Your new password is saved. Use it from now on; the temporary one no longer works.</p>",
        ),
        Ok(Change::Invalid(reason)) => page(
            StatusCode::BAD_REQUEST,
            &change_form(attempt.tenant, attempt.login, None, Some(&reason)),
        ),
        Ok(Change::Refused(refusal)) => page(
            StatusCode::UNAUTHORIZED,
            &sign_in_form(attempt.tenant, attempt.login, Some(&refusal.to_string())),
        ),
        Err(e) => broken(&e),
    }
}

fn sign_in_form(tenant: &str, login: &str, problem: Option<&str>) -> String {
    // With both filled in (a card's QR code), the password is what's left to type.
    let focus = if tenant.is_empty() || login.is_empty() {
        ""
    } else {
        " autofocus"
    };
    format!(
        "<h1>Sign in</h1>\n\
         {problem}\
         <form method=\"post\" action=\"/signin\">\n\
         <label for=\"tenant\">School code</label>\n\
         <input id=\"tenant\" name=\"tenant\" type=\"text\" autocomplete=\"organization\" autocapitalize=\"none\" spellcheck=\"false\" value=\"{tenant}\" required>\n\
         <label for=\"login\">Login</label>\n\
         <input id=\"login\" name=\"login\" type=\"text\" autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" value=\"{login}\" required>\n\
         <label for=\"password\">Password</label>\n\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required{focus}>\n\
         <button type=\"submit\">Sign in</button>\n\
         </form>",
        problem = html::problem(problem),
        tenant = escape(tenant),
        login = escape(login),
    )
}

/// The second step. The current password is asked again rather than carried
/// in the page, so the page never holds a password it did not get typed.
fn change_form(tenant: &str, login: &str, min: Option<usize>, problem: Option<&str>) -> String {
    let rule = min
        .map(|min| {
            format!(" Use at least {min} characters; a few words you'll remember work well.")
        })
        .unwrap_or_default();
    let minlength = min
        .map(|min| format!(" minlength=\"{min}\""))
        .unwrap_or_default();
    format!(
        "<h1>Choose a new password</h1>\n\
         <p>You're signed in as {login}, with a temporary password. Choose your own to finish.{rule}</p>\n\
         {problem}\
         <form method=\"post\" action=\"/signin\">\n\
         <input type=\"hidden\" name=\"tenant\" value=\"{tenant}\">\n\
         <input type=\"hidden\" name=\"login\" autocomplete=\"username\" value=\"{login}\">\n\
         <label for=\"password\">Your temporary password, again</label>\n\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\n\
         <label for=\"new_password\">New password</label>\n\
         <input id=\"new_password\" name=\"new_password\" type=\"password\" autocomplete=\"new-password\"{minlength} required>\n\
         <label for=\"repeat\">Type the new one again</label>\n\
         <input id=\"repeat\" name=\"repeat\" type=\"password\" autocomplete=\"new-password\"{minlength} required>\n\
         <button type=\"submit\">Save my new password</button>\n\
         </form>",
        problem = html::problem(problem),
        tenant = escape(tenant),
        login = escape(login),
    )
}

fn too_many(retry: &RetryAfter) -> Response {
    let response = page(
        StatusCode::TOO_MANY_REQUESTS,
        &format!(
            "<h1>Too many attempts</h1>\n<p>Too many sign-in attempts from your network; try again {}.</p>",
            retry.in_words()
        ),
    );
    with_retry_after(response, retry)
}

fn broken(e: &SignInError) -> Response {
    tracing::error!(error = %e, "the sign-in page failed");
    page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "<h1>Something went wrong</h1>\n<p>Nothing was changed. Please try again in a minute.</p>",
    )
}

fn page(status: StatusCode, main: &str) -> Response {
    html::page(status, TITLE, main)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefilled_values_are_escaped_into_the_form() {
        let form = sign_in_form("lincoln", "a\"><script>x</script>", None);
        assert!(form.contains("value=\"lincoln\""), "{form}");
        assert!(!form.contains("<script>"), "{form}");
        assert!(form.contains(" autofocus"), "{form}");
    }

    #[test]
    fn the_change_form_never_holds_a_password_value() {
        let form = change_form("lincoln", "ana", Some(8), Some("too short"));
        assert_eq!(
            form.matches("value=").count(),
            2,
            "tenant and login only: {form}"
        );
        assert!(form.contains("role=\"alert\">too short"), "{form}");
    }
}
