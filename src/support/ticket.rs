//! The Zendesk ticket a promotion request becomes, and its stored form.
//!
//! Promises: the ticket carries everything an agent needs to decide without
//! opening hallpass (teacher, school, district, requester, reason, how to
//! answer); its `external_id` is the request's stable id; the stored JSON
//! decodes to exactly the ticket that was rendered, so every retry sends the
//! same body under the same `Idempotency-Key`.

use serde::{Deserialize, Serialize};

use crate::directory::{PromotionId, TenantName, User};
use crate::support::webhook::{APPROVED_TAG, REJECTED_TAG};
use crate::support::zendesk::NewTicket;

/// The tags every promotion ticket carries.
pub const TICKET_TAGS: [&str; 2] = ["hallpass", "promotion_request"];

/// The domain of placeholder requester addresses. `.invalid` is reserved
/// (RFC 2606), so no mail sent to one can ever reach anyone.
pub const PLACEHOLDER_DOMAIN: &str = "hallpass.invalid";

/// The facts a ticket is made of.
#[derive(Debug, Clone, Copy)]
pub struct TicketFacts<'a> {
    pub request: PromotionId,
    pub number: i64,
    pub tenant: &'a TenantName,
    pub teacher: &'a User,
    pub school: &'a str,
    pub district: &'a str,
    pub requester: &'a User,
    pub reason: &'a str,
}

/// "Tess Teach": names as people write them, for the ticket.
fn full_name(user: &User) -> String {
    format!("{} {}", user.first_name, user.last_name)
}

/// The requester's address for Zendesk: their login when it is an email
/// address. Otherwise a placeholder under [`PLACEHOLDER_DOMAIN`] that is
/// still unique per person (Zendesk merges requesters by address, so two
/// people must never share one) and, where the login allows, readable:
/// `tess.teach+lincoln@hallpass.invalid`. Zendesk needs an address to create
/// the requester, and a made-up one at a real domain could email a stranger.
pub fn requester_email(user: &User, tenant: &TenantName) -> String {
    if user.login.is_email() {
        return user.login.as_str().to_owned();
    }
    let key = user.login.key();
    let plain = key.len() <= 40
        && !key.starts_with('.')
        && !key.ends_with('.')
        && !key.contains("..")
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    let local = if plain {
        key
    } else {
        format!("user-{}", user.id.as_uuid().simple())
    };
    format!("{local}+{tenant}@{PLACEHOLDER_DOMAIN}")
}

/// The ticket for one promotion request.
pub fn promotion_ticket(facts: &TicketFacts<'_>) -> NewTicket {
    let teacher = full_name(facts.teacher);
    let requester = full_name(facts.requester);
    let requested_by = if facts.requester.id == facts.teacher.id {
        format!("{requester} ({}), for themself", facts.requester.login)
    } else {
        format!(
            "{requester} ({}), {}",
            facts.requester.login,
            facts.requester.role.label()
        )
    };
    let body = format!(
        "hallpass promotion request #{number}: teacher -> school admin\n\
         \n\
         Teacher: {teacher} ({teacher_login})\n\
         School: {school}\n\
         District: {district}\n\
         Tenant: {tenant}\n\
         Requested by: {requested_by}\n\
         \n\
         Reason:\n{reason}\n\
         \n\
         To decide, add the tag {APPROVED_TAG} or {REJECTED_TAG} to this ticket. \
         hallpass applies an approval only while {teacher} is still a teacher at {school}, \
         and tells the requester either way.\n\
         Request id: {id}",
        number = facts.number,
        teacher_login = facts.teacher.login,
        school = facts.school,
        district = facts.district,
        tenant = facts.tenant,
        reason = facts.reason,
        id = facts.request,
    );
    NewTicket {
        subject: format!(
            "Promotion request #{}: {teacher} to school admin at {}",
            facts.number, facts.school
        ),
        body,
        requester_name: requester,
        requester_email: requester_email(facts.requester, facts.tenant),
        external_id: facts.request.to_string(),
        tags: TICKET_TAGS.iter().map(|t| (*t).to_owned()).collect(),
    }
}

