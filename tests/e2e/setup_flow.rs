//! First run: no App credentials → setup page → GitHub manifest flow → credentials saved and
//! used at once, without a restart. Only whoever holds the setup token from the log gets that
//! far, and only from the browser that started it.

use std::os::unix::fs::PermissionsExt;

use gitferry::router::Router;

use crate::support::db::TestDb;
use crate::support::fake_github::FakeGitHub;
use crate::support::gitferry::{Gitferry, delivery_id, fixture};

/// The value of the first `name="…"` attribute after `marker` in `html`, HTML-unescaped.
fn attribute_after(html: &str, marker: &str, name: &str) -> String {
    let from = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in page: {html}"));
    let rest = &html[from..];
    let start = rest.find(&format!("{name}=\"")).expect("attribute") + name.len() + 2;
    let end = start + rest[start..].find('"').expect("closing quote");
    html_escape::decode_html_entities(&rest[start..end]).into_owned()
}

/// The admin's browser: opens the setup link from the log and keeps the setup cookie.
struct AdminBrowser {
    http: reqwest::Client,
    cookie: String,
    action: String,
    manifest: String,
}

impl AdminBrowser {
    async fn open_setup_link(gitferry: &Gitferry) -> Self {
        let link = setup_link(gitferry);
        let http = no_redirects();
        let response = http.get(&link).send().await.expect("setup link");
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["referrer-policy"], "no-referrer");
        let set_cookie = response.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .to_owned();
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/setup/callback"] {
            assert!(set_cookie.contains(attribute), "{set_cookie}");
        }
        let cookie = set_cookie.split(';').next().expect("name=value").to_owned();
        let page = response.text().await.expect("page");
        assert!(page.contains("Register the GitHub App"), "{page}");
        Self {
            http,
            cookie,
            action: attribute_after(&page, "<form", "action"),
            manifest: attribute_after(&page, "name=\"manifest\"", "value"),
        }
    }

    /// Posts the manifest to (the fake) GitHub, which answers with the callback URL.
    async fn register_on_github(&self) -> String {
        let created = self
            .http
            .post(&self.action)
            .form(&[("manifest", self.manifest.as_str())])
            .send()
            .await
            .expect("post manifest");
        assert_eq!(created.status().as_u16(), 302);
        created.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned()
    }

    /// Follows GitHub's redirect back, carrying the setup cookie like a browser would.
    async fn come_back(&self, callback: &str) -> (u16, String) {
        let response = self
            .http
            .get(callback)
            .header("Cookie", &self.cookie)
            .send()
            .await
            .expect("callback");
        (
            response.status().as_u16(),
            response.text().await.expect("page"),
        )
    }
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn setup_link(gitferry: &Gitferry) -> String {
    gitferry
        .server
        .as_ref()
        .expect("running")
        .setup_link
        .clone()
        .expect("no App yet: a setup link")
}

