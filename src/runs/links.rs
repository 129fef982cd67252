//! The tokens that guard run logs. A log can show cluster names, URLs and whatever a deploy
//! script or a test prints, so `/runs/<id>` answers only with the token from the link people
//! see on GitHub, and the store keeps nothing that opens a log: only the token's SHA-256.
//!
//! # Why the token is derived, not random
//!
//! A link must be shown again long after it was issued: a step's check run is redrawn by
//! whichever replica reports it, the Tests section lists every step's log, and a notification
//! is sent from the outbox after the work that queued it is gone. Keeping the link in the
//! store would put the token next to the log it opens (anyone who can read a backup or a
//! replica of the store reads every log through the public URL). Instead the token is
//! `HMAC-SHA256(key, run id)` (128 bits, hex), with a key that lives in gitferry's settings,
//! never in the store, so any replica can derive it again from the id alone.
//!
//! The store still keeps `SHA-256(token)` per run, and `/runs` checks the hash, not the key.
//! That way a link stays valid when the key changes (rotation, or a replica without the key)
//! and links issued before tokens were derived (random ones, migration 0008) keep working;
//! such runs simply show no link when redrawn, because [`RunLinks::shown`] only offers a
//! derived link whose hash is the stored one. A link that would not open is never shown.
//!
//! The key: `GITFERRY_RUN_LINK_KEY` when set (share it between replicas); else one derived
//! from the webhook secret, which every replica already shares and which never leaves the
//! process (HMAC with a label of its own, so a token reveals nothing about the secret); else a
//! random key per process, so links are redrawn only by the process that issued them.

use hmac::{KeyInit, Mac};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::settings::Settings;

type HmacSha256 = hmac::Hmac<Sha256>;

/// Separates this use of the webhook secret from GitHub's signatures.
const KEY_LABEL: &[u8] = b"gitferry run-log links v1";

/// A notification's link to a run's log, as queued in the outbox: `gitferry-run:<id>`. The
/// sender turns it into the tokened link when it sends ([`RunLinks::resolve`]), so the outbox,
/// like the rest of the store, never holds a token.
pub const LOG_REF_SCHEME: &str = "gitferry-run:";

/// Makes and redraws run-log links.
pub struct RunLinks {
    key: [u8; 32],
    public_url: String,
}

impl std::fmt::Debug for RunLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunLinks")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

/// A new run's link: the URL to show and the hash to store.
pub struct Issued {
    pub url: String,
    pub token_hash: String,
}

