//! Deployments and deployment statuses, including GitHub's `auto_merge`, `required_contexts`
//! and `auto_inactive` behaviour.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{Method, Uri};
use axum::routing::get;
use chrono::Utc;
use serde_json::{Value, json};

use crate::support::fake_github::api::{
    ApiError, ApiResult, AppState, access, actor, body_json, created, fmt_time, json_status,
    no_content, ok, page_response, query_param, str_field,
};
use crate::support::fake_github::auth::Auth;
use crate::support::fake_github::model::{Deployment, DeploymentStatus, Model, Repo};
use crate::support::fake_github::render;

const STATES: [&str; 7] = [
    "error",
    "failure",
    "inactive",
    "in_progress",
    "queued",
    "pending",
    "success",
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/repos/{owner}/{repo}/deployments", get(list).post(create))
        .route(
            "/repos/{owner}/{repo}/deployments/{id}",
            get(get_one).delete(remove),
        )
        .route(
            "/repos/{owner}/{repo}/deployments/{id}/statuses",
            get(list_statuses).post(create_status),
        )
}

type IdPath = Path<(String, String, u64)>;

pub fn deployment_json(base: &str, m: &Model, r: &Repo, d: &Deployment) -> Value {
    let api = format!("{base}/repos/{}", r.full_name());
    json!({
        "url": format!("{api}/deployments/{}", d.id),
        "id": d.id,
        "node_id": render::node_id("Deployment", d.id),
        "sha": d.sha,
        "ref": d.ref_name,
        "task": d.task,
        "payload": d.payload,
        "original_environment": d.original_environment,
        "environment": d.environment,
        "description": d.description,
        "creator": render::user(base, m, &d.creator),
        "created_at": fmt_time(d.created_at),
        "updated_at": fmt_time(d.updated_at),
        "statuses_url": format!("{api}/deployments/{}/statuses", d.id),
        "repository_url": api,
        "transient_environment": d.transient_environment,
        "production_environment": d.production_environment,
        "performed_via_github_app": if d.creator.ends_with("[bot]") { render::app(base, m) } else { Value::Null },
    })
}

fn status_json(base: &str, m: &Model, r: &Repo, d: &Deployment, s: &DeploymentStatus) -> Value {
    let api = format!("{base}/repos/{}", r.full_name());
    json!({
        "url": format!("{api}/deployments/{}/statuses/{}", d.id, s.id),
        "id": s.id,
        "node_id": render::node_id("DeploymentStatus", s.id),
        "state": s.state,
        "creator": render::user(base, m, &s.creator),
        "description": s.description,
        "environment": s.environment,
        "target_url": s.log_url,
        "log_url": s.log_url,
        "environment_url": s.environment_url,
        "created_at": fmt_time(s.created_at),
        "updated_at": fmt_time(s.created_at),
        "deployment_url": format!("{api}/deployments/{}", d.id),
        "repository_url": api,
        "performed_via_github_app": if s.creator.ends_with("[bot]") { render::app(base, m) } else { Value::Null },
    })
}

/// Contexts (commit statuses and check runs) on `sha` that are not successful.
fn failing_contexts(r: &Repo, sha: &str, required: Option<&[String]>) -> Vec<String> {
    let mut latest: std::collections::BTreeMap<String, bool> = Default::default();
    for s in r.statuses.iter().filter(|s| s.sha == sha) {
        latest.insert(s.context.clone(), s.state == "success");
    }
    for c in r.check_runs.values().filter(|c| c.head_sha == sha) {
        let good = matches!(
            c.conclusion.as_deref(),
            Some("success" | "neutral" | "skipped")
        );
        latest.insert(c.name.clone(), good);
    }
    match required {
        None => latest
            .into_iter()
            .filter(|(_, ok)| !ok)
            .map(|(c, _)| c)
            .collect(),
        Some(list) => list
            .iter()
            .filter(|c| latest.get(*c) != Some(&true))
            .cloned()
            .collect(),
    }
}

async fn create(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let req = body_json(&body)?;
    let mut m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let rev = str_field(&req, "ref")
        .ok_or_else(|| ApiError::invalid("\"ref\" wasn't supplied."))?
        .to_string();
    let sha = m.resolve(&key, &rev).ok_or_else(|| {
        ApiError::validation(
            "Deployment",
            "ref",
            "invalid",
            Some(&format!("No ref found for: {rev}")),
        )
    })?;
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    let default_branch = r.default_branch.clone();
    let creator = actor(&m, &auth);

    // auto_merge (default true): GitHub merges the default branch into the ref first.
    let auto_merge = req
        .get("auto_merge")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let default_sha = r.branch(&default_branch).cloned();
    if let Some(default_sha) = default_sha.filter(|_| auto_merge && r.branch(&rev).is_some())
        && rev != default_branch
    {
        match m.merge_trees(&sha, &default_sha) {
            Ok(None) => {}
            Ok(Some(tree)) => {
                let msg = format!("Merge {default_branch} into {rev}");
                let merged = m.make_commit(tree, vec![sha.clone(), default_sha], &msg, &creator);
                m.set_ref(&key, &format!("refs/heads/{rev}"), &merged);
                return Ok(json_status(
                    202,
                    json!({ "message": format!("Auto-merged {default_branch} into {rev} on deployment.") }),
                ));
            }
            Err(_) => {
                return Err(ApiError::new(
                    409,
                    format!("Conflict merging {default_branch} into {rev}."),
                ));
            }
        }
    }
    let required: Option<Vec<String>> =
        req.get("required_contexts")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            });
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    let failing = failing_contexts(r, &sha, required.as_deref());
    if !failing.is_empty() {
        return Err(ApiError::new(
            409,
            format!("Conflict: Commit status checks failed for {rev}."),
        ));
    }
    let environment = str_field(&req, "environment")
        .unwrap_or("production")
        .to_string();
    let now = Utc::now();
    let d = Deployment {
        id: m.next_id(),
        sha,
        ref_name: rev,
        task: str_field(&req, "task").unwrap_or("deploy").to_string(),
        original_environment: environment.clone(),
        production_environment: req
            .get("production_environment")
            .and_then(Value::as_bool)
            .unwrap_or(environment == "production"),
        environment,
        payload: req.get("payload").cloned().unwrap_or_else(|| json!({})),
        description: str_field(&req, "description").map(String::from),
        transient_environment: req
            .get("transient_environment")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        creator,
        statuses: vec![],
        created_at: now,
        updated_at: now,
    };
    let r = m.repo_mut(&key).ok_or_else(ApiError::not_found)?;
    r.deployments.insert(d.id, d.clone());
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    Ok(created(deployment_json(&st.base, &m, r, &d)))
}

