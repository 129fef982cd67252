//! Concrete API paths → bounded route templates for metrics and logs.
//!
//! Prometheus labels must come from a small, fixed set; a label per repository, issue number or
//! file path would grow without bound. Every segment that is not a known word of the GitHub REST
//! API becomes a placeholder, so whatever a caller (or a PR author, through a branch name or a
//! file path) puts into a path, the template stays within the API's vocabulary.

/// Words that appear literally in GitHub REST paths gitferry uses (and their neighbours).
/// A word missing here only makes a template less readable (`{param}`), never unbounded.
const KNOWN_WORDS: &[&str] = &[
    "access_tokens",
    "actions",
    "annotations",
    "app",
    "app-manifests",
    "apps",
    "assignees",
    "blobs",
    "branches",
    "cancel",
    "check-runs",
    "check-suites",
    "collaborators",
    "comments",
    "commits",
    "compare",
    "contents",
    "conversions",
    "deployments",
    "dispatches",
    "environments",
    "events",
    "files",
    "forks",
    "git",
    "graphql",
    "hooks",
    "installation",
    "installations",
    "issues",
    "jobs",
    "labels",
    "latest",
    "lock",
    "logs",
    "matching-refs",
    "members",
    "memberships",
    "merge",
    "merges",
    "meta",
    "milestones",
    "orgs",
    "permission",
    "protection",
    "pulls",
    "rate_limit",
    "reactions",
    "readme",
    "ref",
    "refs",
    "releases",
    "repos",
    "repositories",
    "requested_reviewers",
    "requested_teams",
    "rerequest",
    "rerun",
    "reviews",
    "runs",
    "search",
    "status",
    "statuses",
    "tags",
    "tarball",
    "teams",
    "timeline",
    "topics",
    "trees",
    "update-branch",
    "user",
    "users",
    "workflows",
];

/// Collections whose next segment is always a parameter, with that parameter's name.
const PARAM_AFTER: &[(&str, &str)] = &[
    ("app-manifests", "{code}"),
    ("apps", "{app_slug}"),
    ("assignees", "{assignee}"),
    ("blobs", "{sha}"),
    ("collaborators", "{username}"),
    ("commits", "{ref}"),
    ("environments", "{environment_name}"),
    ("installations", "{installation_id}"),
    ("labels", "{name}"),
    ("members", "{username}"),
    ("memberships", "{username}"),
    ("orgs", "{org}"),
    ("statuses", "{ref}"),
    ("teams", "{team_slug}"),
    ("trees", "{sha}"),
    ("users", "{username}"),
];

/// Collections addressed by number rather than id.
const NUMBERED: &[&str] = &["issues", "pulls", "milestones"];

/// Turns `/repos/octo/shop/issues/12/comments?per_page=100` into
/// `/repos/{owner}/{repo}/issues/{number}/comments`.
///
/// Paths are API-relative (no GitHub Enterprise `/api/v3` prefix); the query is dropped.
pub fn route_template(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut out: Vec<&str> = Vec::with_capacity(segments.len());
    let mut i = 0;
    while i < segments.len() {
        let seg = segments[i];
        let prev = out.last().copied().unwrap_or_default();
        // Repository coordinates are positional.
        if i == 0 && seg == "repos" {
            out.push("repos");
            out.extend(["{owner}", "{repo}"].iter().take(segments.len() - 1));
            i = 3;
            continue;
        }
        // Segments after which everything is one parameter (file paths and ref names contain
        // slashes).
        let rest = match (prev, seg) {
            ("{repo}", "contents") => Some("{path}"),
            ("{repo}", "compare") => Some("{basehead}"),
            ("{repo}", "branches") => Some("{branch}"),
            ("git", "ref" | "refs" | "matching-refs") => Some("{ref}"),
            _ => None,
        };
        if let Some(placeholder) = rest {
            out.push(seg);
            if i + 1 < segments.len() {
                out.push(placeholder);
            }
            break;
        }
        out.push(segment_template(prev, seg));
        i += 1;
    }
    if out.is_empty() {
        return "/".to_owned();
    }
    format!("/{}", out.join("/"))
}

