//! The demo's sample district: a few people a teacher would recognise.

use anyhow::Result;
use chrono::Utc;

use crate::audit::{Action, AuditActor, AuditEntry, Origin};
use crate::directory::{
    DiscordGuildId, DiscordUserId, Grade, Login, PersonName, Place, Role, Tenant, TenantName,
    Title, User,
};
use crate::store::{NewUser, Store};

pub const GUILD: u64 = 900_100_200_300_400_500;

pub struct Cast {
    pub rivera: User,
    pub okafor: User,
    pub ana: User,
    pub ben: User,
    pub patel: User,
    pub whitfield: User,
    pub lincoln_ms: crate::directory::School,
    pub adams: crate::directory::School,
}

fn audit(action: Action) -> AuditEntry {
    AuditEntry::new(
        None,
        Utc::now(),
        AuditActor::system("demo"),
        action,
        Origin::api("demo"),
    )
}

#[allow(clippy::too_many_arguments)]
async fn person(
    store: &Store,
    tenant: &Tenant,
    login: &str,
    first: &str,
    last: &str,
    role: Role,
    place: Place,
    grade: Option<&str>,
    title: Option<&str>,
    discord: Option<u64>,
) -> Result<User> {
    let new = NewUser {
        login: Login::parse(login)?,
        first_name: PersonName::parse(first)?,
        last_name: PersonName::parse(last)?,
        role,
        place,
        grade: grade.map(Grade::parse).transpose()?,
        title: title.map(Title::parse).transpose()?,
        source_id: None,
        disabled: false,
    };
    let user = store
        .insert_user(tenant.id, &new, audit(Action::UserCreate))
        .await?;
    Ok(match discord {
        Some(id) => {
            store
                .link_discord(&user, DiscordUserId::new(id), audit(Action::ChatLink))
                .await?
        }
        None => user,
    })
}

pub async fn seed(store: &Store) -> Result<Cast> {
    let tenant = store
        .create_tenant(&TenantName::parse("lincoln-usd")?, Utc::now())
        .await?;
    let district = store
        .create_district(tenant.id, "Lincoln Unified School District", None)
        .await?;
    let lincoln_ms = store
        .create_school(tenant.id, district.id, "Lincoln Middle School", None)
        .await?;
    let adams = store
        .create_school(tenant.id, district.id, "Adams Elementary", None)
        .await?;
    let at = |s: &crate::directory::School| Place::School {
        school: s.id,
        district: s.district_id,
    };
    let d = Place::District {
        district: district.id,
    };
    let t = &tenant;
    let rivera = person(
        store,
        t,
        "m.rivera@lincoln.example",
        "Maria",
        "Rivera",
        Role::Teacher,
        at(&lincoln_ms),
        None,
        Some("Science"),
        Some(2001),
    )
    .await?;
    let okafor = person(
        store,
        t,
        "j.okafor@lincoln.example",
        "James",
        "Okafor",
        Role::Teacher,
        at(&lincoln_ms),
        None,
        Some("Math"),
        Some(2002),
    )
    .await?;
    let ana = person(
        store,
        t,
        "ana.lopez",
        "Ana",
        "Lopez",
        Role::Student,
        at(&lincoln_ms),
        Some("07"),
        None,
        None,
    )
    .await?;
    let ben = person(
        store,
        t,
        "ben.ng",
        "Ben",
        "Ng",
        Role::Student,
        at(&lincoln_ms),
        Some("08"),
        None,
        None,
    )
    .await?;
    person(
        store,
        t,
        "andre.lopez",
        "André",
        "López",
        Role::Student,
        at(&adams),
        Some("04"),
        None,
        None,
    )
    .await?;
    let patel = person(
        store,
        t,
        "s.patel@lincoln.example",
        "Samira",
        "Patel",
        Role::SchoolAdmin,
        at(&lincoln_ms),
        None,
        Some("Principal"),
        Some(2003),
    )
    .await?;
    let whitfield = person(
        store,
        t,
        "d.whitfield@lincoln.example",
        "Dana",
        "Whitfield",
        Role::DistrictAdmin,
        d,
        None,
        Some("Director of Technology"),
        Some(2004),
    )
    .await?;
    person(
        store,
        t,
        "d.cho@lincoln.example",
        "David",
        "Cho",
        Role::DistrictAdmin,
        d,
        None,
        None,
        None,
    )
    .await?;
    store
        .bind_guild(
            DiscordGuildId::new(GUILD),
            tenant.id,
            audit(Action::GuildBind),
        )
        .await?;
    Ok(Cast {
        rivera,
        okafor,
        ana,
        ben,
        patel,
        whitfield,
        lincoln_ms,
        adams,
    })
}
