//! Who may register the App on a fresh server, and from which browser.
//!
//! Before setup anyone who reaches the server could otherwise register *their* App and make
//! gitferry adopt it. Three locks, all needed:
//! - a one-time **setup token**, random per start, printed in `serve`'s log: only someone who
//!   can read the log gets a registration page (no exemption for loopback clients — behind a
//!   reverse proxy every client looks local);
//! - each `state` handed to GitHub is bound to a **browser secret** kept in an HttpOnly cookie,
//!   so a state that leaks (a log, a shared screen) is useless from another browser;
//! - states **expire by time** (one hour), never by count: no number of requests can evict the
//!   admin's state, and a flood of issues is refused instead of clearing anything.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How long a registration started from the setup page may take to come back.
pub const STATE_TTL: Duration = Duration::from_secs(60 * 60);

/// Live states at most; beyond that new ones are refused (old ones are never evicted early).
const MAX_LIVE_STATES: usize = 1000;

/// The cookie holding the browser secret; scoped to the callback, which alone reads it.
pub const COOKIE: &str = "gitferry_setup";

pub struct SetupGuard {
    token: SecretString,
    issued: Mutex<HashMap<String, Issued>>,
    ttl: Duration,
}

struct Issued {
    /// SHA-256 of the browser secret, so the map holds nothing a cookie could be made from.
    browser: [u8; 32],
    at: Instant,
}

/// A state to send to GitHub and the browser secret to set as a cookie alongside it.
pub struct Grant {
    pub state: String,
    pub browser_secret: String,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("unknown or missing state: start again from the setup page")]
    UnknownState,
    #[error("this registration was started more than an hour ago: start again from the setup page")]
    Expired,
    #[error(
        "this registration was started in another browser (no setup cookie): finish it there, or start again from the setup page"
    )]
    OtherBrowser,
    #[error("too many registrations started in the last hour; try again later")]
    TooMany,
    #[error("no random numbers: {0}")]
    Random(String),
}

impl SetupGuard {
    /// A guard with a fresh random setup token.
    pub fn new() -> Result<Self, getrandom::Error> {
        Ok(Self::with_token(random_hex()?, STATE_TTL))
    }

    pub fn with_token(token: String, ttl: Duration) -> Self {
        Self {
            token: SecretString::from(token),
            issued: Mutex::default(),
            ttl,
        }
    }

    pub fn token(&self) -> &SecretString {
        &self.token
    }

    /// Whether `candidate` is the setup token; constant time, so timing reveals no prefix.
    pub fn token_matches(&self, candidate: &str) -> bool {
        let expected = self.token.expose_secret().as_bytes();
        bool::from(candidate.trim().as_bytes().ct_eq(expected))
    }

    /// Issues a state bound to `browser_secret` (the browser's existing cookie, when it has a
    /// well-formed one, so several tabs of one browser all work), or to a fresh secret.
    pub fn issue(&self, browser_secret: Option<&str>, now: Instant) -> Result<Grant, Refusal> {
        let random = |_| random_hex().map_err(|err| Refusal::Random(err.to_string()));
        let browser_secret = match browser_secret.filter(|s| is_secret_shaped(s)) {
            Some(secret) => secret.to_owned(),
            None => random(())?,
        };
        let state = random(())?;
        let mut issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
        issued.retain(|_, grant| now.saturating_duration_since(grant.at) < self.ttl);
        if issued.len() >= MAX_LIVE_STATES {
            return Err(Refusal::TooMany);
        }
        issued.insert(
            state.clone(),
            Issued {
                browser: digest(&browser_secret),
                at: now,
            },
        );
        Ok(Grant {
            state,
            browser_secret,
        })
    }

    /// Takes `state` back once, from the browser it was issued to, within its time.
    pub fn redeem(
        &self,
        state: Option<&str>,
        browser_secret: Option<&str>,
        now: Instant,
    ) -> Result<(), Refusal> {
        let state = state.ok_or(Refusal::UnknownState)?;
        let mut issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
        let grant = issued.get(state).ok_or(Refusal::UnknownState)?;
        if now.saturating_duration_since(grant.at) >= self.ttl {
            issued.remove(state);
            return Err(Refusal::Expired);
        }
        // A request without the cookie does not burn the state: the admin can still finish.
        let same_browser =
            browser_secret.is_some_and(|secret| bool::from(digest(secret).ct_eq(&grant.browser)));
        if !same_browser {
            return Err(Refusal::OtherBrowser);
        }
        issued.remove(state);
        Ok(())
    }
}

fn random_hex() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

fn is_secret_shaped(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> SetupGuard {
        SetupGuard::with_token("t0ken".into(), STATE_TTL)
    }

    #[test]
    fn only_the_exact_token_opens_the_setup() {
        let guard = guard();
        assert!(guard.token_matches("t0ken"));
        assert!(guard.token_matches(" t0ken\n"), "pasted with whitespace");
        for wrong in ["", "t0ke", "t0ken0", "T0KEN"] {
            assert!(!guard.token_matches(wrong), "{wrong:?}");
        }
    }

    #[test]
    fn a_state_comes_back_once_from_its_own_browser() {
        let guard = guard();
        let now = Instant::now();
        let grant = guard.issue(None, now).expect("issued");
        assert_eq!(
            guard.redeem(Some(&grant.state), None, now),
            Err(Refusal::OtherBrowser)
        );
        assert_eq!(
            guard.redeem(Some(&grant.state), Some(&"0".repeat(64)), now),
            Err(Refusal::OtherBrowser)
        );
        guard
            .redeem(Some(&grant.state), Some(&grant.browser_secret), now)
            .expect("the admin's browser, still in time");
        assert_eq!(
            guard.redeem(Some(&grant.state), Some(&grant.browser_secret), now),
            Err(Refusal::UnknownState),
            "replayed"
        );
    }

    #[test]
    fn an_expired_state_is_refused() {
        let guard = guard();
        let then = Instant::now();
        let grant = guard.issue(None, then).expect("issued");
        let later = then + STATE_TTL + Duration::from_secs(1);
        assert_eq!(
            guard.redeem(Some(&grant.state), Some(&grant.browser_secret), later),
            Err(Refusal::Expired)
        );
    }

    #[test]
    fn a_flood_of_issues_never_evicts_a_live_state() {
        let guard = guard();
        let now = Instant::now();
        let admin = guard.issue(None, now).expect("issued");
        let refused = (0..1_002)
            .map(|_| guard.issue(None, now))
            .filter(|issued| issued.as_ref().is_err_and(|e| *e == Refusal::TooMany))
            .count();
        assert_eq!(refused, 1_002 - (MAX_LIVE_STATES - 1));
        guard
            .redeem(Some(&admin.state), Some(&admin.browser_secret), now)
            .expect("the admin's state survived the flood");
        // An hour later the flood has expired and states are issued again.
        guard
            .issue(None, now + STATE_TTL)
            .expect("room again after expiry");
    }

    #[test]
    fn one_browser_keeps_its_secret_across_tabs() {
        let guard = guard();
        let now = Instant::now();
        let first = guard.issue(None, now).expect("issued");
        let second = guard
            .issue(Some(&first.browser_secret), now)
            .expect("issued");
        assert_eq!(first.browser_secret, second.browser_secret);
        for grant in [first, second] {
            guard
                .redeem(Some(&grant.state), Some(&grant.browser_secret), now)
                .expect("both tabs finish");
        }
        let forged = guard.issue(Some("not-hex"), now).expect("issued");
        assert_eq!(
            forged.browser_secret.len(),
            64,
            "a malformed cookie is replaced"
        );
    }
}
