//! The HTTP edge against hostile clients: what an unsigned, slow, oversized or malformed
//! request costs the server (nothing it cannot bound), and what a separate metrics listener
//! serves. Raw TCP where a well-behaved HTTP client could not misbehave enough.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::support::db::TestDb;
use crate::support::fake_github::FakeGitHub;
use crate::support::gitferry::{Gitferry, delivery_id, eventually, fixture};

/// Longer than any server-side limit in these tests: a test fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(20);

/// A well-formed signature header that signs nothing: passes the shape check only.
const BOGUS_SIGNATURE: &str =
    "sha256=0000000000000000000000000000000000000000000000000000000000000000";

async fn server(extra: &[&str]) -> (FakeGitHub, TestDb, Gitferry) {
    let fake = FakeGitHub::start().await;
    let db = TestDb::sqlite();
    let gitferry = Gitferry::start_with(&db, &fake, gitferry::app::router(), extra).await;
    (fake, db, gitferry)
}

/// Opens a connection and sends `head` (and nothing else).
async fn send_head(addr: SocketAddr, head: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("send head");
    stream
}

fn webhook_head(signature: Option<&str>, length: usize) -> String {
    let signature = signature
        .map(|s| format!("X-Hub-Signature-256: {s}\r\n"))
        .unwrap_or_default();
    format!(
        "POST /api/github/webhooks HTTP/1.1\r\nHost: gitferry\r\nContent-Type: application/json\r\n\
         X-GitHub-Event: push\r\nX-GitHub-Delivery: {}\r\n{signature}Content-Length: {length}\r\n\r\n",
        delivery_id()
    )
}

/// What the server sends before closing or going quiet, read until the head is complete.
async fn read_answer(stream: &mut TcpStream, patience: Duration) -> Option<String> {
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    let read = async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
            if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    };
    tokio::time::timeout(patience, read).await.ok()?;
    Some(String::from_utf8_lossy(&answer).into_owned())
}

/// Whether the server closed the connection (EOF or reset) within the patience.
async fn is_closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buffer = [0u8; 1024];
    let wait = async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(PATIENCE, wait).await.is_ok()
}

#[tokio::test]
async fn an_unsigned_upload_is_refused_before_its_body_is_read() {
    let (_fake, _db, gitferry) = server(&[]).await;
    // 24 MB announced, not a byte of it sent: the answer cannot depend on the body.
    for (signature, expected) in [
        (None, "missing X-Hub-Signature-256"),
        (Some("sha1=abc"), "malformed X-Hub-Signature-256"),
        (Some("sha256=zz"), "malformed X-Hub-Signature-256"),
    ] {
        let mut stream = send_head(gitferry.addr, &webhook_head(signature, 24 << 20)).await;
        let answer = read_answer(&mut stream, PATIENCE)
            .await
            .expect("an answer without the body");
        assert!(
            answer.starts_with("HTTP/1.1 401"),
            "{signature:?}: {answer}"
        );
        assert!(answer.contains(expected), "{signature:?}: {answer}");
    }
}

#[tokio::test]
async fn a_delivery_id_not_shaped_like_githubs_is_400_and_not_stored() {
    let (_fake, _db, gitferry) = server(&[]).await;
    let body = fixture("ping", "payload.json");
    let huge = "a".repeat(64 * 1024);
    for id in [huge.as_str(), "abc", "receive-1700000000000"] {
        let (status, text) = gitferry.deliver_as("ping", id, &body).await;
        assert_eq!(
            (status, text.as_str()),
            (
                400,
                "X-GitHub-Delivery must be a GitHub delivery GUID (8-4-4-4-12 hex digits)\n"
            ),
            "{}",
            &id[..id.len().min(40)]
        );
        assert!(gitferry.delivery(id).await.is_none());
    }
    let (status, _) = gitferry
        .deliver_as("ping", "72d3162e-cc78-11e3-81ab-4c9367dc0958", &body)
        .await;
    assert_eq!(status, 200, "GitHub's own format is accepted");
}

