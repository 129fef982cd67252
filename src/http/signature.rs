//! `X-Hub-Signature-256`: HMAC-SHA256 of the raw body with the webhook secret.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Whether `header` (`sha256=<64 hex>`) signs `body` with `secret`. The comparison is constant
/// time (`Mac::verify_slice`), so response timing tells an attacker nothing about the digest.
pub fn is_valid(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_digest) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_digest) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// The header value GitHub would send for `body`; used by tests, benches and `receive`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes keys of any length; this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_githubs_documented_example() {
        // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(is_valid(
            b"It's a Secret to Everybody",
            b"Hello, World!",
            header
        ));
    }

    #[test]
    fn rejects_wrong_secret_body_or_format() {
        let header = sign(b"secret", b"body");
        assert!(is_valid(b"secret", b"body", &header));
        assert!(!is_valid(b"other", b"body", &header));
        assert!(!is_valid(b"secret", b"body!", &header));
        assert!(!is_valid(
            b"secret",
            b"body",
            &header.replace("sha256=", "sha1=")
        ));
        assert!(!is_valid(b"secret", b"body", "sha256=zz"));
        assert!(!is_valid(b"secret", b"body", ""));
    }
}
