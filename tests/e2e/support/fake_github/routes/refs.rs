//! Git references: get, match, create, move (fast-forward or forced) and delete.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::Method;
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::support::fake_github::api::{
    ApiError, ApiResult, AppState, access, body_json, created, no_content, ok, str_field,
};
use crate::support::fake_github::auth::Auth;
use crate::support::fake_github::git as objects;
use crate::support::fake_github::model::{Model, Repo};
use crate::support::fake_github::render;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/repos/{owner}/{repo}/git/ref/{*name}", get(get_ref))
        .route(
            "/repos/{owner}/{repo}/git/matching-refs/{*name}",
            get(matching_refs),
        )
        .route("/repos/{owner}/{repo}/git/refs", post(create_ref))
        .route(
            "/repos/{owner}/{repo}/git/refs/{*name}",
            get(get_ref).patch(update_ref).delete(delete_ref),
        )
}

type RepoPath = Path<(String, String)>;
type RepoRestPath = Path<(String, String, String)>;

fn repo<'a>(m: &'a Model, key: &str) -> Result<&'a Repo, ApiError> {
    m.repo(key).ok_or_else(ApiError::not_found)
}

fn ref_json(base: &str, r: &Repo, full_ref: &str, sha: &str) -> Value {
    let api = format!("{base}/repos/{}", r.full_name());
    json!({
        "ref": full_ref,
        "node_id": render::node_id("Ref", sha.len() as u64),
        "url": format!("{api}/git/{full_ref}"),
        "object": { "type": "commit", "sha": sha, "url": format!("{api}/git/commits/{sha}") },
    })
}

fn full_ref(name: &str) -> String {
    if name.starts_with("refs/") {
        name.to_string()
    } else {
        format!("refs/{name}")
    }
}

async fn get_ref(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, refname)): RepoRestPath,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = repo(&m, &key)?;
    let full = full_ref(&refname);
    let sha = r.refs.get(&full).ok_or_else(ApiError::not_found)?;
    Ok(ok(ref_json(&st.base, r, &full, sha)))
}

async fn matching_refs(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, prefix)): RepoRestPath,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = repo(&m, &key)?;
    let prefix = full_ref(&prefix);
    let list: Vec<Value> = r
        .refs
        .iter()
        .filter(|(n, _)| n.starts_with(&prefix))
        .map(|(n, sha)| ref_json(&st.base, r, n, sha))
        .collect();
    Ok(ok(Value::Array(list)))
}

async fn create_ref(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name)): RepoPath,
    body: Bytes,
) -> ApiResult {
    let req = body_json(&body)?;
    let mut m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let refname =
        str_field(&req, "ref").ok_or_else(|| ApiError::invalid("\"ref\" wasn't supplied."))?;
    let sha =
        str_field(&req, "sha").ok_or_else(|| ApiError::invalid("\"sha\" wasn't supplied."))?;
    if !refname.starts_with("refs/")
        || refname.matches('/').count() < 2
        || !objects::valid_ref_name(refname)
    {
        return Err(ApiError::unprocessable(format!(
            "{refname} is not a valid ref name."
        )));
    }
    if !m.commits.contains_key(sha) {
        return Err(ApiError::unprocessable("Object does not exist"));
    }
    if repo(&m, &key)?.refs.contains_key(refname) {
        return Err(ApiError::unprocessable("Reference already exists"));
    }
    m.set_ref(&key, refname, sha);
    let r = repo(&m, &key)?;
    Ok(created(ref_json(&st.base, r, refname, sha)))
}

async fn update_ref(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, refname)): RepoRestPath,
    body: Bytes,
) -> ApiResult {
    let req = body_json(&body)?;
    let mut m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let full = full_ref(&refname);
    let sha =
        str_field(&req, "sha").ok_or_else(|| ApiError::invalid("\"sha\" wasn't supplied."))?;
    let force = req.get("force").and_then(Value::as_bool).unwrap_or(false);
    let current = repo(&m, &key)?
        .refs
        .get(&full)
        .cloned()
        .ok_or_else(|| ApiError::unprocessable("Reference does not exist"))?;
    if !m.commits.contains_key(sha) {
        return Err(ApiError::unprocessable("Object does not exist"));
    }
    if !force && !objects::is_ancestor(&m.commits, &current, sha) {
        return Err(ApiError::unprocessable("Update is not a fast forward"));
    }
    m.set_ref(&key, &full, sha);
    let r = repo(&m, &key)?;
    Ok(ok(ref_json(&st.base, r, &full, sha)))
}

async fn delete_ref(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, refname)): RepoRestPath,
) -> ApiResult {
    let mut m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    if m.delete_ref(&key, &full_ref(&refname)) {
        Ok(no_content())
    } else {
        Err(ApiError::unprocessable("Reference does not exist"))
    }
}
