//! The directory's vocabulary: every value that comes from outside (a CSV cell,
//! a slash-command option, a modal field, a JSON body) is parsed into one of
//! these types at the edge. Inside the crate a `Login` is always a valid login,
//! a `PersonName` always a trimmed, NFC-normalised name, and so on.

mod class;
mod grade;
mod ids;
mod login;
mod name;
mod role;
mod tenant;
mod user;

pub use class::{Class, ClassRole};
pub use grade::Grade;
pub use ids::{
    ClassId, DiscordChannelId, DiscordGuildId, DiscordUserId, DistrictId, PromotionId, SchoolId,
    TenantId, UserId,
};
pub use login::Login;
pub use name::{PersonName, Title, is_bidi_control};
pub use role::Role;
pub use tenant::TenantName;
pub use user::{District, Place, School, Tenant, User};

/// Why an outside value was refused. The message is shown to the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}
