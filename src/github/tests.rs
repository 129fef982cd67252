//! Scenario tests of the gateway against a scripted HTTP server on a loopback port.
//!
//! Each test gives the fake a script: a function from the request (and the requests before it)
//! to the answer. The fake records everything, and the test asserts on what GitHub would have
//! seen. Delays are milliseconds; nothing asserts on wall time.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::*;
use crate::metrics::Metrics;

const KEY: &str = include_str!("../../tests/fixtures/test-app-key.pem");
const PUBLIC_KEY: &str = include_str!("../../tests/fixtures/test-app-key.pub.pem");
const APP_ID: u64 = 42;
const INSTALLATION: InstallationId = InstallationId(7);
const EXCHANGE: &str = "/app/installations/7/access_tokens";

#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Seen {
    fn is(&self, method: &str, path: &str) -> bool {
        self.method == method && self.path == path
    }

    fn authorization(&self) -> Option<&str> {
        self.headers.get("authorization")?.to_str().ok()
    }

    fn host(&self) -> &str {
        self.headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default()
    }
}

struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

impl Reply {
    fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// A token answer: `tok-<n>` for the n-th exchange, expiring `lifetime` from now.
fn token_reply(history: &[Seen], lifetime: Duration) -> Reply {
    let n = history
        .iter()
        .filter(|s| s.path.ends_with("/access_tokens"))
        .count()
        + 1;
    let expires = chrono::DateTime::<chrono::Utc>::from(SystemTime::now() + lifetime)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    Reply::json(
        201,
        json!({ "token": format!("tok-{n}"), "expires_at": expires }),
    )
}

const HOUR: Duration = Duration::from_secs(3600);

type Script = dyn Fn(&Seen, &[Seen]) -> Reply + Send + Sync;

struct Fake {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fake {
    async fn start(script: impl Fn(&Seen, &[Seen]) -> Reply + Send + Sync + 'static) -> Fake {
        let script: Arc<Script> = Arc::new(script);
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let log = seen.clone();
        let app = axum::Router::new().fallback(move |req: Request| {
            let (script, log) = (script.clone(), log.clone());
            async move {
                let (parts, body) = req.into_parts();
                let body = axum::body::to_bytes(body, 1 << 20)
                    .await
                    .unwrap_or_default();
                let request = Seen {
                    method: parts.method.to_string(),
                    path: parts.uri.path_and_query().unwrap().as_str().to_owned(),
                    headers: parts.headers,
                    body: body.to_vec(),
                };
                let reply = {
                    let mut log = log.lock().unwrap();
                    let reply = script(&request, &log);
                    log.push(request);
                    reply
                };
                tokio::time::sleep(reply.delay).await;
                let mut response = Response::builder()
                    .status(reply.status)
                    .header("content-type", "application/json");
                for (name, value) in reply.headers {
                    response = response.header(name, value);
                }
                response.body(Body::from(reply.body)).unwrap()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Fake { url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn count(&self, method: &str, path_prefix: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.method == method && s.path.starts_with(path_prefix))
            .count()
    }
}

fn config(api_url: &str) -> ClientConfig {
    ClientConfig {
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            max_wait: Duration::from_secs(2),
        },
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(5),
        ..ClientConfig::new(api_url)
    }
}

fn credentials() -> AppCredentials {
    AppCredentials::from_pem(APP_ID, KEY).unwrap()
}

fn client_with(config: ClientConfig) -> (Client, Arc<Metrics>) {
    let metrics = Metrics::new();
    let client = Client::new(config, Some(credentials()), metrics.clone()).unwrap();
    (client, metrics)
}

fn client(api_url: &str) -> (Client, Arc<Metrics>) {
    client_with(config(api_url))
}

#[derive(Debug, Deserialize)]
struct Claims {
    iss: u64,
    iat: u64,
    exp: u64,
}

fn verify_jwt(authorization: &str) -> Claims {
    use octocrab::jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
    let jwt = authorization.strip_prefix("Bearer ").unwrap();
    let key = DecodingKey::from_rsa_pem(PUBLIC_KEY.as_bytes()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    // `iss` is numeric for GitHub Apps; jsonwebtoken only recognises string issuers, so it is
    // checked through `Claims` instead.
    validation.set_required_spec_claims(&["exp", "iat"]);
    let data = decode::<Claims>(jwt, &key, &validation).unwrap();
    assert_eq!(data.header.alg, Algorithm::RS256);
    data.claims
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Exchanges tokens (an hour each) and answers `{"ok": true}` to everything else.
fn ok_script(seen: &Seen, history: &[Seen]) -> Reply {
    if seen.path.ends_with("/access_tokens") {
        token_reply(history, HOUR)
    } else {
        Reply::json(200, json!({ "ok": true }))
    }
}

#[tokio::test]
async fn jwt_is_rs256_from_the_app_key_and_requests_carry_our_headers() {
    let fake = Fake::start(ok_script).await;
    let (client, _) = client(&fake.url);

    let _: Value = client
        .installation(INSTALLATION)
        .get("/repos/o/r")
        .await
        .unwrap();
    let _: Value = client.app_get("/app").await.unwrap();

    let seen = fake.seen();
    assert!(seen[0].is("POST", EXCHANGE));
    assert!(seen[1].is("GET", "/repos/o/r"));
    assert!(seen[2].is("GET", "/app"));
    for jwt_request in [&seen[0], &seen[2]] {
        let claims = verify_jwt(jwt_request.authorization().unwrap());
        assert_eq!(claims.iss, APP_ID);
        assert!(claims.iat < unix_now(), "iat must be in the past");
        assert!(claims.exp > unix_now());
        assert!(claims.exp - claims.iat <= 600);
    }
    let repo = &seen[1];
    assert_eq!(repo.authorization(), Some("Bearer tok-1"));
    assert_eq!(repo.headers["accept"], "application/vnd.github+json");
    assert_eq!(repo.headers["x-github-api-version"], "2022-11-28");
    let agent = repo.headers.get_all("user-agent").iter().next().unwrap();
    assert!(
        agent.to_str().unwrap().starts_with("gitferry/"),
        "{agent:?}"
    );
}

#[tokio::test]
async fn token_is_exchanged_once_and_again_when_it_nears_expiry() {
    // The first token expires in 4 minutes (inside the 5-minute margin), later ones in an hour.
    let fake = Fake::start(|seen, history| {
        if seen.path == EXCHANGE {
            let first = !history.iter().any(|s| s.path == EXCHANGE);
            token_reply(
                history,
                if first {
                    Duration::from_secs(240)
                } else {
                    HOUR
                },
            )
        } else {
            Reply::json(200, json!({}))
        }
    })
    .await;
    let (client, _) = client(&fake.url);
    let installation = client.installation(INSTALLATION);

    for _ in 0..6 {
        let _: Value = installation.get("/repos/o/r/pulls/1").await.unwrap();
    }

    assert_eq!(fake.count("POST", EXCHANGE), 2);
    let tokens: Vec<_> = fake
        .seen()
        .iter()
        .filter(|s| s.method == "GET")
        .map(|s| s.authorization().unwrap().to_owned())
        .collect();
    assert_eq!(
        tokens[0], "Bearer tok-1",
        "a fresh token serves its own call"
    );
    assert!(
        tokens[1..].iter().all(|t| t == "Bearer tok-2"),
        "{tokens:?}"
    );
}

#[tokio::test]
async fn concurrent_callers_share_one_exchange() {
    let fake =
        Fake::start(|seen, history| ok_script(seen, history).after(Duration::from_millis(30)))
            .await;
    let (client, _) = client(&fake.url);

    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..8 {
        let installation = client.installation(INSTALLATION);
        tasks.spawn(async move {
            installation
                .get::<Value>(&format!("/repos/o/r/issues/{n}"))
                .await
        });
    }
    while let Some(result) = tasks.join_next().await {
        result.unwrap().unwrap();
    }

    assert_eq!(fake.count("POST", EXCHANGE), 1);
    assert_eq!(fake.count("GET", "/repos/o/r/issues/"), 8);
}

#[tokio::test]
async fn rejected_token_is_replaced_once() {
    let fake = Fake::start(|seen, history| match seen.path.as_str() {
        EXCHANGE => token_reply(history, HOUR),
        _ if seen.authorization() == Some("Bearer tok-1") => {
            Reply::json(401, json!({ "message": "Bad credentials" }))
        }
        _ => Reply::json(200, json!({ "ok": true })),
    })
    .await;
    let (client, _) = client(&fake.url);

    let answer: Value = client
        .installation(INSTALLATION)
        .get("/repos/o/r")
        .await
        .unwrap();

    assert_eq!(answer, json!({ "ok": true }));
    assert_eq!(fake.count("POST", EXCHANGE), 2);
    assert_eq!(fake.count("GET", "/repos/o/r"), 2);
}

#[tokio::test]
async fn persistent_401_is_an_auth_error() {
    let fake = Fake::start(|seen, history| match seen.path.as_str() {
        EXCHANGE => token_reply(history, HOUR),
        _ => Reply::json(401, json!({ "message": "Bad credentials" })),
    })
    .await;
    let (client, _) = client(&fake.url);

    let err = client
        .installation(INSTALLATION)
        .get::<Value>("/repos/o/r")
        .await
        .unwrap_err();

    assert!(
        matches!(
            err,
            GithubError::Auth {
                installation: Some(INSTALLATION),
                status: Some(401),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(fake.count("GET", "/repos/o/r"), 2);
}

#[tokio::test]
async fn bad_gateway_is_retried() {
    let fake = Fake::start(|seen, history| {
        let earlier = history.iter().filter(|s| s.is("GET", "/repos/o/r")).count();
        match seen.path.as_str() {
            EXCHANGE => token_reply(history, HOUR),
            _ if earlier == 0 => Reply::json(502, json!({ "message": "Server Error" })),
            _ => Reply::json(200, json!({ "ok": true })),
        }
    })
    .await;
    let (client, metrics) = client(&fake.url);

    let answer: Value = client
        .installation(INSTALLATION)
        .get("/repos/o/r")
        .await
        .unwrap();

    assert_eq!(answer, json!({ "ok": true }));
    assert_eq!(fake.count("GET", "/repos/o/r"), 2);
    let text = metrics.encode();
    assert!(
        text.contains(r#"route="/repos/{owner}/{repo}",status="502""#),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/repos/{owner}/{repo}",status="200""#),
        "{text}"
    );
}

#[tokio::test]
async fn server_errors_that_persist_become_status_errors() {
    let fake = Fake::start(|_, _| Reply::json(503, json!({ "message": "Unavailable" }))).await;
    let (client, _) = client(&fake.url);

    let err = client
        .send(Auth::None, ApiRequest::get("/meta"))
        .await
        .unwrap_err();

    assert!(
        matches!(err, GithubError::Status { status: 503, .. }),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert_eq!(fake.count("GET", "/meta"), 3, "max_attempts");
}

#[tokio::test]
async fn too_many_requests_waits_for_retry_after() {
    let fake = Fake::start(|_, history| {
        if history.is_empty() {
            Reply::json(429, json!({ "message": "slow down" })).header("retry-after", "1")
        } else {
            Reply::json(200, json!({ "ok": true }))
        }
    })
    .await;
    let (client, _) = client(&fake.url);

    let answer = client
        .send(Auth::None, ApiRequest::get("/meta"))
        .await
        .unwrap();

    assert_eq!(answer.json::<Value>().unwrap(), json!({ "ok": true }));
    assert_eq!(fake.count("GET", "/meta"), 2);
}

#[tokio::test]
async fn primary_rate_limit_beyond_max_wait_fails_without_waiting() {
    let reset = unix_now() + 3600;
    let fake = Fake::start(move |_, _| {
        Reply::json(403, json!({ "message": "API rate limit exceeded" }))
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", reset.to_string())
    })
    .await;
    let (client, metrics) = client(&fake.url);

    let err = client
        .send(Auth::None, ApiRequest::get("/rate_limit"))
        .await
        .unwrap_err();

    match &err {
        GithubError::RateLimited {
            reset_at, route, ..
        } => {
            assert_eq!(
                *reset_at,
                Some(SystemTime::UNIX_EPOCH + Duration::from_secs(reset))
            );
            assert_eq!(route, "/rate_limit");
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert!(err.is_transient());
    assert!(err.retry_after().unwrap() > Duration::from_secs(3000));
    assert_eq!(fake.count("GET", "/rate_limit"), 1);
    assert!(
        metrics
            .encode()
            .contains("gitferry_github_rate_limit_remaining 0")
    );
}

#[tokio::test]
async fn plain_client_errors_are_not_retried() {
    let fake = Fake::start(|_, _| Reply::json(404, json!({ "message": "Not Found" }))).await;
    let (client, _) = client(&fake.url);

    let err = client
        .send(
            Auth::None,
            ApiRequest::get("/repos/o/r/contents/missing.yml"),
        )
        .await
        .unwrap_err();

    assert!(err.is_not_found(), "{err:?}");
    assert!(!err.is_transient());
    assert!(
        err.to_string()
            .contains("/repos/{owner}/{repo}/contents/{path}"),
        "{err}"
    );
    assert_eq!(fake.count("GET", "/repos"), 1);
}

#[tokio::test]
async fn transport_errors_are_retried_then_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let (client, metrics) = client(&url);

    let err = client
        .send(Auth::None, ApiRequest::get("/meta"))
        .await
        .unwrap_err();

    assert!(matches!(err, GithubError::Transport { .. }), "{err:?}");
    let text = metrics.encode();
    assert!(
        text.contains(r#"method="GET",route="/meta",status="error"} 3"#),
        "{text}"
    );
}

#[tokio::test]
async fn pagination_follows_links_under_a_path_prefix() {
    let fake = Fake::start(|seen, history| {
        let next = |page: u32| {
            format!(
                "<http://{}/api/v3/repositories/1/issues?per_page=100&page={page}>; rel=\"next\"",
                seen.host()
            )
        };
        match seen.path.as_str() {
            "/api/v3/app/installations/7/access_tokens" => token_reply(history, HOUR),
            "/api/v3/repos/o/r/issues?state=all&per_page=100" => {
                Reply::json(200, json!([1, 2])).header("link", next(2))
            }
            "/api/v3/repositories/1/issues?per_page=100&page=2" => {
                Reply::json(200, json!([3])).header("link", next(3))
            }
            "/api/v3/repositories/1/issues?per_page=100&page=3" => Reply::json(200, json!([4])),
            _ => Reply::json(404, json!({ "message": "Not Found" })),
        }
    })
    .await;
    let (client, metrics) = client(&format!("{}/api/v3/", fake.url));

    let items: Vec<u32> = client
        .installation(INSTALLATION)
        .paginate("/repos/o/r/issues?state=all", None)
        .await
        .unwrap();

    assert_eq!(items, [1, 2, 3, 4]);
    let pages: Vec<_> = fake
        .seen()
        .into_iter()
        .filter(|s| s.method == "GET")
        .collect();
    assert_eq!(pages.len(), 3);
    assert!(
        pages
            .iter()
            .all(|p| p.authorization() == Some("Bearer tok-1"))
    );
    let text = metrics.encode();
    assert!(
        text.contains(r#"route="/repositories/{id}/issues",status="200"} 2"#),
        "{text}"
    );
}

#[tokio::test]
async fn pagination_reads_wrapped_lists_and_stops_at_the_page_cap() {
    let fake = Fake::start(|seen, history| {
        if seen.path.ends_with("/access_tokens") {
            return token_reply(history, HOUR);
        }
        let link = format!(
            "<http://{}/installation/repositories?page=9>; rel=\"next\"",
            seen.host()
        );
        Reply::json(
            200,
            json!({ "total_count": 99, "repositories": [{ "id": 1 }] }),
        )
        .header("link", link)
    })
    .await;
    let (client, _) = client_with(ClientConfig {
        max_pages: 3,
        ..config(&fake.url)
    });

    let err = client
        .installation(INSTALLATION)
        .paginate::<Value>("/installation/repositories", Some("repositories"))
        .await
        .unwrap_err();

    assert!(
        matches!(err, GithubError::TooManyPages { max_pages: 3, .. }),
        "{err:?}"
    );
    assert_eq!(fake.count("GET", "/installation/repositories"), 3);
}

#[tokio::test]
async fn metrics_count_every_call_by_route_template() {
    let fake = Fake::start(|seen, history| {
        if seen.path == EXCHANGE {
            token_reply(history, HOUR)
        } else {
            Reply::json(201, json!({ "id": 5 })).header("x-ratelimit-remaining", "4321")
        }
    })
    .await;
    let (client, metrics) = client(&fake.url);
    let installation = client.installation(INSTALLATION);

    for n in [12, 13] {
        let _: Value = installation
            .post(
                &format!("/repos/o/r/issues/{n}/comments"),
                &json!({ "body": "hi" }),
            )
            .await
            .unwrap();
    }

    let text = metrics.encode();
    assert!(
        text.contains(
            r#"method="POST",route="/repos/{owner}/{repo}/issues/{number}/comments",status="201"} 2"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"method="POST",route="/app/installations/{installation_id}/access_tokens",status="201"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains("gitferry_github_rate_limit_remaining 4321"),
        "{text}"
    );
    let posted = fake
        .seen()
        .into_iter()
        .find(|s| s.path.ends_with("/comments"))
        .unwrap();
    assert_eq!(posted.headers["content-type"], "application/json");
    assert_eq!(
        serde_json::from_slice::<Value>(&posted.body).unwrap(),
        json!({ "body": "hi" })
    );
}

#[tokio::test]
async fn dry_run_records_writes_and_still_reads() {
    let fake = Fake::start(ok_script).await;
    let (client, _) = client_with(ClientConfig {
        dry_run: true,
        ..config(&fake.url)
    });
    let installation = client.installation(INSTALLATION);

    let answer: Value = installation
        .post(
            "/repos/o/r/issues/1/comments",
            &json!({ "body": "preview ready" }),
        )
        .await
        .unwrap();
    installation
        .delete("/repos/o/r/git/refs/heads/tmp")
        .await
        .unwrap();

    assert_eq!(answer, json!({}));
    assert!(
        fake.seen().is_empty(),
        "nothing sent, not even a token exchange"
    );
    assert_eq!(
        client.dry_run_log(),
        [
            RecordedCall {
                method: Method::POST,
                path: "/repos/o/r/issues/1/comments".into(),
                body: Some(json!({ "body": "preview ready" })),
            },
            RecordedCall {
                method: Method::DELETE,
                path: "/repos/o/r/git/refs/heads/tmp".into(),
                body: None,
            },
        ]
    );

    let _: Value = installation.get("/repos/o/r").await.unwrap();
    assert_eq!(fake.count("POST", EXCHANGE), 1, "reads exchange a token");
    assert_eq!(fake.count("GET", "/repos/o/r"), 1);
}

#[tokio::test]
async fn dry_run_without_credentials_records_writes_and_refuses_reads() {
    let fake = Fake::start(ok_script).await;
    let client = Client::new(
        ClientConfig {
            dry_run: true,
            ..config(&fake.url)
        },
        None,
        Metrics::new(),
    )
    .unwrap();
    let installation = client.installation(INSTALLATION);

    let _: Value = installation
        .put("/repos/o/r/pulls/1/merge", &json!({}))
        .await
        .unwrap();
    let err = installation.get::<Value>("/repos/o/r").await.unwrap_err();

    assert!(matches!(err, GithubError::NoCredentials), "{err:?}");
    assert_eq!(client.dry_run_log().len(), 1);
    assert!(fake.seen().is_empty());
}

#[tokio::test]
async fn credentials_can_be_installed_at_runtime() {
    let fake = Fake::start(ok_script).await;
    let client = Client::new(config(&fake.url), None, Metrics::new()).unwrap();
    assert!(!client.has_credentials());
    let err = client.app_get::<Value>("/app").await.unwrap_err();
    assert!(matches!(err, GithubError::NoCredentials));

    client.set_credentials(credentials());

    assert!(client.has_credentials());
    assert_eq!(client.app_id(), Some(AppId(APP_ID)));
    let _: Value = client
        .installation(INSTALLATION)
        .get("/repos/o/r")
        .await
        .unwrap();
    // A swap drops tokens minted for the previous App.
    client.set_credentials(credentials());
    let _: Value = client
        .installation(INSTALLATION)
        .get("/repos/o/r")
        .await
        .unwrap();
    assert_eq!(fake.count("POST", EXCHANGE), 2);
}

#[tokio::test]
async fn manifest_code_is_converted_without_auth_and_secrets_stay_hidden() {
    let fake = Fake::start(|_, _| {
        Reply::json(
            201,
            json!({
                "id": 99, "slug": "gitferry-acme", "name": "gitferry (acme)",
                "html_url": "https://github.com/apps/gitferry-acme",
                "owner": { "login": "acme" },
                "client_id": "Iv1.abc", "client_secret": "client-secret-value",
                "webhook_secret": "webhook-secret-value", "pem": KEY,
            }),
        )
    })
    .await;
    let client = Client::new(
        ClientConfig {
            dry_run: true,
            ..config(&fake.url)
        },
        None,
        Metrics::new(),
    )
    .unwrap();

    let app = client.convert_manifest("a1b2c3").await.unwrap();

    assert_eq!(app.id, AppId(99));
    assert_eq!(app.owner_login, "acme");
    assert_eq!(app.slug, "gitferry-acme");
    let seen = fake.seen();
    assert!(seen[0].is("POST", "/app-manifests/a1b2c3/conversions"));
    assert_eq!(seen[0].authorization(), None);
    let debug = format!("{app:?}");
    for secret in ["client-secret-value", "webhook-secret-value", "PRIVATE KEY"] {
        assert!(!debug.contains(secret), "{debug}");
    }
    AppCredentials::from_pem(app.id, secrecy::ExposeSecret::expose_secret(&app.pem)).unwrap();

    let err = client.convert_manifest("../app").await.unwrap_err();
    assert!(matches!(err, GithubError::InvalidRequest(_)));
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn secrets_never_show_in_debug_output() {
    let fake = Fake::start(ok_script).await;
    let (client, _) = client(&fake.url);
    let token = client.installation_token(INSTALLATION).await.unwrap();

    let texts = [
        format!("{:?}", credentials()),
        format!("{token:?}"),
        format!("{client:?}"),
        format!("{:?}", client.installation(INSTALLATION)),
    ];

    let key_body = KEY.lines().nth(1).unwrap();
    for text in texts {
        assert!(!text.contains("tok-1"), "{text}");
        assert!(!text.contains(key_body), "{text}");
    }
    assert_eq!(secrecy::ExposeSecret::expose_secret(&token), "tok-1");
}

#[tokio::test]
async fn requests_cannot_leave_the_configured_host() {
    let (client, _) = client("http://127.0.0.1:9");
    for path in [
        "https://evil.example.com/repos/o/r",
        "/repos/o/r/contents/../../../app",
        "repos/o/r",
    ] {
        let err = client
            .send(Auth::App, ApiRequest::get(path))
            .await
            .unwrap_err();
        assert!(
            matches!(err, GithubError::InvalidRequest(_)),
            "{path}: {err:?}"
        );
    }
}
