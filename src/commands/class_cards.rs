//! `/class-cards class`: login cards for a whole class. The first answer
//! only names the class and how many students would get a new temporary
//! password, with Confirm and Cancel; nothing changes before Confirm. Confirm
//! re-checks everything and resets each student under the same rule, and the
//! same code, as `/reset-password` (see [`batch`]); the cards (a PDF) go to
//! the invoker privately, and every reset is rolled back if they cannot be
//! delivered.
//!
//! Promises:
//! * the classes offered and accepted are exactly those of
//!   [`class_scope`]/[`can_see_class`]; any other class gets the answer for
//!   none at all;
//! * a Confirm acts only on the roster its prompt counted (a class that
//!   changed meanwhile is refused) and only once per prompt;
//! * the PDF and the passwords are never stored, logged or audited.

mod batch;
mod confirm;
mod id;

use std::collections::BTreeMap;

use crate::app::App;
use crate::audit::Action;
use crate::directory::{Class, ClassId, SchoolId};
use crate::policy::{can_see_class, class_scope};
use crate::store::StoreError;

use super::context::{Actor, refuse, trouble};
use super::definition::{Command, OptionDef, RawOptions, never_slow};
use super::markdown;
use super::reply::{Button, ButtonStyle, Choice, Invocation, Reply};

pub use batch::{Printed, Roster, print_cards};
pub use confirm::CLASS_CARDS_FORM;
pub use id::{ButtonAction, ClassCardsId, roster_digest};

const CLASS: OptionDef = OptionDef::autocomplete("class", true);

pub const CLASS_CARDS: Command = Command {
    name: "class-cards",
    json: include_str!("../../commands/class-cards.json"),
    options: &[CLASS],
    // The prompt is a few reads; the slow part (hashing, the PDF, the DM) is
    // the Confirm button's.
    slow: never_slow,
    run: |app, actor, inv, raw| Box::pin(class_cards(app, actor, inv, raw)),
    unlinked: None,
};

/// The one answer for a class that does not exist and one the actor may not
/// act on.
pub const NO_SUCH_CLASS: &str = "No class you can print cards for matches that.";

const MAX_CHOICES: u32 = 25;

/// Autocomplete for `class`: the classes in the actor's scope whose title or
/// code starts with what was typed, labelled with their school.
pub async fn choices(app: &App, actor: &Actor, typed: &str) -> Result<Vec<Choice>, StoreError> {
    let scope = class_scope(&actor.subject());
    let classes = app
        .store
        .search_classes(actor.tenant.id, &scope, typed.trim(), MAX_CHOICES)
        .await?;
    // Classes cluster in a few schools: one lookup per school, not per class.
    let mut schools: BTreeMap<SchoolId, String> = BTreeMap::new();
    let mut offered = Vec::with_capacity(classes.len());
    for class in classes {
        let school = match schools.entry(class.school_id) {
            std::collections::btree_map::Entry::Occupied(known) => known.into_mut(),
            std::collections::btree_map::Entry::Vacant(new) => {
                new.insert(school_name(app, &class).await?)
            }
        };
        offered.push(Choice {
            name: markdown::clip(
                &format!("{} · {school}", class.label()),
                markdown::limits::CHOICE_NAME,
            ),
            value: class.id.to_string(),
        });
    }
    Ok(offered)
}

async fn school_name(app: &App, class: &Class) -> Result<String, StoreError> {
    Ok(app
        .store
        .school(class.tenant_id, class.school_id)
        .await?
        .map(|s| s.name)
        .unwrap_or_default())
}

/// The class a request names (an id from autocomplete, or a OneRoster
/// sourcedId typed by hand), if the actor may act on it.
pub async fn resolve(app: &App, actor: &Actor, raw: &str) -> Result<Option<Class>, StoreError> {
    let raw = raw.trim();
    let found = match ClassId::parse(raw) {
        Ok(id) => app.store.class_by_id(actor.tenant.id, id).await?,
        Err(_) => app.store.class_by_sourced_id(actor.tenant.id, raw).await?,
    };
    let Some(class) = found else {
        return Ok(None);
    };
    let teaches = app.store.teaches(actor.user.id, class.id).await?;
    Ok(can_see_class(&actor.subject(), &class, teaches)
        .is_allowed()
        .then_some(class))
}

/// The class, or the refusal (audited) for none the actor may act on.
pub async fn class_or_refuse(
    app: &App,
    actor: &Actor,
    inv: &Invocation,
    raw: &str,
) -> Result<Class, Reply> {
    match resolve(app, actor, raw).await {
        Ok(Some(class)) => Ok(class),
        Ok(None) => Err(refuse(
            app,
            actor,
            inv,
            Action::ClassCards,
            None,
            raw,
            NO_SUCH_CLASS,
        )
        .await),
        Err(e) => Err(trouble(e)),
    }
}

async fn class_cards(app: &App, actor: &Actor, inv: &Invocation, raw: &RawOptions) -> Reply {
    let class = match class_or_refuse(app, actor, inv, CLASS.text_in(raw)).await {
        Ok(class) => class,
        Err(reply) => return reply,
    };
    let roster = match Roster::of(app, actor, &class).await {
        Ok(roster) => roster,
        Err(e) => return trouble(e),
    };
    let school = match school_name(app, &class).await {
        Ok(name) => name,
        Err(e) => return trouble(e),
    };
    let title = format!(
        "**{}** at {}",
        markdown::escape(&class.label()),
        markdown::escape(&school)
    );
    if roster.eligible.is_empty() {
        return Reply::private(match roster.skipped {
            0 => format!("{title} has no students enrolled, so there are no cards to print."),
            n => format!(
                "None of the {n} {} in {title} can get a new password from you, so there are no cards to print.",
                students(n)
            ),
        });
    }
    let n = roster.eligible.len();
    let mut content = format!(
        "Print login cards for {title}: {n} {} will get a new temporary password; their current passwords stop working.",
        students(n)
    );
    if roster.skipped > 0 {
        content.push_str(&format!(
            " ({} {} you may not reset will be skipped.)",
            roster.skipped,
            students(roster.skipped)
        ));
    }
    let prompt = format!(
        "{:08x}",
        (app.random.fraction() * f64::from(u32::MAX)) as u32
    );
    let button = |action, label: &str, style| Button {
        custom_id: ClassCardsId {
            class: class.id,
            action,
            roster: roster.digest(),
            prompt: prompt.clone(),
        }
        .format(&CLASS_CARDS_FORM),
        label: label.to_owned(),
        style,
    };
    Reply::prompt(
        content,
        vec![
            button(
                ButtonAction::Confirm,
                &format!("Confirm: print {n} cards"),
                ButtonStyle::Danger,
            ),
            button(ButtonAction::Cancel, "Cancel", ButtonStyle::Secondary),
        ],
    )
}

/// "student" or "students".
pub(super) fn students(n: usize) -> &'static str {
    if n == 1 { "student" } else { "students" }
}
