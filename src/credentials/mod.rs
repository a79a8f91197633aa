//! Password handling: argon2id hashing on the blocking pool, temporary
//! passphrases, the rules for passwords people choose, one-time tokens and the
//! server key they are hashed under. Every password is NFKC-normalised
//! (`normalise`) before any check, hash or verify; the hasher and the rules do
//! it themselves.
//!
//! The promise this module keeps as a whole: a password, token or code exists
//! in plain form only inside a `SecretString` (or a type that wraps one and
//! redacts its `Debug`), and what is stored is only ever a hash. Randomness
//! and time are the caller's parameters, so tests pin them.

mod error;
mod hashing;
mod key_file;
mod normalise;
mod secret_key;
mod strength;
mod temporary;
mod tokens;

pub use error::CredentialError;
pub use hashing::{HashParams, PasswordHash, PasswordHasher};
pub use key_file::{KeyError, KeySource, resolve_secret_key};
pub use normalise::normalise;
pub use secret_key::{InvalidSecretKey, KEY_BYTES, SecretKey};
pub use strength::{PasswordRules, WeakPassword};
pub use temporary::{
    TemporaryPasswordPolicy, generate_temporary_password, temporary_password_entropy_bits,
};
pub use tokens::{InvalidLinkCode, InvalidToken, LinkCode, OneTimeToken, TokenHash};
