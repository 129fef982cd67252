//! App registration from a manifest (what Probot's first run does): the form post that
//! GitHub answers with a redirect carrying a code, and the code's one-time conversion.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde_json::{Value, json};

use crate::support::fake_github::api::{ApiError, ApiResult, AppState, created, fmt_time};
use crate::support::fake_github::auth::{PRIVATE_KEY_PEM, random_token};
use crate::support::fake_github::model::ManifestRegistration;
use crate::support::fake_github::render;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/apps/new", post(new_user_app))
        .route("/organizations/{org}/settings/apps/new", post(new_org_app))
        .route("/app-manifests/{code}/conversions", post(convert))
        .route("/apps/{slug}", get(app_page))
        .route("/apps/{slug}/installations/new", get(app_page))
}

async fn new_user_app(
    State(st): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    Form(form): Form<HashMap<String, String>>,
) -> ApiResult {
    register(&st, None, query, form)
}

async fn new_org_app(
    State(st): State<AppState>,
    Path(org): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    Form(form): Form<HashMap<String, String>>,
) -> ApiResult {
    register(&st, Some(org), query, form)
}

/// Which permission each webhook event needs; GitHub refuses a manifest subscribing to an
/// event its permissions do not cover.
fn event_permission(event: &str) -> Option<&'static [&'static str]> {
    Some(match event {
        "check_run" | "check_suite" => &["checks"],
        "deployment" | "deployment_status" => &["deployments"],
        "issue_comment" => &["issues", "pull_requests"],
        "issues" => &["issues"],
        "pull_request"
        | "pull_request_review"
        | "pull_request_review_comment"
        | "pull_request_review_thread" => &["pull_requests"],
        "push" | "create" | "delete" | "release" => &["contents"],
        "status" => &["statuses"],
        "merge_group" => &["merge_queues"],
        "workflow_run" | "workflow_job" => &["actions"],
        "member" | "membership" | "organization" | "team" => &["members"],
        _ => return None,
    })
}

fn validate(manifest: &Value) -> Result<(), String> {
    if manifest.get("url").and_then(Value::as_str).is_none() {
        return Err("url wasn't supplied".into());
    }
    let hook = &manifest["hook_attributes"];
    let hook_active = hook.get("active").and_then(Value::as_bool).unwrap_or(true);
    if hook_active && !hook.is_null() && hook.get("url").and_then(Value::as_str).is_none() {
        return Err("hook_attributes.url wasn't supplied".into());
    }
    let perms = manifest["default_permissions"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for (perm, access) in &perms {
        if !matches!(access.as_str(), Some("read" | "write" | "admin")) {
            return Err(format!(
                "Default permission {perm} has an invalid access level"
            ));
        }
    }
    let unsupported: Vec<&str> = manifest["default_events"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|e| {
            event_permission(e).is_some_and(|ps| !ps.iter().any(|p| perms.contains_key(*p)))
        })
        .collect();
    if !unsupported.is_empty() {
        return Err(format!(
            "Default events unsupported: {}",
            unsupported.join(", ")
        ));
    }
    Ok(())
}

fn register(
    st: &AppState,
    org: Option<String>,
    query: HashMap<String, String>,
    form: HashMap<String, String>,
) -> ApiResult {
    let raw = form
        .get("manifest")
        .ok_or_else(|| ApiError::unprocessable("manifest wasn't supplied"))?;
    let manifest: Value = serde_json::from_str(raw)
        .map_err(|e| ApiError::unprocessable(format!("manifest is not valid JSON: {e}")))?;
    validate(&manifest).map_err(ApiError::unprocessable)?;
    let state = form.get("state").or_else(|| query.get("state")).cloned();
    let code = random_token("");
    let redirect = manifest
        .get("redirect_url")
        .and_then(Value::as_str)
        .map(str::to_string);
    st.lock().manifests.push(ManifestRegistration {
        code: code.clone(),
        org,
        state: state.clone(),
        manifest,
        converted: false,
    });
    let Some(redirect) = redirect else {
        return Ok(Html(format!("<p>App created. Code: {code}</p>")).into_response());
    };
    let mut target = reqwest::Url::parse(&redirect)
        .map_err(|_| ApiError::unprocessable("redirect_url is not a valid URL"))?;
    target.query_pairs_mut().append_pair("code", &code);
    if let Some(s) = &state {
        target.query_pairs_mut().append_pair("state", s);
    }
    let mut resp = StatusCode::FOUND.into_response();
    let location = HeaderValue::from_str(target.as_str())
        .map_err(|_| ApiError::unprocessable("redirect_url is not a valid URL"))?;
    resp.headers_mut().insert(LOCATION, location);
    Ok(resp)
}

fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_matches('-').to_string()
}

async fn convert(State(st): State<AppState>, Path(code): Path<String>) -> ApiResult {
    let mut m = st.lock();
    let reg = m
        .manifests
        .iter_mut()
        .find(|r| r.code == code && !r.converted)
        .ok_or_else(ApiError::not_found)?;
    reg.converted = true;
    let (manifest, org) = (reg.manifest.clone(), reg.org.clone());
    if let Some(name) = manifest["name"].as_str() {
        m.app.name = name.to_string();
        let slug = slugify(name);
        if !slug.is_empty() {
            m.app.slug = slug;
        }
    }
    if let Some(owner) = org {
        m.app.owner = owner;
    }
    if let Some(perms) = manifest["default_permissions"].as_object() {
        m.app.permissions = perms
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("read").to_string()))
            .collect();
        m.app.permissions.insert("metadata".into(), "read".into());
    }
    if let Some(events) = manifest["default_events"].as_array() {
        m.app.events = events
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect();
    }
    if let Some(url) = manifest["url"].as_str() {
        m.app.external_url = url.to_string();
    }
    m.app.webhook_url = manifest["hook_attributes"]["url"]
        .as_str()
        .map(String::from);
    m.app.webhook_secret = random_token("whsec_");
    m.app.client_id = format!("Iv1.{}", &random_token("")[..16]);
    m.app.client_secret = random_token("");
    m.app.created_at = Utc::now();
    let mut body = render::app(&st.base, &m);
    body["client_secret"] = json!(m.app.client_secret);
    body["webhook_secret"] = json!(m.app.webhook_secret);
    body["pem"] = json!(PRIVATE_KEY_PEM);
    body["updated_at"] = json!(fmt_time(m.app.created_at));
    Ok(created(body))
}

async fn app_page(State(st): State<AppState>, Path(slug): Path<String>) -> Response {
    let name = st.lock().app.name.clone();
    Html(format!("<h1>{name}</h1><p>GitHub App {slug} (fake)</p>")).into_response()
}