/// The stored form: every field of [`NewTicket`], by name.
#[derive(Serialize, Deserialize)]
struct StoredTicket {
    subject: String,
    body: String,
    requester_name: String,
    requester_email: String,
    external_id: String,
    tags: Vec<String>,
}

/// The ticket as the outbox stores it.
pub fn encode(ticket: &NewTicket) -> String {
    let stored = StoredTicket {
        subject: ticket.subject.clone(),
        body: ticket.body.clone(),
        requester_name: ticket.requester_name.clone(),
        requester_email: ticket.requester_email.clone(),
        external_id: ticket.external_id.clone(),
        tags: ticket.tags.clone(),
    };
    // Serialising plain strings cannot fail; an empty object would fail loudly at delivery.
    serde_json::to_string(&stored).unwrap_or_else(|_| "{}".to_owned())
}

/// The ticket the outbox stored.
pub fn decode(json: &str) -> Result<NewTicket, serde_json::Error> {
    let stored: StoredTicket = serde_json::from_str(json)?;
    Ok(NewTicket {
        subject: stored.subject,
        body: stored.body,
        requester_name: stored.requester_name,
        requester_email: stored.requester_email,
        external_id: stored.external_id,
        tags: stored.tags,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use chrono::Utc;

    use super::*;
    use crate::directory::{
        DistrictId, Login, PersonName, Place, Role, SchoolId, TenantId, UserId,
    };

    fn user(login: &str, first: &str, last: &str, role: Role) -> User {
        User {
            id: UserId::new(),
            tenant_id: TenantId::new(),
            login: Login::parse(login).unwrap(),
            first_name: PersonName::parse(first).unwrap(),
            last_name: PersonName::parse(last).unwrap(),
            role,
            place: Place::School {
                school: SchoolId::new(),
                district: DistrictId::new(),
            },
            grade: None,
            title: None,
            must_change_password: false,
            disabled: false,
            discord_user_id: None,
            source_id: None,
            version: 1,
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn an_email_login_is_the_requester_address_and_others_get_a_unique_placeholder() {
        let tenant = TenantName::parse("lincoln").unwrap();
        let mail = user(
            "m.chen@lincoln.example.org",
            "Maria",
            "Chen",
            Role::SchoolAdmin,
        );
        assert_eq!(
            requester_email(&mail, &tenant),
            "m.chen@lincoln.example.org"
        );
        let plain = user("Tess.Teach", "Tess", "Teach", Role::Teacher);
        assert_eq!(
            requester_email(&plain, &tenant),
            "tess.teach+lincoln@hallpass.invalid"
        );
        let accented = user("josé", "José", "Ruiz", Role::Teacher);
        let address = requester_email(&accented, &tenant);
        assert_eq!(
            address,
            format!(
                "user-{}+lincoln@hallpass.invalid",
                accented.id.as_uuid().simple()
            )
        );
    }

    #[test]
    fn a_stored_ticket_decodes_to_exactly_the_rendered_one() {
        let tenant = TenantName::parse("lincoln").unwrap();
        let teacher = user("tess.teach", "Tess", "Teach", Role::Teacher);
        let admin = user("sam.admin", "Sam", "Admin", Role::SchoolAdmin);
        let ticket = promotion_ticket(&TicketFacts {
            request: PromotionId::new(),
            number: 12,
            tenant: &tenant,
            teacher: &teacher,
            school: "Lincoln Middle School",
            district: "Lincoln Unified",
            requester: &admin,
            reason: "Runs the timetable.\n\"Quotes\" and ünïcode",
        });
        assert_eq!(decode(&encode(&ticket)).unwrap(), ticket);
        assert_eq!(
            ticket.subject,
            "Promotion request #12: Tess Teach to school admin at Lincoln Middle School"
        );
    }
}
