//! `POST /api/github/webhooks`: what GitHub gets back, and what is (not) stored.

use gitferry::store::DeliveryState;

use crate::support::db::TestDb;
use crate::support::fake_github::FakeGitHub;
use crate::support::gitferry::{Gitferry, SECRET, delivery_id, fixture, fixtures_dir};

async fn server() -> (FakeGitHub, TestDb, Gitferry) {
    let fake = FakeGitHub::start().await;
    let db = TestDb::sqlite();
    let gitferry = Gitferry::start(&db, &fake).await;
    (fake, db, gitferry)
}

#[tokio::test]
async fn every_real_github_payload_is_accepted_and_stored() {
    let (_fake, _db, gitferry) = server().await;
    let mut seen = 0;
    for event_dir in std::fs::read_dir(fixtures_dir()).expect("fixtures") {
        let event_dir = event_dir.expect("entry").path();
        let event = event_dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_owned();
        for file in std::fs::read_dir(&event_dir).expect("event dir") {
            let body = std::fs::read(file.expect("file").path()).expect("payload");
            let (status, text, id) = gitferry.deliver(&event, &body).await;
            assert!(matches!(status, 200 | 202), "{event}: {status} {text}");
            let row = gitferry
                .delivery(&id)
                .await
                .expect("stored before the answer");
            assert_eq!(row.event, event);
            seen += 1;
        }
    }
    assert!(seen >= 60, "only {seen} fixtures found");
}

#[tokio::test]
async fn events_gitferry_does_not_handle_are_recorded_as_ignored() {
    let (_fake, _db, gitferry) = server().await;
    let (status, text, id) = gitferry
        .deliver(
            "workflow_run",
            &fixture("workflow_run", "completed.payload.json"),
        )
        .await;
    assert_eq!(
        (status, text.as_str()),
        (
            202,
            "ignored: gitferry does not handle workflow_run events\n"
        )
    );
    let row = gitferry.delivery(&id).await.expect("stored");
    assert_eq!(row.state, "ignored");
}

#[tokio::test]
async fn ping_is_answered_pong() {
    let (_fake, _db, gitferry) = server().await;
    let (status, text, id) = gitferry
        .deliver("ping", &fixture("ping", "payload.json"))
        .await;
    assert_eq!((status, text.as_str()), (200, "pong\n"));
    assert_eq!(gitferry.delivery(&id).await.expect("stored").state, "done");
}

#[tokio::test]
async fn a_wrong_or_missing_signature_is_401_and_nothing_is_stored() {
    let (_fake, _db, gitferry) = server().await;
    let body = fixture("installation", "created.payload.json");
    let id = delivery_id();
    let wrong = gitferry::http::signature::sign(b"not-the-secret", &body);
    let (status, text) = gitferry
        .post_webhook(
            &[
                ("X-GitHub-Event", "installation"),
                ("X-GitHub-Delivery", &id),
                ("X-Hub-Signature-256", &wrong),
            ],
            &body,
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(
        text,
        "X-Hub-Signature-256 does not match the body and the webhook secret\n"
    );

    let (status, text) = gitferry
        .post_webhook(
            &[
                ("X-GitHub-Event", "installation"),
                ("X-GitHub-Delivery", &id),
            ],
            &body,
        )
        .await;
    assert_eq!(
        (status, text.as_str()),
        (401, "missing X-Hub-Signature-256\n")
    );

    // Signed for another body: the signature covers the exact bytes.
    let tampered = gitferry::http::signature::sign(SECRET.as_bytes(), b"{}");
    let (status, _) = gitferry
        .post_webhook(
            &[
                ("X-GitHub-Event", "installation"),
                ("X-GitHub-Delivery", &id),
                ("X-Hub-Signature-256", &tampered),
            ],
            &body,
        )
        .await;
    assert_eq!(status, 401);
    assert!(gitferry.delivery(&id).await.is_none());
    assert_eq!(
        gitferry
            .store
            .count_deliveries(DeliveryState::Pending)
            .await
            .expect("count"),
        0
    );
}

#[tokio::test]
async fn valid_signature_but_malformed_json_is_400_with_a_reason() {
    let (_fake, _db, gitferry) = server().await;
    let (status, text, id) = gitferry
        .deliver("pull_request", b"{\"action\": \"opened\",")
        .await;
    assert_eq!(status, 400);
    assert!(text.starts_with("malformed JSON payload: "), "{text}");
    assert_eq!(text.lines().count(), 1);
    assert!(gitferry.delivery(&id).await.is_none());
}

#[tokio::test]
async fn missing_event_or_delivery_header_is_400() {
    let (_fake, _db, gitferry) = server().await;
    let body = fixture("ping", "payload.json");
    let signature = gitferry::http::signature::sign(SECRET.as_bytes(), &body);
    let (status, text) = gitferry
        .post_webhook(
            &[
                ("X-GitHub-Delivery", "abc"),
                ("X-Hub-Signature-256", &signature),
            ],
            &body,
        )
        .await;
    assert_eq!(
        (status, text.as_str()),
        (400, "missing X-GitHub-Event header\n")
    );
    let (status, text) = gitferry
        .post_webhook(
            &[
                ("X-GitHub-Event", "ping"),
                ("X-Hub-Signature-256", &signature),
            ],
            &body,
        )
        .await;
    assert_eq!(
        (status, text.as_str()),
        (400, "missing X-GitHub-Delivery header\n")
    );
}

#[tokio::test]
async fn a_body_over_25_mb_is_413() {
    let (_fake, _db, gitferry) = server().await;
    let mut body = b"{\"padding\":\"".to_vec();
    body.resize(25 * 1024 * 1024 + 16, b'a');
    body.extend_from_slice(b"\"}");
    let (status, _, id) = gitferry.deliver("push", &body).await;
    assert_eq!(status, 413);
    assert!(gitferry.delivery(&id).await.is_none());
}

#[tokio::test]
async fn a_redelivery_is_200_and_processed_once() {
    let (fake, _db, gitferry) = server().await;
    let installation = fake.add_installation("octocat");
    let body = crate::installations::created_payload(installation, &[]);
    let id = delivery_id();
    let (status, _) = gitferry.deliver_as("installation", &id, &body).await;
    assert_eq!(status, 202);
    gitferry.wait_for(&id, DeliveryState::Done).await;
    let token_requests = fake.count("POST", "/app/installations/");

    let (status, text) = gitferry.deliver_as("installation", &id, &body).await;
    assert_eq!(
        (status, text.as_str()),
        (200, "duplicate delivery: already received\n")
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let row = gitferry.delivery(&id).await.expect("stored");
    assert_eq!((row.state.as_str(), row.attempts), ("done", 1));
    assert_eq!(fake.count("POST", "/app/installations/"), token_requests);
}
