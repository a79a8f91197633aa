//! hallpass: a Discord bot that lets educators manage their school directory.
//!
//! The crate is laid out so the architecture shows: `directory` holds the domain
//! types, `policy` the authority rules (pure), `credentials` password handling,
//! `store` the database behind one API, `audit` the append-only log, `roster`
//! the OneRoster import and `cli` the operator's command line.

pub mod directory;
pub mod policy;
pub mod audit;
pub mod store;
pub mod roster;
