//! Issue (and pull request) comments and their reactions.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{Method, Uri};
use axum::routing::{delete, get};
use chrono::Utc;
use serde_json::{Value, json};

use crate::support::fake_github::api::{
    ApiError, ApiResult, AppState, access, actor, body_json, created, fmt_time, json_status,
    no_content, ok, page_response, query_param, str_field,
};
use crate::support::fake_github::auth::Auth;
use crate::support::fake_github::model::{Comment, Model, Reaction, Repo};
use crate::support::fake_github::render;

pub const MAX_BODY_CHARS: usize = 65536;
const REACTIONS: [&str; 8] = [
    "+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes",
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/repos/{owner}/{repo}/issues/{number}/comments",
            get(list).post(create),
        )
        .route(
            "/repos/{owner}/{repo}/issues/comments/{id}",
            get(get_one).patch(update).post(update).delete(remove),
        )
        .route(
            "/repos/{owner}/{repo}/issues/comments/{id}/reactions",
            get(list_reactions).post(react),
        )
        .route(
            "/repos/{owner}/{repo}/issues/comments/{id}/reactions/{reaction}",
            delete(unreact),
        )
}

type IdPath = Path<(String, String, u64)>;

pub fn comment_json(base: &str, m: &Model, r: &Repo, c: &Comment) -> Value {
    let full = r.full_name();
    let api = format!("{base}/repos/{full}");
    let kind = if r.pulls.contains_key(&c.issue_number) {
        "pull"
    } else {
        "issues"
    };
    let count = |content: &str| c.reactions.iter().filter(|x| x.content == content).count();
    json!({
        "id": c.id,
        "node_id": render::node_id("IssueComment", c.id),
        "url": format!("{api}/issues/comments/{}", c.id),
        "html_url": format!("{base}/{full}/{kind}/{}#issuecomment-{}", c.issue_number, c.id),
        "issue_url": format!("{api}/issues/{}", c.issue_number),
        "body": c.body,
        "user": render::user(base, m, &c.author),
        "created_at": fmt_time(c.created_at),
        "updated_at": fmt_time(c.updated_at),
        "author_association": if c.via_app { "NONE" } else { render::association(m, r, &c.author) },
        "performed_via_github_app": if c.via_app { render::app(base, m) } else { Value::Null },
        "reactions": {
            "url": format!("{api}/issues/comments/{}/reactions", c.id),
            "total_count": c.reactions.len(),
            "+1": count("+1"), "-1": count("-1"), "laugh": count("laugh"), "hooray": count("hooray"),
            "confused": count("confused"), "heart": count("heart"), "rocket": count("rocket"), "eyes": count("eyes"),
        },
    })
}

fn reaction_json(base: &str, m: &Model, x: &Reaction) -> Value {
    json!({
        "id": x.id,
        "node_id": render::node_id("Reaction", x.id),
        "user": render::user(base, m, &x.user),
        "content": x.content,
        "created_at": fmt_time(x.created_at),
    })
}

/// The body of a create or update: present, and within GitHub's limit.
fn checked_body(req: &Value) -> Result<String, ApiError> {
    let body = str_field(req, "body")
        .ok_or_else(|| ApiError::validation("IssueComment", "body", "missing_field", None))?;
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(ApiError::validation(
            "IssueComment",
            "body",
            "custom",
            Some("body is too long (maximum is 65536 characters)"),
        ));
    }
    Ok(body.to_string())
}

async fn list(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    uri: Uri,
    Path((owner, name, number)): IdPath,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    if !r.pulls.contains_key(&number) && !r.issues.contains_key(&number) {
        return Err(ApiError::not_found());
    }
    let items = r
        .comments
        .values()
        .filter(|c| c.issue_number == number)
        .map(|c| comment_json(&st.base, &m, r, c))
        .collect();
    Ok(page_response(&st.base, &uri, items))
}

async fn create(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, number)): IdPath,
    body: Bytes,
) -> ApiResult {
    let req = body_json(&body)?;
    let text = checked_body(&req)?;
    let mut m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    if !r.pulls.contains_key(&number) && !r.issues.contains_key(&number) {
        return Err(ApiError::not_found());
    }
    let now = Utc::now();
    let comment = Comment {
        id: m.next_id(),
        issue_number: number,
        author: actor(&m, &auth),
        body: text,
        via_app: matches!(auth, Auth::Installation(_)),
        reactions: vec![],
        created_at: now,
        updated_at: now,
    };
    let r = m.repo_mut(&key).ok_or_else(ApiError::not_found)?;
    r.comments.insert(comment.id, comment.clone());
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    Ok(created(comment_json(&st.base, &m, r, &comment)))
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
    let c = r.comments.get(&id).ok_or_else(ApiError::not_found)?;
    Ok(ok(comment_json(&st.base, &m, r, c)))
}

/// PATCH as documented, and POST, which GitHub also accepts (octocrab uses it).
async fn update(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, id)): IdPath,
    body: Bytes,
) -> ApiResult {
    let req = body_json(&body)?;
    let text = checked_body(&req)?;
    let mut m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = m.repo_mut(&key).ok_or_else(ApiError::not_found)?;
    let c = r.comments.get_mut(&id).ok_or_else(ApiError::not_found)?;
    c.body = text;
    c.updated_at = Utc::now();
    let c = c.clone();
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    Ok(ok(comment_json(&st.base, &m, r, &c)))
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
    r.comments.remove(&id).ok_or_else(ApiError::not_found)?;
    Ok(no_content())
}

async fn list_reactions(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    uri: Uri,
    Path((owner, name, id)): IdPath,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    let c = r.comments.get(&id).ok_or_else(ApiError::not_found)?;
    let filter = query_param(&uri, "content");
    let items = c
        .reactions
        .iter()
        .filter(|x| filter.as_ref().is_none_or(|f| *f == x.content))
        .map(|x| reaction_json(&st.base, &m, x))
        .collect();
    Ok(page_response(&st.base, &uri, items))
}

async fn react(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, id)): IdPath,
    body: Bytes,
) -> ApiResult {
    let req = body_json(&body)?;
    let content = str_field(&req, "content").unwrap_or_default().to_string();
    if !REACTIONS.contains(&content.as_str()) {
        return Err(ApiError::validation("Reaction", "content", "invalid", None));
    }
    let mut m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let user = actor(&m, &auth);
    let new_id = m.next_id();
    let r = m.repo_mut(&key).ok_or_else(ApiError::not_found)?;
    let c = r.comments.get_mut(&id).ok_or_else(ApiError::not_found)?;
    let (status, reaction) = match c
        .reactions
        .iter()
        .find(|x| x.user == user && x.content == content)
    {
        Some(existing) => (200, existing.clone()),
        None => {
            let x = Reaction {
                id: new_id,
                user,
                content,
                created_at: Utc::now(),
            };
            c.reactions.push(x.clone());
            (201, x)
        }
    };
    Ok(json_status(status, reaction_json(&st.base, &m, &reaction)))
}

async fn unreact(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, id, reaction)): Path<(String, String, u64, u64)>,
) -> ApiResult {
    let mut m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = m.repo_mut(&key).ok_or_else(ApiError::not_found)?;
    let c = r.comments.get_mut(&id).ok_or_else(ApiError::not_found)?;
    c.reactions.retain(|x| x.id != reaction);
    Ok(no_content())
}
