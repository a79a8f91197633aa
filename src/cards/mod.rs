//! PLACEHOLDER (replaced by merge of `pdf`).

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use url::Url;

pub struct Card {
    pub name: String,
    pub school: String,
    pub class: String,
    pub login: String,
    pub password: SecretString,
    pub expires: DateTime<Utc>,
    pub sign_in_url: Url,
    pub qr_url: Url,
}

impl std::fmt::Debug for Card {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Card")
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

pub fn qr_url(sign_in_url: &Url, tenant: &str, login: &str) -> Url {
    let mut url = sign_in_url.clone();
    url.query_pairs_mut()
        .append_pair("tenant", tenant)
        .append_pair("login", login);
    url
}

#[derive(thiserror::Error, Debug)]
pub enum CardsError {
    #[error("no cards to render")]
    NoCards,
}

pub fn render(_title: &str, cards: &[Card]) -> Result<Vec<u8>, CardsError> {
    if cards.is_empty() {
        return Err(CardsError::NoCards);
    }
    Ok(b"%PDF-1.7 placeholder".to_vec())
}
