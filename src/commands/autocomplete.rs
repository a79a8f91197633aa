//! Autocomplete: at most 25 choices, only people (and places) the actor may
//! see, answered from index-served prefix searches. Values are stable ids; the
//! handlers re-check every submitted value, because values can be forged.

use crate::app::App;
use crate::directory::Role;
use crate::policy::{SearchArea, Subject, can_see, visible_set};
use crate::store::{PersonFound, PersonRow, SearchScope};

use super::context::{Actor, trouble};
use super::markdown;
use super::reply::{Choice, Reply};

const MAX_CHOICES: usize = 25;

pub async fn autocomplete(app: &App, actor: &Actor, focused: &str, text: &str) -> Reply {
    let found = match focused {
        "user" => people(app, actor, text, None).await,
        "teacher" => people(app, actor, text, Some(Role::Teacher)).await,
        "school" => schools(app, actor, text).await,
        "district" => districts(app, actor, text).await,
        "class" => super::class_cards::choices(app, actor, text).await,
        _ => Ok(Vec::new()),
    };
    match found {
        Ok(choices) => Reply::choices(choices),
        Err(e) => trouble(e),
    }
}

/// Splits "Lopez, An" into lower-case words; the first one drives the index.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether every word starts the first name, the last name or the login.
/// The row's search keys are those fields lower-cased, as the words are.
fn matches_all(person: &PersonRow, words: &[String]) -> bool {
    let fields = [&person.first_key, &person.last_key, &person.login_key];
    words
        .iter()
        .all(|w| fields.iter().any(|f| f.starts_with(w.as_str())))
}

async fn people(
    app: &App,
    actor: &Actor,
    text: &str,
    only: Option<Role>,
) -> Result<Vec<Choice>, crate::store::StoreError> {
    let me = actor.subject();
    let set = visible_set(&me);
    let words = words(text);
    let first = words.first().map(String::as_str).unwrap_or("");
    let roles: Vec<Role> = set
        .roles
        .iter()
        .copied()
        .filter(|r| only.is_none_or(|o| o == *r))
        .collect();
    let mut people: Vec<PersonFound> = Vec::new();
    let scope = match set.area {
        SearchArea::School(s) => Some(SearchScope::School(s)),
        SearchArea::District(d) => Some(SearchScope::District(d)),
        SearchArea::OnlySelf => None,
    };
    if let Some(scope) = scope {
        // Ask for more than 25 when extra words will filter some out, and
        // for one more in any case: the actor may be among those found, and is
        // dropped below (they are added first, or are not offered).
        let limit = if words.len() > 1 {
            100
        } else {
            MAX_CHOICES as u32 + 1
        };
        // One search: the people and their schools' names, from autocomplete's
        // index of the directory (see `store::directory`).
        people = app
            .store
            .search_people(
                actor.tenant.id,
                scope,
                (&roles, first, limit),
                actor.directory.as_ref(),
            )
            .await?;
        people.retain(|(p, _)| p.id != actor.user.id && matches_all(p, &words));
    }
    // Everyone sees themself (the diagonal of the visibility table), whether
    // or not their role is among those searched for in their area: the
    // actor is offered first.
    let me_row = PersonRow::of(&actor.user);
    if only.is_none_or(|o| o == actor.user.role) && matches_all(&me_row, &words) {
        let school = match actor.user.place.school() {
            Some(id) => {
                let check = actor.directory.as_ref();
                app.store
                    .school_name_now(actor.tenant.id, id, check)
                    .await?
            }
            None => None,
        };
        people.insert(0, (me_row, school));
    }
    people.retain(|(p, _)| can_see(&me, &subject(actor, p)).is_allowed());
    people.truncate(MAX_CHOICES);
    Ok(people
        .iter()
        .map(|(p, school)| Choice {
            name: label(p, school.as_deref()),
            value: p.id.to_string(),
        })
        .collect())
}

/// The policy's view of a person found in the actor's tenant.
fn subject(actor: &Actor, person: &PersonRow) -> Subject {
    Subject {
        id: person.id,
        tenant: actor.tenant.id,
        role: person.role,
        place: person.place,
        disabled: person.disabled,
    }
}

/// "Lopez, Ana · grade 7 · Lincoln Middle School": a name a person can tell apart.
fn label(person: &PersonRow, school: Option<&str>) -> String {
    // Written into one string: this runs for every choice of every keystroke.
    let mut text = String::with_capacity(96);
    text.push_str(&person.last_name);
    text.push_str(", ");
    text.push_str(&person.first_name);
    text.push_str(" · ");
    match (person.role, person.grade) {
        (Role::Student, Some(grade)) => text.push_str(&grade.spoken()),
        (role, _) => text.push_str(role.label()),
    }
    if let Some(school) = school {
        text.push_str(" · ");
        text.push_str(school);
    }
    text.push_str(" · ");
    text.push_str(&person.login);
    markdown::clip_owned(text, markdown::limits::CHOICE_NAME)
}

/// Schools in the actor's district (the only destinations a move may name).
async fn schools(
    app: &App,
    actor: &Actor,
    text: &str,
) -> Result<Vec<Choice>, crate::store::StoreError> {
    let district = actor.user.place.district();
    let found = app
        .store
        .search_schools(
            actor.tenant.id,
            Some(district),
            text.trim(),
            MAX_CHOICES as u32,
        )
        .await?;
    Ok(found
        .into_iter()
        .map(|s| Choice {
            name: markdown::clip(&s.name, markdown::limits::CHOICE_NAME),
            value: s.id.to_string(),
        })
        .collect())
}

/// Districts of the tenant, offered to district admins only.
async fn districts(
    app: &App,
    actor: &Actor,
    text: &str,
) -> Result<Vec<Choice>, crate::store::StoreError> {
    if actor.user.role != Role::DistrictAdmin {
        return Ok(Vec::new());
    }
    let found = app
        .store
        .search_districts(actor.tenant.id, text.trim(), MAX_CHOICES as u32)
        .await?;
    Ok(found
        .into_iter()
        .map(|d| Choice {
            name: markdown::clip(&d.name, markdown::limits::CHOICE_NAME),
            value: d.id.to_string(),
        })
        .collect())
}