#[tokio::test]
async fn bodies_beyond_the_memory_budget_are_refused_with_retry_after() {
    let (_fake, _db, gitferry) = server(&["--body-budget", "25MiB"]).await;
    // An attacker announces 20 MB with a plausible signature and holds the connection open.
    let mut holder = send_head(
        gitferry.addr,
        &webhook_head(Some(BOGUS_SIGNATURE), 20 << 20),
    )
    .await;
    holder.write_all(b"{\"a\":").await.expect("a first byte");
    let reserved = format!("gitferry_webhook_body_bytes_reserved {}", 20 << 20);
    eventually("the holder's reservation", || async {
        gitferry
            .get("/metrics")
            .await
            .1
            .contains(&reserved)
            .then_some(())
    })
    .await;

    // The budget holds 5 MB more: a 10 MB upload is refused at once, unread…
    let mut refused = send_head(
        gitferry.addr,
        &webhook_head(Some(BOGUS_SIGNATURE), 10 << 20),
    )
    .await;
    let answer = read_answer(&mut refused, PATIENCE).await.expect("answer");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 5"),
        "{answer}"
    );
    assert!(answer.contains("too many webhook bodies"), "{answer}");
    // …while an ordinary delivery still fits beside it.
    let (status, text, _) = gitferry
        .deliver("ping", &fixture("ping", "payload.json"))
        .await;
    assert_eq!((status, text.as_str()), (200, "pong\n"));

    // When the holder gives up, its share comes back.
    drop(holder);
    let mut padded = b"{\"padding\":\"".to_vec();
    padded.resize(10 << 20, b'a');
    padded.extend_from_slice(b"\"}");
    eventually("the budget given back", || async {
        let (status, _, _) = gitferry.deliver("push", &padded).await;
        (status != 503).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_trickled_body_gets_408_when_its_time_is_up() {
    let (_fake, _db, gitferry) = server(&["--body-timeout", "300ms"]).await;
    let mut stream = send_head(gitferry.addr, &webhook_head(Some(BOGUS_SIGNATURE), 100)).await;
    stream.write_all(b"{\"zen\":").await.expect("some body");
    let answer = read_answer(&mut stream, PATIENCE)
        .await
        .expect("an answer while the body is still incomplete");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn half_sent_headers_and_idle_connections_are_closed() {
    let (_fake, _db, gitferry) = server(&["--header-timeout", "300ms"]).await;
    let mut half = send_head(
        gitferry.addr,
        "POST /api/github/webhooks HTTP/1.1\r\nHost: gitferry\r\nX-GitHub-Ev",
    )
    .await;
    let mut silent = TcpStream::connect(gitferry.addr).await.expect("connect");
    assert!(is_closed_by_server(&mut half).await, "half-sent headers");
    assert!(
        is_closed_by_server(&mut silent).await,
        "a silent connection"
    );
    // Prompt clients are unaffected.
    assert_eq!(gitferry.get("/healthz").await, (200, "ok\n".into()));
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let (_fake, _db, gitferry) = server(&["--max-connections", "2"]).await;
    let first = TcpStream::connect(gitferry.addr).await.expect("connect");
    let second = TcpStream::connect(gitferry.addr).await.expect("connect");
    // Both slots are taken: the third connection is not served while they stay open.
    let mut third = send_head(
        gitferry.addr,
        "GET /healthz HTTP/1.1\r\nHost: gitferry\r\n\r\n",
    )
    .await;
    assert_eq!(
        read_answer(&mut third, Duration::from_millis(500)).await,
        None,
        "served beyond the cap"
    );
    drop(first);
    let answer = read_answer(&mut third, PATIENCE)
        .await
        .expect("served once a slot is free");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(second);
}

#[tokio::test]
async fn metrics_move_to_their_own_listener_when_asked() {
    let (_fake, _db, gitferry) = server(&["--metrics-listen", "127.0.0.1:0"]).await;
    let metrics_addr = gitferry
        .server
        .as_ref()
        .and_then(|server| server.metrics_addr)
        .expect("a metrics listener");
    let (status, _) = gitferry.get("/metrics").await;
    assert_eq!(status, 404, "not on the public listener any more");

    gitferry
        .deliver("ping", &fixture("ping", "payload.json"))
        .await;
    let http = reqwest::Client::new();
    let metrics = http
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(metrics.status().as_u16(), 200);
    let text = metrics.text().await.expect("text");
    assert!(
        text.contains("gitferry_deliveries_received_total{event=\"ping\"} 1"),
        "{text}"
    );
    // Nothing else is served there.
    let other = http
        .get(format!("http://{metrics_addr}/api/github/webhooks"))
        .send()
        .await
        .expect("request");
    assert_eq!(other.status().as_u16(), 404);
    let (status, _) = gitferry.get("/healthz").await;
    assert_eq!(status, 200);
}
