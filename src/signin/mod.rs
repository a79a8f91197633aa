//! Signing in and changing a password: the code behind `POST /api/v1/login`
//! and `POST /api/v1/password` (and, as it lands, the sign-in page).
//!
//! The promises this module keeps, from `docs/policy.md` (Passwords):
//!
//! * **One answer for every failure.** An unknown tenant or login, a wrong
//!   password, a disabled account and a locked one all get
//!   [`Refusal::Generic`], after exactly one argon2id verification each: the
//!   real hash when there is one to check, otherwise a dummy hash made with
//!   today's parameters (`PasswordHasher::verify_dummy`). Nobody can tell
//!   from the answer, or from its time, whether a login exists.
//! * **Only someone who knows the password learns more.** The right temporary
//!   password past its expiry gets [`Refusal::Expired`], which says so.
//! * **The same work on every failed path.** A wrong password adds one to the
//!   account's durable count; a failure that matched no checkable account
//!   adds one to a count kept under the keyed hash of the tenant and login as
//!   typed (`Store::record_unmatched_signin`): one small write transaction
//!   each, so a 401 takes as long whether or not the login exists.
//! * **Consecutive failures lock the account** at
//!   `Settings::lockout_threshold` (durable, in the database). A locked account
//!   is never checked against its real hash, so the lock cannot be used as an
//!   oracle for guessing: it answers [`Refusal::Generic`] whatever is typed,
//!   until a reset or a change of password (any new password) unlocks it.
//! * A hash made with weaker parameters than today's is made again after a
//!   successful sign-in, from the password just proved.
//! * Passwords are NFKC-normalised before every check, hash and verify (the
//!   hasher and the rules do it); they live only in `SecretString`s and never
//!   reach a log, an error or the audit log.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

use crate::app::App;
use crate::audit::{Action, AuditActor, AuditEntry, Origin};
use crate::credentials::{CredentialError, PasswordHash, normalise};
use crate::directory::{Login, TenantName, User};
use crate::store::{StoreError, StoredPassword};

/// The answer to every failed sign-in that does not prove the password.
pub const GENERIC: &str = "That login and password don't match an account.";
/// The answer to the right temporary password after its expiry.
pub const EXPIRED: &str = "This temporary password has expired; ask your teacher for a new one";
/// Why a new password equal to the current one is refused.
pub const SAME_AS_CURRENT: &str =
    "Your new password must be different from the one you have now; choose another.";

/// How long a failure that matched no account is remembered.
const UNMATCHED_MEMORY: chrono::Duration = chrono::Duration::days(1);

/// Who is signing in, as the caller typed it.
pub struct Attempt<'a> {
    pub tenant: &'a str,
    pub login: &'a str,
    pub password: &'a SecretString,
    /// Where the attempt came from, for the audit log ("api 203.0.113.9").
    pub caller: &'a str,
}

/// The outcome of a sign-in.
#[derive(Debug, Clone, PartialEq)]
pub enum SignIn {
    Accepted {
        user: Box<User>,
        must_change_password: bool,
    },
    Refused(Refusal),
}

/// Why a sign-in was refused; `Display` is the sentence the caller sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown tenant or login, wrong password, disabled or locked account.
    Generic,
    /// The right temporary password, after it expired.
    Expired,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Generic => GENERIC,
            Self::Expired => EXPIRED,
        })
    }
}

/// The outcome of a password change.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Changed,
    /// The current password did not sign in.
    Refused(Refusal),
    /// The new password breaks a rule; the reason, for a 400.
    Invalid(String),
}

/// The machinery failed (not the person's fault).
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Credential(#[from] CredentialError),
}

/// Signs in with a login and password.
#[tracing::instrument(skip_all)]
pub async fn sign_in(app: &App, attempt: &Attempt<'_>) -> Result<SignIn, SignInError> {
    authenticate(app, attempt, true).await
}

