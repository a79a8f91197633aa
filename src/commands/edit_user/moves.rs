//! `/edit-user` with move options: a new school, district or role, applied
//! directly once the policy allows it.

use crate::app::App;
use crate::audit::Action;
use crate::directory::{DistrictId, Place, Role, SchoolId, User};
use crate::policy::{PlaceChange, Subject, can_change_place};
use crate::store::{StoreError, UserChanges};

use super::super::context::{Actor, refuse, trouble};
use super::super::markdown;
use super::super::reply::{Invocation, Reply};
use super::Options;

pub(super) async fn move_user(
    app: &App,
    actor: &Actor,
    inv: &Invocation,
    who: &User,
    options: &Options<'_>,
) -> Reply {
    let raw = options.user;
    let role = match options.role.map(Role::parse) {
        None => who.role,
        Some(Ok(role @ (Role::SchoolAdmin | Role::DistrictAdmin))) => role,
        Some(_) => {
            let reason = "The role option can only be school_admin or district_admin.";
            return refuse(app, actor, inv, Action::UserMove, Some(who), raw, reason).await;
        }
    };
    let place = match destination(app, actor, who, role, options).await {
        Ok(place) => place,
        Err(Unknown(reason)) => {
            return refuse(app, actor, inv, Action::UserMove, Some(who), raw, reason).await;
        }
        Err(Trouble(reply)) => return reply,
    };
    let change = PlaceChange { role, place };
    // The enabled district admins besides the target; `Store::move_user`
    // counts them again inside the transaction that makes the change.
    let admins = if who.role == Role::DistrictAdmin {
        match app
            .store
            .count_district_admins(actor.tenant.id, who.place.district())
            .await
        {
            Ok(n) => n.saturating_sub(u32::from(!who.disabled)),
            Err(e) => return trouble(e),
        }
    } else {
        0
    };
    if let Err(denial) =
        can_change_place(&actor.subject(), &Subject::from(who), &change, admins).into_result()
    {
        return refuse(app, actor, inv, Action::UserMove, Some(who), raw, denial).await;
    }
    if role == who.role && place == who.place {
        return Reply::private(format!(
            "Nothing to change: {} is already there.",
            markdown::name(who)
        ));
    }
    let changes = UserChanges {
        role: (role != who.role).then_some(role),
        place: (place != who.place).then_some(place),
        ..UserChanges::default()
    };
    match app
        .store
        .move_user(who, &changes, actor.audit(app, inv, Action::UserMove))
        .await
    {
        Ok(after) => {
            let before_text = describe(app, actor, who.role, who.place).await;
            let after_text = describe(app, actor, after.role, after.place).await;
            Reply::private(format!(
                "Moved {}: {before_text} → {after_text}.",
                markdown::name(who)
            ))
        }
        Err(e @ (StoreError::Conflict | StoreError::LastDistrictAdmin)) => {
            refuse(app, actor, inv, Action::UserMove, Some(who), raw, e).await
        }
        Err(e) => trouble(e),
    }
}

/// Why no destination: a place that is not in the actor's tenant (a refusal,
/// audited like any other), or trouble reading it.
enum NoDestination {
    Unknown(&'static str),
    Trouble(Reply),
}
use NoDestination::{Trouble, Unknown};

/// The place the options name, checked to exist in the actor's tenant.
async fn destination(
    app: &App,
    actor: &Actor,
    who: &User,
    role: Role,
    options: &Options<'_>,
) -> Result<Place, NoDestination> {
    const NO_SCHOOL: &str = "No school you can choose matches that. Pick one from the list.";
    const NO_DISTRICT: &str = "No district you can choose matches that. Pick one from the list.";
    if let Some(raw) = options.school {
        let id = SchoolId::parse(raw).map_err(|_| Unknown(NO_SCHOOL))?;
        return match app.store.school(actor.tenant.id, id).await {
            Ok(Some(school)) => Ok(Place::School {
                school: school.id,
                district: school.district_id,
            }),
            Ok(None) => Err(Unknown(NO_SCHOOL)),
            Err(e) => Err(Trouble(trouble(e))),
        };
    }
    if let Some(raw) = options.district {
        let id = DistrictId::parse(raw).map_err(|_| Unknown(NO_DISTRICT))?;
        return match app.store.district(actor.tenant.id, id).await {
            Ok(Some(district)) => Ok(Place::District {
                district: district.id,
            }),
            Ok(None) => Err(Unknown(NO_DISTRICT)),
            Err(e) => Err(Trouble(trouble(e))),
        };
    }
    // Only a role: a school admin becoming district admin stays in their district;
    // otherwise the place stays and the policy says what is missing.
    Ok(match (who.place, role) {
        (Place::School { district, .. }, Role::DistrictAdmin) => Place::District { district },
        (place, _) => place,
    })
}

async fn describe(app: &App, actor: &Actor, role: Role, place: Place) -> String {
    let name = app
        .store
        .place_name(actor.tenant.id, place)
        .await
        .ok()
        .flatten()
        .map_or_else(|| "an unknown place".into(), |name| markdown::escape(&name));
    match place {
        Place::School { .. } => format!("{} at {name}", role.label()),
        Place::District { .. } => format!("{} of {name}", role.label()),
    }
}
