//! Which App permission each endpoint needs (from GitHub's "permissions required for GitHub
//! Apps" table, reduced to the endpoints the fake serves). A token without it gets 403.

use std::collections::BTreeMap;

use axum::http::Method;

/// Any one of these (permission, least access) pairs lets the request through.
type Need = &'static [(&'static str, &'static str)];

pub fn required(method: &Method, template: &str, path: &str) -> Option<Need> {
    let write = !matches!(*method, Method::GET | Method::HEAD);
    let rest = template.strip_prefix("/repos/{owner}/{repo}")?;
    let rw = |read: Need, write_need: Need| Some(if write { write_need } else { read });
    if rest.is_empty() || rest.starts_with("/collaborators") || rest == "/installation" {
        return Some(&[("metadata", "read")]);
    }
    if rest.starts_with("/commits/") {
        if path.ends_with("/check-runs") {
            return Some(&[("checks", "read"), ("contents", "read")]);
        }
        if path.ends_with("/status") || path.ends_with("/statuses") {
            return Some(&[("statuses", "read")]);
        }
    }
    if rest.starts_with("/check-runs") {
        return rw(
            &[("checks", "read"), ("contents", "read")],
            &[("checks", "write")],
        );
    }
    if rest.starts_with("/deployments") {
        return rw(&[("deployments", "read")], &[("deployments", "write")]);
    }
    if rest.starts_with("/statuses") {
        return rw(&[("statuses", "read")], &[("statuses", "write")]);
    }
    if rest.starts_with("/issues") {
        return rw(
            &[("issues", "read"), ("pull_requests", "read")],
            &[("issues", "write"), ("pull_requests", "write")],
        );
    }
    if rest.ends_with("/merge") {
        return rw(&[("pull_requests", "read")], &[("contents", "write")]);
    }
    if rest.starts_with("/pulls") {
        return rw(&[("pull_requests", "read")], &[("pull_requests", "write")]);
    }
    rw(&[("contents", "read")], &[("contents", "write")])
}

pub fn satisfied(granted: &BTreeMap<String, String>, need: Need) -> bool {
    let rank = |a: &str| match a {
        "read" => 1,
        "write" => 2,
        "admin" => 3,
        _ => 0,
    };
    need.iter().any(|(perm, access)| {
        granted
            .get(*perm)
            .is_some_and(|have| rank(have) >= rank(access))
    })
}

/// Organisation endpoints (team membership) need `members: read`.
pub fn required_org(template: &str) -> Option<Need> {
    template
        .starts_with("/orgs/{org}/teams")
        .then_some(&[("members", "read")][..])
}
