//! Autocomplete's people search, answered from memory and kept current.
//!
//! Promises:
//! - [`Store::search_people`] answers exactly what
//!   [`Store::search_users_with_school`] answers in SQL (the same three prefix
//!   ranges, roles, caps and order), from the tenant's in-memory index
//!   ([`index::TenantIndex`]) once it is loaded;
//! - every answer reflects every change committed before the keystroke, by
//!   this instance or any other on the same database: each search first asks
//!   the database, in one statement, whether the tenant changed since the
//!   index's watermark, and applies the changed rows before searching
//!   ([`sync`]);
//! - while a tenant's index is loading (in the background, after its first
//!   search), or when the check cannot tell, the search is the SQL one, so an
//!   answer is never late or stale for want of memory.

mod caller;
mod entry;
mod index;
mod load;
mod lookups;
mod people;
mod sync;

#[cfg(test)]
mod plan_tests;
#[cfg(test)]
mod prune_tests;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{Mutex, RwLock};

pub use caller::{CallerFound, DirectoryCheck};
pub use index::PersonRow;
use index::{Area, TenantIndex};
#[cfg(test)]
pub(crate) use load::PERSON_PAGES;
pub(crate) use lookups::{Lookups, Source};
use sync::{Check, Watermark};

use super::{SearchScope, Store, StoreError};
use crate::directory::{DiscordGuildId, Role, SchoolId, TenantId};

/// A person found, with their school's name (none for a district admin).
pub type PersonFound = (PersonRow, Option<String>);

/// The indexes of the tenants this instance has searched.
#[derive(Debug, Default)]
pub(crate) struct DirectoryCache {
    tenants: std::sync::Mutex<HashMap<TenantId, Arc<Slot>>>,
    /// The tenant each guild was last found bound to: whose watermark the
    /// caller's statement checks against.
    guilds: std::sync::Mutex<HashMap<DiscordGuildId, TenantId>>,
}

#[derive(Debug, Default)]
struct Slot {
    loaded: RwLock<Option<Loaded>>,
    /// One refresh at a time; the others wait and find it done.
    refreshing: Mutex<()>,
    loading: AtomicBool,
}

#[derive(Debug)]
struct Loaded {
    index: TenantIndex,
    mark: Watermark,
}

impl DirectoryCache {
    fn slot(&self, tenant: TenantId) -> Arc<Slot> {
        match self.tenants.lock() {
            Ok(mut tenants) => tenants.entry(tenant).or_default().clone(),
            // A panic while the map was held: start this tenant afresh.
            Err(_) => Arc::default(),
        }
    }

    fn tenant_of(&self, guild: DiscordGuildId) -> Option<TenantId> {
        self.guilds.lock().ok()?.get(&guild).copied()
    }

    fn remember_guild(&self, guild: DiscordGuildId, tenant: TenantId) {
        if let Ok(mut guilds) = self.guilds.lock()
            && guilds.get(&guild) != Some(&tenant)
        {
            guilds.insert(guild, tenant);
        }
    }
}

impl Store {
    /// People of `roles` in `scope` whose last name, first name or login starts
    /// with `prefix`, in name order, at most `limit`, each with their school's
    /// name. See the module doc. `check` is what the caller's statement
    /// found ([`Store::caller_in_guild`]); without one the search asks.
    pub async fn search_people(
        &self,
        tenant: TenantId,
        scope: SearchScope,
        search: (&[Role], &str, u32),
        check: Option<&DirectoryCheck>,
    ) -> Result<Vec<PersonFound>, StoreError> {
        let (roles, prefix, limit) = search;
        let slot = self.directory.slot(tenant);
        if self.current(&slot, tenant, check).await? {
            let loaded = slot.loaded.read().await;
            if let Some(loaded) = loaded.as_ref() {
                let area = match scope {
                    SearchScope::School(s) => Area::School(s),
                    SearchScope::District(d) => Area::District(d),
                };
                let key = super::hierarchy::search_key(prefix);
                let found = loaded.index.search(area, roles, &key, limit as usize);
                return Ok(found
                    .into_iter()
                    .map(|p| {
                        let school = p.place.school().and_then(|s| loaded.index.school_name(s));
                        let school = school.map(str::to_owned);
                        (p, school)
                    })
                    .collect());
            }
        }
        let found = self
            .search_users_with_school(tenant, scope, roles, prefix, limit)
            .await?;
        Ok(found
            .into_iter()
            .map(|(u, school)| (PersonRow::of(&u), school))
            .collect())
    }

    /// The name of school `school` of `tenant`, from the index when it is
    /// loaded (and brought up to date by `check`, as a search is), else from
    /// the database: the actor's own school on their choice, at a keystroke.
    pub async fn school_name_now(
        &self,
        tenant: TenantId,
        school: SchoolId,
        check: Option<&DirectoryCheck>,
    ) -> Result<Option<String>, StoreError> {
        let slot = self.directory.slot(tenant);
        if self.current(&slot, tenant, check).await?
            && let Some(loaded) = slot.loaded.read().await.as_ref()
            && let Some(name) = loaded.index.school_name(school)
        {
            return Ok(Some(name.to_owned()));
        }
        Ok(self.school(tenant, school).await?.map(|s| s.name))
    }

