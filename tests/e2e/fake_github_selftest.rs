//! The fake GitHub checked on its own, as a client would see it: auth, contents, comments,
//! check runs, merges, the manifest flow, faults and pagination.

use std::time::Duration;

use base64::Engine;
use chrono::Utc;
use reqwest::header::HeaderMap;
use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::support::fake_github::{
    AuthUsed, FakeGitHub, Fault, OTHER_PRIVATE_KEY_PEM, PRIVATE_KEY_PEM, PrSpec, RepoHandle,
    sign_jwt, sign_jwt_with,
};

struct Resp {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Resp {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// A request to the fake; `auth` is the whole `Authorization` value.
async fn call(
    gh: &FakeGitHub,
    method: Method,
    path: &str,
    auth: Option<&str>,
    body: Option<Value>,
) -> Resp {
    let url = if path.starts_with("http") {
        path.to_string()
    } else {
        format!("{}{path}", gh.url())
    };
    let mut req = Client::new()
        .request(method, url)
        .header("user-agent", "selftest");
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request to the fake");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.expect("response body");
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
    }
}

/// One installation (`acme`) with one repository (`acme/shop`, README on main).
struct World {
    gh: FakeGitHub,
    inst: u64,
    repo: RepoHandle,
    auth: String,
}

async fn world() -> World {
    let gh = FakeGitHub::start().await;
    let inst = gh.add_installation("acme");
    let repo = gh.add_repo(inst, "acme/shop");
    repo.commit_files("main", &[("README.md", "# shop\n")], "init");
    let auth = format!("token {}", gh.installation_token(inst));
    World {
        gh,
        inst,
        repo,
        auth,
    }
}

/// `name=value`, form-encoded.
fn form_body(name: &str, value: &str) -> String {
    let mut url = reqwest::Url::parse("http://form.invalid/").expect("static URL");
    url.query_pairs_mut().append_pair(name, value);
    url.query().unwrap_or_default().to_string()
}

fn now() -> i64 {
    Utc::now().timestamp()
}

#[tokio::test]
async fn token_exchange_works_with_a_good_jwt_and_is_counted() {
    let w = world().await;
    let jwt = format!("Bearer {}", w.gh.app_jwt());
    let path = format!("/app/installations/{}/access_tokens", w.inst);

    let r = call(&w.gh, Method::POST, &path, Some(&jwt), None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.body["token"].as_str().expect("token");
    assert!(token.starts_with("ghs_"));
    assert!(
        r.body["expires_at"]
            .as_str()
            .is_some_and(|s| s.ends_with('Z'))
    );
    assert_eq!(r.header("x-ratelimit-limit"), "5000");
    assert_eq!(w.gh.tokens_issued(w.inst), 1);

    let repo = call(
        &w.gh,
        Method::GET,
        "/repos/acme/shop",
        Some(&format!("Bearer {token}")),
        None,
    )
    .await;
    assert_eq!(repo.status, 200);
    assert_eq!(repo.body["full_name"], "acme/shop");
    let log = w.gh.requests();
    assert_eq!(log[0].auth, AuthUsed::Jwt);
    assert_eq!(log[1].auth, AuthUsed::Installation(w.inst));
}

#[tokio::test]
async fn bad_jwts_are_refused_with_401() {
    let w = world().await;
    let path = format!("/app/installations/{}/access_tokens", w.inst);
    let id = w.gh.app_id();
    let t = now();
    let bad = [
        (
            "other key",
            sign_jwt_with(
                OTHER_PRIVATE_KEY_PEM,
                &json!({ "iss": id, "iat": t - 60, "exp": t + 500 }),
            ),
        ),
        ("expired", sign_jwt(id, t - 700, t - 100)),
        ("exp - iat > 600", sign_jwt(id, t - 60, t + 600)),
        ("iat in the future", sign_jwt(id, t + 120, t + 500)),
        ("wrong issuer", sign_jwt(id + 1, t - 60, t + 500)),
        ("not a JWT", "a.b.c".to_string()),
    ];
    for (why, jwt) in bad {
        let r = call(
            &w.gh,
            Method::POST,
            &path,
            Some(&format!("Bearer {jwt}")),
            None,
        )
        .await;
        assert_eq!(r.status, 401, "{why}: {}", r.body);
        assert!(r.body["message"].is_string(), "{why}");
    }
    let string_iss = sign_jwt_with(
        PRIVATE_KEY_PEM,
        &json!({ "iss": id.to_string(), "iat": t - 60, "exp": t + 540 }),
    );
    let r = call(
        &w.gh,
        Method::POST,
        &path,
        Some(&format!("Bearer {string_iss}")),
        None,
    )
    .await;
    assert_eq!(r.status, 201, "iss as a string is accepted");
    assert_eq!(w.gh.tokens_issued(w.inst), 1);
}

#[tokio::test]
async fn tokens_expire_and_suspended_installations_get_403() {
    let w = world().await;
    w.gh.expire_tokens();
    let r = call(&w.gh, Method::GET, "/repos/acme/shop", Some(&w.auth), None).await;
    assert_eq!(
        (r.status, r.body["message"].as_str()),
        (401, Some("Bad credentials"))
    );

    w.gh.set_installation_suspended(w.inst, true);
    let jwt = format!("Bearer {}", w.gh.app_jwt());
    let r = call(
        &w.gh,
        Method::POST,
        &format!("/app/installations/{}/access_tokens", w.inst),
        Some(&jwt),
        None,
    )
    .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn an_installation_token_cannot_read_another_installations_repo() {
    let w = world().await;
    let other = w.gh.add_installation("globex");
    let secret = w.gh.add_repo(other, "globex/secret");
    secret.commit_files("main", &[("a.txt", "a")], "init");

    let r = call(
        &w.gh,
        Method::GET,
        "/repos/globex/secret",
        Some(&w.auth),
        None,
    )
    .await;
    assert_eq!(
        (r.status, r.body["message"].as_str()),
        (404, Some("Not Found"))
    );
    let r = call(
        &w.gh,
        Method::GET,
        "/repos/globex/secret/contents/a.txt",
        Some(&w.auth),
        None,
    )
    .await;
    assert_eq!(r.status, 404);
    let r = call(
        &w.gh,
        Method::GET,
        "/repos/acme/shop",
        Some("token ghs_nope"),
        None,
    )
    .await;
    assert_eq!(
        (r.status, r.body["message"].as_str()),
        (401, Some("Bad credentials"))
    );
    let r = call(&w.gh, Method::GET, "/repos/acme/shop", None, None).await;
    assert_eq!(
        r.status, 404,
        "private repositories are hidden from anonymous callers"
    );
}

#[tokio::test]
async fn contents_come_base64_with_the_git_blob_sha_or_raw() {
    let w = world().await;
    w.repo.commit_files(
        "main",
        &[
            ("hello.txt", "hello"),
            ("deploy/app.yaml", "kind: Deployment\n"),
        ],
        "add",
    );

    let r = call(
        &w.gh,
        Method::GET,
        "/repos/acme/shop/contents/hello.txt?ref=main",
        Some(&w.auth),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["sha"], "b6fc4c620b67d95f953a5c1c1230aaab5db5a1b0");
    assert_eq!(
        (r.body["type"].as_str(), r.body["encoding"].as_str()),
        (Some("file"), Some("base64"))
    );
    let b64: String = r.body["content"]
        .as_str()
        .expect("content")
        .split('\n')
        .collect();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64");
    assert_eq!(decoded, b"hello");

    let raw = Client::new()
        .get(format!("{}/repos/acme/shop/contents/hello.txt", w.gh.url()))
        .header("authorization", &w.auth)
        .header("accept", "application/vnd.github.raw")
        .send()
        .await
        .expect("raw request");
    assert_eq!(raw.text().await.expect("raw body"), "hello");

    let dir = call(
        &w.gh,
        Method::GET,
        "/repos/acme/shop/contents/deploy",
        Some(&w.auth),
        None,
    )
    .await;
    assert_eq!(dir.body[0]["path"], "deploy/app.yaml");
    let missing = call(
        &w.gh,
        Method::GET,
        "/repos/acme/shop/contents/nope.txt",
        Some(&w.auth),
        None,
    )
    .await;
    assert_eq!(
        (missing.status, missing.body["message"].as_str()),
        (404, Some("Not Found"))
    );
}

#[tokio::test]
async fn the_tarball_redirects_to_a_gzip_tar_with_githubs_top_folder() {
    let w = world().await;
    let sha = w
        .repo
        .commit_files("main", &[("src/main.rs", "fn main() {}\n")], "code");
    let resp = Client::new()
        .get(format!("{}/repos/acme/shop/tarball/main", w.gh.url()))
        .header("authorization", &w.auth)
        .send()
        .await
        .expect("tarball");
    assert_eq!(resp.status().as_u16(), 200);
    let bytes = resp.bytes().await.expect("tarball bytes");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    let names: Vec<String> = archive
        .entries()
        .expect("tar entries")
        .map(|e| {
            e.expect("entry")
                .path()
                .expect("path")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let top = format!("acme-shop-{}", &sha[..7]);
    assert!(names.contains(&format!("{top}/src/main.rs")), "{names:?}");
    assert!(names.contains(&format!("{top}/README.md")), "{names:?}");
    assert_eq!(w.gh.count("GET", "/repos/acme/shop/tarball"), 1);
}

#[tokio::test]
async fn comments_are_created_and_edited_by_post_and_patch_as_the_bot() {
    let w = world().await;
    w.repo.commit_files("feature", &[("f.txt", "f")], "work");
    let pr = w
        .repo
        .open_pr(PrSpec::new("feature", "main").author("alice"));

    let path = format!("/repos/acme/shop/issues/{pr}/comments");
    let c = call(
        &w.gh,
        Method::POST,
        &path,
        Some(&w.auth),
        Some(json!({ "body": "first" })),
    )
    .await;
    assert_eq!(c.status, 201);
    assert_eq!(c.body["user"]["login"], "gitferry-test[bot]");
    assert_eq!(c.body["user"]["type"], "Bot");
    assert_eq!(c.body["performed_via_github_app"]["slug"], "gitferry-test");
    let id = c.body["id"].as_u64().expect("comment id");

    let url = format!("/repos/acme/shop/issues/comments/{id}");
    let e = call(
        &w.gh,
        Method::PATCH,
        &url,
        Some(&w.auth),
        Some(json!({ "body": "second" })),
    )
    .await;
    assert_eq!((e.status, e.body["body"].as_str()), (200, Some("second")));
    let e = call(
        &w.gh,
        Method::POST,
        &url,
        Some(&w.auth),
        Some(json!({ "body": "third" })),
    )
    .await;
    assert_eq!((e.status, e.body["body"].as_str()), (200, Some("third")));
    assert_eq!(w.repo.bot_comments(pr)[0].body, "third");

    let too_long = "x".repeat(65537);
    let r = call(
        &w.gh,
        Method::PATCH,
        &url,
        Some(&w.auth),
        Some(json!({ "body": too_long })),
    )
    .await;
    assert_eq!(r.status, 422);

    let reactions = format!("{url}/reactions");
    let first = call(
        &w.gh,
        Method::POST,
        &reactions,
        Some(&w.auth),
        Some(json!({ "content": "eyes" })),
    )
    .await;
    let again = call(
        &w.gh,
        Method::POST,
        &reactions,
        Some(&w.auth),
        Some(json!({ "content": "eyes" })),
    )
    .await;
    assert_eq!((first.status, again.status), (201, 200));
    assert_eq!(w.repo.reactions(id).len(), 1);
}

fn annotations(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({ "path": "src/lib.rs", "start_line": i + 1, "end_line": i + 1, "annotation_level": "failure", "message": "boom" }))
        .collect()
}

#[tokio::test]
async fn check_runs_allow_50_annotations_per_request_and_append_them() {
    let w = world().await;
    let sha = w.repo.branch_sha("main").expect("main");
    let path = "/repos/acme/shop/check-runs";
    let run = |n| {
        json!({ "name": "gitferry/unit", "head_sha": sha, "status": "in_progress",
                          "output": { "title": "t", "summary": "s", "annotations": annotations(n) } })
    };

    let r = call(&w.gh, Method::POST, path, Some(&w.auth), Some(run(51))).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Invalid request."))
    );

    let r = call(&w.gh, Method::POST, path, Some(&w.auth), Some(run(50))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_u64().expect("check run id");
    let more = json!({ "conclusion": "failure", "output": { "summary": "s2", "annotations": annotations(50) } });
    let r = call(
        &w.gh,
        Method::PATCH,
        &format!("{path}/{id}"),
        Some(&w.auth),
        Some(more),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "completed");
    assert_eq!(r.body["output"]["annotations_count"], 100);

    let no_conclusion = json!({ "name": "x", "head_sha": sha, "status": "completed" });
    let r = call(
        &w.gh,
        Method::POST,
        path,
        Some(&w.auth),
        Some(no_conclusion),
    )
    .await;
    assert_eq!(r.status, 422);
    let list = call(
        &w.gh,
        Method::GET,
        &format!("/repos/acme/shop/commits/{sha}/check-runs?check_name=gitferry/unit"),
        Some(&w.auth),
        None,
    )
    .await;
    assert_eq!(list.body["total_count"], 1);
}

#[tokio::test]
async fn merging_with_a_stale_sha_is_409_and_with_the_head_sha_moves_the_base() {
    let w = world().await;
    let old = w.repo.commit_files("feature", &[("f.txt", "1")], "one");
    let pr = w.repo.open_pr(PrSpec::new("feature", "main"));
    let head = w.repo.commit_files("feature", &[("f.txt", "2")], "two");
    assert_eq!(w.repo.pull(pr).head_sha, head, "the PR follows its branch");

    let path = format!("/repos/acme/shop/pulls/{pr}/merge");
    let r = call(
        &w.gh,
        Method::PUT,
        &path,
        Some(&w.auth),
        Some(json!({ "sha": old })),
    )
    .await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.body["message"],
        "Head branch was modified. Review and try the merge again."
    );

    let r = call(
        &w.gh,
        Method::PUT,
        &path,
        Some(&w.auth),
        Some(json!({ "sha": head, "merge_method": "squash" })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["merged"], true);
    let merged = w.repo.pull(pr);
    assert!(merged.merged);
    assert_eq!(
        w.repo.branch_sha("main"),
        r.body["sha"].as_str().map(String::from)
    );
    assert_eq!(w.repo.file("main", "f.txt").as_deref(), Some("2"));
}

#[tokio::test]
async fn the_merges_api_creates_reports_nothing_or_conflicts() {
    let w = world().await;
    w.repo.commit_files("a", &[("x.txt", "a")], "a");
    w.repo.commit_files("b", &[("x.txt", "b")], "b");
    w.repo.commit_files("c", &[("y.txt", "c")], "c");
    let merge = |head: &str| json!({ "base": "a", "head": head, "commit_message": "merge" });
    let path = "/repos/acme/shop/merges";

    let r = call(&w.gh, Method::POST, path, Some(&w.auth), Some(merge("c"))).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["parents"].as_array().map(Vec::len), Some(2));
    let r = call(&w.gh, Method::POST, path, Some(&w.auth), Some(merge("c"))).await;
    assert_eq!(r.status, 204);
    let r = call(&w.gh, Method::POST, path, Some(&w.auth), Some(merge("b"))).await;
    assert_eq!(r.status, 409);
}

#[tokio::test]
async fn the_manifest_flow_redirects_with_a_code_that_converts_once() {
    let gh = FakeGitHub::start().await;
    let manifest = json!({
        "name": "gitferry-test",
        "url": "https://bot.example.com",
        "hook_attributes": { "url": "https://bot.example.com/webhook" },
        "redirect_url": "https://bot.example.com/setup/callback",
        "default_permissions": { "checks": "write", "pull_requests": "write" },
        "default_events": ["pull_request", "check_run"],
    });
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let resp = client
        .post(format!(
            "{}/organizations/acme/settings/apps/new?state=xyz",
            gh.url()
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body("manifest", &manifest.to_string()))
        .send()
        .await
        .expect("form post");
    assert_eq!(resp.status().as_u16(), 302);
    let location = resp.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let target = reqwest::Url::parse(&location).expect("redirect URL");
    assert!(location.starts_with("https://bot.example.com/setup/callback?"));
    let code = target
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    assert!(
        target
            .query_pairs()
            .any(|(k, v)| k == "state" && v == "xyz")
    );
    assert_eq!(
        gh.manifests()[0].manifest["hook_attributes"]["url"],
        "https://bot.example.com/webhook"
    );

    let path = format!("/app-manifests/{code}/conversions");
    let r = call(&gh, Method::POST, &path, None, None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["id"], gh.app_id());
    assert_eq!(
        r.body["html_url"],
        format!("{}/apps/gitferry-test", gh.url())
    );
    let pem = r.body["pem"].as_str().expect("pem");
    let jwt = sign_jwt_with(
        pem,
        &json!({ "iss": r.body["id"], "iat": now() - 60, "exp": now() + 500 }),
    );
    let app = call(
        &gh,
        Method::GET,
        "/app",
        Some(&format!("Bearer {jwt}")),
        None,
    )
    .await;
    assert_eq!(app.status, 200, "the converted credentials work");
    assert_eq!(
        gh.webhook_secret(),
        r.body["webhook_secret"].as_str().unwrap_or_default()
    );

    let again = call(&gh, Method::POST, &path, None, None).await;
    assert_eq!(again.status, 404);
}

#[tokio::test]
async fn a_manifest_subscribing_to_events_it_has_no_permission_for_is_refused() {
    let gh = FakeGitHub::start().await;
    let manifest = json!({ "url": "https://x", "redirect_url": "https://x/cb",
                           "default_permissions": { "checks": "write" }, "default_events": ["pull_request"] });
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let resp = client
        .post(format!("{}/settings/apps/new", gh.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body("manifest", &manifest.to_string()))
        .send()
        .await
        .expect("form post");
    assert_eq!(resp.status().as_u16(), 422);
}

#[tokio::test]
async fn scripted_faults_answer_first_then_normal_handling_resumes() {
    let w = world().await;
    let get = || call(&w.gh, Method::GET, "/repos/acme/shop", Some(&w.auth), None);

    w.gh.fail_next("GET", "/repos/acme/shop", 1, Fault::Status(502));
    assert_eq!(get().await.status, 502);
    assert_eq!(get().await.status, 200);

    w.gh.fail_next(
        "*",
        "/repos/*/shop",
        1,
        Fault::RateLimited {
            retry_after_secs: 7,
        },
    );
    let r = get().await;
    assert_eq!((r.status, r.header("retry-after")), (429, "7"));

    w.gh.fail_next(
        "GET",
        "/repos",
        1,
        Fault::PrimaryRateLimit { reset_in_secs: 30 },
    );
    let r = get().await;
    assert_eq!((r.status, r.header("x-ratelimit-remaining")), (403, "0"));
    let reset: i64 = r.header("x-ratelimit-reset").parse().expect("reset");
    assert!(reset >= now() + 29);

    w.gh.fail_next(
        "GET",
        "/repos",
        1,
        Fault::SecondaryRateLimit {
            retry_after_secs: 60,
        },
    );
    let r = get().await;
    assert_eq!((r.status, r.header("retry-after")), (403, "60"));

    w.gh.fail_next("GET", "/repos/acme/shop", 1, Fault::DropConnection);
    let dropped = Client::new()
        .get(format!("{}/repos/acme/shop", w.gh.url()))
        .header("authorization", &w.auth)
        .send()
        .await;
    assert!(
        dropped.is_err(),
        "the connection is closed without an answer"
    );
    assert_eq!(get().await.status, 200);

    let statuses: Vec<u16> = w.gh.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [502, 200, 429, 403, 403, 0, 200]);
    assert_eq!(w.gh.count("GET", "/repos/acme/shop"), 7);
    w.gh.clear_requests();
    assert!(w.gh.requests().is_empty());
}

#[tokio::test]
async fn a_spent_rate_limit_is_403_until_reset_and_304s_are_free() {
    let w = world().await;
    let r = call(&w.gh, Method::GET, "/repos/acme/shop", Some(&w.auth), None).await;
    let remaining: u32 = r
        .header("x-ratelimit-remaining")
        .parse()
        .expect("remaining");
    let etag = r.header("etag").to_string();
    let cached = Client::new()
        .get(format!("{}/repos/acme/shop", w.gh.url()))
        .header("authorization", &w.auth)
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("conditional request");
    assert_eq!(cached.status().as_u16(), 304);
    assert_eq!(
        cached.headers()["x-ratelimit-remaining"].to_str().ok(),
        Some(remaining.to_string().as_str())
    );

    w.gh.set_rate_limit_remaining(w.inst, 0, Duration::from_secs(60));
    let r = call(&w.gh, Method::GET, "/repos/acme/shop", Some(&w.auth), None).await;
    assert_eq!((r.status, r.header("x-ratelimit-remaining")), (403, "0"));
}

#[tokio::test]
async fn lists_paginate_with_absolute_link_headers() {
    let w = world().await;
    w.repo.commit_files("feature", &[("f.txt", "f")], "work");
    let pr = w.repo.open_pr(PrSpec::new("feature", "main"));
    for i in 0..35 {
        w.repo.add_comment(pr, "alice", &format!("comment {i}"));
    }
    let first = call(
        &w.gh,
        Method::GET,
        &format!("/repos/acme/shop/issues/{pr}/comments?per_page=10"),
        Some(&w.auth),
        None,
    )
    .await;
    assert_eq!(first.body.as_array().map(Vec::len), Some(10));
    let link = first.header("link").to_string();
    let base = w.gh.url();
    assert!(
        link.contains(&format!(
            "<{base}/repos/acme/shop/issues/{pr}/comments?per_page=10&page=2>; rel=\"next\""
        )),
        "{link}"
    );
    assert!(link.contains("page=4>; rel=\"last\""), "{link}");

    let next = link
        .split(", ")
        .find(|p| p.ends_with("rel=\"next\""))
        .expect("next");
    let next_url = next.trim_start_matches('<').split('>').next().expect("url");
    let second = call(&w.gh, Method::GET, next_url, Some(&w.auth), None).await;
    assert_eq!(second.body[0]["body"], "comment 10");
    let last = call(
        &w.gh,
        Method::GET,
        &format!("/repos/acme/shop/issues/{pr}/comments?per_page=10&page=4"),
        Some(&w.auth),
        None,
    )
    .await;
    assert_eq!(last.body.as_array().map(Vec::len), Some(5));
    assert!(!last.header("link").contains("rel=\"next\""));

    for i in 0..3 {
        w.gh.add_repo(w.inst, &format!("acme/r{i}"));
    }
    let repos = call(
        &w.gh,
        Method::GET,
        "/installation/repositories?per_page=2",
        Some(&w.auth),
        None,
    )
    .await;
    assert_eq!(repos.body["total_count"], 4);
    assert!(repos.header("link").contains("rel=\"last\""));
}

#[tokio::test]
async fn deployments_follow_githubs_auto_inactive_rule() {
    let w = world().await;
    let sha = w.repo.branch_sha("main").expect("main");
    let deploy = json!({ "ref": sha, "environment": "staging", "auto_merge": false, "required_contexts": [] });
    let path = "/repos/acme/shop/deployments";
    let first = call(
        &w.gh,
        Method::POST,
        path,
        Some(&w.auth),
        Some(deploy.clone()),
    )
    .await;
    let second = call(&w.gh, Method::POST, path, Some(&w.auth), Some(deploy)).await;
    assert_eq!((first.status, second.status), (201, 201));
    for d in [&first, &second] {
        let url = format!("{path}/{}/statuses", d.body["id"]);
        let s = call(
            &w.gh,
            Method::POST,
            &url,
            Some(&w.auth),
            Some(json!({ "state": "success", "environment_url": "https://staging" })),
        )
        .await;
        assert_eq!(s.status, 201, "{}", s.body);
    }
    let states: Vec<Option<String>> = w
        .repo
        .deployments()
        .iter()
        .map(|d| d.latest_state().map(String::from))
        .collect();
    assert_eq!(
        states,
        [Some("inactive".to_string()), Some("success".to_string())]
    );
}

#[tokio::test]
async fn octocrab_reads_the_fakes_answers_into_its_models() {
    let w = world().await;
    w.repo.commit_files("feature", &[("f.txt", "f")], "work");
    let pr = w
        .repo
        .open_pr(PrSpec::new("feature", "main").author("alice"));
    let key =
        octocrab::jsonwebtoken::EncodingKey::from_rsa_pem(PRIVATE_KEY_PEM.as_bytes()).expect("key");
    let app = octocrab::Octocrab::builder()
        .base_uri(w.gh.url())
        .expect("base uri")
        .app(octocrab::models::AppId(w.gh.app_id()), key)
        .build()
        .expect("octocrab");
    let crab = app
        .installation(octocrab::models::InstallationId(w.inst))
        .expect("installation client");

    let pull = crab
        .pulls("acme", "shop")
        .get(pr)
        .await
        .expect("pull request");
    assert_eq!(pull.head.ref_field, "feature");
    let comment = crab
        .issues("acme", "shop")
        .create_comment(pr, "hi")
        .await
        .expect("comment");
    assert_eq!(comment.user.login, "gitferry-test[bot]");
    let repo = crab.repos("acme", "shop").get().await.expect("repository");
    assert_eq!(repo.default_branch.as_deref(), Some("main"));
    let content = crab
        .repos("acme", "shop")
        .get_content()
        .path("README.md")
        .send()
        .await
        .expect("content");
    assert_eq!(
        content.items[0].decoded_content().as_deref(),
        Some("# shop\n")
    );
    let installation = app
        .apps()
        .installation(octocrab::models::InstallationId(w.inst))
        .await
        .expect("installation");
    assert_eq!(installation.id.0, w.inst);
    assert_eq!(
        w.gh.tokens_issued(w.inst),
        1,
        "octocrab caches the installation token"
    );
}

#[tokio::test]
async fn refs_with_slashes_move_only_forward_unless_forced() {
    let w = world().await;
    let first = w.repo.commit_files("feature/x", &[("a", "1")], "one");
    let second = w.repo.commit_files("feature/x", &[("a", "2")], "two");
    for path in [
        "/repos/acme/shop/git/ref/heads/feature/x",
        "/repos/acme/shop/git/ref/heads%2Ffeature%2Fx",
    ] {
        let r = call(&w.gh, Method::GET, path, Some(&w.auth), None).await;
        assert_eq!(
            (r.status, r.body["object"]["sha"].as_str()),
            (200, Some(second.as_str())),
            "{path}"
        );
    }
    let refs = "/repos/acme/shop/git/refs";
    let create = json!({ "ref": "refs/heads/gitferry/queue-1", "sha": first });
    assert_eq!(
        call(
            &w.gh,
            Method::POST,
            refs,
            Some(&w.auth),
            Some(create.clone())
        )
        .await
        .status,
        201
    );
    assert_eq!(
        call(&w.gh, Method::POST, refs, Some(&w.auth), Some(create))
            .await
            .status,
        422
    );

    let tmp = format!("{refs}/heads/gitferry/queue-1");
    let backwards = call(
        &w.gh,
        Method::PATCH,
        "/repos/acme/shop/git/refs/heads/feature/x",
        Some(&w.auth),
        Some(json!({ "sha": first })),
    )
    .await;
    assert_eq!(
        (backwards.status, backwards.body["message"].as_str()),
        (422, Some("Update is not a fast forward"))
    );
    let forced = call(
        &w.gh,
        Method::PATCH,
        "/repos/acme/shop/git/refs/heads/feature/x",
        Some(&w.auth),
        Some(json!({ "sha": first, "force": true })),
    )
    .await;
    assert_eq!(forced.status, 200);
    assert_eq!(
        call(&w.gh, Method::DELETE, &tmp, Some(&w.auth), None)
            .await
            .status,
        204
    );
    assert_eq!(
        call(&w.gh, Method::DELETE, &tmp, Some(&w.auth), None)
            .await
            .status,
        422
    );
    assert_eq!(w.repo.branch_sha("feature/x"), Some(first));
}

#[tokio::test]
async fn fork_pull_requests_show_the_fork_as_head_repo() {
    let w = world().await;
    let fork = w.repo.fork("mallory");
    let head = fork.commit_files("evil", &[("README.md", "pwned")], "evil");
    let pr = w
        .repo
        .open_pr(PrSpec::new("evil", "main").author("mallory").in_fork(&fork));

    let r = call(
        &w.gh,
        Method::GET,
        &format!("/repos/acme/shop/pulls/{pr}"),
        Some(&w.auth),
        None,
    )
    .await;
    assert_eq!(r.body["head"]["repo"]["full_name"], "mallory/shop");
    assert_eq!(r.body["head"]["repo"]["fork"], true);
    assert_eq!(r.body["head"]["sha"], head.as_str());
    assert_eq!(r.body["base"]["repo"]["full_name"], "acme/shop");
    assert_eq!(r.body["author_association"], "NONE");
    assert_eq!(r.body["mergeable"], true);
    let contents = call(
        &w.gh,
        Method::GET,
        &format!("/repos/acme/shop/contents/README.md?ref={head}"),
        Some(&w.auth),
        None,
    )
    .await;
    assert_eq!(
        contents.status, 200,
        "the PR head is readable through the base repository"
    );
}

#[tokio::test]
async fn an_installation_without_a_permission_gets_403() {
    let w = world().await;
    w.gh.set_installation_permissions(w.inst, &[("contents", "read")]);
    let token = format!("token {}", w.gh.installation_token(w.inst));
    let sha = w.repo.branch_sha("main").expect("main");
    let run = json!({ "name": "x", "head_sha": sha });
    let r = call(
        &w.gh,
        Method::POST,
        "/repos/acme/shop/check-runs",
        Some(&token),
        Some(run),
    )
    .await;
    assert_eq!(
        (r.status, r.body["message"].as_str()),
        (403, Some("Resource not accessible by integration"))
    );
    let r = call(
        &w.gh,
        Method::GET,
        "/repos/acme/shop/contents/README.md",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn deployments_check_contexts_unless_told_not_to() {
    let w = world().await;
    let sha = w.repo.branch_sha("main").expect("main");
    w.repo.add_status(&sha, "ci/other", "pending");
    let path = "/repos/acme/shop/deployments";
    let plain = json!({ "ref": "main", "environment": "staging" });
    let r = call(&w.gh, Method::POST, path, Some(&w.auth), Some(plain)).await;
    assert_eq!(r.status, 409, "GitHub checks every context by default");
    let unchecked = json!({ "ref": "main", "environment": "staging", "required_contexts": [] });
    let r = call(&w.gh, Method::POST, path, Some(&w.auth), Some(unchecked)).await;
    assert_eq!(
        (r.status, r.body["sha"].as_str()),
        (201, Some(sha.as_str()))
    );
}
