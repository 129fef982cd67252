//! Pull requests: get, list and merge.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{Method, Uri};
use axum::routing::{get, put};
use chrono::Utc;
use serde_json::{Value, json};

use crate::support::fake_github::api::{
    ApiError, ApiResult, AppState, access, actor, body_json, created, fmt_time, ok, opt_time,
    page_response, query_param, str_field,
};
use crate::support::fake_github::auth::Auth;
use crate::support::fake_github::git::{self as objects, Tree};
use crate::support::fake_github::model::{Model, PrState, PullRequest, Repo};
use crate::support::fake_github::render;
use crate::support::fake_github::repo_handle::{PrSpec, open_pull};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/repos/{owner}/{repo}/pulls",
            get(list_pulls).post(create_pull),
        )
        .route(
            "/repos/{owner}/{repo}/pulls/{number}",
            get(get_pull).patch(update_pull),
        )
        .route(
            "/repos/{owner}/{repo}/pulls/{number}/merge",
            put(merge_pull).get(is_merged),
        )
}

type PullPath = Path<(String, String, u64)>;

fn side(base: &str, m: &Model, repo: Option<&Repo>, owner: &str, branch: &str, sha: &str) -> Value {
    json!({
        "label": format!("{owner}:{branch}"),
        "ref": branch,
        "sha": sha,
        "user": render::user(base, m, owner),
        "repo": repo.map(|r| render::repo(base, m, r)),
    })
}

/// The pull request as GitHub shows it; `full` adds what only the single-PR endpoint
/// reports (merged, mergeable, counts).
pub fn pull_json(base: &str, m: &Model, r: &Repo, pr: &PullRequest, full: bool) -> Value {
    let full_name = r.full_name();
    let api = format!("{base}/repos/{full_name}");
    let n = pr.number;
    let head_repo = m.repo(&pr.head_repo);
    let head_owner = head_repo
        .map(|h| h.owner.clone())
        .unwrap_or_else(|| pr.author.clone());
    let base_sha = r.branch(&pr.base_ref).cloned().unwrap_or_default();
    let mut v = json!({
        "url": format!("{api}/pulls/{n}"),
        "id": pr.id,
        "node_id": render::node_id("PullRequest", pr.id),
        "html_url": format!("{base}/{full_name}/pull/{n}"),
        "diff_url": format!("{base}/{full_name}/pull/{n}.diff"),
        "patch_url": format!("{base}/{full_name}/pull/{n}.patch"),
        "issue_url": format!("{api}/issues/{n}"),
        "commits_url": format!("{api}/pulls/{n}/commits"),
        "review_comments_url": format!("{api}/pulls/{n}/comments"),
        "review_comment_url": format!("{api}/pulls/comments{{/number}}"),
        "comments_url": format!("{api}/issues/{n}/comments"),
        "statuses_url": format!("{api}/statuses/{}", pr.head_sha),
        "number": n,
        "state": if pr.state == PrState::Open { "open" } else { "closed" },
        "locked": false,
        "title": pr.title,
        "body": pr.body,
        "user": render::user(base, m, &pr.author),
        "labels": pr.labels.iter().map(|l| render::label(base, r, l)).collect::<Vec<_>>(),
        "milestone": null,
        "active_lock_reason": null,
        "created_at": fmt_time(pr.created_at),
        "updated_at": fmt_time(pr.updated_at),
        "closed_at": opt_time(pr.closed_at),
        "merged_at": opt_time(pr.merged_at),
        "merge_commit_sha": pr.merge_commit_sha,
        "assignee": null,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": side(base, m, head_repo, &head_owner, &pr.head_ref, &pr.head_sha),
        "base": side(base, m, Some(r), &r.owner, &pr.base_ref, &base_sha),
        "_links": {
            "self": { "href": format!("{api}/pulls/{n}") },
            "html": { "href": format!("{base}/{full_name}/pull/{n}") },
            "issue": { "href": format!("{api}/issues/{n}") },
            "comments": { "href": format!("{api}/issues/{n}/comments") },
            "statuses": { "href": format!("{api}/statuses/{}", pr.head_sha) },
        },
        "author_association": render::association(m, r, &pr.author),
        "auto_merge": null,
        "draft": pr.draft,
    });
    if full {
        let mergeable = m.pull_mergeable(&r.key(), pr);
        let state = match (pr.state == PrState::Open, mergeable) {
            (false, _) => "unknown",
            (true, None) => "unknown",
            (true, Some(false)) => "dirty",
            (true, Some(true)) if pr.draft => "draft",
            (true, Some(true)) => "clean",
        };
        let changed = objects::merge_base(&m.commits, &base_sha, &pr.head_sha)
            .and_then(|b| m.tree_of(&b))
            .zip(m.tree_of(&pr.head_sha))
            .map(|(from, to)| objects::diff(&from, &to).len())
            .unwrap_or(0);
        let extra = json!({
            "merged": pr.merged,
            "mergeable": mergeable,
            "rebaseable": mergeable,
            "mergeable_state": state,
            "merged_by": pr.merged_by.as_deref().map(|u| render::user(base, m, u)),
            "comments": r.comments.values().filter(|c| c.issue_number == n).count(),
            "review_comments": 0,
            "maintainer_can_modify": false,
            "commits": objects::commits_between(&m.commits, &base_sha, &pr.head_sha).len(),
            "additions": 0,
            "deletions": 0,
            "changed_files": changed,
        });
        if let (Some(v), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            v.extend(e.clone());
        }
    }
    v
}

