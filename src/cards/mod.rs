//! Login cards: a class's temporary passwords as a printable PDF.
//!
//! The promises this module keeps:
//!
//! * It is pure: card data in, PDF bytes out. Nothing is written to disk, logged
//!   or kept; the temporary passwords exist only in the caller's [`Card`]s and in
//!   the returned bytes.
//! * The QR code on a card encodes [`Card::qr_url`] (the sign-in page with the
//!   tenant and login filled in), never the password.
//! * Logins and passwords are set in an embedded DejaVu Sans Mono, whose `l`, `1`,
//!   `I`, `0` and `O` cannot be mistaken for one another (the zero is dotted).
//! * Nothing printed leaves its card: long text shrinks, then wraps, then is cut
//!   short with an ellipsis; a login or password is never cut short.
//! * A [`Card`]'s `Debug` and every [`CardsError`] are free of passwords.

mod font;
mod pdf;
mod qr;
mod text;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use url::Url;

pub use pdf::render;
pub use qr::qr_url;

/// What one login card shows.
pub struct Card {
    /// The student's name, e.g. "Ada Lovelace".
    pub name: String,
    /// The school's name.
    pub school: String,
    /// The class label, e.g. "Science 7B (SCI-7B)".
    pub class: String,
    pub login: String,
    /// The temporary password, e.g. "maple-river-quiet-472".
    pub password: SecretString,
    pub expires: DateTime<Utc>,
    /// Printed on the card.
    pub sign_in_url: Url,
    /// Encoded in the QR code: the sign-in URL with tenant and login filled in
    /// (see [`qr_url`]); never the password.
    pub qr_url: Url,
}

impl std::fmt::Debug for Card {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Card")
            .field("name", &self.name)
            .field("school", &self.school)
            .field("class", &self.class)
            .field("login", &self.login)
            .field("password", &"[redacted]")
            .field("expires", &self.expires)
            .field("sign_in_url", &self.sign_in_url.as_str())
            .field("qr_url", &self.qr_url.as_str())
            .finish()
    }
}

/// Why no PDF could be made. No variant carries card text, so an error can be
/// logged as it is.
#[derive(thiserror::Error, Debug)]
pub enum CardsError {
    /// Asked for cards for nobody: an empty PDF would look like a success.
    #[error("there are no cards to print")]
    NoCards,

    /// A QR code could not be made (the URL is too long for the largest QR version).
    #[error("the QR code for card {card} could not be made: {source}")]
    QrCode {
        /// The card's position in the list, from 1.
        card: usize,
        source: qrcode::types::QrError,
    },

    /// The embedded font could not be read or subset; a build defect, not input.
    #[error("the embedded card font could not be used: {0}")]
    Font(String),
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
