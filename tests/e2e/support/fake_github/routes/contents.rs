//! Repository contents (JSON with base64, or raw), and tarballs via a codeload redirect.

use std::io::Write;

use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

use crate::support::fake_github::api::{ApiError, ApiResult, AppState, access, ok, query_param};
use crate::support::fake_github::auth::Auth;
use crate::support::fake_github::git::{self as objects, Commit};
use crate::support::fake_github::model::repo_key;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/repos/{owner}/{repo}/contents", get(root_contents))
        .route("/repos/{owner}/{repo}/contents/", get(root_contents))
        .route("/repos/{owner}/{repo}/contents/{*path}", get(path_contents))
        .route("/repos/{owner}/{repo}/tarball", get(tarball_default))
        .route("/repos/{owner}/{repo}/tarball/{*rev}", get(tarball))
        .route(
            "/_codeload/{owner}/{repo}/legacy.tar.gz/{sha}",
            get(codeload),
        )
}

/// Base64 the way the contents API writes it: a newline after every 60 characters.
pub fn github_base64(bytes: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 60 + 1);
    for chunk in encoded.as_bytes().chunks(60) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out
}

async fn root_contents(
    st: State<AppState>,
    auth: Extension<Auth>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
    Path((owner, repo)): Path<(String, String)>,
) -> ApiResult {
    contents(st, auth, method, headers, uri, owner, repo, String::new()).await
}

async fn path_contents(
    st: State<AppState>,
    auth: Extension<Auth>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
    Path((owner, repo, path)): Path<(String, String, String)>,
) -> ApiResult {
    contents(st, auth, method, headers, uri, owner, repo, path).await
}

#[allow(clippy::too_many_arguments)]
async fn contents(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
    owner: String,
    repo: String,
    path: String,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &repo, &method)?;
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    let rev = query_param(&uri, "ref").unwrap_or_else(|| r.default_branch.clone());
    let sha = m
        .resolve(&key, &rev)
        .ok_or_else(|| ApiError::new(404, format!("No commit found for the ref {rev}")))?;
    let tree = m.tree_of(&sha).unwrap_or_default();
    let path = path.trim_matches('/').to_string();
    let accept = headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let (base, full) = (st.base.to_string(), r.full_name());
    let api = format!("{base}/repos/{full}");
    let entry = |path: &str, kind: &str, sha: &str, size: usize| -> Value {
        let name = path.rsplit('/').next().unwrap_or(path);
        let self_url = format!("{api}/contents/{path}?ref={rev}");
        let git_url = format!(
            "{api}/git/{}/{sha}",
            if kind == "file" { "blobs" } else { "trees" }
        );
        let html_url = format!(
            "{base}/{full}/{}/{rev}/{path}",
            if kind == "file" { "blob" } else { "tree" }
        );
        let download = (kind == "file").then(|| format!("{base}/_raw/{full}/{rev}/{path}"));
        json!({
            "type": kind, "name": name, "path": path, "sha": sha, "size": size,
            "url": self_url, "git_url": git_url, "html_url": html_url, "download_url": download,
            "_links": { "self": self_url, "git": git_url, "html": html_url },
        })
    };

    if let Some(bytes) = tree.get(&path) {
        if accept.contains("vnd.github.raw") || accept.contains("vnd.github.v3.raw") {
            let mut resp = (StatusCode::OK, bytes.clone()).into_response();
            resp.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/vnd.github.raw"),
            );
            return Ok(resp);
        }
        let mut v = entry(&path, "file", &objects::blob_sha(bytes), bytes.len());
        if bytes.len() > 1024 * 1024 {
            v["encoding"] = json!("none");
            v["content"] = json!("");
        } else {
            v["encoding"] = json!("base64");
            v["content"] = json!(github_base64(bytes));
        }
        return Ok(ok(v));
    }
    let is_dir = path.is_empty() || tree.keys().any(|p| p.starts_with(&format!("{path}/")));
    if !is_dir {
        return Err(ApiError::not_found());
    }
    let sub = if path.is_empty() {
        (*tree).clone()
    } else {
        objects::subtree(&tree, &path)
    };
    let prefix = if path.is_empty() {
        String::new()
    } else {
        format!("{path}/")
    };
    let listing: Vec<Value> = objects::tree_entries(&sub, "", false)
        .into_iter()
        .map(|e| {
            let kind = if e.kind == "blob" { "file" } else { "dir" };
            entry(
                &format!("{prefix}{}", e.path),
                kind,
                &e.sha,
                e.size.unwrap_or(0),
            )
        })
        .collect();
    if accept.contains("vnd.github.object") {
        let mut v = entry(&path, "dir", &objects::tree_sha(&sub), 0);
        v["entries"] = Value::Array(listing);
        return Ok(ok(v));
    }
    Ok(ok(Value::Array(listing)))
}

