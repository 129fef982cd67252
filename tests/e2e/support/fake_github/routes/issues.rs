//! Issues, which pull requests also are (GitHub lists both).

use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::http::{Method, Uri};
use axum::routing::get;
use serde_json::{Value, json};

use axum::body::Bytes;
use chrono::Utc;

use crate::support::fake_github::api::{
    ApiError, ApiResult, AppState, access, actor, body_json, created, fmt_time, ok, opt_time,
    page_response, query_param,
};
use crate::support::fake_github::auth::Auth;
use crate::support::fake_github::model::{Issue, Model, PrState, Repo};
use crate::support::fake_github::render;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/repos/{owner}/{repo}/issues",
            get(list_issues).post(create_issue),
        )
        .route(
            "/repos/{owner}/{repo}/issues/{number}",
            get(get_issue).patch(update_issue),
        )
}

/// `POST /repos/{o}/{r}/issues`: `title` (required) and `body`.
async fn create_issue(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let req = body_json(&body)?;
    let title = req["title"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::new(422, "title wasn't supplied"))?
        .to_string();
    let text = req["body"].as_str().unwrap_or_default().to_string();
    let mut m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let author = actor(&m, &auth);
    let id = m.next_id();
    let r = m.repo_mut(&key).ok_or_else(ApiError::not_found)?;
    let number = r.next_number;
    r.next_number += 1;
    r.issues.insert(
        number,
        Issue {
            number,
            id,
            title,
            body: text,
            author,
            open: true,
            created_at: Utc::now(),
        },
    );
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    let json = issue_json(&st.base, &m, r, number).ok_or_else(ApiError::not_found)?;
    Ok(created(json))
}

/// `PATCH /repos/{o}/{r}/issues/{n}`: `title`, `body`, `state` (`open` or `closed`) of a plain
/// issue.
async fn update_issue(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, number)): PullPath,
    body: Bytes,
) -> ApiResult {
    let req = body_json(&body)?;
    let mut m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = m.repo_mut(&key).ok_or_else(ApiError::not_found)?;
    let issue = r.issues.get_mut(&number).ok_or_else(ApiError::not_found)?;
    if let Some(title) = req["title"].as_str() {
        issue.title = title.to_string();
    }
    if let Some(text) = req["body"].as_str() {
        issue.body = text.to_string();
    }
    match req["state"].as_str() {
        Some("closed") => issue.open = false,
        Some("open") => issue.open = true,
        Some(other) => return Err(ApiError::new(422, format!("state {other} is not valid"))),
        None => {}
    }
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    Ok(ok(
        issue_json(&st.base, &m, r, number).ok_or_else(ApiError::not_found)?
    ))
}

type PullPath = Path<(String, String, u64)>;

async fn get_issue(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, number)): PullPath,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    Ok(ok(
        issue_json(&st.base, &m, r, number).ok_or_else(ApiError::not_found)?
    ))
}

/// Issues and pull requests (GitHub lists both), newest first; `state` as for pulls.
async fn list_issues(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    uri: Uri,
    Path((owner, name)): Path<(String, String)>,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    let state = query_param(&uri, "state").unwrap_or_else(|| "open".into());
    let mut numbers: Vec<u64> = r.pulls.keys().chain(r.issues.keys()).copied().collect();
    numbers.sort_by_key(|n| std::cmp::Reverse(*n));
    let items = numbers
        .into_iter()
        .filter_map(|n| issue_json(&st.base, &m, r, n))
        .filter(|v| state == "all" || v["state"] == state.as_str())
        .collect();
    Ok(page_response(&st.base, &uri, items))
}

/// An issue, or the issue side of a pull request (with its `pull_request` link).
pub fn issue_json(base: &str, m: &Model, r: &Repo, number: u64) -> Option<Value> {
    let full = r.full_name();
    let api = format!("{base}/repos/{full}");
    let (id, title, body, author, open, created, updated, closed, labels, is_pr) =
        if let Some(pr) = r.pulls.get(&number) {
            (
                pr.id,
                pr.title.clone(),
                pr.body.clone(),
                pr.author.clone(),
                pr.state == PrState::Open,
                pr.created_at,
                pr.updated_at,
                pr.closed_at,
                pr.labels.clone(),
                true,
            )
        } else {
            let i = r.issues.get(&number)?;
            (
                i.id,
                i.title.clone(),
                i.body.clone(),
                i.author.clone(),
                i.open,
                i.created_at,
                i.created_at,
                None,
                vec![],
                false,
            )
        };
    let mut v = json!({
        "id": id,
        "node_id": render::node_id("Issue", id),
        "url": format!("{api}/issues/{number}"),
        "repository_url": api,
        "labels_url": format!("{api}/issues/{number}/labels{{/name}}"),
        "comments_url": format!("{api}/issues/{number}/comments"),
        "events_url": format!("{api}/issues/{number}/events"),
        "html_url": format!("{base}/{full}/{}/{number}", if is_pr { "pull" } else { "issues" }),
        "number": number,
        "state": if open { "open" } else { "closed" },
        "title": title,
        "body": body,
        "user": render::user(base, m, &author),
        "labels": labels.iter().map(|l| render::label(base, r, l)).collect::<Vec<_>>(),
        "assignee": null,
        "assignees": [],
        "milestone": null,
        "locked": false,
        "active_lock_reason": null,
        "comments": r.comments.values().filter(|c| c.issue_number == number).count(),
        "closed_at": opt_time(closed),
        "created_at": fmt_time(created),
        "updated_at": fmt_time(updated),
        "author_association": render::association(m, r, &author),
    });
    if is_pr {
        v["pull_request"] = json!({
            "url": format!("{api}/pulls/{number}"),
            "html_url": format!("{base}/{full}/pull/{number}"),
            "diff_url": format!("{base}/{full}/pull/{number}.diff"),
            "patch_url": format!("{base}/{full}/pull/{number}.patch"),
        });
    }
    Some(v)
}
