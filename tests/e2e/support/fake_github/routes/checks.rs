//! Check runs, validated against GitHub's schema for `POST /repos/{o}/{r}/check-runs`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{Method, Uri};
use axum::routing::{get, post};
use chrono::Utc;
use serde_json::{Value, json};

use crate::support::fake_github::api::{
    ApiError, ApiResult, AppState, access, body_json, created, ok, opt_time, page_response,
    paginate, parse_time, query_param, str_field, with_link,
};
use crate::support::fake_github::auth::Auth;
use crate::support::fake_github::model::{CheckOutput, CheckRun, Model, PrState, Repo};
use crate::support::fake_github::render;

pub const MAX_ANNOTATIONS: usize = 50;
pub const MAX_TEXT: usize = 65535;
const STATUSES: [&str; 3] = ["queued", "in_progress", "completed"];
const CONCLUSIONS: [&str; 8] = [
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "stale",
    "timed_out",
];
const LEVELS: [&str; 3] = ["notice", "warning", "failure"];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/repos/{owner}/{repo}/check-runs", post(create))
        .route(
            "/repos/{owner}/{repo}/check-runs/{id}",
            get(get_one).patch(update),
        )
        .route(
            "/repos/{owner}/{repo}/check-runs/{id}/annotations",
            get(annotations),
        )
}

type IdPath = Path<(String, String, u64)>;

pub fn check_run_json(base: &str, m: &Model, r: &Repo, c: &CheckRun) -> Value {
    let full = r.full_name();
    let api = format!("{base}/repos/{full}");
    let pulls: Vec<Value> = r
        .pulls
        .values()
        .filter(|p| p.state == PrState::Open && p.head_sha == c.head_sha && p.head_repo == r.key())
        .map(|p| {
            let mini = json!({ "id": r.id, "url": api, "name": r.name });
            json!({
                "url": format!("{api}/pulls/{}", p.number),
                "id": p.id,
                "number": p.number,
                "head": { "ref": p.head_ref, "sha": p.head_sha, "repo": mini },
                "base": { "ref": p.base_ref, "sha": r.branch(&p.base_ref), "repo": mini },
            })
        })
        .collect();
    let app = if c.via_app {
        render::app(base, m)
    } else {
        json!({ "id": 1, "slug": "other-ci", "name": "Other CI", "node_id": render::node_id("App", 1),
                "owner": render::user(base, m, "other-ci"), "external_url": "https://ci.example.com",
                "html_url": format!("{base}/apps/other-ci"), "permissions": {}, "events": [],
                "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z", "description": "" })
    };
    json!({
        "id": c.id,
        "head_sha": c.head_sha,
        "node_id": render::node_id("CheckRun", c.id),
        "external_id": c.external_id.clone().unwrap_or_default(),
        "url": format!("{api}/check-runs/{}", c.id),
        "html_url": format!("{base}/{full}/runs/{}", c.id),
        "details_url": c.details_url.clone().unwrap_or_else(|| m.app.external_url.clone()),
        "status": c.status,
        "conclusion": c.conclusion,
        "started_at": opt_time(c.started_at),
        "completed_at": opt_time(c.completed_at),
        "output": {
            "title": c.output.title,
            "summary": c.output.summary,
            "text": c.output.text,
            "annotations_count": c.output.annotations.len(),
            "annotations_url": format!("{api}/check-runs/{}/annotations", c.id),
        },
        "name": c.name,
        "check_suite": { "id": c.check_suite_id },
        "app": app,
        "pull_requests": pulls,
    })
}

fn need_string(body: &Value, field: &str) -> Result<(), ApiError> {
    match body.get(field) {
        None | Some(Value::String(_)) => Ok(()),
        Some(other) => Err(ApiError::invalid(format!(
            "For 'properties/{field}', {other} is not a string."
        ))),
    }
}

fn need_enum(body: &Value, field: &str, allowed: &[&str]) -> Result<(), ApiError> {
    need_string(body, field)?;
    match str_field(body, field) {
        Some(v) if !allowed.contains(&v) => Err(ApiError::invalid(format!(
            "For 'properties/{field}', \"{v}\" is not one of {allowed:?}."
        ))),
        _ => Ok(()),
    }
}

fn need_time(body: &Value, field: &str) -> Result<(), ApiError> {
    need_string(body, field)?;
    match str_field(body, field) {
        Some(v) if parse_time(v).is_none() => Err(ApiError::invalid(format!(
            "For 'properties/{field}', \"{v}\" is not a valid date-time."
        ))),
        _ => Ok(()),
    }
}

fn too_long(text: &str) -> Result<(), ApiError> {
    let n = text.chars().count();
    if n > MAX_TEXT {
        return Err(ApiError::invalid(format!(
            "Only {MAX_TEXT} characters are allowed; {n} were supplied."
        )));
    }
    Ok(())
}