async fn list_pulls(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    uri: Uri,
    Path((owner, name)): Path<(String, String)>,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    let state = query_param(&uri, "state").unwrap_or_else(|| "open".into());
    let base_filter = query_param(&uri, "base");
    let head_filter = query_param(&uri, "head");
    let mut pulls: Vec<&PullRequest> = r
        .pulls
        .values()
        .filter(|p| match state.as_str() {
            "all" => true,
            "closed" => p.state == PrState::Closed,
            _ => p.state == PrState::Open,
        })
        .filter(|p| base_filter.as_ref().is_none_or(|b| *b == p.base_ref))
        .filter(|p| {
            head_filter.as_ref().is_none_or(|h| {
                let owner = m
                    .repo(&p.head_repo)
                    .map(|r| r.owner.as_str())
                    .unwrap_or_default();
                match h.split_once(':') {
                    Some((o, b)) => o.eq_ignore_ascii_case(owner) && b == p.head_ref,
                    None => *h == p.head_ref,
                }
            })
        })
        .collect();
    pulls.sort_by_key(|p| std::cmp::Reverse(p.number));
    let items = pulls
        .into_iter()
        .map(|p| pull_json(&st.base, &m, r, p, false))
        .collect();
    Ok(page_response(&st.base, &uri, items))
}

async fn get_pull(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, number)): PullPath,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    let pr = r.pulls.get(&number).ok_or_else(ApiError::not_found)?;
    Ok(ok(pull_json(&st.base, &m, r, pr, true)))
}

async fn is_merged(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, number)): PullPath,
) -> ApiResult {
    let m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let merged = m
        .repo(&key)
        .and_then(|r| r.pulls.get(&number))
        .is_some_and(|p| p.merged);
    if merged {
        Ok(crate::support::fake_github::api::no_content())
    } else {
        Err(ApiError::not_found())
    }
}

