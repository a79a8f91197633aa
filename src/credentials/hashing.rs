//! Password hashing with argon2id.
//!
//! The promises this file keeps:
//!
//! * Passwords are hashed with argon2id only, with the parameters of one
//!   [`HashParams`] policy: OWASP's in production, a loudly named cheap set in tests.
//! * Hashing runs on a dedicated pool of one thread per core at the lowest
//!   scheduling priority (`pool`), never on the async runtime's threads, and
//!   never more hashes at once than the machine has cores: the threads
//!   answering requests preempt a hash, and hashes still use every idle core.
//! * A [`PasswordHash`] never prints itself: its `Debug` is `PasswordHash(<redacted>)`
//!   and it has no `Display`; the store reads it through [`PasswordHash::as_str`].
//! * A hash carries its own parameters (PHC string format), so a hash made under
//!   older or cheaper parameters still verifies after the policy changes, and
//!   [`PasswordHasher::needs_rehash`] says when it should be made again.
//! * Every password is NFKC-normalised (`super::normalise`) before it is hashed
//!   or verified, so one typed on any keyboard hashes alike.
//! * [`PasswordHasher::verify_dummy`] does the work of a real verification
//!   against a hash made with today's parameters, for a sign-in that has no
//!   real hash to check (an unknown login): same cost, same answer time.
//!   Every verification is counted ([`PasswordHasher::verifications`]), so a
//!   test can assert that each path of a sign-in does exactly one.

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::password_hash::{self, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{OnceCell, Semaphore};

use super::{CredentialError, normalise};

mod pool;
use pool::HashPool;

/// The cost of one argon2id hash: memory in KiB, iterations and lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

impl HashParams {
    /// OWASP's argon2id recommendation: 19 MiB, 2 iterations, 1 lane.
    ///
    /// Spelled out rather than taken from `argon2::Params::default()` so that a
    /// dependency upgrade cannot change our policy silently.
    pub const fn owasp() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }

    /// The cheapest parameters argon2id accepts (8 KiB, 1 iteration, 1 lane).
    ///
    /// **For tests only.** A hash made with these can be brute-forced at
    /// millions of guesses per second; production code uses [`HashParams::owasp`].
    pub const fn insecure_fast_for_tests_only() -> Self {
        Self {
            memory_kib: Params::MIN_M_COST,
            iterations: 1,
            parallelism: 1,
        }
    }

    /// The parameters as they appear in a PHC string, e.g. `m=19456,t=2,p=1`.
    pub fn description(&self) -> String {
        format!(
            "m={},t={},p={}",
            self.memory_kib, self.iterations, self.parallelism
        )
    }
}

/// An argon2id hash in PHC string format
/// (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`): the only form in which a
/// password is stored.
#[derive(Clone)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Reads a stored hash back. Anything but a complete argon2id PHC string
    /// with valid parameters is refused: we never store anything else, so
    /// anything else is a damaged row.
    pub fn parse(phc: &str) -> Result<Self, CredentialError> {
        let parsed = password_hash::PasswordHash::new(phc)
            .map_err(|_| CredentialError::MalformedPasswordHash)?;
        let complete = parsed.algorithm == Algorithm::Argon2id.ident()
            && parsed.salt.is_some()
            && parsed.hash.is_some()
            && Params::try_from(&parsed).is_ok();
        if complete {
            Ok(Self(phc.to_owned()))
        } else {
            Err(CredentialError::MalformedPasswordHash)
        }
    }

    /// The PHC string, for the database.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// Hashes and verifies passwords. Cloning is cheap and clones share one
/// concurrency limit, so build one per process and hand out clones.
#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    params: HashParams,
    permits: Arc<Semaphore>,
    /// The low-priority threads every hash and verification runs on.
    pool: Arc<HashPool>,
    /// Hashes asked for since start-up, shared by clones (work is counted, not timed).
    hashes: Arc<AtomicU64>,
    /// Verifications run so far (real and dummy), shared by clones.
    verifications: Arc<AtomicU64>,
    /// A hash of a random password under `params`, made on first need.
    dummy: Arc<OnceCell<PasswordHash>>,
}

