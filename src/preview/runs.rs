//! Run ids and the tokens that guard their logs. A log can show cluster names, URLs and
//! whatever a deploy script prints, so `/runs/<id>` answers only with the token from the
//! link GitHub users see on the PR; the store keeps only the token's SHA-256.

use sha2::{Digest, Sha256};

/// A new run's id and token (both random; the token is 128 bits).
pub fn new_id_and_token() -> Result<(String, String), getrandom::Error> {
    let mut id = [0u8; 8];
    let mut token = [0u8; 16];
    getrandom::fill(&mut id)?;
    getrandom::fill(&mut token)?;
    Ok((hex::encode(id), hex::encode(token)))
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

/// The link to a run's log.
pub fn log_url(public_url: &str, id: &str, token: &str) -> String {
    format!(
        "{}/runs/{id}?token={token}",
        public_url.trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_issued_token_opens_the_log() {
        let (id, token) = new_id_and_token().unwrap();
        assert_eq!((id.len(), token.len()), (16, 32));
        let stored = token_hash(&token);
        assert!(token_matches(&token, &stored));
        assert!(!token_matches("0".repeat(32).as_str(), &stored));
        assert!(!token_matches(&token, "not hex"));
        assert_eq!(
            log_url("https://gitferry.example.com/", "ab", "cd"),
            "https://gitferry.example.com/runs/ab?token=cd"
        );
    }
}
