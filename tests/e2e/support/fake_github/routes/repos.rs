//! Repositories and branches.

use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::http::{Method, Uri};
use axum::routing::get;
use serde_json::{Value, json};

use crate::support::fake_github::api::{ApiError, ApiResult, AppState, access, ok, page_response};
use crate::support::fake_github::auth::Auth;
use crate::support::fake_github::model::{Model, Repo};
use crate::support::fake_github::render;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/repos/{owner}/{repo}", get(get_repo))
        .route("/repos/{owner}/{repo}/branches", get(list_branches))
        .route("/repos/{owner}/{repo}/branches/{*branch}", get(get_branch))
}

async fn get_repo(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, repo)): Path<(String, String)>,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &repo, &method)?;
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    let mut body = render::repo(&st.base, &m, r);
    if let Auth::Installation(_) = auth {
        body["permissions"] = json!({ "admin": false, "maintain": false, "push": true, "triage": true, "pull": true });
    }
    Ok(ok(body))
}

fn branch_json(base: &str, m: &Model, r: &Repo, name: &str, sha: &str) -> Value {
    let api = format!("{base}/repos/{}", r.full_name());
    json!({
        "name": name,
        "commit": render::commit(base, m, r, sha).unwrap_or_else(|| json!({ "sha": sha, "url": format!("{api}/commits/{sha}") })),
        "_links": {
            "self": format!("{api}/branches/{name}"),
            "html": format!("{base}/{}/tree/{name}", r.full_name()),
        },
        "protected": false,
        "protection": { "enabled": false, "required_status_checks": { "enforcement_level": "off", "contexts": [], "checks": [] } },
        "protection_url": format!("{api}/branches/{name}/protection"),
    })
}

async fn list_branches(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    uri: Uri,
    Path((owner, repo)): Path<(String, String)>,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &repo, &method)?;
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    let api = format!("{}/repos/{}", st.base, r.full_name());
    let items = r
        .refs
        .iter()
        .filter_map(|(name, sha)| name.strip_prefix("refs/heads/").map(|n| (n, sha)))
        .map(|(name, sha)| {
            json!({
                "name": name,
                "commit": { "sha": sha, "url": format!("{api}/commits/{sha}") },
                "protected": false,
            })
        })
        .collect();
    Ok(page_response(&st.base, &uri, items))
}

async fn get_branch(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, repo, branch)): Path<(String, String, String)>,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &repo, &method)?;
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    let sha = r
        .branch(&branch)
        .ok_or_else(|| ApiError::new(404, "Branch not found"))?;
    Ok(ok(branch_json(&st.base, &m, r, &branch, sha)))
}
