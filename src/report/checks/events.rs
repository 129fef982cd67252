//! Reading `check_run.requested_action` and `check_run.rerequested` deliveries, so the router
//! can hand them to the feature that owns the run (by the `gitferry/<feature>` name).
//!
//! Read from the raw payload: octocrab's typed `CheckRunWebhookEventPayload` drops
//! `requested_action.identifier`, which is the whole point of the first.

use serde::Deserialize;
use serde_json::Value;

use super::spec::CheckRunId;

/// The prefix of every check run gitferry creates.
pub const CHECK_PREFIX: &str = "gitferry/";

/// `gitferry/<feature>`.
pub fn check_name(feature: &str) -> String {
    format!("{CHECK_PREFIX}{feature}")
}

/// The feature (or pipeline step) a check run belongs to, if it is one of gitferry's.
pub fn feature_of(check_name: &str) -> Option<&str> {
    check_name
        .strip_prefix(CHECK_PREFIX)
        .filter(|feature| !feature.is_empty())
}

/// Someone pressed one of a run's buttons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestedAction {
    pub check_run_id: CheckRunId,
    pub name: String,
    pub external_id: String,
    pub head_sha: String,
    /// The pressed button's `identifier`.
    pub identifier: String,
}

/// Someone asked for a run again ("Re-run").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rerequested {
    pub check_run_id: CheckRunId,
    pub name: String,
    pub external_id: String,
    pub head_sha: String,
}

#[derive(Deserialize)]
struct Payload {
    action: String,
    check_run: Run,
    #[serde(default)]
    requested_action: Option<Requested>,
}

#[derive(Deserialize)]
struct Run {
    id: CheckRunId,
    name: String,
    #[serde(default)]
    external_id: Option<String>,
    head_sha: String,
}

#[derive(Deserialize)]
struct Requested {
    identifier: String,
}

fn payload(raw: &Value) -> Option<Payload> {
    Payload::deserialize(raw).ok()
}

/// The button press in a `check_run` payload with action `requested_action`.
pub fn requested_action(raw: &Value) -> Option<RequestedAction> {
    let p = payload(raw).filter(|p| p.action == "requested_action")?;
    Some(RequestedAction {
        check_run_id: p.check_run.id,
        name: p.check_run.name,
        external_id: p.check_run.external_id.unwrap_or_default(),
        head_sha: p.check_run.head_sha,
        identifier: p.requested_action?.identifier,
    })
}

/// The run in a `check_run` payload with action `rerequested`.
pub fn rerequested(raw: &Value) -> Option<Rerequested> {
    let p = payload(raw).filter(|p| p.action == "rerequested")?;
    Some(Rerequested {
        check_run_id: p.check_run.id,
        name: p.check_run.name,
        external_id: p.check_run.external_id.unwrap_or_default(),
        head_sha: p.check_run.head_sha,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(file: &str) -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/github/webhooks/check_run")
            .join(file);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn a_button_press_names_the_run_and_the_identifier() {
        let mut raw = fixture("requested_action.payload.json");
        assert_eq!(
            requested_action(&raw),
            Some(RequestedAction {
                check_run_id: CheckRunId(1494503112),
                name: "API Review".into(),
                external_id: String::new(),
                head_sha: "5bd5f196a46b8222fb7484f05faba41a73cf34bd".into(),
                identifier: "lgtm|26764".into(),
            })
        );
        assert_eq!(rerequested(&raw), None, "a button press is not a re-run");
        raw["check_run"]["name"] = "gitferry/preview".into();
        raw["check_run"]["external_id"] = "pr-7".into();
        let action = requested_action(&raw).unwrap();
        assert_eq!(feature_of(&action.name), Some("preview"));
        assert_eq!(action.external_id, "pr-7");
    }

    #[test]
    fn a_rerun_request_names_the_run() {
        let raw = fixture("rerequested.payload.json");
        assert_eq!(
            rerequested(&raw),
            Some(Rerequested {
                check_run_id: CheckRunId(4),
                name: "randscape".into(),
                external_id: String::new(),
                head_sha: "d6fde92930d4715a2b49857d24b940956b26d2d3".into(),
            })
        );
        assert_eq!(requested_action(&raw), None);
    }

    #[test]
    fn other_payloads_are_not_check_run_requests() {
        assert_eq!(requested_action(&fixture("created.payload.json")), None);
        assert_eq!(
            rerequested(&serde_json::json!({ "action": "rerequested" })),
            None
        );
        let mut no_identifier = fixture("requested_action.payload.json");
        no_identifier["requested_action"] = Value::Null;
        assert_eq!(requested_action(&no_identifier), None);
    }

    #[test]
    fn check_names_carry_the_feature() {
        assert_eq!(check_name("unit"), "gitferry/unit");
        assert_eq!(feature_of("gitferry/drift"), Some("drift"));
        assert_eq!(feature_of("gitferry/"), None);
        assert_eq!(feature_of("ci/build"), None);
    }
}
