//! PLACEHOLDER (replaced by merge of `classes`).

use super::{ClassId, DistrictId, SchoolId, TenantId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Class {
    pub id: ClassId,
    pub tenant_id: TenantId,
    pub district_id: DistrictId,
    pub school_id: SchoolId,
    pub sourced_id: String,
    pub title: String,
    pub class_code: Option<String>,
}

impl Class {
    pub fn label(&self) -> String {
        match &self.class_code {
            Some(code) => format!("{} ({code})", self.title),
            None => self.title.clone(),
        }
    }
}
