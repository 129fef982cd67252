//! Commit statuses and the combined status of a ref.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{Method, Uri};
use axum::routing::post;
use chrono::Utc;
use serde_json::{Value, json};

use crate::support::fake_github::api::{
    ApiError, ApiResult, AppState, access, actor, body_json, created, fmt_time, ok, page_response,
    str_field,
};
use crate::support::fake_github::auth::Auth;
use crate::support::fake_github::model::{CommitStatus, Model, Repo};
use crate::support::fake_github::render;

const STATES: [&str; 4] = ["error", "failure", "pending", "success"];

/// GitHub refuses longer descriptions with 422.
const MAX_DESCRIPTION: usize = 140;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/repos/{owner}/{repo}/statuses/{sha}",
        post(create).get(list_by_sha),
    )
}

fn status_json(base: &str, m: &Model, s: &CommitStatus) -> Value {
    json!({
        "url": format!("{base}/statuses/{}", s.sha),
        "avatar_url": null,
        "id": s.id,
        "node_id": render::node_id("StatusContext", s.id),
        "state": s.state,
        "description": s.description,
        "target_url": s.target_url,
        "context": s.context,
        "created_at": fmt_time(s.created_at),
        "updated_at": fmt_time(s.created_at),
        "creator": render::user(base, m, &s.creator),
    })
}

async fn create(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, sha)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult {
    let req = body_json(&body)?;
    let state =
        str_field(&req, "state").ok_or_else(|| ApiError::invalid("\"state\" wasn't supplied."))?;
    if !STATES.contains(&state) {
        return Err(ApiError::validation(
            "Status",
            "state",
            "custom",
            Some("state is not included in the list"),
        ));
    }
    if str_field(&req, "description").is_some_and(|d| d.chars().count() > MAX_DESCRIPTION) {
        return Err(ApiError::validation(
            "Status",
            "description",
            "custom",
            Some("description is too long (maximum is 140 characters)"),
        ));
    }
    let mut m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    if !m.commits.contains_key(&sha) {
        return Err(ApiError::unprocessable(format!(
            "No commit found for SHA: {sha}"
        )));
    }
    let s = CommitStatus {
        id: m.next_id(),
        sha,
        state: state.to_string(),
        context: str_field(&req, "context").unwrap_or("default").to_string(),
        description: str_field(&req, "description").map(String::from),
        target_url: str_field(&req, "target_url").map(String::from),
        creator: actor(&m, &auth),
        created_at: Utc::now(),
    };
    m.repo_mut(&key)
        .ok_or_else(ApiError::not_found)?
        .statuses
        .push(s.clone());
    Ok(created(status_json(&st.base, &m, &s)))
}

async fn list_by_sha(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    uri: Uri,
    Path((owner, name, rev)): Path<(String, String, String)>,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    list(&st, &m, &key, &rev, &uri)
}

fn for_sha<'a>(r: &'a Repo, sha: &str) -> Vec<&'a CommitStatus> {
    r.statuses.iter().rev().filter(|s| s.sha == sha).collect()
}

/// `GET /repos/{o}/{r}/commits/{ref}/statuses`, newest first.
pub fn list(st: &AppState, m: &Model, key: &str, rev: &str, uri: &Uri) -> ApiResult {
    let r = m.repo(key).ok_or_else(ApiError::not_found)?;
    let sha = m.resolve(key, rev).ok_or_else(ApiError::not_found)?;
    let items = for_sha(r, &sha)
        .into_iter()
        .map(|s| status_json(&st.base, m, s))
        .collect();
    Ok(page_response(&st.base, uri, items))
}

/// `GET /repos/{o}/{r}/commits/{ref}/status`: the latest status per context and their
/// combination (failure beats pending beats success; nothing at all is pending).
pub fn combined(st: &AppState, m: &Model, key: &str, rev: &str) -> ApiResult {
    let r = m.repo(key).ok_or_else(ApiError::not_found)?;
    let sha = m
        .resolve(key, rev)
        .ok_or_else(|| ApiError::unprocessable(format!("No commit found for SHA: {rev}")))?;
    let mut seen = std::collections::HashSet::new();
    let latest: Vec<&CommitStatus> = for_sha(r, &sha)
        .into_iter()
        .filter(|s| seen.insert(s.context.clone()))
        .collect();
    let state = if latest
        .iter()
        .any(|s| s.state == "error" || s.state == "failure")
    {
        "failure"
    } else if latest.is_empty() || latest.iter().any(|s| s.state == "pending") {
        "pending"
    } else {
        "success"
    };
    let api = format!("{}/repos/{}", st.base, r.full_name());
    Ok(ok(json!({
        "state": state,
        "statuses": latest.iter().map(|s| status_json(&st.base, m, s)).collect::<Vec<_>>(),
        "sha": sha,
        "total_count": latest.len(),
        "repository": render::repo_summary(&st.base, m, r),
        "commit_url": format!("{api}/commits/{sha}"),
        "url": format!("{api}/commits/{sha}/status"),
    })))
}
