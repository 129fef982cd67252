//! JSON shapes shared by several areas (users, repositories, the App, installations,
//! commits), with every field octocrab's models require.

use base64::Engine;
use serde_json::{Value, json};

use super::api::fmt_time;
use super::git;
use super::model::{Installation, Model, Repo};

pub fn node_id(kind: &str, id: u64) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("0{}:{kind}{id}", kind.len()))
}

pub fn user(base: &str, m: &Model, login: &str) -> Value {
    let u = m.user(login);
    let l = &u.login;
    json!({
        "login": l,
        "id": u.id,
        "node_id": node_id(u.kind, u.id),
        "avatar_url": format!("{base}/avatars/u/{}", u.id),
        "gravatar_id": "",
        "url": format!("{base}/users/{l}"),
        "html_url": format!("{base}/{l}"),
        "followers_url": format!("{base}/users/{l}/followers"),
        "following_url": format!("{base}/users/{l}/following{{/other_user}}"),
        "gists_url": format!("{base}/users/{l}/gists{{/gist_id}}"),
        "starred_url": format!("{base}/users/{l}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{base}/users/{l}/subscriptions"),
        "organizations_url": format!("{base}/users/{l}/orgs"),
        "repos_url": format!("{base}/users/{l}/repos"),
        "events_url": format!("{base}/users/{l}/events{{/privacy}}"),
        "received_events_url": format!("{base}/users/{l}/received_events"),
        "type": u.kind,
        "site_admin": false,
    })
}

pub fn repo(base: &str, m: &Model, r: &Repo) -> Value {
    let full = r.full_name();
    let api = format!("{base}/repos/{full}");
    let created = fmt_time(r.created_at);
    let pushed = r
        .refs
        .values()
        .filter_map(|s| m.commits.get(s))
        .map(|c| c.time)
        .max()
        .unwrap_or(r.created_at);
    let parent = r
        .fork_of
        .as_ref()
        .and_then(|k| m.repos.get(k))
        .map(|p| repo_summary(base, m, p));
    let mut v = json!({
        "id": r.id,
        "node_id": node_id("Repository", r.id),
        "name": r.name,
        "full_name": full,
        "owner": user(base, m, &r.owner),
        "private": r.private,
        "visibility": if r.private { "private" } else { "public" },
        "html_url": format!("{base}/{full}"),
        "description": null,
        "fork": r.fork_of.is_some(),
        "url": api,
        "homepage": null,
        "size": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "forks_count": 0,
        "open_issues_count": r.pulls.values().filter(|p| p.merged_at.is_none() && p.closed_at.is_none()).count(),
        "language": null,
        "archived": false,
        "disabled": false,
        "has_issues": true,
        "has_projects": false,
        "has_wiki": false,
        "has_pages": false,
        "has_downloads": true,
        "is_template": false,
        "topics": [],
        "default_branch": r.default_branch,
        "allow_merge_commit": true,
        "allow_squash_merge": true,
        "allow_rebase_merge": true,
        "allow_auto_merge": false,
        "delete_branch_on_merge": false,
        "created_at": created,
        "updated_at": created,
        "pushed_at": fmt_time(pushed),
    });
    let urls = json!({
        "archive_url": format!("{api}/{{archive_format}}{{/ref}}"),
        "branches_url": format!("{api}/branches{{/branch}}"),
        "collaborators_url": format!("{api}/collaborators{{/collaborator}}"),
        "comments_url": format!("{api}/comments{{/number}}"),
        "commits_url": format!("{api}/commits{{/sha}}"),
        "compare_url": format!("{api}/compare/{{base}}...{{head}}"),
        "contents_url": format!("{api}/contents/{{+path}}"),
        "deployments_url": format!("{api}/deployments"),
        "git_refs_url": format!("{api}/git/refs{{/sha}}"),
        "issue_comment_url": format!("{api}/issues/comments{{/number}}"),
        "issues_url": format!("{api}/issues{{/number}}"),
        "merges_url": format!("{api}/merges"),
        "pulls_url": format!("{api}/pulls{{/number}}"),
        "statuses_url": format!("{api}/statuses/{{sha}}"),
        "clone_url": format!("{base}/{full}.git"),
        "git_url": format!("{base}/{full}.git"),
        "ssh_url": format!("git@fake-github:{full}.git"),
    });
    if let (Some(v), Some(urls)) = (v.as_object_mut(), urls.as_object()) {
        v.extend(urls.clone());
    }
    if let Some(p) = parent {
        v["parent"] = p.clone();
        v["source"] = p;
    }
    v
}

/// The short repository shape used inside check runs and events.
pub fn repo_summary(base: &str, m: &Model, r: &Repo) -> Value {
    let full = r.full_name();
    json!({
        "id": r.id,
        "node_id": node_id("Repository", r.id),
        "name": r.name,
        "full_name": full,
        "owner": user(base, m, &r.owner),
        "private": r.private,
        "fork": r.fork_of.is_some(),
        "url": format!("{base}/repos/{full}"),
        "html_url": format!("{base}/{full}"),
    })
}

pub fn app(base: &str, m: &Model) -> Value {
    let a = &m.app;
    json!({
        "id": a.id,
        "slug": a.slug,
        "node_id": node_id("App", a.id),
        "client_id": a.client_id,
        "owner": user(base, m, &a.owner),
        "name": a.name,
        "description": "",
        "external_url": a.external_url,
        "html_url": format!("{base}/apps/{}", a.slug),
        "created_at": fmt_time(a.created_at),
        "updated_at": fmt_time(a.created_at),
        "permissions": a.permissions,
        "events": a.events,
        "installations_count": m.installations.len(),
    })
}