/// The schema checks of create (`creating`) and update.
fn validate(body: &Value, creating: bool) -> Result<(), ApiError> {
    if !body.is_object() {
        return Err(ApiError::invalid("Request body must be an object."));
    }
    if creating {
        for field in ["name", "head_sha"] {
            if body.get(field).is_none() {
                return Err(ApiError::invalid(format!("\"{field}\" wasn't supplied.")));
            }
        }
    }
    for field in ["name", "head_sha", "details_url", "external_id"] {
        need_string(body, field)?;
    }
    need_enum(body, "status", &STATUSES)?;
    need_enum(body, "conclusion", &CONCLUSIONS)?;
    need_time(body, "started_at")?;
    need_time(body, "completed_at")?;
    if let Some(output) = body.get("output") {
        if !output.is_object() {
            return Err(ApiError::invalid(format!(
                "For 'properties/output', {output} is not an object."
            )));
        }
        let required: &[&str] = if creating {
            &["title", "summary"]
        } else {
            &["summary"]
        };
        for field in required {
            if output.get(*field).is_none() {
                return Err(ApiError::invalid(format!("\"{field}\" wasn't supplied.")));
            }
        }
        for field in ["title", "summary", "text"] {
            need_string(output, field)?;
        }
        for field in ["summary", "text"] {
            if let Some(text) = str_field(output, field) {
                too_long(text)?;
            }
        }
        if let Some(list) = output.get("annotations") {
            let list = list.as_array().ok_or_else(|| {
                ApiError::invalid("For 'properties/annotations', it is not an array.")
            })?;
            if list.len() > MAX_ANNOTATIONS {
                return Err(ApiError::invalid(format!(
                    "For 'properties/annotations', the array has {} items; at most {MAX_ANNOTATIONS} are allowed per request.",
                    list.len()
                )));
            }
            for a in list {
                for field in [
                    "path",
                    "start_line",
                    "end_line",
                    "annotation_level",
                    "message",
                ] {
                    if a.get(field).is_none() {
                        return Err(ApiError::invalid(format!("\"{field}\" wasn't supplied.")));
                    }
                }
                need_enum(a, "annotation_level", &LEVELS)?;
                let has_columns = a.get("start_column").is_some() || a.get("end_column").is_some();
                if has_columns && a.get("start_line") != a.get("end_line") {
                    return Err(ApiError::invalid(
                        "start_column and end_column may only be used when start_line and end_line are equal.",
                    ));
                }
            }
        }
        if let Some(images) = output.get("images").and_then(Value::as_array) {
            for img in images {
                for field in ["alt", "image_url"] {
                    if img.get(field).is_none() {
                        return Err(ApiError::invalid(format!("\"{field}\" wasn't supplied.")));
                    }
                }
            }
        }
    }
    if let Some(actions) = body.get("actions") {
        let list = actions
            .as_array()
            .ok_or_else(|| ApiError::invalid("For 'properties/actions', it is not an array."))?;
        if list.len() > 3 {
            return Err(ApiError::invalid(format!(
                "For 'properties/actions', the array has {} items; at most 3 are allowed.",
                list.len()
            )));
        }
        for a in list {
            for (field, max) in [("label", 20), ("description", 40), ("identifier", 20)] {
                let v = str_field(a, field)
                    .ok_or_else(|| ApiError::invalid(format!("\"{field}\" wasn't supplied.")))?;
                if v.chars().count() > max {
                    return Err(ApiError::invalid(format!(
                        "For 'properties/{field}', \"{v}\" is too long (maximum is {max} characters)."
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Applies the fields of a create or update body to a run.
fn apply(run: &mut CheckRun, body: &Value) -> Result<(), ApiError> {
    let now = Utc::now();
    if let Some(v) = str_field(body, "name") {
        run.name = v.to_string();
    }
    if let Some(v) = str_field(body, "details_url") {
        run.details_url = Some(v.to_string());
    }
    if let Some(v) = str_field(body, "external_id") {
        run.external_id = Some(v.to_string());
    }
    if let Some(v) = str_field(body, "started_at") {
        run.started_at = parse_time(v);
    }
    if let Some(v) = str_field(body, "status") {
        run.status = v.to_string();
    }
    if let Some(v) = str_field(body, "completed_at") {
        run.completed_at = parse_time(v);
    }
    if let Some(v) = str_field(body, "conclusion") {
        run.conclusion = Some(v.to_string());
        run.status = "completed".to_string();
    }
    if run.status == "completed" || run.completed_at.is_some() {
        if run.conclusion.is_none() {
            return Err(ApiError::invalid("\"conclusion\" wasn't supplied."));
        }
        run.status = "completed".to_string();
        run.completed_at.get_or_insert(now);
    }
    if run.status != "queued" {
        run.started_at.get_or_insert(now);
    }
    if let Some(output) = body.get("output") {
        let o = &mut run.output;
        if let Some(v) = str_field(output, "title") {
            o.title = Some(v.to_string());
        }
        if let Some(v) = str_field(output, "summary") {
            o.summary = Some(v.to_string());
        }
        if let Some(v) = str_field(output, "text") {
            o.text = Some(v.to_string());
        }
        if let Some(list) = output.get("annotations").and_then(Value::as_array) {
            o.annotations.extend(list.iter().cloned());
        }
        if let Some(list) = output.get("images").and_then(Value::as_array) {
            o.images.extend(list.iter().cloned());
        }
    }
    if let Some(list) = body.get("actions").and_then(Value::as_array) {
        run.actions = list.clone();
    }
    Ok(())
}

async fn create(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let req = body_json(&body)?;
    validate(&req, true)?;
    let mut m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let head_sha = str_field(&req, "head_sha").unwrap_or_default().to_string();
    if !m.commits.contains_key(&head_sha) {
        return Err(ApiError::validation(
            "CheckRun",
            "head_sha",
            "invalid",
            Some("No commit found for SHA"),
        ));
    }
    let id = m.next_id();
    // One suite per commit, as for a single App.
    let suite = 500_000 + u64::from_str_radix(&head_sha[..6], 16).unwrap_or(0);
    let mut run = CheckRun {
        id,
        head_sha,
        name: String::new(),
        status: "queued".into(),
        conclusion: None,
        external_id: None,
        details_url: None,
        started_at: None,
        completed_at: None,
        output: CheckOutput::default(),
        actions: vec![],
        via_app: matches!(auth, Auth::Installation(_)),
        check_suite_id: suite,
    };
    apply(&mut run, &req)?;
    let r = m.repo_mut(&key).ok_or_else(ApiError::not_found)?;
    r.check_runs.insert(id, run.clone());
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    Ok(created(check_run_json(&st.base, &m, r, &run)))
}

async fn update(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, id)): IdPath,
    body: Bytes,
) -> ApiResult {
    let req = body_json(&body)?;
    validate(&req, false)?;
    let mut m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = m.repo_mut(&key).ok_or_else(ApiError::not_found)?;
    let mut run = r
        .check_runs
        .get(&id)
        .cloned()
        .ok_or_else(ApiError::not_found)?;
    apply(&mut run, &req)?;
    r.check_runs.insert(id, run.clone());
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    Ok(ok(check_run_json(&st.base, &m, r, &run)))
}

async fn get_one(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, id)): IdPath,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    let run = r.check_runs.get(&id).ok_or_else(ApiError::not_found)?;
    Ok(ok(check_run_json(&st.base, &m, r, run)))
}

async fn annotations(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    uri: Uri,
    Path((owner, name, id)): IdPath,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    let run = r.check_runs.get(&id).ok_or_else(ApiError::not_found)?;
    let full = r.full_name();
    let items = run
        .output
        .annotations
        .iter()
        .map(|a| {
            let mut a = a.clone();
            if let Some(path) = a.get("path").and_then(Value::as_str).map(str::to_string) {
                a["blob_href"] = json!(format!("{}/{full}/blob/{}/{path}", st.base, run.head_sha));
            }
            for field in ["start_column", "end_column", "title", "raw_details"] {
                if a.get(field).is_none() {
                    a[field] = Value::Null;
                }
            }
            a
        })
        .collect();
    Ok(page_response(&st.base, &uri, items))
}

/// `GET /repos/{o}/{r}/commits/{ref}/check-runs` (`check_name`, `status`, `filter`).
pub fn list_for_ref(st: &AppState, m: &Model, key: &str, rev: &str, uri: &Uri) -> ApiResult {
    let r = m.repo(key).ok_or_else(ApiError::not_found)?;
    let sha = m
        .resolve(key, rev)
        .ok_or_else(|| ApiError::unprocessable(format!("No commit found for SHA: {rev}")))?;
    let name = query_param(uri, "check_name");
    let status = query_param(uri, "status");
    let all = query_param(uri, "filter").as_deref() == Some("all");
    let mut runs: Vec<&CheckRun> = r
        .check_runs
        .values()
        .rev()
        .filter(|c| c.head_sha == sha)
        .filter(|c| name.as_ref().is_none_or(|n| *n == c.name))
        .filter(|c| status.as_ref().is_none_or(|s| *s == c.status))
        .collect();
    if !all {
        let mut seen = std::collections::HashSet::new();
        runs.retain(|c| seen.insert(c.name.clone()));
    }
    let total = runs.len();
    let items = runs
        .into_iter()
        .map(|c| check_run_json(&st.base, m, r, c))
        .collect();
    let (page, link) = paginate(&st.base, uri, items);
    Ok(with_link(
        ok(json!({ "total_count": total, "check_runs": page })),
        link,
    ))
}
