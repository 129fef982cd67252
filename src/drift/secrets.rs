//! Comparing values without ever showing them: a Secret's data, and `checksum/` annotations.
//!
//! A Secret is compared through a SHA-256 of each key's bytes, so `stringData: {a: x}` equals
//! `data: {a: eA==}` and nothing of a value is kept. Neither values nor their hashes are shown
//! (a hash of a short password can be guessed back): a hidden field reads `(hidden)`, or
//! `(hidden, changed)` on the live side when it differs.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::path::Seg;

/// What a hidden value is shown as.
pub(crate) const HIDDEN: &str = "(hidden)";
/// What a hidden value that differs from Git's is shown as on the live side.
pub(crate) const HIDDEN_CHANGED: &str = "(hidden, changed)";

/// Whether the value at `path` must not be shown: a Secret's `data` entries, and annotations
/// whose key contains `checksum/` (which fingerprint a config that may hold secrets).
pub(crate) fn is_hidden(path: &[Seg<'_>], secret: bool) -> bool {
    match path {
        [Seg::Field("data"), Seg::Field(_)] => secret,
        [.., Seg::Field("annotations"), Seg::Field(key)] => key.contains("checksum/"),
        _ => false,
    }
}

/// `secret` with `data` and `stringData` replaced by one `data` map of value hashes
/// (`stringData` wins on a key both have, as the API server merges them).
pub(crate) fn hashed(secret: &Value) -> Value {
    let Some(map) = secret.as_object() else {
        return secret.clone();
    };
    let mut out = Map::with_capacity(map.len());
    let mut hashes = Map::new();
    for (key, value) in map {
        match (key.as_str(), value) {
            ("data", Value::Object(data)) => {
                for (k, v) in data.iter().filter(|(_, v)| !v.is_null()) {
                    let bytes = v.as_str().and_then(|s| STANDARD.decode(s.trim()).ok());
                    let hash = match bytes {
                        Some(bytes) => digest(&bytes),
                        None => digest(format!("not base64: {v}").as_bytes()),
                    };
                    hashes.entry(k.clone()).or_insert(hash);
                }
            }
            ("stringData", Value::Object(data)) => {
                for (k, v) in data.iter().filter(|(_, v)| !v.is_null()) {
                    let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    hashes.insert(k.clone(), digest(text.as_bytes()));
                }
            }
            ("data" | "stringData", _) => {}
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if !hashes.is_empty() {
        out.insert("data".to_owned(), Value::Object(hashes));
    }
    Value::Object(out)
}

fn digest(bytes: &[u8]) -> Value {
    Value::String(format!("sha256:{}", hex::encode(Sha256::digest(bytes))))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn string_data_hashes_as_its_base64_in_data_does() {
        let a = hashed(&json!({"kind": "Secret", "stringData": {"a": "x"}}));
        let b = hashed(&json!({"kind": "Secret", "data": {"a": "eA=="}}));
        assert_eq!(a, b);
        assert!(!a.to_string().contains("eA=="));
    }

    #[test]
    fn secret_data_and_checksum_annotations_are_hidden() {
        assert!(is_hidden(
            &[Seg::Field("data"), Seg::Field("password")],
            true
        ));
        assert!(!is_hidden(
            &[Seg::Field("data"), Seg::Field("config")],
            false
        ));
        let checksum = [
            Seg::Field("spec"),
            Seg::Field("template"),
            Seg::Field("metadata"),
            Seg::Field("annotations"),
            Seg::Field("checksum/config"),
        ];
        assert!(is_hidden(&checksum, false));
    }
}
