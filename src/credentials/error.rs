//! Failures of the credential machinery itself, as opposed to a person's choice
//! (a weak password, a mistyped code), which have their own types.
//!
//! The promise: no variant carries a password, a token, a stored hash or any part
//! of one, so an error can be logged and shown to an operator as it is.

/// Hashing or stored-data failures. None of these is the user's fault; the
/// caller answers with a generic "something went wrong" and logs the error.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The argon2 parameters were refused (a programming or configuration error).
    #[error("the password hashing parameters are invalid: {0}")]
    InvalidParams(argon2::Error),

    /// argon2 failed while hashing or verifying, for a reason other than a wrong password.
    #[error("password hashing failed: {0}")]
    Hashing(argon2::password_hash::Error),

    /// A stored password hash could not be read back as an argon2id PHC string.
    #[error("a stored password hash is not an argon2id PHC string")]
    MalformedPasswordHash,

    /// A stored token hash is not 64 lower-case hexadecimal digits.
    #[error("a stored token hash is not 64 lower-case hexadecimal digits")]
    MalformedTokenHash,

    /// The hashing job panicked, so it never answered.
    #[error("the password hashing task did not finish")]
    HashTaskFailed,

    /// The hashing threads could not be started.
    #[error("could not start the password hashing threads: {0}")]
    HashPool(String),

    /// The hasher's concurrency limit was closed; it never is while a hasher exists.
    #[error("the password hasher is no longer accepting work")]
    HasherClosed,
}
