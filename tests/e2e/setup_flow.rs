//! First run: no App credentials → setup page → GitHub manifest flow → credentials saved and
//! used at once, without a restart.

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

#[tokio::test]
async fn the_setup_page_registers_the_app_and_the_server_uses_it_at_once() {
    let db = TestDb::sqlite();
    let fake = FakeGitHub::start().await;
    let gitferry = Gitferry::start_raw(&db, &fake, gitferry::app::router(), &[]).await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

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

    let (status, page) = gitferry.get("/").await;
    assert_eq!(status, 200);
    assert!(page.contains("Register the GitHub App"));
    let action = attribute_after(&page, "<form", "action");
    assert!(
        action.starts_with(&format!("{}/settings/apps/new?state=", fake.url())),
        "{action}"
    );
    let manifest = attribute_after(&page, "name=\"manifest\"", "value");

    // The browser posts the manifest to GitHub; GitHub creates the App and redirects back.
    let created = no_redirects
        .post(&action)
        .form(&[("manifest", manifest.as_str())])
        .send()
        .await
        .expect("post manifest");
    assert_eq!(created.status().as_u16(), 302);
    let callback = created.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
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

    let done = no_redirects.get(&callback).send().await.expect("callback");
    assert_eq!(done.status().as_u16(), 200);
    let page = done.text().await.expect("page");
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
    let (status, _) = gitferry.get(&callback.replace(&gitferry.url(""), "")).await;
    assert_eq!(status, 409);
    let (status, page) = gitferry.get("/").await;
    assert_eq!(status, 200);
    assert!(page.contains("gitferry is running"));
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
async fn an_organisation_registers_under_its_own_settings() {
    let db = TestDb::sqlite();
    let fake = FakeGitHub::start().await;
    let gitferry =
        Gitferry::start_raw(&db, &fake, Router::default(), &["--github-org", "acme"]).await;
    let (_, page) = gitferry.get("/").await;
    let action = attribute_after(&page, "<form", "action");
    assert!(
        action.starts_with(&format!(
            "{}/organizations/acme/settings/apps/new?state=",
            fake.url()
        )),
        "{action}"
    );
}
