//! Starting gitferry against the fake GitHub, and talking to it like GitHub does.

use std::path::PathBuf;
use std::time::Duration;

use gitferry::http::signature;
use gitferry::router::Router;
use gitferry::server::{self, RunningServer};
use gitferry::settings::Settings;
use gitferry::store::{DeliveryState, DeliverySummary, Store};

use super::db::TestDb;
use super::fake_github::FakeGitHub;

pub const SECRET: &str = "e2e-webhook-secret";

/// Real webhook payloads from `tests/fixtures/github/webhooks/<event>/<file>`.
pub fn fixture(event: &str, file: &str) -> Vec<u8> {
    let path = fixtures_dir().join(event).join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/github/webhooks")
}

/// A fresh delivery id in GitHub's UUID form.
pub fn delivery_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("random bytes");
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Settings for a test server: loopback port, fast polling and retries, the fake's App.
pub fn settings(
    db: &TestDb,
    fake: &FakeGitHub,
    env_file: &std::path::Path,
    extra: &[&str],
) -> Settings {
    let mut args: Vec<String> = [
        "gitferry",
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        &db.url,
        "--github-api-url",
        &fake.url(),
        "--github-url",
        &fake.url(),
        "--env-file",
        &env_file.display().to_string(),
        "--workers",
        "2",
        "--poll-interval",
        "50ms",
        "--retry-backoff",
        "50ms",
        "--lease",
        "3s",
        "--shutdown-grace",
        "2s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // gitferry's own files (the work folder with every checkout) go beside the test's `.env`;
    // children may write the shared folder scenarios use to hear from their scripts.
    if let Some(dir) = env_file.parent() {
        args.extend([
            "--data-dir".to_owned(),
            dir.join("data").display().to_string(),
        ]);
    }
    let writable = super::sandbox::shared_writable().display().to_string();
    args.extend(["--sandbox-write".to_owned(), writable]);
    args.extend(extra.iter().map(|s| s.to_string()));
    Settings::parse_from(args)
}

/// The App credentials of the fake, as flags.
pub fn app_flags(fake: &FakeGitHub) -> Vec<String> {
    vec![
        "--github-app-id".into(),
        fake.app_id().to_string(),
        "--github-private-key".into(),
        fake.private_key_pem().to_owned(),
        "--github-webhook-secret".into(),
        SECRET.into(),
    ]
}

/// One gitferry server and the things a test needs to talk to it.
pub struct Gitferry {
    pub server: Option<RunningServer>,
    pub addr: std::net::SocketAddr,
    pub store: Store,
    pub http: reqwest::Client,
    pub env_dir: tempfile::TempDir,
}

impl Gitferry {
    /// gitferry's own features, configured as the fake's App.
    pub async fn start(db: &TestDb, fake: &FakeGitHub) -> Self {
        Self::start_with(db, fake, gitferry::app::router(), &[]).await
    }

    pub async fn start_with(
        db: &TestDb,
        fake: &FakeGitHub,
        router: Router,
        extra: &[&str],
    ) -> Self {
        let mut flags = app_flags(fake);
        flags.extend(extra.iter().map(|s| s.to_string()));
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        Self::start_raw(db, fake, router, &flags).await
    }

    /// No App credentials: the first-run setup mode.
    pub async fn start_raw(db: &TestDb, fake: &FakeGitHub, router: Router, flags: &[&str]) -> Self {
        let env_dir = tempfile::tempdir().expect("temp dir");
        super::sandbox::passable(env_dir.path());
        let settings = settings(db, fake, &env_dir.path().join(".env"), flags);
        let running = server::start_with_router(settings, router)
            .await
            .expect("gitferry starts");
        Self {
            addr: running.addr,
            store: running.ctx.store.clone(),
            server: Some(running),
            http: reqwest::Client::new(),
            env_dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Posts a payload signed with the test secret under a fresh delivery id.
    pub async fn deliver(&self, event: &str, body: &[u8]) -> (u16, String, String) {
        let id = delivery_id();
        let (status, text) = self.deliver_as(event, &id, body).await;
        (status, text, id)
    }

    /// Posts a payload as [`Gitferry::deliver`] does, expects it accepted (`202`) and waits
    /// until gitferry has processed it.
    pub async fn deliver_processed(&self, event: &str, body: &[u8]) -> DeliverySummary {
        let (status, text, id) = self.deliver(event, body).await;
        assert_eq!(status, 202, "gitferry refused the {event} webhook: {text}");
        self.wait_for(&id, DeliveryState::Done).await
    }

    pub async fn deliver_as(&self, event: &str, id: &str, body: &[u8]) -> (u16, String) {
        self.post_webhook(
            &[
                ("X-GitHub-Event", event),
                ("X-GitHub-Delivery", id),
                (
                    "X-Hub-Signature-256",
                    &signature::sign(SECRET.as_bytes(), body),
                ),
            ],
            body,
        )
        .await
    }

    /// Posts with exactly these headers (plus the content type GitHub sends).
    pub async fn post_webhook(&self, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
        let mut request = self
            .http
            .post(self.url("/api/github/webhooks"))
            .header("Content-Type", "application/json")
            .header("User-Agent", "GitHub-Hookshot/e2e")
            .body(body.to_vec());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("webhook request");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self.http.get(self.url(path)).send().await.expect("GET");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    pub async fn delivery(&self, id: &str) -> Option<DeliverySummary> {
        self.store.find_delivery(id).await.expect("store query")
    }

    /// Waits (up to 15 s) until the delivery reaches `state`.
    pub async fn wait_for(&self, id: &str, state: DeliveryState) -> DeliverySummary {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let row = self.delivery(id).await;
            if let Some(row) = &row
                && row.state == state.as_str()
            {
                return row.clone();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "delivery {id} never reached {}: {row:?}",
                state.as_str()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("clean shutdown");
        }
    }
}

/// Polls `check` until it returns `Some` (up to 15 s).
pub async fn eventually<T, F, Fut>(what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    eventually_within(what, Duration::from_secs(15), check).await
}

/// [`eventually`] with its own limit (benches wait for a hundred deploys).
pub async fn eventually_within<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A free loopback address for a `gitferry serve` child process.
pub fn free_listen_address() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    format!("127.0.0.1:{port}")
}

/// Waits until the server at `listen` answers `/healthz`.
pub async fn wait_until_healthy(listen: &str) {
    let http = reqwest::Client::new();
    eventually("server up", || async {
        http.get(format!("http://{listen}/healthz"))
            .send()
            .await
            .ok()
            .filter(|r| r.status().is_success())
    })
    .await;
}

/// Sends SIGTERM to a child process, as Kubernetes does to stop a pod.
pub fn terminate(child: &tokio::process::Child) {
    let pid = nix::unistd::Pid::from_raw(child.id().expect("running child") as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
}