pub fn installation(base: &str, m: &Model, i: &Installation) -> Value {
    json!({
        "id": i.id,
        "account": user(base, m, &i.account),
        "access_tokens_url": format!("{base}/app/installations/{}/access_tokens", i.id),
        "repositories_url": format!("{base}/installation/repositories"),
        "html_url": format!("{base}/organizations/{}/settings/installations/{}", i.account, i.id),
        "app_id": m.app.id,
        "app_slug": m.app.slug,
        "client_id": m.app.client_id,
        "target_id": m.user(&i.account).id,
        "target_type": i.account_type,
        "permissions": i.permissions,
        "events": i.events,
        "repository_selection": i.repository_selection,
        "single_file_name": null,
        "has_multiple_single_files": false,
        "single_file_paths": [],
        "created_at": fmt_time(i.created_at),
        "updated_at": fmt_time(i.created_at),
        "suspended_at": if i.suspended { json!(fmt_time(i.created_at)) } else { Value::Null },
        "suspended_by": null,
    })
}

/// A commit as `GET /repos/{o}/{r}/commits/{ref}` shows it, with `files` against its first
/// parent.
pub fn commit(base: &str, m: &Model, r: &Repo, sha: &str) -> Option<Value> {
    let c = m.commits.get(sha)?;
    let full = r.full_name();
    let api = format!("{base}/repos/{full}");
    let parent_tree = c
        .parents
        .first()
        .and_then(|p| m.tree_of(p))
        .unwrap_or_default();
    let files: Vec<Value> = git::diff(&parent_tree, &c.tree)
        .into_iter()
        .map(|f| {
            let sha = f.new_content.as_deref().map(git::blob_sha);
            json!({
                "sha": sha,
                "filename": f.path,
                "status": f.status,
                "additions": 0,
                "deletions": 0,
                "changes": 0,
                "blob_url": format!("{base}/{full}/blob/{}/{}", c.sha, f.path),
                "raw_url": format!("{base}/{full}/raw/{}/{}", c.sha, f.path),
                "contents_url": format!("{api}/contents/{}?ref={}", f.path, c.sha),
            })
        })
        .collect();
    let ident = json!({
        "name": c.author,
        "email": format!("{}@users.noreply.github.com", c.author),
        "date": fmt_time(c.time),
    });
    Some(json!({
        "sha": c.sha,
        "node_id": node_id("Commit", c.time.timestamp() as u64),
        "url": format!("{api}/commits/{}", c.sha),
        "html_url": format!("{base}/{full}/commit/{}", c.sha),
        "comments_url": format!("{api}/commits/{}/comments", c.sha),
        "commit": {
            "url": format!("{api}/git/commits/{}", c.sha),
            "author": ident,
            "committer": ident,
            "message": c.message,
            "tree": { "sha": c.tree_sha, "url": format!("{api}/git/trees/{}", c.tree_sha) },
            "comment_count": 0,
            "verification": { "verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null },
        },
        "author": user(base, m, &c.author),
        "committer": user(base, m, &c.author),
        "parents": c.parents.iter().map(|p| json!({
            "sha": p,
            "url": format!("{api}/commits/{p}"),
            "html_url": format!("{base}/{full}/commit/{p}"),
        })).collect::<Vec<_>>(),
        "stats": { "total": 0, "additions": 0, "deletions": 0 },
        "files": files,
    }))
}

/// `GET /git/commits/{sha}` shape.
pub fn git_commit(base: &str, m: &Model, r: &Repo, sha: &str) -> Option<Value> {
    let c = m.commits.get(sha)?;
    let api = format!("{base}/repos/{}", r.full_name());
    let ident = json!({
        "name": c.author,
        "email": format!("{}@users.noreply.github.com", c.author),
        "date": fmt_time(c.time),
    });
    Some(json!({
        "sha": c.sha,
        "node_id": node_id("Commit", c.time.timestamp() as u64),
        "url": format!("{api}/git/commits/{}", c.sha),
        "html_url": format!("{base}/{}/commit/{}", r.full_name(), c.sha),
        "author": ident,
        "committer": ident,
        "message": c.message,
        "tree": { "sha": c.tree_sha, "url": format!("{api}/git/trees/{}", c.tree_sha) },
        "parents": c.parents.iter().map(|p| json!({
            "sha": p,
            "url": format!("{api}/git/commits/{p}"),
            "html_url": format!("{base}/{}/commit/{p}", r.full_name()),
        })).collect::<Vec<_>>(),
        "verification": { "verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null },
    }))
}

pub fn label(base: &str, r: &Repo, name: &str) -> Value {
    let id = u64::from_str_radix(&git::blob_sha(name.as_bytes())[..6], 16).expect("hex digest");
    json!({
        "id": id,
        "node_id": node_id("Label", id),
        "url": format!("{base}/repos/{}/labels/{name}", r.full_name()),
        "name": name,
        "color": "ededed",
        "default": false,
        "description": null,
    })
}

/// OWNER, MEMBER, COLLABORATOR or NONE, as GitHub computes `author_association`.
pub fn association(m: &Model, r: &Repo, login: &str) -> &'static str {
    let lower = login.to_lowercase();
    if r.owner.eq_ignore_ascii_case(login) {
        "OWNER"
    } else if m.teams.iter().any(|((org, _), members)| {
        org.eq_ignore_ascii_case(&r.owner) && members.contains_key(&lower)
    }) {
        "MEMBER"
    } else if r.collaborators.contains_key(&lower) {
        "COLLABORATOR"
    } else {
        "NONE"
    }
}
