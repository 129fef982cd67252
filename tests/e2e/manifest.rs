//! `app-manifest.yml` asks for exactly the permissions gitferry's API calls need, checked
//! against GitHub's machine-readable App-permission map.

use std::collections::BTreeMap;

use gitferry::github::permissions::ENDPOINTS;
use serde_json::Value;

/// Endpoints GitHub's map leaves out, with the permission GitHub's docs name for them.
/// (permission, access)
type Grant = (&'static str, &'static str);

const NOT_IN_THE_MAP: &[(&str, &str, Option<Grant>)] = &[
    // Authenticated as the App (JWT) or not at all: no installation permission applies.
    ("GET", "/app", None),
    (
        "POST",
        "/app/installations/{installation_id}/access_tokens",
        None,
    ),
    ("POST", "/app-manifests/{code}/conversions", None),
    ("GET", "/installation/repositories", None),
    (
        "GET",
        "/repos/{owner}/{repo}/collaborators/{username}/permission",
        Some(("metadata", "read")),
    ),
    (
        "GET",
        "/orgs/{org}/teams/{team_slug}/memberships/{username}",
        Some(("members", "read")),
    ),
    (
        "GET",
        "/repos/{owner}/{repo}/tarball/{ref}",
        Some(("contents", "read")),
    ),
    // Documented under "Contents" / "Members" in GitHub's fine-grained permission tables.
    (
        "GET",
        "/repos/{owner}/{repo}/git/commits/{commit_sha}",
        Some(("contents", "read")),
    ),
    (
        "GET",
        "/repos/{owner}/{repo}/commits/{ref}",
        Some(("contents", "read")),
    ),
    (
        "GET",
        "/repos/{owner}/{repo}/compare/{basehead}",
        Some(("contents", "read")),
    ),
    (
        "GET",
        "/orgs/{org}/teams/{team_slug}/members",
        Some(("members", "read")),
    ),
    (
        "GET",
        "/repos/{owner}/{repo}/commits/{commit_sha}/pulls",
        Some(("pull_requests", "read")),
    ),
];

/// Webhook events the manifest subscribes to, and the permission each needs.
const EVENT_PERMISSIONS: &[(&str, &str)] = &[
    ("check_run", "checks"),
    ("check_suite", "checks"),
    ("issue_comment", "pull_requests"),
    ("pull_request", "pull_requests"),
    ("pull_request_review", "pull_requests"),
    ("push", "contents"),
    ("status", "statuses"),
];

fn level(access: &str) -> u8 {
    match access {
        "read" => 1,
        "write" => 2,
        other => panic!("unknown access {other}"),
    }
}

/// For "METHOD path": every (permission, access) that grants it.
fn grants(map: &Value) -> BTreeMap<String, Vec<(String, String)>> {
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (permission, by_access) in map["permissions"].as_object().expect("permissions") {
        for access in ["read", "write"] {
            for endpoint in by_access[access].as_array().into_iter().flatten() {
                out.entry(endpoint.as_str().expect("endpoint").to_owned())
                    .or_default()
                    .push((permission.clone(), access.to_owned()));
            }
        }
    }
    out
}

#[test]
fn manifest_permissions_match_the_api_calls_gitferry_makes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let map: Value = serde_json::from_str(
        &std::fs::read_to_string(
            root.join("tests/fixtures/github/reference/app-permissions.api.github.com.json"),
        )
        .expect("permission map"),
    )
    .expect("json");
    let manifest: Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(root.join("app-manifest.yml")).expect("manifest"),
    )
    .expect("yaml");
    let asked: BTreeMap<String, String> = manifest["default_permissions"]
        .as_object()
        .expect("default_permissions")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("access").to_owned()))
        .collect();
    let grants = grants(&map);
    let mut needed: BTreeMap<String, u8> = BTreeMap::from([("metadata".to_owned(), 1)]);
    let mut problems = Vec::new();

    for (method, path) in ENDPOINTS {
        let key = format!("{method} {path}");
        let options: Vec<(String, String)> = match grants.get(&key) {
            Some(options) => options.clone(),
            None => match NOT_IN_THE_MAP
                .iter()
                .find(|(m, p, _)| m == method && p == path)
            {
                Some((_, _, Some((perm, access)))) => vec![(perm.to_string(), access.to_string())],
                Some((_, _, None)) => continue,
                None => {
                    problems.push(format!(
                        "{key}: not in GitHub's map; add it to NOT_IN_THE_MAP"
                    ));
                    continue;
                }
            },
        };
        match options
            .iter()
            .find(|(perm, access)| asked.get(perm).is_some_and(|a| level(a) >= level(access)))
        {
            Some((perm, access)) => {
                let entry = needed.entry(perm.clone()).or_default();
                *entry = (*entry).max(level(access));
            }
            None => problems.push(format!("{key} needs one of {options:?}")),
        }
    }
    for event in manifest["default_events"].as_array().expect("events") {
        let event = event.as_str().expect("event");
        match EVENT_PERMISSIONS.iter().find(|(e, _)| *e == event) {
            Some((_, perm)) if asked.contains_key(*perm) => {
                needed.entry(perm.to_string()).or_insert(1);
            }
            Some((_, perm)) => problems.push(format!("event {event} needs permission {perm}")),
            None => problems.push(format!("event {event}: add it to EVENT_PERMISSIONS")),
        }
    }
    for (permission, access) in &asked {
        match needed.get(permission) {
            None => problems.push(format!(
                "{permission} is asked for but no call or event needs it"
            )),
            Some(&need) if need < level(access) => problems.push(format!(
                "{permission}: {access} is asked for but only read is needed"
            )),
            Some(_) => {}
        }
    }
    assert!(
        problems.is_empty(),
        "app-manifest.yml is out of step:\n{}",
        problems.join("\n")
    );
}
