//! Commits, compare and the merges API.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{Method, Uri};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::support::fake_github::api::{
    ApiError, ApiResult, AppState, access, actor, body_json, created, no_content, ok,
    page_response, query_param, str_field,
};
use crate::support::fake_github::auth::Auth;
use crate::support::fake_github::git as objects;
use crate::support::fake_github::model::{Model, Repo};
use crate::support::fake_github::render;

use super::{checks, statuses};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/repos/{owner}/{repo}/commits", get(list_commits))
        .route("/repos/{owner}/{repo}/commits/{*rest}", get(commit_or_sub))
        .route("/repos/{owner}/{repo}/compare/{*basehead}", get(compare))
        .route("/repos/{owner}/{repo}/merges", post(merge))
}

type RepoPath = Path<(String, String)>;
type RepoRestPath = Path<(String, String, String)>;

fn repo<'a>(m: &'a Model, key: &str) -> Result<&'a Repo, ApiError> {
    m.repo(key).ok_or_else(ApiError::not_found)
}

async fn list_commits(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    uri: Uri,
    Path((owner, name)): RepoPath,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = repo(&m, &key)?;
    let rev = query_param(&uri, "sha").unwrap_or_else(|| r.default_branch.clone());
    let head = m.resolve(&key, &rev).ok_or_else(ApiError::not_found)?;
    let mut list: Vec<_> = objects::ancestors(&m.commits, &head)
        .into_iter()
        .filter_map(|s| m.commits.get(&s))
        .collect();
    list.sort_by_key(|c| std::cmp::Reverse(c.time));
    let items = list
        .into_iter()
        .filter_map(|c| render::commit(&st.base, &m, r, &c.sha))
        .collect();
    Ok(page_response(&st.base, &uri, items))
}

/// `/commits/{ref}` plus its sub-resources; refs may contain slashes, so the suffix decides.
async fn commit_or_sub(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    uri: Uri,
    Path((owner, name, rest)): RepoRestPath,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    if let Some(rev) = rest.strip_suffix("/check-runs") {
        return checks::list_for_ref(&st, &m, &key, rev, &uri);
    }
    if let Some(rev) = rest.strip_suffix("/status") {
        return statuses::combined(&st, &m, &key, rev);
    }
    if let Some(rev) = rest.strip_suffix("/statuses") {
        return statuses::list(&st, &m, &key, rev, &uri);
    }
    if let Some(rev) = rest.strip_suffix("/pulls") {
        return super::pulls::associated(&st, &m, &key, rev);
    }
    let sha = m
        .resolve(&key, &rest)
        .ok_or_else(|| ApiError::unprocessable(format!("No commit found for SHA: {rest}")))?;
    let r = repo(&m, &key)?;
    render::commit(&st.base, &m, r, &sha)
        .map(ok)
        .ok_or_else(ApiError::not_found)
}

async fn compare(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, basehead)): RepoRestPath,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = repo(&m, &key)?;
    let (base_rev, head_rev) = basehead
        .split_once("...")
        .or_else(|| basehead.split_once(".."))
        .ok_or_else(ApiError::not_found)?;
    let base = m.resolve(&key, base_rev).ok_or_else(ApiError::not_found)?;
    let head = m.resolve(&key, head_rev).ok_or_else(ApiError::not_found)?;
    let merge_base = objects::merge_base(&m.commits, &base, &head).ok_or_else(|| {
        ApiError::not_found_because(format!(
            "No common ancestor between {base_rev} and {head_rev}."
        ))
    })?;
    let ahead = objects::commits_between(&m.commits, &base, &head);
    let behind = objects::commits_between(&m.commits, &head, &base);
    let status = match (ahead.is_empty(), behind.is_empty()) {
        (true, true) => "identical",
        (false, true) => "ahead",
        (true, false) => "behind",
        (false, false) => "diverged",
    };
    let from = m.tree_of(&merge_base).unwrap_or_default();
    let to = m.tree_of(&head).unwrap_or_default();
    let files: Vec<Value> = objects::diff(&from, &to)
        .into_iter()
        .map(|f| json!({ "filename": f.path, "status": f.status, "sha": f.new_content.as_deref().map(objects::blob_sha) }))
        .collect();
    let full = r.full_name();
    Ok(ok(json!({
        "url": format!("{}/repos/{full}/compare/{basehead}", st.base),
        "html_url": format!("{}/{full}/compare/{basehead}", st.base),
        "status": status,
        "ahead_by": ahead.len(),
        "behind_by": behind.len(),
        "total_commits": ahead.len(),
        "base_commit": render::commit(&st.base, &m, r, &base),
        "merge_base_commit": render::commit(&st.base, &m, r, &merge_base),
        "commits": ahead.iter().filter_map(|c| render::commit(&st.base, &m, r, &c.sha)).collect::<Vec<_>>(),
        "files": files,
    })))
}

async fn merge(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name)): RepoPath,
    body: Bytes,
) -> ApiResult {
    let req = body_json(&body)?;
    let mut m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let base =
        str_field(&req, "base").ok_or_else(|| ApiError::invalid("\"base\" wasn't supplied."))?;
    let head =
        str_field(&req, "head").ok_or_else(|| ApiError::invalid("\"head\" wasn't supplied."))?;
    let base_sha = repo(&m, &key)?
        .branch(base)
        .cloned()
        .ok_or_else(|| ApiError::new(404, "Base does not exist"))?;
    let head_sha = m
        .resolve(&key, head)
        .ok_or_else(|| ApiError::new(404, "Head does not exist"))?;
    let tree = match m.merge_trees(&base_sha, &head_sha) {
        Ok(None) => return Ok(no_content()),
        Ok(Some(tree)) => tree,
        Err(_) => return Err(ApiError::new(409, "Merge conflict")),
    };
    let message = str_field(&req, "commit_message")
        .map(str::to_string)
        .unwrap_or_else(|| format!("Merge {head} into {base}"));
    let author = actor(&m, &auth);
    let sha = m.make_commit(tree, vec![base_sha, head_sha], &message, &author);
    m.set_ref(&key, &format!("refs/heads/{base}"), &sha);
    let r = repo(&m, &key)?;
    render::commit(&st.base, &m, r, &sha)
        .map(created)
        .ok_or_else(ApiError::not_found)
}
