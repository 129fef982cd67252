//! The few fields of a delivery the inbox needs before any feature looks at it.
//!
//! Deserialising into this small struct skips the rest of the payload, so the webhook handler
//! validates the JSON and extracts what it stores in one pass without building a full tree.

use serde::Deserialize;

use crate::store::{DeliveryState, NewDelivery};

#[derive(Debug, Deserialize)]
pub struct Envelope {
    pub action: Option<String>,
    pub installation: Option<IdOnly>,
    pub repository: Option<Repository>,
    pub pull_request: Option<Numbered>,
    pub issue: Option<Numbered>,
    pub check_run: Option<CheckLike>,
    pub check_suite: Option<CheckLike>,
}

#[derive(Debug, Deserialize)]
pub struct IdOnly {
    pub id: i64,
}

#[derive(Debug, Deserialize)]
pub struct Repository {
    pub id: i64,
    pub full_name: String,
}

#[derive(Debug, Deserialize)]
pub struct Numbered {
    pub number: i64,
}

#[derive(Debug, Deserialize)]
pub struct CheckLike {
    #[serde(default)]
    pub pull_requests: Vec<Numbered>,
}

#[derive(Debug, thiserror::Error)]
#[error("malformed JSON payload: {0}")]
pub struct MalformedPayload(#[from] serde_json::Error);

impl Envelope {
    pub fn parse(body: &[u8]) -> Result<Self, MalformedPayload> {
        Ok(serde_json::from_slice(body)?)
    }

    /// The pull request (or issue) number this delivery is about, if any.
    fn pull_request_number(&self) -> Option<i64> {
        let from_checks = |check: &Option<CheckLike>| {
            check
                .as_ref()
                .and_then(|c| c.pull_requests.first().map(|pr| pr.number))
        };
        self.pull_request
            .as_ref()
            .map(|pr| pr.number)
            .or_else(|| self.issue.as_ref().map(|issue| issue.number))
            .or_else(|| from_checks(&self.check_run))
            .or_else(|| from_checks(&self.check_suite))
    }

    /// Deliveries with the same key are processed one at a time, in arrival order: one PR's
    /// events, else one repository's, else one installation's. `None` means no ordering.
    pub fn ordering_key(&self) -> Option<String> {
        match (&self.repository, self.pull_request_number()) {
            (Some(repo), Some(number)) => Some(format!("repo:{}#{number}", repo.id)),
            (Some(repo), None) => Some(format!("repo:{}", repo.id)),
            (None, _) => self
                .installation
                .as_ref()
                .map(|installation| format!("installation:{}", installation.id)),
        }
    }

    /// The row to store for this delivery.
    pub fn into_new_delivery(
        self,
        delivery_id: &str,
        event: &str,
        payload: String,
        received_at: i64,
        state: DeliveryState,
    ) -> NewDelivery {
        let ordering_key = self.ordering_key();
        NewDelivery {
            delivery_id: delivery_id.to_owned(),
            event: event.to_owned(),
            action: self.action,
            installation_id: self.installation.map(|i| i.id),
            repository: self.repository.map(|r| r.full_name),
            ordering_key,
            payload,
            received_at,
            state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(json: &str) -> Envelope {
        Envelope::parse(json.as_bytes()).expect("valid envelope")
    }

    #[test]
    fn pull_request_events_are_ordered_per_pull_request() {
        let e = envelope(
            r#"{"action":"opened","number":5,"pull_request":{"number":5},"repository":{"id":9,"full_name":"o/r"}}"#,
        );
        assert_eq!(e.ordering_key().as_deref(), Some("repo:9#5"));
    }

    #[test]
    fn comments_on_a_pull_request_share_its_order() {
        let e = envelope(
            r#"{"action":"created","issue":{"number":5},"repository":{"id":9,"full_name":"o/r"}}"#,
        );
        assert_eq!(e.ordering_key().as_deref(), Some("repo:9#5"));
    }

    #[test]
    fn check_runs_follow_their_first_pull_request() {
        let e = envelope(
            r#"{"check_run":{"pull_requests":[{"number":7}]},"repository":{"id":9,"full_name":"o/r"}}"#,
        );
        assert_eq!(e.ordering_key().as_deref(), Some("repo:9#7"));
    }

    #[test]
    fn pushes_are_ordered_per_repository() {
        let e = envelope(r#"{"ref":"refs/heads/main","repository":{"id":9,"full_name":"o/r"}}"#);
        assert_eq!(e.ordering_key().as_deref(), Some("repo:9"));
    }

    #[test]
    fn installation_events_are_ordered_per_installation() {
        let e = envelope(r#"{"action":"created","installation":{"id":3}}"#);
        assert_eq!(e.ordering_key().as_deref(), Some("installation:3"));
    }

    #[test]
    fn non_objects_and_wrong_types_are_malformed() {
        assert!(Envelope::parse(b"[1,2]").is_err());
        assert!(Envelope::parse(b"{\"installation\":{\"id\":\"x\"}}").is_err());
        assert!(Envelope::parse(b"{not json").is_err());
    }
}