    /// Brings the slot's index up to date; `false` when there is none to
    /// answer from yet (its load has started in the background).
    async fn current(
        &self,
        slot: &Arc<Slot>,
        tenant: TenantId,
        check: Option<&DirectoryCheck>,
    ) -> Result<bool, StoreError> {
        let mark = match slot.loaded.read().await.as_ref() {
            Some(loaded) => loaded.mark.clone(),
            None => {
                self.load_in_background(slot, tenant);
                return Ok(false);
            }
        };
        let known = match (check, &mark) {
            (Some(DirectoryCheck::Logged { top, pruned }), Watermark::Seq(seen)) => {
                Some(sync::judge_log(*top, *pruned, *seen))
            }
            // Checked against a snapshot this index held: if nothing changed
            // since then, nothing changed since any later one either.
            (Some(DirectoryCheck::Since { tenant: t, changed }), Watermark::Snapshot(_))
                if *t == tenant =>
            {
                Some(if *changed {
                    Check::Changed
                } else {
                    Check::Fresh
                })
            }
            _ => None,
        };
        let found = match known {
            Some(found) => found,
            None => self.check_directory(tenant, &mark).await?,
        };
        match found {
            Check::Fresh => Ok(true),
            Check::Changed => self.refresh(slot, tenant).await,
            Check::Reload => {
                *slot.loaded.write().await = None;
                self.load_in_background(slot, tenant);
                Ok(false)
            }
        }
    }

    /// Applies what changed since the index's watermark; `false` when that
    /// was so much (an import) that the tenant is read again instead, in the
    /// background, the SQL search answering meanwhile.
    async fn refresh(&self, slot: &Arc<Slot>, tenant: TenantId) -> Result<bool, StoreError> {
        let _one = slot.refreshing.lock().await;
        let Some(mark) = slot.loaded.read().await.as_ref().map(|l| l.mark.clone()) else {
            return Ok(false);
        };
        let Some((people, schools, next)) = self.directory_changes(tenant, &mark).await? else {
            *slot.loaded.write().await = None;
            self.load_in_background(slot, tenant);
            return Ok(false);
        };
        let mut loaded = slot.loaded.write().await;
        if let Some(loaded) = loaded.as_mut() {
            for (school, name) in schools {
                loaded.index.set_school_name(school, name);
            }
            loaded.index.apply(people);
            loaded.mark = next;
        }
        Ok(true)
    }

    fn load_in_background(&self, slot: &Arc<Slot>, tenant: TenantId) {
        if slot.loading.swap(true, Ordering::AcqRel) {
            return;
        }
        let (store, slot) = (self.clone(), slot.clone());
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            match store.load_directory(tenant).await {
                Ok((index, mark)) => {
                    let people = index.len();
                    *slot.loaded.write().await = Some(Loaded { index, mark });
                    tracing::info!(%tenant, people, took_ms = started.elapsed().as_millis() as u64,
                        "autocomplete's directory index is loaded");
                }
                Err(e) => {
                    tracing::warn!(%tenant, error = %e, "could not load autocomplete's directory index; searching the database meanwhile");
                }
            }
            slot.loading.store(false, Ordering::Release);
        });
    }

    /// Waits until `tenant`'s index is loaded (for tests and the benchmark:
    /// the first searches are answered in SQL meanwhile).
    pub async fn preload_directory(&self, tenant: TenantId) -> Result<(), StoreError> {
        let slot = self.directory.slot(tenant);
        let (index, mark) = self.load_directory(tenant).await?;
        *slot.loaded.write().await = Some(Loaded { index, mark });
        Ok(())
    }

    /// Loads every tenant's index (at `serve` start), logging what it read.
    pub async fn preload_directories(&self) -> Result<(), StoreError> {
        let tenants: Vec<String> = sqlx::query_scalar("SELECT id FROM tenants")
            .fetch_all(&self.pool)
            .await?;
        for tenant in tenants {
            let tenant = TenantId::parse(&tenant).map_err(|e| StoreError::Corrupt(e.0))?;
            let started = std::time::Instant::now();
            self.preload_directory(tenant).await?;
            tracing::info!(%tenant, took_ms = started.elapsed().as_millis() as u64,
                "autocomplete's directory index is loaded");
        }
        Ok(())
    }

    /// The watermark of `tenant`'s index, if it is loaded.
    async fn directory_mark(&self, tenant: TenantId) -> Option<Watermark> {
        let slot = self.directory.slot(tenant);
        let loaded = slot.loaded.read().await;
        loaded.as_ref().map(|l| l.mark.clone())
    }

    /// Whether `tenant`'s index is loaded and answering.
    pub async fn directory_loaded(&self, tenant: TenantId) -> bool {
        self.directory.slot(tenant).loaded.read().await.is_some()
    }
}