#[tokio::test]
async fn the_setup_page_registers_the_app_and_the_server_uses_it_at_once() {
    let db = TestDb::sqlite();
    let fake = FakeGitHub::start().await;
    let gitferry = Gitferry::start_raw(&db, &fake, gitferry::app::router(), &[]).await;
    // Before registration, webhooks cannot be verified and are refused.
    let (status, text, _) = gitferry
        .deliver("ping", &fixture("ping", "payload.json"))
        .await;
    assert_eq!(
        (status, text.as_str()),
        (
            503,
            "gitferry has no webhook secret yet: finish the setup at /\n"
        )
    );

    let admin = AdminBrowser::open_setup_link(&gitferry).await;
    assert!(
        admin
            .action
            .starts_with(&format!("{}/settings/apps/new?state=", fake.url())),
        "{}",
        admin.action
    );
    // The browser posts the manifest to GitHub; GitHub creates the App and redirects back.
    let callback = admin.register_on_github().await;
    assert!(
        callback.starts_with(&gitferry.url("/setup/callback?code=")),
        "{callback}"
    );

    let registered = fake.manifests().pop().expect("manifest registered");
    assert_eq!(
        registered.manifest["hook_attributes"]["url"],
        gitferry.url("/api/github/webhooks")
    );
    assert_eq!(
        registered.manifest["redirect_url"],
        gitferry.url("/setup/callback")
    );
    assert_eq!(
        registered.manifest["default_permissions"]["checks"],
        "write"
    );

    let (status, page) = admin.come_back(&callback).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(&format!(
            "{}/apps/{}/installations/new",
            fake.url(),
            fake.slug()
        )),
        "{page}"
    );

    // Saved for the next start, readable by this user only.
    let env_file = gitferry.env_dir.path().join(".env");
    let mode = std::fs::metadata(&env_file)
        .expect("env file")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let saved = std::fs::read_to_string(&env_file).expect("read");
    assert!(
        saved.contains(&format!("GITHUB_APP_ID=\"{}\"", fake.app_id())),
        "{saved}"
    );
    assert!(saved.contains("GITHUB_PRIVATE_KEY=\"-----BEGIN RSA PRIVATE KEY-----\\n"));
    let secret = fake.webhook_secret();
    assert!(saved.contains(&format!("GITHUB_WEBHOOK_SECRET=\"{secret}\"")));

    // In use at once: deliveries signed with the new secret are accepted…
    let body = fixture("ping", "payload.json");
    let signature = gitferry::http::signature::sign(secret.as_bytes(), &body);
    let (status, _) = gitferry
        .post_webhook(
            &[
                ("X-GitHub-Event", "ping"),
                ("X-GitHub-Delivery", &delivery_id()),
                ("X-Hub-Signature-256", &signature),
            ],
            &body,
        )
        .await;
    assert_eq!(status, 200);
    // …the App authenticates as itself…
    let installation = fake.add_installation("octocat");
    let ctx = &gitferry.server.as_ref().expect("running").ctx;
    ctx.github
        .installation_token(gitferry::github::InstallationId(installation))
        .await
        .expect("token with the new key");
    // …and the setup cannot be replayed.
    let (status, _) = admin.come_back(&callback).await;
    assert_eq!(status, 409);
    let (status, page) = gitferry.get("/").await;
    assert_eq!(status, 200);
    assert!(page.contains("gitferry is running"));
    // The setup token opens nothing any more.
    let (_, page) = gitferry
        .get(&setup_link(&gitferry).replace(&gitferry.url(""), ""))
        .await;
    assert!(!page.contains("state="), "{page}");
}

#[tokio::test]
async fn a_callback_without_a_state_this_server_issued_is_refused() {
    let db = TestDb::sqlite();
    let fake = FakeGitHub::start().await;
    let gitferry = Gitferry::start_raw(&db, &fake, Router::default(), &[]).await;
    let (status, text) = gitferry
        .get("/setup/callback?code=stolen&state=made-up")
        .await;
    assert_eq!(
        (status, text.as_str()),
        (
            400,
            "unknown or missing state: start again from the setup page\n"
        )
    );
    assert!(!gitferry.env_dir.path().join(".env").exists());
}

#[tokio::test]
async fn a_stranger_without_the_setup_token_gets_no_manifest_and_no_state() {
    let db = TestDb::sqlite();
    let fake = FakeGitHub::start().await;
    // The stranger comes from loopback, as every client does behind a reverse proxy.
    let gitferry = Gitferry::start_raw(&db, &fake, Router::default(), &[]).await;
    for path in ["/", "/?token=", "/?token=guess", "/?state=x"] {
        let (status, page) = gitferry.get(path).await;
        assert!(matches!(status, 200 | 403), "{path}: {status}");
        assert!(page.contains("setup token"), "{path}: {page}");
        for secret in ["state=", "manifest", "Register the GitHub App"] {
            assert!(!page.contains(secret), "{path} shows {secret}: {page}");
        }
    }
    let (status, page) = gitferry.get("/?token=guess").await;
    assert_eq!(status, 403);
    assert!(page.contains("That is not the setup token"));
    // Nearly the token is not the token.
    let link = setup_link(&gitferry);
    let almost = &link[..link.len() - 1];
    let (status, _) = gitferry.get(&almost.replace(&gitferry.url(""), "")).await;
    assert_eq!(status, 403);
    assert!(fake.manifests().is_empty());
}

