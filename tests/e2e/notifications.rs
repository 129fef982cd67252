//! Notifications: a preview's outcome reaches Slack, a signed DingTalk robot and a JSON
//! webhook — real HTTP receivers on loopback — once each, in the background; a channel that
//! fails is retried and shows in `/metrics`, never on the pull request.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::routing::post;
use gitferry::notify::channels::dingtalk_sign;
use serde_json::Value;

use crate::previews::{Scenario, scenario};
use crate::support::fake_github::PrSpec;
use crate::support::gitferry::eventually;

/// One request a receiver got: its query string and JSON body.
pub type Received = (Option<String>, Value);

/// An HTTP endpoint that records what it is sent, failing the first `fail_first` requests.
#[derive(Clone, Default)]
pub struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    fail_first: Arc<Mutex<usize>>,
}

impl Receiver {
    pub async fn start(fail_first: usize) -> (Self, String) {
        let receiver = Receiver::default();
        *receiver.fail_first.lock().unwrap() = fail_first;
        let app = Router::new()
            .route("/hook", post(record))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, url)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn record(
    State(receiver): State<Receiver>,
    RawQuery(query): RawQuery,
    body: axum::Json<Value>,
) -> (StatusCode, &'static str) {
    let mut fail = receiver.fail_first.lock().unwrap();
    if *fail > 0 {
        *fail -= 1;
        return (StatusCode::INTERNAL_SERVER_ERROR, "try later");
    }
    receiver.received.lock().unwrap().push((query, body.0));
    (StatusCode::OK, r#"{"errcode":0,"errmsg":"ok"}"#)
}

/// Sets a variable of this (test) process, as an operator sets gitferry's environment. Each
/// test uses names of its own, so parallel tests never touch the same variable.
pub fn set_variable(name: &str, value: &str) {
    // SAFETY: no other thread reads or writes these uniquely named variables concurrently;
    // gitferry reads one only when it sends a notification of the test that set it.
    unsafe { std::env::set_var(name, value) };
}

fn config(prefix: &str) -> String {
    format!(
        "\
environments:
  preview:
    pull_requests: {{ base: [main] }}
    deploy:
      provider: command
      deploy: [sh, scripts/preview.sh, up]
      destroy: [sh, scripts/preview.sh, down]
notify:
  - {{ on: [preview_ready, preview_failed], slack: {prefix}_SLACK }}
  - {{ on: [preview_ready], dingtalk: {prefix}_DING, secret: {prefix}_DING_SECRET }}
  - {{ on: [preview_ready], webhook: {prefix}_HOOK }}
"
    )
}

async fn open_pr(s: &Scenario) -> (u64, String) {
    let head = s.repo.commit_files("feature", &[("app.txt", "v1")], "work");
    let pr = s.repo.open_pr(PrSpec::new("feature", "main"));
    s.deliver_pr(pr, "opened").await;
    s.deployment_state(&head, "success").await;
    (pr, head)
}

#[tokio::test]
async fn a_ready_preview_is_announced_once_on_slack_dingtalk_and_a_webhook() {
    let (slack, slack_url) = Receiver::start(0).await;
    let (ding, ding_url) = Receiver::start(0).await;
    let (hook, hook_url) = Receiver::start(0).await;
    set_variable("OCTOCAT_SHOP_GFN1_SLACK", &slack_url);
    set_variable(
        "OCTOCAT_SHOP_GFN1_DING",
        &format!("{ding_url}?access_token=robot"),
    );
    set_variable("OCTOCAT_SHOP_GFN1_DING_SECRET", "SEC-robot");
    set_variable("OCTOCAT_SHOP_GFN1_HOOK", &hook_url);
    let s = scenario(&config("OCTOCAT_SHOP_GFN1")).await;
    let (pr, head) = open_pr(&s).await;

    let (_, slack_message) = eventually("Slack's message", || async {
        slack.received().into_iter().next()
    })
    .await;
    let text = slack_message["text"].as_str().unwrap_or_default();
    assert!(
        text.starts_with(&format!("*Preview of octocat/shop#{pr} is ready*")),
        "{text}"
    );
    assert!(
        text.contains("|preview>") && text.contains("|pull request>"),
        "{text}"
    );
    assert!(
        text.contains(&format!("/octocat/shop/commit/{head}|{}>", &head[..7])),
        "the commit is named and linked: {text}"
    );

    let (query, ding_message) = eventually("DingTalk's message", || async {
        ding.received().into_iter().next()
    })
    .await;
    assert_eq!(ding_message["msgtype"], "markdown");
    let query = query.unwrap_or_default();
    let params: std::collections::HashMap<String, String> =
        url_params(&query).into_iter().collect();
    assert_eq!(params["access_token"], "robot");
    let timestamp: i64 = params["timestamp"].parse().expect("a timestamp");
    assert_eq!(
        params["sign"],
        dingtalk_sign("SEC-robot", timestamp),
        "a valid DingTalk signature"
    );

    let (_, hooked) = eventually("the webhook's message", || async {
        hook.received().into_iter().next()
    })
    .await;
    assert_eq!(hooked["event"], "preview_ready");
    assert_eq!(hooked["sha"], head.as_str());
    assert_eq!(hooked["short_sha"], &head[..7]);
    assert!(
        hooked["commit_url"]
            .as_str()
            .is_some_and(|url| url.ends_with(&format!("/octocat/shop/commit/{head}"))),
        "{hooked}"
    );

    // Once each: every message is sent, and none more arrive.
    eventually("all three sent", || async {
        (s.gitferry.store.count_notifications("sent").await.ok()? == 3).then_some(())
    })
    .await;
    assert_eq!(
        s.gitferry
            .store
            .count_notifications("pending")
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        (
            slack.received().len(),
            ding.received().len(),
            hook.received().len()
        ),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn a_failing_channel_is_retried_and_counted_without_holding_up_the_preview() {
    let (slack, slack_url) = Receiver::start(2).await;
    set_variable("OCTOCAT_SHOP_GFN2_SLACK", &slack_url);
    // DingTalk and the webhook point at variables nobody set: they fail, visibly, in metrics.
    let s = crate::previews::scenario_with(
        &config("OCTOCAT_SHOP_GFN2"),
        &[],
        &["--notify-retry-backoff", "50ms"],
    )
    .await;
    let (pr, _) = open_pr(&s).await;

    eventually("Slack's message after two failures", || async {
        slack.received().into_iter().next()
    })
    .await;
    let (_, metrics) = s.gitferry.get("/metrics").await;
    for line in [
        "gitferry_notifications_total{channel=\"slack\",outcome=\"failed\"} 2",
        "gitferry_notifications_total{channel=\"slack\",outcome=\"sent\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    assert!(
        metrics.contains("gitferry_notifications_total{channel=\"dingtalk\",outcome=\"failed\"}"),
        "{metrics}"
    );
    assert_eq!(slack.received().len(), 1, "sent once");
    // Nothing about chat channels on the pull request.
    assert!(
        s.repo
            .bot_comments(pr)
            .iter()
            .all(|c| !c.body.contains("OCTOCAT_SHOP_GFN2") && !c.body.contains("notification")),
    );
}

#[tokio::test]
async fn queueing_one_occurrence_twice_sends_it_once() {
    let s = scenario(&config("OCTOCAT_SHOP_GFN3")).await;
    let config = gitferry::repo_config::parse(&config("OCTOCAT_SHOP_GFN3")).expect("config");
    let message = gitferry::notify::Message {
        event: "preview_ready".into(),
        repository: "octocat/shop".into(),
        pr: Some(1),
        sha: None,
        actor: None,
        title: "t".into(),
        text: "x".into(),
        links: Vec::new(),
        commit_url: None,
    };
    let event = gitferry::repo_config::NotifyEvent::PreviewReady;
    let store = &s.gitferry.store;
    assert_eq!(
        gitferry::notify::queue(store, &config, event, "run-1", &message)
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        gitferry::notify::queue(store, &config, event, "run-1", &message)
            .await
            .unwrap(),
        0,
        "a replayed event queues nothing"
    );
}

pub fn url_params(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| {
            (
                k.to_owned(),
                percent_encoding::percent_decode_str(v)
                    .decode_utf8_lossy()
                    .into_owned(),
            )
        })
        .collect()
}
