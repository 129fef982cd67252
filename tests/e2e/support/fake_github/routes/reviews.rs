//! Pull request reviews.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{Method, Uri};
use axum::routing::get;
use chrono::Utc;
use serde_json::{Value, json};

use crate::support::fake_github::api::{
    ApiError, ApiResult, AppState, access, actor, body_json, fmt_time, ok, page_response, str_field,
};
use crate::support::fake_github::auth::Auth;
use crate::support::fake_github::model::{Model, Repo, Review};
use crate::support::fake_github::render;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/repos/{owner}/{repo}/pulls/{number}/reviews",
        get(list_reviews).post(create_review),
    )
}

type PullPath = Path<(String, String, u64)>;

pub fn review_json(base: &str, m: &Model, r: &Repo, rv: &Review) -> Value {
    let full = r.full_name();
    json!({
        "id": rv.id,
        "node_id": render::node_id("PullRequestReview", rv.id),
        "user": render::user(base, m, &rv.user),
        "body": rv.body,
        "state": rv.state,
        "html_url": format!("{base}/{full}/pull/{}#pullrequestreview-{}", rv.pull_number, rv.id),
        "pull_request_url": format!("{base}/repos/{full}/pulls/{}", rv.pull_number),
        "author_association": render::association(m, r, &rv.user),
        "_links": {
            "html": { "href": format!("{base}/{full}/pull/{}#pullrequestreview-{}", rv.pull_number, rv.id) },
            "pull_request": { "href": format!("{base}/repos/{full}/pulls/{}", rv.pull_number) },
        },
        "submitted_at": fmt_time(rv.submitted_at),
        "commit_id": rv.commit_id,
    })
}

async fn list_reviews(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    uri: Uri,
    Path((owner, name, number)): PullPath,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    if !r.pulls.contains_key(&number) {
        return Err(ApiError::not_found());
    }
    let items = r
        .reviews
        .iter()
        .filter(|rv| rv.pull_number == number)
        .map(|rv| review_json(&st.base, &m, r, rv))
        .collect();
    Ok(page_response(&st.base, &uri, items))
}

async fn create_review(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, number)): PullPath,
    body: Bytes,
) -> ApiResult {
    let req = body_json(&body)?;
    let mut m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let pr = m
        .repo(&key)
        .and_then(|r| r.pulls.get(&number))
        .cloned()
        .ok_or_else(ApiError::not_found)?;
    let text = str_field(&req, "body").unwrap_or_default().to_string();
    let state = match str_field(&req, "event") {
        None => "PENDING",
        Some("APPROVE") => "APPROVED",
        Some("REQUEST_CHANGES") => "CHANGES_REQUESTED",
        Some("COMMENT") => "COMMENTED",
        Some(other) => {
            return Err(ApiError::unprocessable(format!(
                "Unprocessable Entity: event {other} is not valid"
            )));
        }
    };
    if matches!(state, "CHANGES_REQUESTED" | "COMMENTED") && text.trim().is_empty() {
        return Err(ApiError::unprocessable(format!(
            "Unprocessable Entity: \"Body is required for event {}\"",
            str_field(&req, "event").unwrap_or_default()
        )));
    }
    let review = Review {
        id: m.next_id(),
        pull_number: number,
        user: actor(&m, &auth),
        body: text,
        state: state.to_string(),
        commit_id: str_field(&req, "commit_id")
            .map(str::to_string)
            .unwrap_or(pr.head_sha),
        submitted_at: Utc::now(),
    };
    let r = m.repo_mut(&key).ok_or_else(ApiError::not_found)?;
    r.reviews.push(review.clone());
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    Ok(ok(review_json(&st.base, &m, r, &review)))
}
