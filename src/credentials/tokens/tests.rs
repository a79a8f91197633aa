use std::collections::HashSet;

use rand::SeedableRng;
use rand::rngs::{OsRng, StdRng};

use super::*;

const HEX_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn key() -> SecretKey {
    SecretKey::parse(HEX_KEY).unwrap()
}

fn other_key() -> SecretKey {
    SecretKey::parse(&"ab".repeat(32)).unwrap()
}

#[test]
fn a_reset_token_is_32_random_bytes_in_url_safe_base64() {
    let token = OneTimeToken::generate(&mut OsRng);
    let value = token.expose_secret();
    assert_eq!(value.len(), 43);
    assert!(!value.contains(['+', '/', '=']));
    assert_eq!(URL_SAFE_NO_PAD.decode(value).unwrap().len(), 32);
}

#[test]
fn reset_tokens_differ_and_a_seeded_generator_repeats_itself() {
    let first = OneTimeToken::generate(&mut OsRng);
    let second = OneTimeToken::generate(&mut OsRng);
    assert_ne!(first.expose_secret(), second.expose_secret());
    let a = OneTimeToken::generate(&mut StdRng::seed_from_u64(5));
    let b = OneTimeToken::generate(&mut StdRng::seed_from_u64(5));
    assert_eq!(a.expose_secret(), b.expose_secret());
}

#[test]
fn a_token_hash_is_the_hex_hmac_sha256_of_the_token_under_the_server_key() {
    // Expected value from `printf 'hallpass reset token v1\nAAAA…A' (43 A) |
    // openssl dgst -sha256 -mac HMAC -macopt hexkey:000102…1f`.
    let token = OneTimeToken::parse(&"A".repeat(43)).unwrap();
    assert_eq!(
        token.token_hash(&key()).as_str(),
        "f93007928ce3bdcd222a9e26e2800a258e9990d679d7c759e1457a016819ed3f"
    );
    // Not the plain SHA-256 of the token, which a copied database would reveal.
    assert_ne!(
        token.token_hash(&key()).as_str(),
        "0f007385b6f9d4b7eeb2748605afe1a984a0a3bfa3f014d09e2a784ce9e5cd1a"
    );
}

#[test]
fn a_token_coming_back_in_a_link_matches_the_stored_hash_and_no_other() {
    let issued = OneTimeToken::generate(&mut OsRng);
    let stored = TokenHash::parse(issued.token_hash(&key()).as_str()).unwrap();
    let presented = OneTimeToken::parse(issued.expose_secret()).unwrap();
    assert!(presented.matches(&key(), &stored));
    let other = OneTimeToken::generate(&mut OsRng);
    assert!(!other.matches(&key(), &stored));
    assert!(!presented.matches(&other_key(), &stored), "another key");
}

#[test]
fn damaged_tokens_are_refused() {
    let good = OneTimeToken::generate(&mut OsRng)
        .expose_secret()
        .to_owned();
    let padded = format!("{good}=");
    let with_slash = format!("/{}", &good[1..]);
    for bad in ["", "abc", &good[..42], &padded, &with_slash] {
        assert_eq!(
            OneTimeToken::parse(bad).err(),
            Some(InvalidToken),
            "accepted {bad:?}"
        );
    }
}

#[test]
fn stored_hashes_must_be_64_lower_case_hex_digits() {
    let good = "a".repeat(64);
    assert!(TokenHash::parse(&good).is_ok());
    for bad in [
        "".to_owned(),
        "a".repeat(63),
        "A".repeat(64),
        "g".repeat(64),
        "a".repeat(65),
    ] {
        assert!(TokenHash::parse(&bad).is_err(), "accepted {bad:?}");
    }
}

#[test]
fn a_link_code_is_nine_unambiguous_symbols_in_groups_of_three() {
    let mut rng = StdRng::seed_from_u64(9);
    for _ in 0..1_000 {
        let code = LinkCode::generate(&mut rng);
        let groups: Vec<&str> = code.expose_secret().split('-').collect();
        assert_eq!(groups.len(), 3, "{:?}", code.expose_secret());
        for group in groups {
            assert_eq!(group.len(), 3);
            assert!(group.bytes().all(|b| LINK_ALPHABET.contains(&b)));
        }
    }
}