#[tokio::test]
async fn a_thousand_strangers_do_not_break_the_admins_registration() {
    let db = TestDb::sqlite();
    let fake = FakeGitHub::start().await;
    let gitferry = Gitferry::start_raw(&db, &fake, gitferry::app::router(), &[]).await;
    let admin = AdminBrowser::open_setup_link(&gitferry).await;
    let callback = admin.register_on_github().await;
    for _ in 0..1_002 {
        let (status, _) = gitferry.get("/").await;
        assert_eq!(status, 200);
    }
    let (status, page) = admin.come_back(&callback).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("is registered"), "{page}");
}

#[tokio::test]
async fn a_state_brought_back_by_another_browser_is_refused() {
    let db = TestDb::sqlite();
    let fake = FakeGitHub::start().await;
    let gitferry = Gitferry::start_raw(&db, &fake, gitferry::app::router(), &[]).await;
    let admin = AdminBrowser::open_setup_link(&gitferry).await;
    let callback = admin.register_on_github().await;

    // The callback URL leaked (a screenshot, a log): without the cookie it is worthless…
    let (status, text) = gitferry.get(&callback.replace(&gitferry.url(""), "")).await;
    assert_eq!(status, 400);
    assert!(text.contains("started in another browser"), "{text}");
    // …and a made-up cookie does no better.
    let forged = no_redirects()
        .get(&callback)
        .header("Cookie", format!("gitferry_setup={}", "0".repeat(64)))
        .send()
        .await
        .expect("callback");
    assert_eq!(forged.status().as_u16(), 400);
    assert!(!gitferry.env_dir.path().join(".env").exists());

    // The attempts did not burn the admin's registration.
    let (status, page) = admin.come_back(&callback).await;
    assert_eq!(status, 200, "{page}");
}

#[tokio::test]
async fn serve_prints_the_setup_link_and_the_token_in_its_log() {
    use tokio::io::AsyncBufReadExt as _;

    let db = TestDb::sqlite();
    let listen = crate::support::gitferry::free_listen_address();
    let env_dir = tempfile::tempdir().expect("temp dir");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_gitferry"))
        .args(["serve", "--listen", &listen, "--database-url", &db.url])
        .env("GITFERRY_ENV_FILE", env_dir.path().join(".env"))
        .env("RUST_LOG", "info")
        .env_remove("GITHUB_APP_ID")
        .env_remove("GITHUB_PRIVATE_KEY")
        .env_remove("GITHUB_PRIVATE_KEY_PATH")
        .current_dir(env_dir.path())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn gitferry serve");
    let mut lines = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let line = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("log line") {
            if line.contains("?token=") {
                return line;
            }
        }
        panic!("serve exited without printing a setup link");
    })
    .await
    .expect("a setup link within a minute");
    let start = line.find("http://").expect("link in the line");
    let link: String = line[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let token = link.split("?token=").nth(1).expect("token").to_owned();
    assert_eq!(token.len(), 64, "{line}");
    assert!(
        line.contains(&format!("enter the setup token {token}")),
        "{line}"
    );

    let page = reqwest::get(&link)
        .await
        .expect("open link")
        .text()
        .await
        .expect("page");
    assert!(page.contains("Register the GitHub App"), "{page}");
    let typed = reqwest::get(format!("http://{listen}/?token={token}"))
        .await
        .expect("typed token");
    assert_eq!(typed.status().as_u16(), 200);
    crate::support::gitferry::terminate(&child);
    child.wait().await.expect("exit");
}

#[tokio::test]
async fn an_organisation_registers_under_its_own_settings() {
    let db = TestDb::sqlite();
    let fake = FakeGitHub::start().await;
    let gitferry =
        Gitferry::start_raw(&db, &fake, Router::default(), &["--github-org", "acme"]).await;
    let action = AdminBrowser::open_setup_link(&gitferry).await.action;
    assert!(
        action.starts_with(&format!(
            "{}/organizations/acme/settings/apps/new?state=",
            fake.url()
        )),
        "{action}"
    );
}
