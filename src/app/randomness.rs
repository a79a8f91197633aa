//! Randomness is a parameter: production draws from the operating system;
//! tests and the demo may pin a seed so their output repeats.

use std::sync::Mutex;

use rand::rngs::{OsRng, StdRng};
use rand::{Rng, SeedableRng};
use secrecy::SecretString;

use crate::credentials::{LinkCode, OneTimeToken, generate_temporary_password};

pub enum Randomness {
    /// The operating system's random source.
    Os,
    /// A seeded generator (ChaCha12): repeatable, for tests and the demo only.
    Seeded(Box<Mutex<StdRng>>),
}

impl Randomness {
    pub fn seeded(seed: u64) -> Self {
        Self::Seeded(Box::new(Mutex::new(StdRng::seed_from_u64(seed))))
    }

    pub fn temporary_password(&self) -> SecretString {
        match self {
            Self::Os => generate_temporary_password(&mut OsRng),
            Self::Seeded(rng) => match rng.lock() {
                Ok(mut rng) => generate_temporary_password(&mut *rng),
                Err(_) => generate_temporary_password(&mut OsRng),
            },
        }
    }

    /// A number in [0, 1): jitter for retry delays.
    pub fn fraction(&self) -> f64 {
        match self {
            Self::Os => OsRng.r#gen(),
            Self::Seeded(rng) => match rng.lock() {
                Ok(mut rng) => rng.r#gen(),
                Err(_) => OsRng.r#gen(),
            },
        }
    }

    pub fn link_code(&self) -> LinkCode {
        match self {
            Self::Os => LinkCode::generate(&mut OsRng),
            Self::Seeded(rng) => match rng.lock() {
                Ok(mut rng) => LinkCode::generate(&mut *rng),
                Err(_) => LinkCode::generate(&mut OsRng),
            },
        }
    }

    /// The token of an email reset link.
    pub fn reset_token(&self) -> OneTimeToken {
        match self {
            Self::Os => OneTimeToken::generate(&mut OsRng),
            Self::Seeded(rng) => match rng.lock() {
                Ok(mut rng) => OneTimeToken::generate(&mut *rng),
                Err(_) => OneTimeToken::generate(&mut OsRng),
            },
        }
    }
}
