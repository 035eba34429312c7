//! Idempotency keys for creating PaymentIntents.

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Maximum length of a Stripe idempotency key, in characters.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

/// Maximum length of a fingerprint that goes into the key unchanged. Longer ones are hashed.
const MAX_PLAIN_FINGERPRINT_CHARS: usize = 64;

/// Builds the `Idempotency-Key` for creating the PaymentIntent of one registration and quote.
///
/// The key is `reg_<registration id>_<fingerprint>`. A double submit of the same basket
/// therefore gets Stripe's stored response for the first PaymentIntent, and a changed
/// basket (new [`crate::pricing::Quote::fingerprint`]) gets a new one. A fingerprint that is
/// empty, longer than 64 characters or not made of ASCII letters, digits, `_` and `-` is
/// replaced by its SHA-256 in hex, so the key stays at most 105 characters.
pub fn idempotency_key(registration_id: Uuid, quote_fingerprint: &str) -> String {
    let fingerprint_is_plain = !quote_fingerprint.is_empty()
        && quote_fingerprint.len() <= MAX_PLAIN_FINGERPRINT_CHARS
        && quote_fingerprint
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-');
    let fingerprint = if fingerprint_is_plain {
        quote_fingerprint.to_owned()
    } else {
        hex::encode(Sha256::digest(quote_fingerprint.as_bytes()))
    };
    format!("reg_{}_{fingerprint}", registration_id.hyphenated())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration_id() -> Uuid {
        Uuid::parse_str("9b2f3c1e-4d5a-4e6f-8a7b-1c2d3e4f5a6b").unwrap()
    }

    #[test]
    fn key_contains_id_and_fingerprint() {
        let key = idempotency_key(registration_id(), "0123456789abcdef0123456789abcdef");

        assert_eq!(
            key,
            "reg_9b2f3c1e-4d5a-4e6f-8a7b-1c2d3e4f5a6b_0123456789abcdef0123456789abcdef"
        );
    }

    #[test]
    fn key_is_stable_for_same_input() {
        let first = idempotency_key(registration_id(), "abc");
        let second = idempotency_key(registration_id(), "abc");

        assert_eq!(first, second);
    }

    #[test]
    fn different_fingerprints_give_different_keys() {
        let first = idempotency_key(registration_id(), "abc");
        let second = idempotency_key(registration_id(), "abd");

        assert_ne!(first, second);
    }

    #[test]
    fn unusual_fingerprints_are_hashed() {
        let cases = ["", "with space", "ümlaut", &"x".repeat(1_000)];
        for fingerprint in cases {
            let key = idempotency_key(registration_id(), fingerprint);

            assert!(key.len() <= MAX_IDEMPOTENCY_KEY_CHARS, "{key}");
            let hash = key.rsplit('_').next().unwrap();
            assert_eq!(hash.len(), 64, "{key}");
            assert!(hash.bytes().all(|byte| byte.is_ascii_hexdigit()), "{key}");
        }
    }

    #[test]
    fn long_fingerprints_do_not_collide() {
        let base = "x".repeat(200);

        let first = idempotency_key(registration_id(), &format!("{base}1"));
        let second = idempotency_key(registration_id(), &format!("{base}2"));

        assert_ne!(first, second);
    }
}
