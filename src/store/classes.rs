//! PLACEHOLDER (replaced by merge of `classes`).

use super::{Store, StoreError};
use crate::directory::{Class, ClassId, TenantId, User, UserId};
use crate::policy::ClassScope;

impl Store {
    pub async fn search_classes(
        &self,
        _tenant: TenantId,
        _scope: &ClassScope,
        _typed: &str,
        _limit: u32,
    ) -> Result<Vec<Class>, StoreError> {
        Ok(Vec::new())
    }

    pub async fn class_by_id(
        &self,
        _tenant: TenantId,
        _id: ClassId,
    ) -> Result<Option<Class>, StoreError> {
        Ok(None)
    }

    pub async fn teaches(&self, _teacher: UserId, _class: ClassId) -> Result<bool, StoreError> {
        Ok(false)
    }

    pub async fn class_students(&self, _class: ClassId) -> Result<Vec<User>, StoreError> {
        Ok(Vec::new())
    }
}
