use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};

use super::*;

fn fast() -> PasswordHasher {
    PasswordHasher::new(HashParams::insecure_fast_for_tests_only()).unwrap()
}

fn owasp() -> PasswordHasher {
    PasswordHasher::new(HashParams::owasp()).unwrap()
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s)
}

#[tokio::test]
async fn a_hashed_password_verifies() {
    let hasher = fast();
    let hash = hasher.hash(&secret("maple-river-quiet-472")).await.unwrap();
    assert!(
        hasher
            .verify(&secret("maple-river-quiet-472"), &hash)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_wrong_password_does_not_verify() {
    let hasher = fast();
    let hash = hasher.hash(&secret("maple-river-quiet-472")).await.unwrap();
    assert!(
        !hasher
            .verify(&secret("maple-river-quiet-473"), &hash)
            .await
            .unwrap()
    );
    assert!(!hasher.verify(&secret(""), &hash).await.unwrap());
}

#[tokio::test]
async fn owasp_hashes_are_argon2id_with_owasp_parameters_and_verify_under_other_parameters() {
    let hash = owasp().hash(&secret("correct horse")).await.unwrap();
    assert!(
        hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "unexpected PHC prefix"
    );
    assert!(
        fast()
            .verify(&secret("correct horse"), &hash)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_hash_made_with_cheap_parameters_still_verifies_under_the_owasp_policy() {
    let hash = fast().hash(&secret("correct horse")).await.unwrap();
    assert!(hash.as_str().starts_with("$argon2id$v=19$m=8,t=1,p=1$"));
    assert!(
        owasp()
            .verify(&secret("correct horse"), &hash)
            .await
            .unwrap()
    );
    assert!(!owasp().verify(&secret("wrong horse"), &hash).await.unwrap());
}

#[tokio::test]
async fn two_hashes_of_one_password_differ_because_each_has_its_own_salt() {
    let hasher = fast();
    let first = hasher.hash(&secret("same password")).await.unwrap();
    let second = hasher.hash(&secret("same password")).await.unwrap();
    assert_ne!(first.as_str(), second.as_str());
}

#[tokio::test]
async fn a_stored_hash_reads_back_and_still_verifies() {
    let hasher = fast();
    let stored = hasher
        .hash(&secret("read me back"))
        .await
        .unwrap()
        .as_str()
        .to_owned();
    let hash = PasswordHash::parse(&stored).unwrap();
    assert_eq!(hash.as_str(), stored);
    assert!(hasher.verify(&secret("read me back"), &hash).await.unwrap());
}

#[test]
fn anything_but_a_complete_argon2id_phc_string_is_refused() {
    let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, Params::default())
        .hash_password(
            b"pw",
            &SaltString::from_b64("c29tZXNhbHRzb21lc2FsdA").unwrap(),
        )
        .unwrap()
        .to_string();
    for bad in [
        "",
        "hunter2",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        &argon2i,
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA",
        "$argon2id$v=19$m=1,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
    ] {
        assert!(PasswordHash::parse(bad).is_err(), "accepted {bad:?}");
    }
}

#[tokio::test]
async fn the_debug_form_of_a_hash_shows_none_of_it() {
    let hash = fast().hash(&secret("secret")).await.unwrap();
    let debug = format!("{hash:?}");
    assert_eq!(debug, "PasswordHash(<redacted>)");
    assert!(!debug.contains("argon2"));
}

#[tokio::test]
async fn zoe_typed_composed_decomposed_or_fullwidth_verifies_alike() {
    let hasher = fast();
    let hash = hasher
        .hash(&secret("Zo\u{00EB} loves quiet tacos"))
        .await
        .unwrap();
    for typed in [
        "Zoe\u{0308} loves quiet tacos",
        "\u{FF3A}\u{FF4F}\u{00EB} loves quiet tacos",
    ] {
        assert!(
            hasher.verify(&secret(typed), &hash).await.unwrap(),
            "{typed}"
        );
    }
    let decomposed = hasher.hash(&secret("Zoe\u{0308}")).await.unwrap();
    assert!(
        hasher
            .verify(&secret("Zo\u{00EB}"), &decomposed)
            .await
            .unwrap()
    );
    assert!(!hasher.verify(&secret("Zoe"), &decomposed).await.unwrap());
}

#[tokio::test]
async fn every_verification_is_counted_and_a_dummy_one_counts_once() {
    let hasher = fast();
    let hash = hasher.hash(&secret("counted")).await.unwrap();
    assert_eq!(hasher.verifications(), 0, "hashing is not verifying");
    hasher.verify(&secret("counted"), &hash).await.unwrap();
    hasher.verify(&secret("wrong"), &hash).await.unwrap();
    assert_eq!(hasher.verifications(), 2);
    hasher.verify_dummy(&secret("anything")).await.unwrap();
    assert_eq!(hasher.verifications(), 3);
    let clone = hasher.clone();
    clone.verify_dummy(&secret("anything")).await.unwrap();
    assert_eq!(hasher.verifications(), 4, "clones share the count");
}

#[tokio::test]
async fn the_dummy_hash_is_made_with_the_hashers_own_parameters() {
    let dummy = owasp().prepare_dummy().await.unwrap();
    assert!(
        dummy
            .as_str()
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );
    let cheap = fast().prepare_dummy().await.unwrap();
    assert!(cheap.as_str().starts_with("$argon2id$v=19$m=8,t=1,p=1$"));
}

#[tokio::test]
async fn a_hash_with_weaker_parameters_needs_rehashing_and_an_equal_one_does_not() {
    let cheap = fast().hash(&secret("pw")).await.unwrap();
    let strong = owasp().hash(&secret("pw")).await.unwrap();
    assert!(owasp().needs_rehash(&cheap));
    assert!(!owasp().needs_rehash(&strong));
    assert!(
        !fast().needs_rehash(&strong),
        "stronger than policy is kept"
    );
    assert!(!fast().needs_rehash(&cheap));
}

#[test]
fn the_parameters_are_described_as_in_a_phc_string() {
    assert_eq!(owasp().params_description(), "m=19456,t=2,p=1");
    assert_eq!(fast().params_description(), "m=8,t=1,p=1");
}

#[test]
fn a_hasher_runs_as_many_hashes_at_once_as_there_are_cores() {
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(fast().permits.available_permits(), cores);
}

#[tokio::test(flavor = "current_thread")]
async fn hashing_runs_off_the_async_runtime() {
    // Both futures share one thread. Had the hash run inline, it would be
    // finished before the second future is first polled.
    let hasher = owasp();
    let hashed = AtomicBool::new(false);
    let ((), finished_before_the_other_task_ran) = tokio::join!(
        async {
            hasher.hash(&secret("blocking pool")).await.unwrap();
            hashed.store(true, Ordering::SeqCst);
        },
        async { hashed.load(Ordering::SeqCst) },
    );
    assert!(!finished_before_the_other_task_ran);
    assert!(hashed.load(Ordering::SeqCst));
}

#[tokio::test(flavor = "current_thread")]
async fn an_abandoned_hash_keeps_its_permit_until_it_really_ends() {
    // Eight iterations over 19 MiB: far longer than the few instructions
    // between dropping the future and counting permits.
    let slow = PasswordHasher::new(HashParams {
        iterations: 8,
        ..HashParams::owasp()
    })
    .unwrap();
    let cores = slow.permits.available_permits();
    let password = secret("abandoned");
    {
        let mut hashing = pin!(slow.hash(&password));
        let finished = tokio::select! {
            biased;
            result = &mut hashing => Some(result),
            () = std::future::ready(()) => None,
        };
        assert!(finished.is_none());
    }
    assert_eq!(slow.permits.available_permits(), cores - 1);
    // Once the abandoned hash ends, every permit comes back.
    let all = slow
        .permits
        .acquire_many(u32::try_from(cores).unwrap())
        .await
        .unwrap();
    drop(all);
    assert_eq!(slow.permits.available_permits(), cores);
}