fn segment_template<'a>(prev: &str, seg: &'a str) -> &'a str {
    let numeric = seg.bytes().all(|b| b.is_ascii_digit());
    if numeric {
        return if NUMBERED.contains(&prev) {
            "{number}"
        } else if prev == "installations" {
            "{installation_id}"
        } else {
            "{id}"
        };
    }
    if let Some((_, name)) = PARAM_AFTER.iter().find(|(word, _)| *word == prev) {
        return name;
    }
    if KNOWN_WORDS.contains(&seg) {
        seg
    } else {
        "{param}"
    }
}

#[cfg(test)]
mod tests {
    use super::route_template as t;

    #[test]
    fn repository_routes() {
        assert_eq!(
            t("/repos/octo/shop/issues/12/comments?per_page=100"),
            "/repos/{owner}/{repo}/issues/{number}/comments"
        );
        assert_eq!(
            t("/repos/octo/shop/issues/comments/99"),
            "/repos/{owner}/{repo}/issues/comments/{id}"
        );
        assert_eq!(t("/repos/octo/shop"), "/repos/{owner}/{repo}");
        assert_eq!(
            t("/repos/octo/shop/pulls/3/reviews"),
            "/repos/{owner}/{repo}/pulls/{number}/reviews"
        );
        assert_eq!(
            t("/repos/octo/shop/check-runs/123456789"),
            "/repos/{owner}/{repo}/check-runs/{id}"
        );
        assert_eq!(
            t("/repos/octo/shop/commits/abc123/check-runs"),
            "/repos/{owner}/{repo}/commits/{ref}/check-runs"
        );
        assert_eq!(
            t("/repos/octo/shop/collaborators/alice/permission"),
            "/repos/{owner}/{repo}/collaborators/{username}/permission"
        );
    }

    #[test]
    fn rest_parameters_swallow_slashes() {
        assert_eq!(
            t("/repos/octo/shop/contents/.github/gitferry.yml?ref=main"),
            "/repos/{owner}/{repo}/contents/{path}"
        );
        assert_eq!(
            t("/repos/octo/shop/git/ref/heads/feature/x"),
            "/repos/{owner}/{repo}/git/ref/{ref}"
        );
        assert_eq!(
            t("/repos/octo/shop/git/refs/heads/gitferry/queue-1"),
            "/repos/{owner}/{repo}/git/refs/{ref}"
        );
        assert_eq!(t("/repos/o/r/git/refs"), "/repos/{owner}/{repo}/git/refs");
        assert_eq!(
            t("/repos/o/r/compare/main...feature/x"),
            "/repos/{owner}/{repo}/compare/{basehead}"
        );
        assert_eq!(
            t("/repos/o/r/branches/release/1.0"),
            "/repos/{owner}/{repo}/branches/{branch}"
        );
    }

    #[test]
    fn app_routes() {
        assert_eq!(
            t("/app/installations/4242/access_tokens"),
            "/app/installations/{installation_id}/access_tokens"
        );
        assert_eq!(t("/app"), "/app");
        assert_eq!(
            t("/app-manifests/0a1b2c/conversions"),
            "/app-manifests/{code}/conversions"
        );
        assert_eq!(
            t("/installation/repositories?page=2"),
            "/installation/repositories"
        );
        assert_eq!(
            t("/repositories/77/issues?page=3"),
            "/repositories/{id}/issues"
        );
        assert_eq!(
            t("/orgs/acme/teams/ops/memberships/bob"),
            "/orgs/{org}/teams/{team_slug}/memberships/{username}"
        );
    }

    #[test]
    fn unknown_words_never_leak() {
        assert_eq!(
            t("/repos/o/r/whatever/secret-name"),
            "/repos/{owner}/{repo}/{param}/{param}"
        );
        assert_eq!(t("/users/issues"), "/users/{username}");
        assert_eq!(t(""), "/");
        assert_eq!(t("/repos/o"), "/repos/{owner}");
    }
}
