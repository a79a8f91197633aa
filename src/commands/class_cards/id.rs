//! The custom id of the prompt's buttons: which class, which button, the
//! roster the prompt counted and which prompt it was
//! (`class-cards:ACTION:CLASS:ROSTER:PROMPT`). A Confirm acts only on the
//! roster its prompt named, and only once.

use sha2::{Digest, Sha256};

use crate::directory::{ClassId, UserId};

use super::super::definition::Form;

/// Which button was clicked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ButtonAction {
    Confirm,
    Cancel,
}

impl ButtonAction {
    fn as_str(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::Cancel => "cancel",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "confirm" => Some(Self::Confirm),
            "cancel" => Some(Self::Cancel),
            _ => None,
        }
    }
}

/// One button of one prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassCardsId {
    pub class: ClassId,
    pub action: ButtonAction,
    /// [`roster_digest`] of the students the prompt said would be reset.
    pub roster: String,
    /// Tells one prompt from another, so one prompt's Confirm prints once.
    pub prompt: String,
}

impl ClassCardsId {
    pub fn format(&self, form: &Form) -> String {
        format!(
            "{}:{}:{}:{}:{}",
            form.prefix,
            self.action.as_str(),
            self.class,
            self.roster,
            self.prompt
        )
    }

    /// The id in a custom id of `form`, if it is one (ids can be forged, so
    /// every part is checked).
    pub fn parse(form: &Form, custom_id: &str) -> Option<Self> {
        let rest = custom_id.strip_prefix(form.prefix)?.strip_prefix(':')?;
        let mut parts = rest.split(':');
        let action = ButtonAction::parse(parts.next()?)?;
        let class = ClassId::parse(parts.next()?).ok()?;
        let roster = short_hex(parts.next()?)?;
        let prompt = short_hex(parts.next()?)?;
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            class,
            action,
            roster,
            prompt,
        })
    }
}

fn short_hex(s: &str) -> Option<String> {
    let ok = (1..=16).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| s.to_ascii_lowercase())
}

/// A short fingerprint of a set of students (order does not matter): equal
/// when the same students would be reset.
pub fn roster_digest(students: &[UserId]) -> String {
    let mut ids: Vec<String> = students.iter().map(UserId::to_string).collect();
    ids.sort_unstable();
    let digest = Sha256::digest(ids.join(",").as_bytes());
    hex::encode(&digest[..6])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::commands::definition::{Answer, RawOptions};
    use crate::commands::reply::Reply;

    fn nothing<'a>(
        _: &'a crate::app::App,
        _: &'a crate::commands::Actor,
        _: &'a crate::commands::Invocation,
        _: &'a str,
        _: &'a RawOptions,
    ) -> Answer<'a> {
        Box::pin(async { Reply::private("") })
    }

    const FORM: Form = Form {
        prefix: "class-cards",
        command: "class-cards",
        slow: true,
        submit: nothing,
    };

    #[test]
    fn a_button_id_formats_and_parses_back_and_fits_discords_hundred_characters() {
        let id = ClassCardsId {
            class: ClassId::new(),
            action: ButtonAction::Confirm,
            roster: roster_digest(&[UserId::new(), UserId::new()]),
            prompt: "0a1b2c3d".into(),
        };
        let text = id.format(&FORM);
        assert!(text.len() <= 100, "{text}");
        assert!(FORM.owns(&text));
        assert_eq!(ClassCardsId::parse(&FORM, &text), Some(id));
    }

    #[test]
    fn a_forged_or_truncated_button_id_is_not_one() {
        let class = ClassId::new();
        for bad in [
            format!("class-cards:launch:{class}:abc:def"),
            "class-cards:confirm:not-a-class:abc:def".to_owned(),
            format!("class-cards:confirm:{class}:abc"),
            format!("class-cards:confirm:{class}:abc:def:extra"),
            format!("class-cards:confirm:{class}:xyz:def"),
            format!("class-cards:confirm:{class}::def"),
        ] {
            assert_eq!(ClassCardsId::parse(&FORM, &bad), None, "{bad}");
        }
    }

    #[test]
    fn the_roster_digest_ignores_order_and_changes_with_the_students() {
        let (a, b, c) = (UserId::new(), UserId::new(), UserId::new());
        assert_eq!(roster_digest(&[a, b]), roster_digest(&[b, a]));
        assert_ne!(roster_digest(&[a, b]), roster_digest(&[a, b, c]));
        assert_ne!(roster_digest(&[a, b]), roster_digest(&[a]));
        assert_eq!(roster_digest(&[a]).len(), 12);
    }
}
