//! Outgoing email: the SMTP client for reset links. The local SMTP stand-in
//! that tests and the demo point it at lives in [`crate::standins::smtp`].
//!
//! The promise: the SMTP password inside `SMTP_URL` never reaches `Debug`, a
//! log line or an error message, and a message body (it holds a reset link)
//! stays a secret until it is handed to the transport.

mod smtp;

pub use smtp::{MailError, Mailer, OutgoingEmail, plaintext_warning};
