//! Who may do what: the authority rules of `docs/policy.md`, as pure functions.
//!
//! Every command, the console, the demo and the platform API ask these functions
//! and nothing else. Each answers `Allow` or `Deny(Denial)`, where the denial is a
//! sentence a teacher understands. The promise this module keeps:
//!
//! * A user the actor cannot see does not exist for that actor: every question
//!   about such a user is answered with [`Denial::NoSuchUser`], word for word the
//!   answer for a user that does not exist.
//! * Nobody grants more than they hold, and nobody changes their own place.
//! * Nothing crosses tenants.
//!
//! The functions read no clock, no database and no configuration: the caller
//! resolves facts (a destination school's district, how many district admins a
//! district has) and passes them in, so the table-driven tests state every rule.

mod classes;
mod decision;
mod edit;
mod moves;
mod promotion;
mod subject;
mod visibility;

pub use classes::{ClassScope, can_see_class, class_scope};
pub use decision::{Decision, Denial};
pub use edit::{
    Field, can_edit, can_edit_field, can_issue_link_code, can_reset_password, editable_fields,
};
pub use moves::{PlaceChange, can_change_place};
pub use promotion::{approval_obstacle, can_request_promotion};
pub use subject::Subject;
pub use visibility::{SearchArea, VisibleSet, can_see, visible_set};

#[cfg(test)]
mod tests;