/// Replays the commits of `head` since `base_sha` onto `base_sha` (rebase merge).
fn rebase(m: &mut Model, base_sha: &str, head: &str, author: &str) -> Result<String, ApiError> {
    let mut current = base_sha.to_string();
    for c in objects::commits_between(&m.commits, base_sha, head) {
        if c.parents.len() > 1 {
            continue;
        }
        let parent_tree = c
            .parents
            .first()
            .and_then(|p| m.tree_of(p))
            .unwrap_or_default();
        let mut tree: Tree = (*m.tree_of(&current).unwrap_or_default()).clone();
        for change in objects::diff(&parent_tree, &c.tree) {
            if tree.get(&change.path) != parent_tree.get(&change.path)
                && tree.get(&change.path) != change.new_content.as_ref()
            {
                return Err(ApiError::new(405, "This branch can't be rebased"));
            }
            match change.new_content {
                Some(content) => tree.insert(change.path, content),
                None => tree.remove(&change.path),
            };
        }
        current = m.make_commit(tree, vec![current], &c.message, author);
    }
    Ok(current)
}

async fn merge_pull(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, number)): PullPath,
    body: Bytes,
) -> ApiResult {
    let req = body_json(&body)?;
    let mut m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    let pr = r
        .pulls
        .get(&number)
        .cloned()
        .ok_or_else(ApiError::not_found)?;
    let head_owner = m
        .repo(&pr.head_repo)
        .map(|h| h.owner.clone())
        .unwrap_or_default();
    if pr.state != PrState::Open {
        return Err(ApiError::new(405, "Pull Request is not mergeable"));
    }
    if pr.draft {
        return Err(ApiError::new(405, "Pull Request is still a draft"));
    }
    if let Some(sha) = str_field(&req, "sha")
        && sha != pr.head_sha
    {
        return Err(ApiError::new(
            409,
            "Head branch was modified. Review and try the merge again.",
        ));
    }
    let method_name = str_field(&req, "merge_method")
        .unwrap_or("merge")
        .to_string();
    let base_sha = r
        .branch(&pr.base_ref)
        .cloned()
        .ok_or_else(|| ApiError::new(405, "Base branch was deleted"))?;
    if pr.mergeable_override == Some(Some(false)) {
        return Err(ApiError::new(405, "Pull Request is not mergeable"));
    }
    let tree = match m.merge_trees(&base_sha, &pr.head_sha) {
        Ok(Some(t)) => t,
        Ok(None) => (*m.tree_of(&base_sha).unwrap_or_default()).clone(),
        Err(_) => return Err(ApiError::new(405, "Pull Request is not mergeable")),
    };
    let author = actor(&m, &auth);
    let title = str_field(&req, "commit_title").map(str::to_string);
    let body_text = str_field(&req, "commit_message").map(str::to_string);
    let compose = |default_title: String, default_body: String| {
        let t = title.clone().unwrap_or(default_title);
        let b = body_text.clone().unwrap_or(default_body);
        if b.is_empty() {
            t
        } else {
            format!("{t}\n\n{b}")
        }
    };
    let sha = match method_name.as_str() {
        "merge" => {
            let msg = compose(
                format!(
                    "Merge pull request #{number} from {head_owner}/{}",
                    pr.head_ref
                ),
                pr.title.clone(),
            );
            m.make_commit(
                tree,
                vec![base_sha.clone(), pr.head_sha.clone()],
                &msg,
                &author,
            )
        }
        "squash" => {
            let list: Vec<String> = objects::commits_between(&m.commits, &base_sha, &pr.head_sha)
                .iter()
                .map(|c| format!("* {}", c.message.lines().next().unwrap_or_default()))
                .collect();
            let msg = compose(format!("{} (#{number})", pr.title), list.join("\n\n"));
            m.make_commit(tree, vec![base_sha.clone()], &msg, &author)
        }
        "rebase" => rebase(&mut m, &base_sha, &pr.head_sha, &author)?,
        other => {
            return Err(ApiError::invalid(format!(
                "For 'properties/merge_method', \"{other}\" is not one of [\"merge\", \"squash\", \"rebase\"]."
            )));
        }
    };
    m.set_ref(&key, &format!("refs/heads/{}", pr.base_ref), &sha);
    let now = Utc::now();
    if let Some(p) = m.repo_mut(&key).and_then(|r| r.pulls.get_mut(&number)) {
        p.state = PrState::Closed;
        p.merged = true;
        p.merged_by = Some(author);
        p.merged_at = Some(now);
        p.closed_at = Some(now);
        p.updated_at = now;
        p.merge_commit_sha = Some(sha.clone());
    }
    Ok(ok(
        json!({ "sha": sha, "merged": true, "message": "Pull Request successfully merged" }),
    ))
}

