//! The demo's sample district: a few people a teacher would recognise.

use anyhow::Result;
use chrono::Utc;

use crate::audit::{Action, AuditActor, AuditEntry, Origin};
use crate::directory::{
    Class, ClassId, ClassRole, DiscordGuildId, DiscordUserId, Grade, Login, PersonName, Place,
    Role, Tenant, TenantName, Title, User,
};
use crate::store::{EnrollmentRow, NewUser, Store};

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
    /// Okafor's Math 7, with Ana, Ben and four more Lincoln students.
    pub math7: Class,
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

/// Where a person of the demo works or studies.
#[derive(Clone, Copy)]
enum Where {
    LincolnMiddle,
    Adams,
    District,
}

/// One person of the demo's district.
struct Person {
    login: &'static str,
    first: &'static str,
    last: &'static str,
    role: Role,
    at: Where,
    grade: Option<&'static str>,
    title: Option<&'static str>,
    /// Their Discord account, when they have linked one.
    discord: Option<u64>,
}

const fn staff(
    login: &'static str,
    (first, last): (&'static str, &'static str),
    role: Role,
    at: Where,
    title: Option<&'static str>,
    discord: Option<u64>,
) -> Person {
    Person {
        login,
        first,
        last,
        role,
        at,
        grade: None,
        title,
        discord,
    }
}

const fn student(
    login: &'static str,
    (first, last): (&'static str, &'static str),
    at: Where,
    grade: &'static str,
) -> Person {
    Person {
        login,
        first,
        last,
        role: Role::Student,
        at,
        grade: Some(grade),
        title: None,
        discord: None,
    }
}

const PEOPLE: &[Person] = &[
    staff(
        "m.rivera@lincoln.example",
        ("Maria", "Rivera"),
        Role::Teacher,
        Where::LincolnMiddle,
        Some("Science"),
        Some(2001),
    ),
    staff(
        "j.okafor@lincoln.example",
        ("James", "Okafor"),
        Role::Teacher,
        Where::LincolnMiddle,
        Some("Math"),
        Some(2002),
    ),
    student("ana.lopez", ("Ana", "Lopez"), Where::LincolnMiddle, "07"),
    student("ben.ng", ("Ben", "Ng"), Where::LincolnMiddle, "08"),
    student("andre.lopez", ("André", "López"), Where::Adams, "04"),
    student("chloe.kim", ("Chloe", "Kim"), Where::LincolnMiddle, "07"),
    student(
        "diego.santos",
        ("Diego", "Santos"),
        Where::LincolnMiddle,
        "07",
    ),
    student(
        "emma.wright",
        ("Emma", "Wright"),
        Where::LincolnMiddle,
        "07",
    ),
    student(
        "farah.haddad",
        ("Farah", "Haddad"),
        Where::LincolnMiddle,
        "07",
    ),
    staff(
        "s.patel@lincoln.example",
        ("Samira", "Patel"),
        Role::SchoolAdmin,
        Where::LincolnMiddle,
        Some("Principal"),
        Some(2003),
    ),
    staff(
        "d.whitfield@lincoln.example",
        ("Dana", "Whitfield"),
        Role::DistrictAdmin,
        Where::District,
        Some("Director of Technology"),
        Some(2004),
    ),
    staff(
        "d.cho@lincoln.example",
        ("David", "Cho"),
        Role::DistrictAdmin,
        Where::District,
        None,
        None,
    ),
];

async fn person(store: &Store, tenant: &Tenant, who: &Person, place: Place) -> Result<User> {
    let new = NewUser {
        login: Login::parse(who.login)?,
        first_name: PersonName::parse(who.first)?,
        last_name: PersonName::parse(who.last)?,
        role: who.role,
        place,
        grade: who.grade.map(Grade::parse).transpose()?,
        title: who.title.map(Title::parse).transpose()?,
        source_id: None,
        disabled: false,
    };
    let user = store
        .insert_user(tenant.id, &new, audit(Action::UserCreate))
        .await?;
    Ok(match who.discord {
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
    let place = |at: Where| match at {
        Where::LincolnMiddle => Place::School {
            school: lincoln_ms.id,
            district: district.id,
        },
        Where::Adams => Place::School {
            school: adams.id,
            district: district.id,
        },
        Where::District => Place::District {
            district: district.id,
        },
    };
    let mut people = Vec::with_capacity(PEOPLE.len());
    for who in PEOPLE {
        people.push(person(store, &tenant, who, place(who.at)).await?);
    }
    store
        .bind_guild(
            DiscordGuildId::new(GUILD),
            tenant.id,
            audit(Action::GuildBind),
        )
        .await?;
    let math7 = class(store, &tenant, &lincoln_ms, &people).await?;
    let take = |login: &str| {
        people
            .iter()
            .find(|u| u.login.as_str() == login)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("the demo has no {login}"))
    };
    Ok(Cast {
        rivera: take("m.rivera@lincoln.example")?,
        okafor: take("j.okafor@lincoln.example")?,
        ana: take("ana.lopez")?,
        ben: take("ben.ng")?,
        patel: take("s.patel@lincoln.example")?,
        whitfield: take("d.whitfield@lincoln.example")?,
        lincoln_ms,
        adams,
        math7,
    })
}

/// Math 7 at Lincoln Middle School, as a roster import would leave it:
/// Okafor teaches it; Ana, Ben and the four other Lincoln students take it.
async fn class(
    store: &Store,
    tenant: &Tenant,
    school: &crate::directory::School,
    people: &[User],
) -> Result<Class> {
    let math7 = Class {
        id: ClassId::new(),
        tenant_id: tenant.id,
        district_id: school.district_id,
        school_id: school.id,
        sourced_id: "lms-math-7".into(),
        title: "Math 7".into(),
        class_code: Some("MATH-7".into()),
    };
    let now = Utc::now();
    let mut import = store.class_import().await?;
    import
        .write_classes(tenant.id, std::slice::from_ref(&math7), &[], now)
        .await?;
    let members = [
        ("j.okafor@lincoln.example", ClassRole::Teacher),
        ("ana.lopez", ClassRole::Student),
        ("ben.ng", ClassRole::Student),
        ("chloe.kim", ClassRole::Student),
        ("diego.santos", ClassRole::Student),
        ("emma.wright", ClassRole::Student),
        ("farah.haddad", ClassRole::Student),
    ];
    let rows: Vec<EnrollmentRow> = members
        .iter()
        .filter_map(|(login, role)| {
            let user = people.iter().find(|u| u.login.as_str() == *login)?;
            Some(EnrollmentRow {
                source_id: format!("lms-math-7-{login}"),
                class_id: math7.id,
                user_id: user.id,
                role: *role,
            })
        })
        .collect();
    import.write_enrollments(tenant.id, &rows, &[], now).await?;
    Ok(math7)
}
