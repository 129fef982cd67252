//! The git data API: blobs, trees and commits made object by object.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{Method, Uri};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Value, json};

use crate::support::fake_github::api::{
    ApiError, ApiResult, AppState, access, actor, body_json, created, ok, query_param, str_field,
};
use crate::support::fake_github::auth::Auth;
use crate::support::fake_github::git::{self as objects, Tree};
use crate::support::fake_github::model::{Model, Repo};
use crate::support::fake_github::render;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/repos/{owner}/{repo}/git/blobs", post(create_blob))
        .route("/repos/{owner}/{repo}/git/blobs/{sha}", get(get_blob))
        .route("/repos/{owner}/{repo}/git/trees", post(create_tree))
        .route("/repos/{owner}/{repo}/git/trees/{sha}", get(get_tree))
        .route("/repos/{owner}/{repo}/git/commits", post(create_commit))
        .route(
            "/repos/{owner}/{repo}/git/commits/{sha}",
            get(get_git_commit),
        )
}

type RepoPath = Path<(String, String)>;
type RepoRestPath = Path<(String, String, String)>;

fn repo<'a>(m: &'a Model, key: &str) -> Result<&'a Repo, ApiError> {
    m.repo(key).ok_or_else(ApiError::not_found)
}

async fn create_blob(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name)): RepoPath,
    body: Bytes,
) -> ApiResult {
    let req = body_json(&body)?;
    let mut m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let content = str_field(&req, "content")
        .ok_or_else(|| ApiError::invalid("\"content\" wasn't supplied."))?;
    let bytes = match str_field(&req, "encoding").unwrap_or("utf-8") {
        "base64" => base64::engine::general_purpose::STANDARD
            .decode(content.replace(['\n', '\r'], ""))
            .map_err(|_| ApiError::unprocessable("content is not valid Base64"))?,
        _ => content.as_bytes().to_vec(),
    };
    let sha = objects::blob_sha(&bytes);
    m.blobs.insert(sha.clone(), bytes);
    let full = repo(&m, &key)?.full_name();
    Ok(created(
        json!({ "sha": sha, "url": format!("{}/repos/{full}/git/blobs/{sha}", st.base) }),
    ))
}

fn find_blob(m: &Model, sha: &str) -> Option<Vec<u8>> {
    if let Some(b) = m.blobs.get(sha) {
        return Some(b.clone());
    }
    m.commits
        .values()
        .flat_map(|c| c.tree.values())
        .find(|content| objects::blob_sha(content) == sha)
        .cloned()
}

async fn get_blob(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, sha)): RepoRestPath,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let bytes = find_blob(&m, &sha).ok_or_else(ApiError::not_found)?;
    let full = repo(&m, &key)?.full_name();
    Ok(ok(json!({
        "sha": sha,
        "node_id": render::node_id("Blob", bytes.len() as u64),
        "size": bytes.len(),
        "url": format!("{}/repos/{full}/git/blobs/{sha}", st.base),
        "content": super::contents::github_base64(&bytes),
        "encoding": "base64",
    })))
}

fn find_tree(m: &Model, sha: &str) -> Option<Arc<Tree>> {
    m.trees.get(sha).cloned().or_else(|| {
        m.commits
            .values()
            .find(|c| c.tree_sha == sha)
            .map(|c| c.tree.clone())
    })
}

fn tree_json(base: &str, r: &Repo, sha: &str, tree: &Tree, recursive: bool) -> Value {
    let api = format!("{base}/repos/{}", r.full_name());
    let entries: Vec<Value> = objects::tree_entries(tree, "", recursive)
        .into_iter()
        .map(|e| {
            let kind = if e.kind == "blob" { "blobs" } else { "trees" };
            let mut v = json!({
                "path": e.path, "mode": e.mode, "type": e.kind, "sha": e.sha,
                "url": format!("{api}/git/{kind}/{}", e.sha),
            });
            if let Some(size) = e.size {
                v["size"] = json!(size);
            }
            v
        })
        .collect();
    json!({ "sha": sha, "url": format!("{api}/git/trees/{sha}"), "tree": entries, "truncated": false })
}

