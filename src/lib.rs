//! hallpass: a Discord bot that lets educators manage their school directory.
//!
//! The crate is laid out so the architecture shows: `directory` holds the domain
//! types, `policy` the authority rules (pure), `credentials` password handling,
//! `store` the database behind one API, `audit` the append-only log, `roster`
//! the OneRoster import, `commands` the slash commands (transport-free),
//! `discord` the serenity glue, `web` the HTTP listener, `support` the Zendesk
//! tickets behind promotion requests, `mail` the SMTP client for reset links, `signin` signing in and changing a
//! password, `console` the operator's prompt and
//! `cli` the command line.

pub mod app;
pub mod audit;
pub mod bench;
pub mod cards;
pub mod cli;
pub mod commands;
pub mod config;
pub mod console;
pub mod credentials;
pub mod demo;
pub mod directory;
pub mod discord;
pub mod limits;
pub mod mail;
pub mod policy;
pub mod roster;
pub mod signin;
pub mod standins;
pub mod store;
pub mod support;
pub mod telemetry;
pub mod web;
