//! Planning the requests that make a check run match its spec, without I/O.
//!
//! GitHub takes at most 50 annotations a request and *appends* the annotations of every
//! update; it has no way to remove one. So replaying an update must not resend annotations
//! the run already holds. The executor reads the run's annotations back from GitHub (one list
//! request, only when the run has any) and the plan sends only the missing ones. If the run
//! holds an annotation the spec no longer has (the same run re-used for a new attempt), the
//! only way to show the spec is a new run: the plan creates one, and since lookups take the
//! newest run with the `external_id`, that new run is the one updated from then on.
//!
//! Reading GitHub rather than remembering what was sent keeps the truth in one place
//! (DESIGN.md principle 6): a crash between two requests, or a lost response, is repaired by
//! the next call.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::spec::{Annotation, CheckRunId, CheckRunSpec, InvalidCheckRun, timestamp};

/// GitHub's limit of annotations in one create or update request.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;

/// The run found for a spec, and the annotations GitHub already holds for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExistingRun {
    pub id: CheckRunId,
    pub annotations: Vec<Annotation>,
}

/// The first request of a plan.
#[derive(Clone, Debug, PartialEq)]
pub enum FirstWrite {
    /// `POST /repos/{owner}/{repo}/check-runs`.
    Create(Value),
    /// `PATCH /repos/{owner}/{repo}/check-runs/{id}`.
    Update(CheckRunId, Value),
}

/// The requests for one spec: the first creates or updates the run with the status, output and
/// buttons and up to 50 annotations; each of `appends` is a `PATCH` of that same run carrying
/// the next 50.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckRunPlan {
    pub first: FirstWrite,
    pub appends: Vec<Value>,
}

impl CheckRunPlan {
    /// The body of the first request, create or update.
    pub fn first_body(&self) -> &Value {
        match &self.first {
            FirstWrite::Create(body) | FirstWrite::Update(_, body) => body,
        }
    }

    /// Annotations the plan sends, over all requests.
    pub fn annotations_sent(&self) -> usize {
        let count = |body: &Value| {
            body.pointer("/output/annotations")
                .and_then(Value::as_array)
                .map_or(0, Vec::len)
        };
        count(self.first_body()) + self.appends.iter().map(count).sum::<usize>()
    }
}

/// The requests that make GitHub show `spec`, given the run already there (if any).
pub fn plan_check_run(
    existing: Option<&ExistingRun>,
    spec: &CheckRunSpec,
) -> Result<CheckRunPlan, InvalidCheckRun> {
    let spec = spec.checked()?;
    let update = existing.and_then(|run| {
        missing_annotations(&run.annotations, &spec.annotations).map(|missing| (run.id, missing))
    });
    let (target, to_send) = match update {
        Some((id, missing)) => (Some(id), missing),
        None => (None, spec.annotations.clone()),
    };
    let mut batches = to_send.chunks(ANNOTATIONS_PER_REQUEST);
    let mut first_body = run_fields(&spec, target.is_none());
    first_body["output"] = output(&spec, batches.next().unwrap_or_default());
    let first = match target {
        Some(id) => FirstWrite::Update(id, first_body),
        None => FirstWrite::Create(first_body),
    };
    let appends = batches
        .map(|batch| json!({ "output": output(&spec, batch) }))
        .collect();
    Ok(CheckRunPlan { first, appends })
}

/// The annotations of `desired` that `existing` lacks, in `desired`'s order, counting
/// duplicates; `None` when `existing` holds one that `desired` does not (the run cannot be made
/// to match).
pub fn missing_annotations(
    existing: &[Annotation],
    desired: &[Annotation],
) -> Option<Vec<Annotation>> {
    let mut held: HashMap<Annotation, usize> = HashMap::new();
    for a in existing {
        *held.entry(a.clone().clamped()).or_default() += 1;
    }
    let mut missing = Vec::new();
    for a in desired {
        match held.get_mut(a) {
            Some(n) if *n > 0 => *n -= 1,
            _ => missing.push(a.clone()),
        }
    }
    held.values().all(|n| *n == 0).then_some(missing)
}

/// Everything but the output. `actions` is always sent, so buttons a spec no longer has go.
fn run_fields(spec: &CheckRunSpec, creating: bool) -> Value {
    let mut body = json!({
        "name": spec.name,
        "external_id": spec.external_id,
        "status": spec.status.as_str(),
        "actions": spec.actions,
    });
    if creating {
        body["head_sha"] = json!(spec.head_sha);
    }
    if let Some(conclusion) = spec.status.conclusion() {
        body["conclusion"] = json!(conclusion);
    }
    if let Some(url) = &spec.details_url {
        body["details_url"] = json!(url);
    }
    if let Some(at) = spec.started_at {
        body["started_at"] = json!(timestamp(at));
    }
    if let Some(at) = spec.completed_at {
        body["completed_at"] = json!(timestamp(at));
    }
    body
}

/// The `output` object. Title, summary and text go in every request: an update's output needs
/// a summary anyway, and repeating them cannot leave an older text showing.
fn output(spec: &CheckRunSpec, annotations: &[Annotation]) -> Value {
    let mut output = json!({ "title": spec.title, "summary": spec.summary });
    if let Some(text) = &spec.text {
        output["text"] = json!(text);
    }
    if !annotations.is_empty() {
        output["annotations"] = json!(annotations);
    }
    output
}
