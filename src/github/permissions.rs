//! Every GitHub REST endpoint gitferry calls, as the App-permission map names it.
//!
//! `app-manifest.yml` must ask for exactly the permissions these endpoints need; a test checks
//! both against GitHub's machine-readable map, so adding a call without its permission (or
//! keeping a permission no call needs) fails CI.

/// `(method, path template)` of each endpoint gitferry calls or will call in its features.
pub const ENDPOINTS: &[(&str, &str)] = &[
    ("GET", "/app"),
    ("POST", "/app/installations/{installation_id}/access_tokens"),
    ("POST", "/app-manifests/{code}/conversions"),
    ("GET", "/installation/repositories"),
    ("GET", "/repos/{owner}/{repo}/contents/{path}"),
    ("GET", "/repos/{owner}/{repo}/tarball/{ref}"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"),
    ("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/merge"),
    ("POST", "/repos/{owner}/{repo}/issues"),
    ("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}"),
    (
        "GET",
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    ),
    (
        "POST",
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    ),
    (
        "PATCH",
        "/repos/{owner}/{repo}/issues/comments/{comment_id}",
    ),
    (
        "DELETE",
        "/repos/{owner}/{repo}/issues/comments/{comment_id}",
    ),
    (
        "POST",
        "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
    ),
    (
        "GET",
        "/repos/{owner}/{repo}/collaborators/{username}/permission",
    ),
    (
        "GET",
        "/orgs/{org}/teams/{team_slug}/memberships/{username}",
    ),
    ("POST", "/repos/{owner}/{repo}/check-runs"),
    ("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}"),
    ("GET", "/repos/{owner}/{repo}/commits/{sha}/check-runs"),
    ("POST", "/repos/{owner}/{repo}/deployments"),
    (
        "POST",
        "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
    ),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/status"),
    ("POST", "/repos/{owner}/{repo}/merges"),
    ("POST", "/repos/{owner}/{repo}/git/refs"),
    ("PATCH", "/repos/{owner}/{repo}/git/refs/{ref}"),
    ("DELETE", "/repos/{owner}/{repo}/git/refs/{ref}"),
    ("GET", "/repos/{owner}/{repo}/git/ref/{ref}"),
    ("POST", "/repos/{owner}/{repo}/git/commits"),
    ("GET", "/repos/{owner}/{repo}/git/commits/{commit_sha}"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}"),
    ("GET", "/repos/{owner}/{repo}/compare/{basehead}"),
    ("POST", "/repos/{owner}/{repo}/statuses/{sha}"),
    ("GET", "/orgs/{org}/teams/{team_slug}/members"),
    ("GET", "/repos/{owner}/{repo}/commits/{commit_sha}/pulls"),
    ("GET", "/repos/{owner}/{repo}/pulls"),
    ("POST", "/repos/{owner}/{repo}/pulls"),
    ("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}"),
];