impl PasswordHasher {
    /// A hasher for `params`, allowing as many hashes at once as there are cores.
    pub fn new(params: HashParams) -> Result<Self, CredentialError> {
        let argon2_params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(CredentialError::InvalidParams)?;
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        Ok(Self {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, argon2_params),
            params,
            permits: Arc::new(Semaphore::new(cores)),
            pool: Arc::new(HashPool::new(cores)?),
            hashes: Arc::new(AtomicU64::new(0)),
            verifications: Arc::new(AtomicU64::new(0)),
            dummy: Arc::new(OnceCell::new()),
        })
    }

    /// How many hashes this hasher (and its clones) has been asked to make.
    pub fn hashes_made(&self) -> u64 {
        self.hashes.load(Ordering::Relaxed)
    }

    /// How many verifications (real and dummy) this hasher and its clones have run.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::SeqCst)
    }

    /// Whether `hash` was made with weaker parameters than this hasher's (less
    /// memory or fewer iterations, or an older argon2 version), so that a
    /// sign-in that just proved the password should store a fresh hash.
    pub fn needs_rehash(&self, hash: &PasswordHash) -> bool {
        let Ok(parsed) = password_hash::PasswordHash::new(hash.as_str()) else {
            return true;
        };
        let Ok(stored) = Params::try_from(&parsed) else {
            return true;
        };
        let old_version = parsed
            .version
            .is_some_and(|v| v < u32::from(Version::V0x13));
        old_version
            || stored.m_cost() < self.params.memory_kib
            || stored.t_cost() < self.params.iterations
    }

    /// Does the work of [`PasswordHasher::verify`] against a hash of a random
    /// password made with this hasher's parameters, and forgets the answer.
    /// For a sign-in with no real hash to check, so that it costs what a wrong
    /// password costs. The dummy hash is made once, on first use (call
    /// [`PasswordHasher::prepare_dummy`] at start-up to move that cost there).
    #[tracing::instrument(name = "verify_dummy", skip_all)]
    pub async fn verify_dummy(&self, password: &SecretString) -> Result<(), CredentialError> {
        let dummy = self.prepare_dummy().await?;
        self.verify(password, &dummy).await.map(|_| ())
    }

    /// Makes the dummy hash now if it was not made yet.
    pub async fn prepare_dummy(&self) -> Result<PasswordHash, CredentialError> {
        self.dummy
            .get_or_try_init(|| async {
                let mut random = [0u8; 32];
                rand::RngCore::fill_bytes(&mut OsRng, &mut random);
                self.hash(&SecretString::from(hex::encode(random))).await
            })
            .await
            .cloned()
    }

    /// The parameters new hashes are made with, e.g. `m=19456,t=2,p=1`.
    pub fn params_description(&self) -> String {
        self.params.description()
    }

    /// Hashes `password` with a fresh random salt from the operating system.
    ///
    /// The salt is not a parameter, unlike the crate's other randomness: a
    /// pinned salt would let tests assert nothing they cannot assert by verifying.
    #[tracing::instrument(name = "hash_password", skip_all, fields(params = %self.params.description()))]
    pub async fn hash(&self, password: &SecretString) -> Result<PasswordHash, CredentialError> {
        self.hashes.fetch_add(1, Ordering::Relaxed);
        let password = normalise(password);
        let argon2 = self.argon2.clone();
        self.run_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2
                .hash_password(password.expose_secret().as_bytes(), &salt)
                .map(|hash| PasswordHash(hash.to_string()))
                .map_err(CredentialError::Hashing)
        })
        .await
    }

    /// Whether `password` is the one `hash` was made from. The parameters come
    /// from the hash itself, not from this hasher.
    #[tracing::instrument(name = "verify_password", skip_all)]
    pub async fn verify(
        &self,
        password: &SecretString,
        hash: &PasswordHash,
    ) -> Result<bool, CredentialError> {
        let password = normalise(password);
        let hash = hash.clone();
        self.verifications.fetch_add(1, Ordering::SeqCst);
        let argon2 = self.argon2.clone();
        self.run_blocking(move || {
            let parsed = password_hash::PasswordHash::new(hash.as_str())
                .map_err(|_| CredentialError::MalformedPasswordHash)?;
            match argon2.verify_password(password.expose_secret().as_bytes(), &parsed) {
                Ok(()) => Ok(true),
                Err(password_hash::Error::Password) => Ok(false),
                Err(other) => Err(CredentialError::Hashing(other)),
            }
        })
        .await
    }

    /// Runs `work` on the hashing threads once a permit is free.
    async fn run_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, CredentialError> + Send + 'static,
    ) -> Result<T, CredentialError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| CredentialError::HasherClosed)?;
        // The permit moves into the job rather than staying with this
        // future: a caller that gives up (a timeout, a dropped request) cannot
        // stop a hash already running, so the permit must stay taken until the
        // hash really ends, or more hashes would queue than there are threads.
        self.pool
            .run(move || {
                let _permit = permit;
                work()
            })
            .await?
    }
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params.description())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
