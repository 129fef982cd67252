//! The App's own endpoints (JWT) and the installation-token ones.

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::Uri;
use axum::routing::{get, post};
use axum::{Router, response::Response};
use chrono::Utc;
use serde_json::{Value, json};

use crate::support::fake_github::api::{
    ApiError, ApiResult, AppState, body_json, created, fmt_time, ok, paginate, with_link,
};
use crate::support::fake_github::auth::{Auth, random_token};
use crate::support::fake_github::model::{IssuedToken, repo_key};
use crate::support::fake_github::render;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/app", get(get_app))
        .route("/app/installations", get(list_installations))
        .route("/app/installations/{id}", get(get_installation))
        .route("/app/installations/{id}/access_tokens", post(create_token))
        .route("/installation/repositories", get(installation_repositories))
        .route("/repos/{owner}/{repo}/installation", get(repo_installation))
        .route("/orgs/{org}/installation", get(account_installation))
        .route("/users/{user}/installation", get(account_installation))
}

async fn get_app(State(st): State<AppState>, Extension(auth): Extension<Auth>) -> ApiResult {
    auth.require_app()?;
    let m = st.lock();
    Ok(ok(render::app(&st.base, &m)))
}

async fn list_installations(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
) -> ApiResult {
    auth.require_app()?;
    let m = st.lock();
    let all = m
        .installations
        .values()
        .map(|i| render::installation(&st.base, &m, i))
        .collect();
    let (page, link) = paginate(&st.base, &uri, all);
    Ok(with_link(ok(Value::Array(page)), link))
}

async fn get_installation(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<u64>,
) -> ApiResult {
    auth.require_app()?;
    let m = st.lock();
    let i = m.installations.get(&id).ok_or_else(ApiError::not_found)?;
    Ok(ok(render::installation(&st.base, &m, i)))
}

async fn create_token(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<u64>,
    body: Bytes,
) -> ApiResult {
    auth.require_app()?;
    let req = body_json(&body)?;
    let mut m = st.lock();
    let inst = m
        .installations
        .get(&id)
        .ok_or_else(ApiError::not_found)?
        .clone();
    if inst.suspended {
        return Err(ApiError::new(403, "This installation has been suspended"));
    }
    let mut scoped: Option<BTreeSet<String>> = None;
    if let Some(names) = req.get("repositories").and_then(Value::as_array) {
        let set = scoped.get_or_insert_with(BTreeSet::new);
        for name in names.iter().filter_map(Value::as_str) {
            let key = repo_key(&inst.account, name);
            if !inst.repos.contains(&key) {
                return Err(ApiError::unprocessable(format!(
                    "There is at least one repository that does not exist or is not accessible to the parent installation: {name}"
                )));
            }
            set.insert(key);
        }
    }
    if let Some(ids) = req.get("repository_ids").and_then(Value::as_array) {
        let set = scoped.get_or_insert_with(BTreeSet::new);
        for rid in ids.iter().filter_map(Value::as_u64) {
            let key = inst
                .repos
                .iter()
                .find(|k| m.repos.get(*k).is_some_and(|r| r.id == rid))
                .cloned()
                .ok_or_else(|| {
                    ApiError::unprocessable(
                        "There is at least one repository that does not exist or is not accessible to the parent installation.",
                    )
                })?;
            set.insert(key);
        }
    }
    let mut permissions = inst.permissions.clone();
    if let Some(asked) = req.get("permissions").and_then(Value::as_object) {
        permissions.clear();
        for (perm, access) in asked {
            let access = access.as_str().unwrap_or_default();
            let granted = inst.permissions.get(perm).map(String::as_str);
            let fits = matches!(
                (granted, access),
                (Some("write" | "admin"), "read" | "write") | (Some("read"), "read")
            );
            if !fits {
                return Err(ApiError::unprocessable(format!(
                    "The permissions requested are not granted to this installation: {perm}={access}"
                )));
            }
            permissions.insert(perm.clone(), access.to_string());
        }
        permissions.insert("metadata".into(), "read".into());
    }
    let lifetime = chrono::Duration::from_std(m.app.token_lifetime).unwrap_or_default();
    let expires_at = Utc::now() + lifetime;
    let token = random_token("ghs_");
    m.tokens.insert(
        token.clone(),
        IssuedToken {
            token: token.clone(),
            installation_id: id,
            expires_at,
            repos: scoped.clone(),
            permissions: permissions.clone(),
        },
    );
    *m.tokens_issued.entry(id).or_default() += 1;
    let mut resp = json!({
        "token": token,
        "expires_at": fmt_time(expires_at),
        "permissions": permissions,
        "repository_selection": if scoped.is_some() { "selected" } else { inst.repository_selection.as_str() },
    });
    if let Some(keys) = scoped {
        resp["repositories"] = keys
            .iter()
            .filter_map(|k| m.repos.get(k))
            .map(|r| render::repo(&st.base, &m, r))
            .collect();
    }
    Ok(created(resp))
}

async fn installation_repositories(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
) -> ApiResult {
    let t = auth.require_installation()?;
    let m = st.lock();
    let inst = m
        .installations
        .get(&t.installation_id)
        .ok_or_else(ApiError::bad_credentials)?;
    let repos: Vec<Value> = inst
        .repos
        .iter()
        .filter(|k| t.repos.as_ref().is_none_or(|s| s.contains(*k)))
        .filter_map(|k| m.repos.get(k))
        .map(|r| render::repo(&st.base, &m, r))
        .collect();
    let total = repos.len();
    let (page, link) = paginate(&st.base, &uri, repos);
    let body = json!({
        "total_count": total,
        "repository_selection": inst.repository_selection,
        "repositories": page,
    });
    Ok(with_link(ok(body), link))
}

async fn repo_installation(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path((owner, repo)): Path<(String, String)>,
) -> ApiResult {
    auth.require_app()?;
    let m = st.lock();
    let inst = m
        .installation_of_repo(&repo_key(&owner, &repo))
        .ok_or_else(ApiError::not_found)?;
    Ok(ok(render::installation(&st.base, &m, inst)))
}

async fn account_installation(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(account): Path<String>,
) -> Result<Response, ApiError> {
    auth.require_app()?;
    let m = st.lock();
    let inst = m
        .installations
        .values()
        .find(|i| i.account.eq_ignore_ascii_case(&account))
        .ok_or_else(ApiError::not_found)?;
    Ok(ok(render::installation(&st.base, &m, inst)))
}
