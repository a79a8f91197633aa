//! The policy's view of a user: just what the rules read.

use crate::directory::{Place, Role, TenantId, User, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject {
    pub id: UserId,
    pub tenant: TenantId,
    pub role: Role,
    pub place: Place,
    pub disabled: bool,
}

impl From<&User> for Subject {
    fn from(user: &User) -> Self {
        Self {
            id: user.id,
            tenant: user.tenant_id,
            role: user.role,
            place: user.place,
            disabled: user.disabled,
        }
    }
}

impl Subject {
    pub(crate) fn same_school(&self, other: &Subject) -> bool {
        match (self.place.school(), other.place.school()) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
    }

    pub(crate) fn same_district(&self, other: &Subject) -> bool {
        self.place.district() == other.place.district()
    }

    pub(crate) fn is(&self, other: &Subject) -> bool {
        self.id == other.id
    }
}