/// Changes a password, proving the current one first (as a sign-in, so with
/// the same answers, counts and lock), then checking the new one against the
/// rules for the person's role. The change clears "must change", ends the
/// temporary password's expiry, unlocks the account and is audited (never the
/// value).
#[tracing::instrument(skip_all)]
pub async fn change_password(
    app: &App,
    attempt: &Attempt<'_>,
    new_password: &SecretString,
) -> Result<Change, SignInError> {
    let user = match authenticate(app, attempt, false).await? {
        SignIn::Accepted { user, .. } => user,
        SignIn::Refused(refusal) => return Ok(Change::Refused(refusal)),
    };
    let rules = &app.settings.password_rules;
    if let Err(weak) = rules.check(new_password, user.role, Some(&user.login)) {
        return Ok(Change::Invalid(weak.to_string()));
    }
    if normalise(new_password).expose_secret() == normalise(attempt.password).expose_secret() {
        return Ok(Change::Invalid(SAME_AS_CURRENT.to_owned()));
    }
    let hash = app.hasher.hash(new_password).await?;
    let audit = AuditEntry::new(
        Some(user.tenant_id),
        app.now(),
        self_actor(&user),
        Action::PasswordChange,
        Origin::api(attempt.caller),
    );
    app.store
        .set_password(&user, hash.as_str(), false, None, audit)
        .await?;
    Ok(Change::Changed)
}

/// Exactly one verification on every path; see the module's promises.
async fn authenticate(
    app: &App,
    attempt: &Attempt<'_>,
    rehash: bool,
) -> Result<SignIn, SignInError> {
    let threshold = app.settings.lockout_threshold;
    let checkable = find(app, attempt.tenant, attempt.login)
        .await?
        .filter(|(user, stored, _)| !user.disabled && stored.failed_signins < threshold);
    let Some((user, stored, hash)) = checkable else {
        app.hasher.verify_dummy(attempt.password).await?;
        // The same durable write a wrong password makes, so the time of the
        // answer does not say whether the login exists.
        let key = app
            .secret_key
            .sign_in_attempt_key(attempt.tenant, attempt.login);
        app.store
            .record_unmatched_signin(&key, app.now(), UNMATCHED_MEMORY)
            .await?;
        return Ok(SignIn::Refused(Refusal::Generic));
    };
    if !app.hasher.verify(attempt.password, &hash).await? {
        let lock = AuditEntry::new(
            Some(user.tenant_id),
            app.now(),
            AuditActor::system("sign-in"),
            Action::SignInLock,
            Origin::api(attempt.caller),
        )
        .refused(format!(
            "{threshold} failed sign-ins in a row; a password reset unlocks the account"
        ));
        app.store
            .record_failed_signin(&user, threshold, lock)
            .await?;
        return Ok(SignIn::Refused(Refusal::Generic));
    }
    if expired(&stored, app.now()) {
        return Ok(SignIn::Refused(Refusal::Expired));
    }
    if stored.failed_signins > 0 {
        app.store.clear_failed_signins(&user).await?;
    }
    if rehash && app.hasher.needs_rehash(&hash) {
        strengthen(app, &user, &hash, attempt.password).await;
    }
    Ok(SignIn::Accepted {
        must_change_password: stored.must_change,
        user: Box::new(user),
    })
}

/// The enabled-or-not user and their stored hash, when both exist.
async fn find(
    app: &App,
    tenant: &str,
    login: &str,
) -> Result<Option<(User, StoredPassword, PasswordHash)>, StoreError> {
    let (Ok(tenant), Ok(login)) = (TenantName::parse(tenant), Login::parse(login)) else {
        return Ok(None);
    };
    let Some(tenant) = app.store.tenant_by_name(&tenant).await? else {
        return Ok(None);
    };
    let Some(user) = app.store.user_by_login(tenant.id, &login).await? else {
        return Ok(None);
    };
    let Some(stored) = app.store.password_hash(tenant.id, user.id).await? else {
        return Ok(None);
    };
    match PasswordHash::parse(&stored.phc) {
        Ok(hash) => Ok(Some((user, stored, hash))),
        Err(e) => {
            tracing::error!(user = %user.id, error = %e, "a stored password hash is damaged");
            Ok(None)
        }
    }
}

fn expired(stored: &StoredPassword, now: DateTime<Utc>) -> bool {
    stored.expires_at.is_some_and(|at| at <= now)
}

/// Stores a hash of the proved password under today's parameters. A failure
/// only costs the upgrade, never the sign-in.
async fn strengthen(app: &App, user: &User, old: &PasswordHash, password: &SecretString) {
    let result = match app.hasher.hash(password).await {
        Ok(new) => app
            .store
            .rehash_password(user, old.as_str(), new.as_str())
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(error) = result {
        tracing::warn!(user = %user.id, %error, "could not store a stronger password hash");
    }
}

fn self_actor(user: &User) -> AuditActor {
    AuditActor {
        user_id: Some(user.id),
        discord_user_id: user.discord_user_id,
        label: format!("{} ({})", user.display_name(), user.login),
    }
}
