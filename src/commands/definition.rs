//! What a slash command is, in one place: its name, its JSON definition in
//! `commands/`, its options, whether it answers slowly, and the handler that
//! receives its options already parsed into the command's own struct. The
//! forms (modals) a command opens are defined the same way, with an id that
//! formats and parses itself.
//!
//! Dispatch ([`super::handle`]), the deferral decision ([`super::is_slow`]),
//! the metrics labels ([`super::labels`]), registration and the check
//! against `commands/*.json` all read these definitions, so a command cannot
//! be half-added: a test fails when a JSON file and its definition disagree.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use crate::app::App;
use crate::directory::{Tenant, User, UserId};

use super::context::Actor;
use super::reply::{Invocation, Reply};

/// The options or form fields of one request, by name, as the transport delivered them.
pub type RawOptions = BTreeMap<String, String>;

/// The answer a handler is computing.
pub type Answer<'a> = Pin<Box<dyn Future<Output = Reply> + Send + 'a>>;

/// One option of a slash command, as its JSON file declares it (every
/// option of hallpass is a string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionDef {
    pub name: &'static str,
    pub required: bool,
    pub autocomplete: bool,
    /// The fixed values offered, if any.
    pub choices: &'static [&'static str],
}

impl OptionDef {
    /// An option typed freely.
    pub const fn text(name: &'static str, required: bool) -> Self {
        Self {
            name,
            required,
            autocomplete: false,
            choices: &[],
        }
    }

    /// An option whose values autocomplete offers as the person types.
    pub const fn autocomplete(name: &'static str, required: bool) -> Self {
        Self {
            name,
            required,
            autocomplete: true,
            choices: &[],
        }
    }

    /// An option with a fixed list of values.
    pub const fn choice(
        name: &'static str,
        required: bool,
        choices: &'static [&'static str],
    ) -> Self {
        Self {
            name,
            required,
            autocomplete: false,
            choices,
        }
    }

    /// This option's value in a request, if given.
    pub fn get<'a>(&self, raw: &'a RawOptions) -> Option<&'a str> {
        raw.get(self.name).map(String::as_str)
    }

    /// This option's value in a request, or "" when it was left out.
    pub fn text_in<'a>(&self, raw: &'a RawOptions) -> &'a str {
        self.get(raw).unwrap_or("")
    }
}

/// The handler of a command: options in, reply out.
pub type Run = for<'a> fn(&'a App, &'a Actor, &'a Invocation, &'a RawOptions) -> Answer<'a>;

/// The handler of a form: its custom id and fields in, reply out.
pub type Submit =
    for<'a> fn(&'a App, &'a Actor, &'a Invocation, &'a str, &'a RawOptions) -> Answer<'a>;

/// The handler of a command that a chat account not yet linked may run.
pub type RunUnlinked =
    for<'a> fn(&'a App, &'a Tenant, &'a Invocation, &'a RawOptions) -> Answer<'a>;

/// One slash command.
pub struct Command {
    pub name: &'static str,
    /// Its file in `commands/`, as Discord's own application-command JSON.
    pub json: &'static str,
    pub options: &'static [OptionDef],
    /// Whether answering takes long enough (hashing, a DM, an email) that the
    /// transport must acknowledge first and edit the answer in afterwards.
    pub slow: fn(&RawOptions) -> bool,
    pub run: Run,
    /// What it does for a chat account not yet linked; `None` answers that
    /// the account must be linked first.
    pub unlinked: Option<RunUnlinked>,
}

impl Command {
    /// The file name of its JSON definition.
    pub fn file(&self) -> String {
        format!("{}.json", self.name)
    }
}

/// A form (Discord modal) a command opens; its custom id starts with
/// `prefix` and a colon.
pub struct Form {
    pub prefix: &'static str,
    /// The command that opens it, for metrics.
    pub command: &'static str,
    pub slow: bool,
    pub submit: Submit,
}

impl Form {
    /// Whether a custom id belongs to this form.
    pub fn owns(&self, custom_id: &str) -> bool {
        custom_id
            .strip_prefix(self.prefix)
            .is_some_and(|rest| rest.starts_with(':'))
    }
}

/// Answers never slow.
pub fn never_slow(_: &RawOptions) -> bool {
    false
}

/// Answers always slow.
pub fn always_slow(_: &RawOptions) -> bool {
    true
}

/// The id of a form about one user's record at one version
/// (`prefix:user:version`): submitting it acts only if nobody changed the
/// record since the form opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserForm {
    pub user: UserId,
    pub version: i64,
}

impl UserForm {
    pub fn of(user: &User) -> Self {
        Self {
            user: user.id,
            version: user.version,
        }
    }

    pub fn format(&self, form: &Form) -> String {
        format!("{}:{}:{}", form.prefix, self.user, self.version)
    }

    /// The user and version in a custom id of `form`, if it is one.
    pub fn parse(form: &Form, custom_id: &str) -> Option<Self> {
        let rest = custom_id.strip_prefix(form.prefix)?.strip_prefix(':')?;
        let (user, version) = rest.split_once(':')?;
        Some(Self {
            user: UserId::parse(user).ok()?,
            version: version.parse().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn nothing<'a>(
        _: &'a App,
        _: &'a Actor,
        _: &'a Invocation,
        _: &'a str,
        _: &'a RawOptions,
    ) -> Answer<'a> {
        Box::pin(async { Reply::private("") })
    }

    const FORM: Form = Form {
        prefix: "edit-user",
        command: "edit-user",
        slow: false,
        submit: nothing,
    };

    #[test]
    fn a_user_form_id_formats_and_parses_back() {
        let id = UserForm {
            user: UserId::new(),
            version: 4,
        };
        let text = id.format(&FORM);
        assert_eq!(text, format!("edit-user:{}:4", id.user));
        assert_eq!(UserForm::parse(&FORM, &text), Some(id));
        assert!(FORM.owns(&text));
    }

    #[test]
    fn a_form_owns_only_ids_with_its_prefix_and_a_colon() {
        assert!(!FORM.owns("edit-userx:1:2"));
        assert!(!FORM.owns("edit-user"));
        assert!(!FORM.owns("reset-email:1:2"));
        let user = UserId::new();
        assert_eq!(UserForm::parse(&FORM, &format!("edit-user:{user}:x")), None);
        assert_eq!(UserForm::parse(&FORM, &format!("edit-user:{user}")), None);
        assert_eq!(UserForm::parse(&FORM, "edit-user:not-a-user:2"), None);
        assert_eq!(
            UserForm::parse(&FORM, &format!("reset-email:{user}:2")),
            None
        );
    }
}
