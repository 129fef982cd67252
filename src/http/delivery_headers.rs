//! The headers of a webhook delivery, checked before a byte of its body is read.
//!
//! GitHub signs the body only: the headers of a captured delivery can be replayed with any
//! value, so each one is held to GitHub's own format and length. A value that does not fit is
//! refused with the reason, instead of being stored and repeated in every log line.

use axum::http::{HeaderMap, StatusCode};

/// Why the headers alone already rule a request out: the status and a one-line reason.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("missing X-Hub-Signature-256")]
    MissingSignature,
    #[error("malformed X-Hub-Signature-256: expected sha256= and 64 hex digits")]
    MalformedSignature,
    #[error("missing {0} header")]
    Missing(&'static str),
    #[error("X-GitHub-Event must be 1 to 64 lowercase letters or underscores")]
    BadEvent,
    #[error("X-GitHub-Delivery must be a GitHub delivery GUID (8-4-4-4-12 hex digits)")]
    BadDeliveryId,
}

impl HeaderError {
    /// A request without a usable signature is not authenticated (401); the rest are
    /// malformed requests (400).
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingSignature | Self::MalformedSignature => StatusCode::UNAUTHORIZED,
            Self::Missing(_) | Self::BadEvent | Self::BadDeliveryId => StatusCode::BAD_REQUEST,
        }
    }
}

/// The headers of a delivery that may be worth reading the body of.
#[derive(Debug)]
pub struct DeliveryHeaders {
    pub signature: String,
    pub event: String,
    pub delivery_id: String,
}

impl DeliveryHeaders {
    /// Checks the signature header first, so an unsigned request learns nothing else.
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, HeaderError> {
        let signature =
            header(headers, "x-hub-signature-256").ok_or(HeaderError::MissingSignature)?;
        if !is_signature_shaped(signature) {
            return Err(HeaderError::MalformedSignature);
        }
        let required = |name: &'static str| {
            header(headers, name)
                .filter(|value| !value.is_empty())
                .ok_or(HeaderError::Missing(name))
        };
        let event = required("X-GitHub-Event")?;
        let delivery_id = required("X-GitHub-Delivery")?;
        if !is_event_name(event) {
            return Err(HeaderError::BadEvent);
        }
        if !is_delivery_id(delivery_id) {
            return Err(HeaderError::BadDeliveryId);
        }
        Ok(Self {
            signature: signature.to_owned(),
            event: event.to_owned(),
            delivery_id: delivery_id.to_owned(),
        })
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// `sha256=` followed by exactly 64 hex digits, as GitHub sends it.
fn is_signature_shaped(value: &str) -> bool {
    value
        .strip_prefix("sha256=")
        .is_some_and(|digest| digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// GitHub's event names are short snake_case words (`pull_request_review_comment`).
fn is_event_name(value: &str) -> bool {
    (1..=64).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

/// A GUID as GitHub writes it in `X-GitHub-Delivery`: 36 characters, 8-4-4-4-12 hex digits.
pub fn is_delivery_id(value: &str) -> bool {
    const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
    value.len() == 36
        && value.split('-').map(str::len).eq(GROUPS.iter().copied())
        && value.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("header value"));
        }
        map
    }

    const SIGNATURE: &str =
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    #[test]
    fn githubs_own_delivery_ids_are_accepted() {
        // From GitHub's documentation and from a recorded redelivery.
        assert!(is_delivery_id("72d3162e-cc78-11e3-81ab-4c9367dc0958"));
        assert!(is_delivery_id("0B5A3C00-86E4-11EF-9A07-3F1E2A6B8C10"));
    }

    #[test]
    fn anything_else_is_not_a_delivery_id() {
        for bad in [
            "",
            "abc",
            "receive-1700000000000",
            "72d3162e-cc78-11e3-81ab-4c9367dc095",
            "72d3162e-cc78-11e3-81ab-4c9367dc09588",
            "72d3162ecc78-11e3-81ab-4c9367dc09588",
            "72d3162e-cc78-11e3-81ab-4c9367dc095g",
            "72d3162e-cc78-11e3-81ab-4c9367dc09\n8",
            "72d3162e--c78-11e3-81ab-4c9367dc0958",
        ] {
            assert!(!is_delivery_id(bad), "{bad:?}");
        }
        assert!(!is_delivery_id(&"a".repeat(64 * 1024)));
    }

    #[test]
    fn the_signature_is_looked_at_before_anything_else() {
        let only_junk = headers(&[("x-github-delivery", "junk")]);
        assert_eq!(
            DeliveryHeaders::from_headers(&only_junk).unwrap_err(),
            HeaderError::MissingSignature
        );
        for malformed in [
            "sha1=abc",
            "sha256=",
            "sha256=zz",
            &format!("{SIGNATURE}00"),
        ] {
            let map = headers(&[("x-hub-signature-256", malformed)]);
            let err = DeliveryHeaders::from_headers(&map).unwrap_err();
            assert_eq!(err, HeaderError::MalformedSignature, "{malformed}");
            assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
        }
    }

    #[test]
    fn event_and_delivery_must_have_githubs_shape() {
        let map = headers(&[
            ("x-hub-signature-256", SIGNATURE),
            ("x-github-event", "pull_request_review_comment"),
            ("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
        ]);
        let ok = DeliveryHeaders::from_headers(&map).expect("valid");
        assert_eq!(ok.event, "pull_request_review_comment");

        let mut bad_event = map.clone();
        bad_event.insert("x-github-event", "Push; rm -rf".parse().expect("value"));
        assert_eq!(
            DeliveryHeaders::from_headers(&bad_event).unwrap_err(),
            HeaderError::BadEvent
        );
        let mut long_id = map.clone();
        long_id.insert(
            "x-github-delivery",
            "a".repeat(64 * 1024).parse().expect("value"),
        );
        let err = DeliveryHeaders::from_headers(&long_id).unwrap_err();
        assert_eq!(err, HeaderError::BadDeliveryId);
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        let mut no_event = map;
        no_event.remove("x-github-event");
        assert_eq!(
            DeliveryHeaders::from_headers(&no_event).unwrap_err(),
            HeaderError::Missing("X-GitHub-Event")
        );
    }
}
