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

/// An HMAC computed while the body arrives, chunk by chunk: hashing a 25 MB body in one go
/// would hold a runtime thread for the whole time, and other requests (`/healthz`) with it.
pub struct Verifier(Hmac<Sha256>);

impl Verifier {
    pub fn new(secret: &[u8]) -> Self {
        match Hmac::<Sha256>::new_from_slice(secret) {
            Ok(mac) => Self(mac),
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        }
    }

    pub fn update(&mut self, chunk: &[u8]) {
        self.0.update(chunk);
    }

    /// Whether `header` (`sha256=<64 hex>`) signs everything passed to [`Self::update`];
    /// constant time like [`is_valid`].
    pub fn verify(self, header: &str) -> bool {
        let Some(expected) = header
            .strip_prefix("sha256=")
            .and_then(|digest| hex::decode(digest).ok())
        else {
            return false;
        };
        self.0.verify_slice(&expected).is_ok()
    }
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

    #[test]
    fn a_body_verified_in_chunks_is_verified_as_a_whole() {
        let header = sign(b"secret", b"Hello, World!");
        let mut verifier = Verifier::new(b"secret");
        for chunk in [&b"Hello"[..], b", ", b"World!"] {
            verifier.update(chunk);
        }
        assert!(verifier.verify(&header));
        let mut short = Verifier::new(b"secret");
        short.update(b"Hello, World");
        assert!(!short.verify(&header));
        assert!(!Verifier::new(b"secret").verify("sha256=zz"));
    }
}