async fn create_tree(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name)): RepoPath,
    body: Bytes,
) -> ApiResult {
    let req = body_json(&body)?;
    let mut m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let mut tree: Tree = match str_field(&req, "base_tree") {
        Some(sha) => (*find_tree(&m, sha)
            .ok_or_else(|| ApiError::unprocessable("base_tree is not a valid tree oid"))?)
        .clone(),
        None => Tree::new(),
    };
    let entries = req["tree"]
        .as_array()
        .ok_or_else(|| ApiError::invalid("\"tree\" wasn't supplied."))?;
    for e in entries {
        let path =
            str_field(e, "path").ok_or_else(|| ApiError::invalid("\"path\" wasn't supplied."))?;
        if let Some(content) = str_field(e, "content") {
            tree.insert(path.to_string(), content.as_bytes().to_vec());
        } else if let Some(sha) = str_field(e, "sha") {
            let bytes = find_blob(&m, sha).ok_or_else(|| {
                ApiError::unprocessable(format!("tree.sha {sha} is not a valid blob"))
            })?;
            tree.insert(path.to_string(), bytes);
        } else if e.get("sha").is_some_and(Value::is_null) {
            let prefix = format!("{path}/");
            tree.retain(|p, _| p != path && !p.starts_with(&prefix));
        } else {
            return Err(ApiError::invalid(
                "Must supply either tree.sha or tree.content",
            ));
        }
    }
    let sha = objects::tree_sha(&tree);
    m.trees.insert(sha.clone(), Arc::new(tree.clone()));
    let r = repo(&m, &key)?;
    Ok(created(tree_json(&st.base, r, &sha, &tree, false)))
}

async fn get_tree(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    uri: Uri,
    Path((owner, name, rev)): RepoRestPath,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let recursive = query_param(&uri, "recursive").is_some();
    let (sha, tree) = match find_tree(&m, &rev) {
        Some(t) => (rev.clone(), t),
        None => {
            let commit = m
                .resolve(&key, &rev)
                .and_then(|s| m.commits.get(&s))
                .ok_or_else(ApiError::not_found)?;
            (commit.tree_sha.clone(), commit.tree.clone())
        }
    };
    let r = repo(&m, &key)?;
    Ok(ok(tree_json(&st.base, r, &sha, &tree, recursive)))
}

async fn create_commit(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name)): RepoPath,
    body: Bytes,
) -> ApiResult {
    let req = body_json(&body)?;
    let mut m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let message = str_field(&req, "message")
        .ok_or_else(|| ApiError::invalid("\"message\" wasn't supplied."))?;
    let tree_sha =
        str_field(&req, "tree").ok_or_else(|| ApiError::invalid("\"tree\" wasn't supplied."))?;
    let tree = find_tree(&m, tree_sha)
        .ok_or_else(|| ApiError::unprocessable("Tree SHA does not exist"))?;
    let parents: Vec<String> = req["parents"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    if let Some(p) = parents.iter().find(|p| !m.commits.contains_key(*p)) {
        return Err(ApiError::unprocessable(format!(
            "Parent SHA does not exist or is not a commit object: {p}"
        )));
    }
    let author = actor(&m, &auth);
    let sha = m.make_commit((*tree).clone(), parents, message, &author);
    let r = repo(&m, &key)?;
    render::git_commit(&st.base, &m, r, &sha)
        .map(created)
        .ok_or_else(ApiError::not_found)
}

async fn get_git_commit(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, sha)): RepoRestPath,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = repo(&m, &key)?;
    render::git_commit(&st.base, &m, r, &sha)
        .map(ok)
        .ok_or_else(ApiError::not_found)
}