impl RunLinks {
    /// Links under `public_url`, with tokens keyed by `secret` (any length; it is condensed
    /// to a 256-bit key with its own label).
    pub fn new(secret: &[u8], public_url: &str) -> Self {
        Self {
            key: hmac(secret, KEY_LABEL),
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The key the settings name (see the module's documentation for the order).
    pub fn from_settings(settings: &Settings) -> Self {
        let public_url = settings.public_url();
        if let Some(key) = &settings.run_link_key {
            return Self::new(key.expose_secret().as_bytes(), &public_url);
        }
        if let Some(secret) = &settings.github_webhook_secret {
            return Self::new(secret.expose_secret().as_bytes(), &public_url);
        }
        let mut random = [0u8; 32];
        if getrandom::fill(&mut random).is_err() {
            // No randomness: no key anyone could guess either; links are then only valid
            // by their stored hash, and redrawn ones are left out.
            tracing::error!("no randomness for the run-link key; set GITFERRY_RUN_LINK_KEY");
        }
        tracing::warn!(
            "neither GITFERRY_RUN_LINK_KEY nor GITHUB_WEBHOOK_SECRET is set: run-log links \
             are redrawn only by this process until it restarts"
        );
        Self::new(&random, &public_url)
    }

    /// The token of run `id` (128 bits, hex).
    fn token(&self, id: &str) -> String {
        hex::encode(&hmac(&self.key, id.as_bytes())[..16])
    }

    /// The link to run `id`'s log, with its token.
    pub fn url(&self, id: &str) -> String {
        format!("{}/runs/{id}?token={}", self.public_url, self.token(id))
    }

    /// A new run's link and the hash the store keeps of its token.
    pub fn issue(&self, id: &str) -> Issued {
        Issued {
            url: self.url(id),
            token_hash: token_hash(&self.token(id)),
        }
    }

    /// The link to show for a stored run: `None` unless the derived token is the one whose
    /// hash is stored (a run not started yet, one from before derived tokens, a changed key).
    pub fn shown(&self, id: &str, stored_hash: &str) -> Option<String> {
        token_matches(&self.token(id), stored_hash).then(|| self.url(id))
    }

    /// A notification link as queued: [`log_ref`]s become tokened links, others stay.
    pub fn resolve(&self, url: &str) -> String {
        match url.strip_prefix(LOG_REF_SCHEME) {
            Some(id) => self.url(id),
            None => url.to_owned(),
        }
    }
}

/// What a queued notification links to for run `id`'s log (see [`LOG_REF_SCHEME`]).
pub fn log_ref(id: &str) -> String {
    format!("{LOG_REF_SCHEME}{id}")
}

/// A new run's id: 64 random bits, hex.
pub fn new_id() -> Result<String, getrandom::Error> {
    let mut id = [0u8; 8];
    getrandom::fill(&mut id)?;
    Ok(hex::encode(id))
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `token` is the one whose hash is stored, compared in constant time.
pub fn token_matches(token: &str, stored_hash: &str) -> bool {
    let given = Sha256::digest(token.as_bytes());
    let Ok(stored) = hex::decode(stored_hash) else {
        return false;
    };
    stored.len() == given.len()
        && stored
            .iter()
            .zip(given.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // HMAC takes keys of any length, so `new_from_slice` cannot fail.
    if let Ok(mut mac) = <HmacSha256 as KeyInit>::new_from_slice(key) {
        mac.update(message);
        out.copy_from_slice(&mac.finalize().into_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links() -> RunLinks {
        RunLinks::new(b"a webhook secret", "https://gitferry.example.com/")
    }

    fn token_of(url: &str) -> &str {
        url.split_once("?token=").map(|(_, t)| t).unwrap()
    }

    #[test]
    fn a_link_opens_its_own_log_only() {
        let issued = links().issue("7f3a9c01d2e4b5a6");
        assert!(
            issued
                .url
                .starts_with("https://gitferry.example.com/runs/7f3a9c01d2e4b5a6?token="),
            "{}",
            issued.url
        );
        let token = token_of(&issued.url);
        assert_eq!(token.len(), 32);
        assert!(token_matches(token, &issued.token_hash));
        let other = links().issue("0000000000000000");
        assert!(
            !token_matches(token, &other.token_hash),
            "another run's hash"
        );
        assert!(!token_matches(&"0".repeat(32), &issued.token_hash));
        assert!(!token_matches(token, "not hex"));
        assert!(!issued.token_hash.contains(token), "only the hash is kept");
    }

    #[test]
    fn any_replica_with_the_key_redraws_the_link_and_no_one_else_can() {
        let issued = links().issue("7f3a9c01d2e4b5a6");
        assert_eq!(
            links().shown("7f3a9c01d2e4b5a6", &issued.token_hash),
            Some(issued.url.clone()),
            "the same key, another process"
        );
        let other_key = RunLinks::new(b"another secret", "https://gitferry.example.com");
        assert_eq!(
            other_key.shown("7f3a9c01d2e4b5a6", &issued.token_hash),
            None,
            "a link that would not open is not shown"
        );
        assert_ne!(
            token_of(&other_key.url("7f3a9c01d2e4b5a6")),
            token_of(&issued.url)
        );
        let random_before_0008 = token_hash("0123456789abcdef0123456789abcdef");
        assert_eq!(links().shown("7f3a9c01d2e4b5a6", &random_before_0008), None);
    }

    #[test]
    fn queued_notifications_hold_a_reference_and_get_the_link_when_sent() {
        let reference = log_ref("7f3a9c01d2e4b5a6");
        assert!(!reference.contains("token"));
        assert_eq!(links().resolve(&reference), links().url("7f3a9c01d2e4b5a6"));
        assert_eq!(
            links().resolve("https://github.com/acme/shop/pull/7"),
            "https://github.com/acme/shop/pull/7"
        );
    }
}
