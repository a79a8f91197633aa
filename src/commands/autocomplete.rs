//! Autocomplete: at most 25 choices, only people (and places) the actor may
//! see, answered from index-served prefix searches. Values are stable ids; the
//! handlers re-check every submitted value, because values can be forged.

use crate::app::App;
use crate::directory::{Role, User};
use crate::policy::{SearchArea, Subject, can_see, visible_set};
use crate::store::SearchScope;

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

fn matches_all(user: &User, words: &[String]) -> bool {
    let fields = [
        user.first_name.as_str().to_lowercase(),
        user.last_name.as_str().to_lowercase(),
        user.login.key(),
    ];
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
    let mut users: Vec<(User, Option<String>)> = Vec::new();
    // Everyone sees themself (the diagonal of the visibility table), whether
    // or not their role is among those searched for in their area: the
    // search below skips the actor, so the actor is offered here, first.
    if only.is_none_or(|o| o == actor.user.role) && matches_all(&actor.user, &words) {
        let school = match actor.user.place.school() {
            Some(id) => app.store.school(actor.tenant.id, id).await?.map(|s| s.name),
            None => None,
        };
        users.push((actor.user.clone(), school));
    }
    let scope = match set.area {
        SearchArea::School(s) => Some(SearchScope::School(s)),
        SearchArea::District(d) => Some(SearchScope::District(d)),
        SearchArea::OnlySelf => None,
    };
    if let Some(scope) = scope {
        // Ask for more than 25 when extra words will filter some out, and
        // for one more in any case: the actor may be among those found, and is
        // dropped below (they were added above, or are not offered).
        let limit = if words.len() > 1 {
            100
        } else {
            MAX_CHOICES as u32 + 1
        };
        // One statement: the people and their schools' names (no list of
        // every school of the tenant per keystroke).
        let found = app
            .store
            .search_users_with_school(actor.tenant.id, scope, &roles, first, limit)
            .await?;
        users.extend(
            found
                .into_iter()
                .filter(|(u, _)| u.id != actor.user.id && matches_all(u, &words)),
        );
    }
    users.retain(|(u, _)| can_see(&me, &Subject::from(u)).is_allowed());
    users.truncate(MAX_CHOICES);
    Ok(users
        .iter()
        .map(|(u, school)| Choice {
            name: label(u, school.as_deref()),
            value: u.id.to_string(),
        })
        .collect())
}

/// "Lopez, Ana · grade 7 · Lincoln Middle School": a name a person can tell apart.
fn label(user: &User, school: Option<&str>) -> String {
    let mut parts = vec![user.display_name()];
    match (user.role, user.grade) {
        (Role::Student, Some(grade)) => parts.push(grade.spoken()),
        (role, _) => parts.push(role.label().to_owned()),
    }
    if let Some(school) = school {
        parts.push(school.to_owned());
    }
    parts.push(user.login.to_string());
    markdown::clip(&parts.join(" · "), markdown::limits::CHOICE_NAME)
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