async fn tarball_default(
    st: State<AppState>,
    auth: Extension<Auth>,
    method: Method,
    Path((owner, repo)): Path<(String, String)>,
) -> ApiResult {
    tarball(st, auth, method, Path((owner, repo, String::new()))).await
}

async fn tarball(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, repo, rev)): Path<(String, String, String)>,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &repo, &method)?;
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    let rev = if rev.is_empty() {
        r.default_branch.clone()
    } else {
        rev
    };
    let sha = m.resolve(&key, &rev).ok_or_else(ApiError::not_found)?;
    let location = format!(
        "{}/_codeload/{}/{}/legacy.tar.gz/{sha}",
        st.base, r.owner, r.name
    );
    let mut resp = StatusCode::FOUND.into_response();
    let location = HeaderValue::from_str(&location).map_err(|_| ApiError::not_found())?;
    resp.headers_mut().insert(LOCATION, location);
    Ok(resp)
}

async fn codeload(
    State(st): State<AppState>,
    Path((owner, repo, sha)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let (commit, prefix) = {
        let m = st.lock();
        let r = m
            .repo(&repo_key(&owner, &repo))
            .ok_or_else(ApiError::not_found)?;
        let commit = m
            .commits
            .get(&sha)
            .cloned()
            .ok_or_else(ApiError::not_found)?;
        (commit, format!("{}-{}-{}", r.owner, r.name, &sha[..7]))
    };
    let bytes = build_tarball(&commit, &prefix).map_err(|e| ApiError::new(500, e.to_string()))?;
    let mut resp = (StatusCode::OK, bytes).into_response();
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/x-gzip"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename={prefix}.tar.gz")) {
        resp.headers_mut().insert("content-disposition", v);
    }
    Ok(resp)
}

/// A gzip tar like GitHub's: a pax global header carrying the commit id, then everything
/// under `{owner}-{repo}-{shortsha}/`.
fn build_tarball(commit: &Commit, prefix: &str) -> std::io::Result<Vec<u8>> {
    let mtime = commit.time.timestamp().max(0) as u64;
    let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));

    let pax = format!("52 comment={}\n", commit.sha);
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(tar::EntryType::XGlobalHeader);
    header.set_size(pax.len() as u64);
    header.set_mode(0o666);
    header.set_mtime(mtime);
    tar.append_data(&mut header, "pax_global_header", pax.as_bytes())?;

    let mut dirs = std::collections::BTreeSet::new();
    dirs.insert(String::new());
    for path in commit.tree.keys() {
        let mut acc = String::new();
        for part in path
            .split('/')
            .rev()
            .skip(1)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            acc = if acc.is_empty() {
                part.to_string()
            } else {
                format!("{acc}/{part}")
            };
            dirs.insert(acc.clone());
        }
    }
    for dir in dirs {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_size(0);
        header.set_mode(0o775);
        header.set_mtime(mtime);
        let name = if dir.is_empty() {
            format!("{prefix}/")
        } else {
            format!("{prefix}/{dir}/")
        };
        tar.append_data(&mut header, name, std::io::empty())?;
    }
    for (path, content) in commit.tree.iter() {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(content.len() as u64);
        header.set_mode(0o664);
        header.set_mtime(mtime);
        tar.append_data(&mut header, format!("{prefix}/{path}"), content.as_slice())?;
    }
    let mut gz = tar.into_inner()?;
    gz.flush()?;
    gz.finish()
}