async fn list(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    uri: Uri,
    Path((owner, name)): Path<(String, String)>,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    let filters: Vec<(&str, Option<String>)> = ["sha", "ref", "task", "environment"]
        .into_iter()
        .map(|f| (f, query_param(&uri, f)))
        .collect();
    let items = r
        .deployments
        .values()
        .rev()
        .filter(|d| {
            filters.iter().all(|(f, want)| {
                let have = match *f {
                    "sha" => &d.sha,
                    "ref" => &d.ref_name,
                    "task" => &d.task,
                    _ => &d.environment,
                };
                want.as_ref().is_none_or(|w| w == have)
            })
        })
        .map(|d| deployment_json(&st.base, &m, r, d))
        .collect();
    Ok(page_response(&st.base, &uri, items))
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
    let d = r.deployments.get(&id).ok_or_else(ApiError::not_found)?;
    Ok(ok(deployment_json(&st.base, &m, r, d)))
}

async fn remove(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, id)): IdPath,
) -> ApiResult {
    let mut m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = m.repo_mut(&key).ok_or_else(ApiError::not_found)?;
    let d = r.deployments.get(&id).ok_or_else(ApiError::not_found)?;
    let alone = r
        .deployments
        .values()
        .filter(|x| x.environment == d.environment)
        .count()
        == 1;
    if d.latest_state() != Some("inactive") && !alone {
        return Err(ApiError::unprocessable(
            "We cannot delete an active deployment unless it is the only deployment in a given environment.",
        ));
    }
    r.deployments.remove(&id);
    Ok(no_content())
}

async fn list_statuses(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    uri: Uri,
    Path((owner, name, id)): IdPath,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    let d = r.deployments.get(&id).ok_or_else(ApiError::not_found)?;
    let items = d
        .statuses
        .iter()
        .rev()
        .map(|s| status_json(&st.base, &m, r, d, s))
        .collect();
    Ok(page_response(&st.base, &uri, items))
}

async fn create_status(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, id)): IdPath,
    body: Bytes,
) -> ApiResult {
    let req = body_json(&body)?;
    let state =
        str_field(&req, "state").ok_or_else(|| ApiError::invalid("\"state\" wasn't supplied."))?;
    if !STATES.contains(&state) {
        return Err(ApiError::invalid(format!(
            "For 'properties/state', \"{state}\" is not one of {STATES:?}."
        )));
    }
    let description = str_field(&req, "description")
        .unwrap_or_default()
        .to_string();
    if description.chars().count() > 140 {
        return Err(ApiError::validation(
            "DeploymentStatus",
            "description",
            "custom",
            Some("description is too long (maximum is 140 characters)"),
        ));
    }
    let mut m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let creator = actor(&m, &auth);
    let status_id = m.next_id();
    let now = Utc::now();
    let r = m.repo_mut(&key).ok_or_else(ApiError::not_found)?;
    let d = r.deployments.get_mut(&id).ok_or_else(ApiError::not_found)?;
    if let Some(env) = str_field(&req, "environment") {
        d.environment = env.to_string();
    }
    let log_url = str_field(&req, "log_url")
        .or_else(|| str_field(&req, "target_url"))
        .unwrap_or_default();
    let status = DeploymentStatus {
        id: status_id,
        state: state.to_string(),
        description,
        environment: d.environment.clone(),
        environment_url: str_field(&req, "environment_url")
            .unwrap_or_default()
            .to_string(),
        log_url: log_url.to_string(),
        creator: creator.clone(),
        created_at: now,
    };
    d.statuses.push(status.clone());
    d.updated_at = now;
    let (env, this) = (d.environment.clone(), d.id);

    // auto_inactive (default true): earlier successful non-transient, non-production
    // deployments of the same environment get an `inactive` status.
    let auto_inactive = req
        .get("auto_inactive")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if state == "success" && auto_inactive {
        let earlier: Vec<u64> = r
            .deployments
            .values()
            .filter(|x| x.id < this && x.environment == env)
            .filter(|x| !x.transient_environment && !x.production_environment)
            .filter(|x| x.latest_state() == Some("success"))
            .map(|x| x.id)
            .collect();
        for (n, did) in earlier.into_iter().enumerate() {
            if let Some(x) = r.deployments.get_mut(&did) {
                let mut s = x.statuses.last().cloned().unwrap_or(status.clone());
                s.id = status_id * 1000 + n as u64 + 1;
                s.state = "inactive".into();
                s.created_at = now;
                s.creator = creator.clone();
                x.statuses.push(s);
                x.updated_at = now;
            }
        }
    }
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    let d = r.deployments.get(&id).ok_or_else(ApiError::not_found)?;
    Ok(created(status_json(&st.base, &m, r, d, &status)))
}