/// `GET /repos/{owner}/{repo}/commits/{sha}/pulls`: the pull requests GitHub associates with a
/// commit: the one it is the merge commit of, and those whose head it is.
pub fn associated(st: &AppState, m: &Model, key: &str, rev: &str) -> ApiResult {
    let r = m.repo(key).ok_or_else(ApiError::not_found)?;
    let sha = m
        .resolve(key, rev)
        .ok_or_else(|| ApiError::unprocessable(format!("No commit found for SHA: {rev}")))?;
    let carries =
        |p: &PullRequest| p.merge_commit_sha.as_deref() == Some(sha.as_str()) || p.head_sha == sha;
    let mut pulls: Vec<&PullRequest> = r.pulls.values().filter(|p| carries(p)).collect();
    pulls.sort_by_key(|p| std::cmp::Reverse(p.number));
    let items: Vec<Value> = pulls
        .into_iter()
        .map(|p| pull_json(&st.base, m, r, p, false))
        .collect();
    Ok(ok(Value::Array(items)))
}

/// `POST /repos/{owner}/{repo}/pulls`: opens a pull request from `head` into `base`, as the
/// caller; 422 as GitHub answers when one is open already for that head and base.
async fn create_pull(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let req = body_json(&body)?;
    let mut m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let field = |name: &str| {
        str_field(&req, name)
            .map(str::to_owned)
            .ok_or_else(|| ApiError::invalid(format!("\"{name}\" wasn't supplied.")))
    };
    let (title, head, base) = (field("title")?, field("head")?, field("base")?);
    let text = str_field(&req, "body").unwrap_or_default().to_owned();
    let author = actor(&m, &auth);
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    if r.branch(&head).is_none() {
        return Err(ApiError::unprocessable(
            "Validation Failed: head is invalid",
        ));
    }
    if r.branch(&base).is_none() {
        return Err(ApiError::unprocessable(
            "Validation Failed: base is invalid",
        ));
    }
    if r.pulls
        .values()
        .any(|p| p.state == PrState::Open && p.head_ref == head && p.base_ref == base)
    {
        return Err(ApiError::unprocessable(format!(
            "Validation Failed: A pull request already exists for {owner}:{head}."
        )));
    }
    let spec = PrSpec::new(&head, &base)
        .title(&title)
        .body(&text)
        .author(&author);
    let number = open_pull(&mut m, &key, spec).map_err(ApiError::unprocessable)?;
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    let pr = r.pulls.get(&number).ok_or_else(ApiError::not_found)?;
    Ok(created(pull_json(&st.base, &m, r, pr, true)))
}

/// `PATCH /repos/{owner}/{repo}/pulls/{number}`: a new title or body.
async fn update_pull(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    method: Method,
    Path((owner, name, number)): PullPath,
    body: Bytes,
) -> ApiResult {
    let req = body_json(&body)?;
    let mut m = st.lock();
    let key = access(&m, &auth, &owner, &name, &method)?;
    let r = m.repo_mut(&key).ok_or_else(ApiError::not_found)?;
    let pr = r.pulls.get_mut(&number).ok_or_else(ApiError::not_found)?;
    if let Some(title) = str_field(&req, "title") {
        pr.title = title.to_owned();
    }
    if let Some(text) = str_field(&req, "body") {
        pr.body = text.to_owned();
    }
    pr.updated_at = Utc::now();
    let r = m.repo(&key).ok_or_else(ApiError::not_found)?;
    let pr = r.pulls.get(&number).ok_or_else(ApiError::not_found)?;
    Ok(ok(pull_json(&st.base, &m, r, pr, true)))
}
