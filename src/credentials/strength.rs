//! Checking a password that a person chooses (the reset page, the change-password API).
//!
//! The rules are the policy's and nothing more: a minimum length per role,
//! counted in Unicode characters, a blocklist of common passwords, and not the
//! person's own login. No composition rules ("one capital, one symbol"), no
//! rotation: they push people towards predictable passwords.
//!
//! The promise: the password is only read, never logged or kept; the one
//! lower-cased copy needed for the blocklist is wiped when the check ends.
//! A refusal is a sentence a student understands and never repeats the password.

use std::collections::HashSet;
use std::sync::LazyLock;

use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};

use crate::directory::{Login, Role};

/// zxcvbn's most frequent passwords of 8 or more characters, all lower case.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect()
});

/// Minimum lengths, in Unicode characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordRules {
    pub student_min: usize,
    pub staff_min: usize,
}

impl Default for PasswordRules {
    /// The policy's defaults: 8 characters for students, 12 for staff.
    fn default() -> Self {
        Self {
            student_min: 8,
            staff_min: 12,
        }
    }
}

/// Why a chosen password was refused. `Display` is the sentence shown to the person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("Use at least {min} characters.")]
    TooShort { min: usize },
    #[error(
        "Your password can't be the same as your username or email; choose something different."
    )]
    SameAsLogin,
    #[error("That password is on a list of commonly used passwords; choose something less common.")]
    Common,
}

impl PasswordRules {
    /// The minimum length for someone with `role`.
    pub fn min_length(&self, role: Role) -> usize {
        if role.is_staff() {
            self.staff_min
        } else {
            self.student_min
        }
    }

    /// Checks a password chosen by someone with `role`; pass their `login` when
    /// it is known so the password cannot simply repeat it. The password is
    /// NFKC-normalised first, as it will be when hashed, so its length is
    /// counted in the characters that are stored.
    pub fn check(
        &self,
        password: &SecretString,
        role: Role,
        login: Option<&Login>,
    ) -> Result<(), WeakPassword> {
        let normal = super::normalise(password);
        let password = normal.expose_secret();
        let min = self.min_length(role);
        if password.chars().count() < min {
            return Err(WeakPassword::TooShort { min });
        }
        if let Some(login) = login
            && lower_case_chars(password).eq(lower_case_chars(login.as_str()))
        {
            return Err(WeakPassword::SameAsLogin);
        }
        if is_common(password) {
            return Err(WeakPassword::Common);
        }
        Ok(())
    }
}

fn lower_case_chars(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars().flat_map(char::to_lowercase)
}

fn is_common(password: &str) -> bool {
    // Sized exactly so the string never reallocates and leaves an unwiped copy.
    let len = lower_case_chars(password).map(char::len_utf8).sum();
    let mut lower = Zeroizing::new(String::with_capacity(len));
    lower.extend(lower_case_chars(password));
    COMMON_PASSWORDS.contains(lower.as_str())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn check(password: &str, role: Role) -> Result<(), WeakPassword> {
        PasswordRules::default().check(&SecretString::from(password), role, None)
    }

    #[test]
    fn the_blocklist_is_loaded_whole_and_in_lower_case() {
        assert_eq!(COMMON_PASSWORDS.len(), 11_611);
        assert!(COMMON_PASSWORDS.iter().all(|p| p.to_lowercase() == *p));
    }

    #[test]
    fn a_seven_character_student_password_is_too_short_and_eight_is_enough() {
        assert_eq!(
            check("zqvbnxw", Role::Student),
            Err(WeakPassword::TooShort { min: 8 })
        );
        assert_eq!(check("zqvbnxwk", Role::Student), Ok(()));
    }

    #[test]
    fn staff_need_twelve_characters() {
        for role in [Role::Teacher, Role::SchoolAdmin, Role::DistrictAdmin] {
            assert_eq!(check("zqvbn-xwkrtm", role), Ok(()));
            assert_eq!(
                check("zqvbn-xwkrt", role),
                Err(WeakPassword::TooShort { min: 12 })
            );
        }
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // Seven characters, fourteen bytes.
        assert_eq!(
            check("ééééééé", Role::Student),
            Err(WeakPassword::TooShort { min: 8 })
        );
        assert_eq!(check("éééééééé", Role::Student), Ok(()));
        assert_eq!(
            check("🐢🐢🐢🐢🐢🐢🐢", Role::Student),
            Err(WeakPassword::TooShort { min: 8 })
        );
    }

    #[test]
    fn configured_minimums_are_honoured() {
        let rules = PasswordRules {
            student_min: 10,
            staff_min: 16,
        };
        let pw = SecretString::from("zqvbnxwkrt"); // 10 characters
        assert_eq!(rules.check(&pw, Role::Student, None), Ok(()));
        assert_eq!(
            rules.check(&pw, Role::Teacher, None),
            Err(WeakPassword::TooShort { min: 16 })
        );
        assert_eq!(rules.min_length(Role::Student), 10);
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        for common in [
            "password1234",
            "PASSWORD1234",
            "Password1",
            "baseball",
            "12345678",
            "Iloveyou",
        ] {
            assert_eq!(
                check(common, Role::Student),
                Err(WeakPassword::Common),
                "{common} passed"
            );
        }
        assert_eq!(
            check("qwertyuiop123", Role::Teacher),
            Err(WeakPassword::Common)
        );
    }

    #[test]
    fn a_long_uncommon_passphrase_passes_for_everyone() {
        for role in Role::ALL {
            assert_eq!(check("purple giraffes eat quiet tacos", role), Ok(()));
        }
    }

    #[test]
    fn the_login_itself_is_refused_whatever_its_case() {
        let rules = PasswordRules::default();
        let login = Login::parse("Jordan.Smith@lincoln.edu").unwrap();
        for attempt in ["jordan.smith@lincoln.edu", "JORDAN.SMITH@LINCOLN.EDU"] {
            assert_eq!(
                rules.check(&SecretString::from(attempt), Role::Teacher, Some(&login)),
                Err(WeakPassword::SameAsLogin)
            );
        }
        // Without the login, the same string is only checked for length and commonness.
        let pw = SecretString::from("jordan.smith@lincoln.edu");
        assert_eq!(rules.check(&pw, Role::Teacher, None), Ok(()));
        // A password that merely contains the login is not the login.
        let pw = SecretString::from("jordan.smith@lincoln.edu rocks");
        assert_eq!(rules.check(&pw, Role::Teacher, Some(&login)), Ok(()));
    }

    #[test]
    fn the_rules_judge_the_normalised_password() {
        // Eight fullwidth letters are eight letters; a blocklisted password in
        // fullwidth form is still that password.
        assert_eq!(check("\u{FF5A}qvbnxwk", Role::Student), Ok(()));
        assert_eq!(
            check("\u{FF50}\u{FF41}\u{FF53}\u{FF53}word1234", Role::Student),
            Err(WeakPassword::Common)
        );
        // Seven characters plus a combining mark are seven characters once composed.
        assert_eq!(
            check("zqvbnxe\u{0301}", Role::Student),
            Err(WeakPassword::TooShort { min: 8 })
        );
    }

    #[test]
    fn refusals_are_sentences_a_student_understands() {
        assert_eq!(
            WeakPassword::TooShort { min: 12 }.to_string(),
            "Use at least 12 characters."
        );
        assert_eq!(
            WeakPassword::Common.to_string(),
            "That password is on a list of commonly used passwords; choose something less common."
        );
        assert!(WeakPassword::SameAsLogin.to_string().ends_with('.'));
    }
}