#[test]
fn the_link_alphabet_has_no_look_alikes_and_gives_at_least_forty_bits() {
    assert!(!LINK_ALPHABET.iter().any(|b| b"0O1IL".contains(b)));
    let unique: HashSet<&u8> = LINK_ALPHABET.iter().collect();
    assert_eq!(unique.len(), 31);
    assert!(
        LINK_ALPHABET
            .iter()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    );
    assert!(
        LinkCode::entropy_bits() >= 40.0,
        "only {:.1} bits",
        LinkCode::entropy_bits()
    );
}

#[test]
fn link_codes_use_the_whole_alphabet_and_a_seeded_generator_repeats_itself() {
    let mut rng = StdRng::seed_from_u64(10);
    let mut seen = HashSet::new();
    for _ in 0..200 {
        seen.extend(
            LinkCode::generate(&mut rng)
                .expose_secret()
                .bytes()
                .filter(|b| *b != b'-'),
        );
    }
    assert_eq!(seen.len(), LINK_ALPHABET.len());
    let a = LinkCode::generate(&mut StdRng::seed_from_u64(11));
    let b = LinkCode::generate(&mut StdRng::seed_from_u64(11));
    assert_eq!(a.expose_secret(), b.expose_secret());
}

#[test]
fn a_typed_code_is_accepted_in_any_case_with_or_without_dashes() {
    let issued = LinkCode::generate(&mut OsRng);
    let stored = issued.hash(&key());
    let shown = issued.expose_secret();
    for typed in [
        shown.to_owned(),
        shown.to_lowercase(),
        shown.replace('-', ""),
        shown.replace('-', " ").to_lowercase(),
        format!("  {shown}\n"),
    ] {
        let code = LinkCode::normalize(&typed).unwrap();
        assert_eq!(code.expose_secret(), shown, "typed {typed:?}");
        assert!(code.matches(&key(), &stored), "typed {typed:?}");
    }
}

#[test]
fn a_link_code_hash_is_the_hex_hmac_sha256_of_its_symbols_without_dashes() {
    // Expected value from `printf 'hallpass link code v1\nABCDEFGHJ' |
    // openssl dgst -sha256 -mac HMAC -macopt hexkey:000102…1f`.
    let code = LinkCode::normalize("abc-def-ghj").unwrap();
    assert_eq!(
        code.hash(&key()).as_str(),
        "1d14f759f962fbfcf6737e6de60e248ee08974b5a20801dad4510298e7fb439e"
    );
}

#[test]
fn a_code_hashed_under_one_key_does_not_match_under_another() {
    let code = LinkCode::normalize("ABC-DEF-GHJ").unwrap();
    let stored = code.hash(&key());
    assert!(code.matches(&key(), &stored));
    assert!(!code.matches(&other_key(), &stored));
}

#[test]
fn a_different_code_does_not_match() {
    let stored = LinkCode::normalize("ABC-DEF-GHJ").unwrap().hash(&key());
    assert!(
        !LinkCode::normalize("ABC-DEF-GHK")
            .unwrap()
            .matches(&key(), &stored)
    );
}

#[test]
fn things_that_cannot_be_link_codes_are_refused() {
    for bad in [
        "",
        "ABC-DEF-GH",
        "ABC-DEF-GHJK",
        "ABC-DEF-GH0",
        "ABC-DEF-GHO",
        "ABC-DEF-GH1",
        "abc-def-ghl",
        "ABC-DEF-GHÉ",
        "ABC_DEF_GHJ",
    ] {
        assert_eq!(
            LinkCode::normalize(bad).err(),
            Some(InvalidLinkCode),
            "accepted {bad:?}"
        );
    }
}

#[test]
fn the_example_in_the_refusal_is_itself_a_valid_code() {
    let message = InvalidLinkCode.to_string();
    let example = message.trim_end_matches('.').rsplit(' ').next().unwrap();
    assert!(LinkCode::normalize(example).is_ok(), "{example:?}");
}

#[test]
fn debug_shows_nothing_of_a_secret_or_its_hash() {
    let token = OneTimeToken::generate(&mut OsRng);
    let code = LinkCode::generate(&mut OsRng);
    let hash = token.token_hash(&key());
    for (debug, secret) in [
        (format!("{token:?}"), token.expose_secret().to_owned()),
        (format!("{code:?}"), code.expose_secret().to_owned()),
        (format!("{hash:?}"), hash.as_str().to_owned()),
    ] {
        assert!(
            !debug.contains(&secret) && debug.contains("<redacted>"),
            "{debug}"
        );
    }
}
