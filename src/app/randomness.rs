//! Randomness is a parameter: production draws from the operating system;
//! tests and the demo may pin a seed so their output repeats.

use std::sync::Mutex;

use rand::SeedableRng;
use rand::rngs::{OsRng, StdRng};
use secrecy::SecretString;

use crate::credentials::{LinkCode, generate_temporary_password};

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

    pub fn link_code(&self) -> LinkCode {
        match self {
            Self::Os => LinkCode::generate(&mut OsRng),
            Self::Seeded(rng) => match rng.lock() {
                Ok(mut rng) => LinkCode::generate(&mut *rng),
                Err(_) => LinkCode::generate(&mut OsRng),
            },
        }
    }
}
