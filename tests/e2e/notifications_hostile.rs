//! Red team: a pull request whose branch name and deploy script try to put mentions and links
//! into the team's chat. The script prints a preview URL that would close Slack's `<url|…>`
//! link early and ping the channel; the branch name carries `<!channel>` and `@all`. Slack and
//! DingTalk get the text as text, and the preview link is the configured one.

use crate::notifications::{Receiver, set_variable};
use crate::previews::scenario_with;
use crate::support::fake_github::PrSpec;
use crate::support::gitferry::eventually;

const HOSTILE_SCRIPT: &str = "#!/bin/sh\n\
    echo 'GITFERRY_URL=https://evil.example.com|<!channel>'\n\
    echo 'GITFERRY_URL=https://evil.example.com)[@all](https://evil.example.com'\n\
    exit 0\n";

fn config(prefix: &str) -> String {
    format!(
        "\
environments:
  preview:
    pull_requests: {{ base: [main] }}
    deploy:
      provider: command
      deploy: [sh, scripts/hostile.sh]
      destroy: [sh, scripts/hostile.sh]
    url: \"https://pr-{{pr}}.preview.example.com\"
notify:
  - {{ on: [preview_ready], slack: {prefix}_SLACK }}
  - {{ on: [preview_ready], dingtalk: {prefix}_DING }}
"
    )
}

#[tokio::test]
async fn a_hostile_branch_and_preview_url_reach_chat_as_plain_text() {
    let (slack, slack_url) = Receiver::start(0).await;
    let (ding, ding_url) = Receiver::start(0).await;
    set_variable("OCTOCAT_SHOP_GFH1_SLACK", &slack_url);
    set_variable("OCTOCAT_SHOP_GFH1_DING", &ding_url);
    let s = scenario_with(
        &config("OCTOCAT_SHOP_GFH1"),
        &[("scripts/hostile.sh", HOSTILE_SCRIPT)],
        &[],
    )
    .await;
    let branch = "fix-<!channel>-@all-](javascript:alert(1))";
    let head = s.repo.commit_files(branch, &[("app.txt", "v1")], "work");
    let pr = s.repo.open_pr(PrSpec::new(branch, "main"));
    s.deliver_pr(pr, "opened").await;
    let deployment = s.deployment_state(&head, "success").await;
    let status = deployment.statuses.last().expect("a status");
    assert_eq!(
        status.environment_url,
        format!("https://pr-{pr}.preview.example.com"),
        "the script's URLs were refused; the configured one is used"
    );
    let log_path = status
        .log_url
        .find("/runs/")
        .map(|at| status.log_url[at..].to_owned())
        .expect("a log link");
    let (_, log) = s.gitferry.get(&log_path).await;
    assert!(
        log.contains("ignored a GITFERRY_URL= line because it contains `|`"),
        "{log}"
    );

    let (_, slack_message) = eventually("Slack's message", || async {
        slack.received().into_iter().next()
    })
    .await;
    let text = slack_message["text"].as_str().unwrap_or_default();
    assert!(
        !text.contains("<!channel>") && !text.contains("evil"),
        "{text}"
    );
    assert!(text.contains("&lt;!channel&gt;"), "{text}");
    assert!(
        text.contains(&format!("<https://pr-{pr}.preview.example.com|preview>")),
        "{text}"
    );

    let (_, ding_message) = eventually("DingTalk's message", || async {
        ding.received().into_iter().next()
    })
    .await;
    let markdown = ding_message["markdown"]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(
        !markdown.contains("@all") && !markdown.contains("evil"),
        "{markdown}"
    );
    assert!(!markdown.contains("](javascript"), "{markdown}");
    assert_eq!(ding_message["at"]["isAtAll"], false);
}
