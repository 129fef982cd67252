//! Who may do what: collaborator permission levels, team memberships and team members.

use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::http::{Method, Uri};
use axum::routing::get;
use serde_json::json;

use crate::support::fake_github::api::{
    ApiError, ApiResult, AppState, access, no_content, ok, page_response, query_param,
};
use crate::support::fake_github::auth::Auth;
use crate::support::fake_github::render;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/repos/{owner}/{repo}/collaborators/{user}",
            get(is_collaborator),
        )
        .route(
            "/repos/{owner}/{repo}/collaborators/{user}/permission",
            get(permission),
        )
        .route(
            "/orgs/{org}/teams/{team}/memberships/{user}",
            get(team_membership),
        )
        .route("/orgs/{org}/teams/{team}/members", get(team_members))
}

/// `permission` (the legacy level) for a role name.
pub fn permission_of(role: &str) -> &'static str {
    match role {
        "admin" => "admin",
        "maintain" | "write" => "write",
        "triage" | "read" => "read",
        _ => "none",
    }
}

async fn is_collaborator(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, user)): Path<(String, String, String)>,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    if r.collaborators.contains_key(&user.to_lowercase()) {
        Ok(no_content())
    } else {
        Err(ApiError::not_found())
    }
}

async fn permission(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, user)): Path<(String, String, String)>,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    let role = r.collaborators.get(&user.to_lowercase()).cloned();
    let role_name = role.as_deref().unwrap_or("none");
    let permission = permission_of(role_name);
    let rank = |p: &str| match p {
        "admin" => 4,
        "maintain" => 3,
        "write" => 2,
        "triage" => 1,
        "read" => 0,
        _ => -1,
    };
    let at_least = |p: &str| rank(role_name) >= rank(p);
    let mut u = render::user(&st.base, &m, &user);
    u["permissions"] = json!({
        "admin": at_least("admin"), "maintain": at_least("maintain"), "push": at_least("write"),
        "triage": at_least("triage"), "pull": at_least("read"),
    });
    u["role_name"] = json!(role_name);
    Ok(ok(
        json!({ "permission": permission, "role_name": role_name, "user": u }),
    ))
}

/// The members of a team of the installation's own organisation, by login, filtered by
/// `role` (`member`, `maintainer`, or `all`, the default); an unknown team is a 404.
async fn team_members(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
    Path((org, team)): Path<(String, String)>,
) -> ApiResult {
    let t = auth.require_installation()?;
    let m = st.lock();
    let own_org = m
        .installations
        .get(&t.installation_id)
        .is_some_and(|i| i.account.eq_ignore_ascii_case(&org));
    if !own_org {
        return Err(ApiError::not_found());
    }
    let members = m
        .teams
        .get(&(org.to_lowercase(), team.to_lowercase()))
        .ok_or_else(ApiError::not_found)?;
    let role = query_param(&uri, "role").unwrap_or_else(|| "all".into());
    let items = members
        .iter()
        .filter(|(_, r)| role == "all" || **r == role)
        .map(|(login, _)| render::user(&st.base, &m, login))
        .collect();
    Ok(page_response(&st.base, &uri, items))
}

async fn team_membership(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path((org, team, user)): Path<(String, String, String)>,
) -> ApiResult {
    let t = auth.require_installation()?;
    let m = st.lock();
    let own_org = m
        .installations
        .get(&t.installation_id)
        .is_some_and(|i| i.account.eq_ignore_ascii_case(&org));
    if !own_org {
        return Err(ApiError::not_found());
    }
    let role = m
        .teams
        .get(&(org.to_lowercase(), team.to_lowercase()))
        .and_then(|members| members.get(&user.to_lowercase()))
        .ok_or_else(ApiError::not_found)?;
    Ok(ok(json!({
        "url": format!("{}/organizations/{org}/team/{team}/memberships/{user}", st.base),
        "role": role,
        "state": "active",
    })))
}
