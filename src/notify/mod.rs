//! Notifications to Slack, DingTalk and JSON webhooks (the config's `notify:`).
//!
//! Features say that something happened with [`queue`]; it writes one outbox row per
//! matching channel and returns at once, so PR work never waits on a chat service. The
//! [`sender`] delivers the rows with retries and backoff; a channel that keeps failing shows
//! in `/metrics` and the logs, never on a pull request. Each message has a dedupe key per
//! event and channel, so a replayed delivery or a retried deploy does not send it twice.
//! Channels are named in the config by the variable of the gitferry process that holds
//! their URL (and DingTalk's signing secret): secrets never live in a repository.

pub mod channels;
mod escape;
pub mod sender;

use serde::{Deserialize, Serialize};

use crate::repo_config::{Channel, NotifyEvent, RepoConfig};
use crate::store::notifications::NewNotification;
use crate::store::{Store, StoreError, now_ms};

/// What happened, in words for people, with links.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The config's event name, e.g. `preview_ready`.
    pub event: String,
    pub repository: String,
    pub pr: Option<u64>,
    pub sha: Option<String>,
    /// Who caused it, when someone did.
    pub actor: Option<String>,
    pub title: String,
    pub text: String,
    /// `(label, url)`: the preview, the pull request, the logs.
    pub links: Vec<(String, String)>,
    /// The commit the message is about, on GitHub ([`commit_url`]); every channel names its
    /// short sha with this link, so a reader knows which push a verdict is for. Absent from
    /// messages queued by older versions.
    #[serde(default)]
    pub commit_url: Option<String>,
}

impl Message {
    /// The commit's short sha, as the messages name it.
    pub fn short_sha(&self) -> Option<&str> {
        self.sha.as_deref().map(crate::github::short_sha)
    }
}

impl Message {
    /// The message with `masker`'s secret values replaced by `***` in what people read (the
    /// title and text quote step results and deploy errors; links are gitferry's own).
    #[must_use]
    pub fn masked(mut self, masker: &crate::secrets::Masker) -> Self {
        self.title = masker.mask(&self.title).into_owned();
        self.text = masker.mask(&self.text).into_owned();
        self
    }
}

/// The config's name of an event (`preview_ready`).
pub fn event_name(event: NotifyEvent) -> String {
    serde_json::to_value(event)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The pull request's page, for a message's links.
pub fn pr_url(github_url: &str, repository: &str, pr: i64) -> String {
    format!(
        "{}/{repository}/pull/{pr}",
        github_url.trim_end_matches('/')
    )
}

/// A commit's page, for [`Message::commit_url`].
pub fn commit_url(github_url: &str, repository: &str, sha: &str) -> String {
    format!(
        "{}/{repository}/commit/{sha}",
        github_url.trim_end_matches('/')
    )
}

/// Queues `message` for every channel of `config` that wants `event`. `occurrence` tells
/// this occurrence apart from others of the same event (say the run id): queueing the same
/// occurrence again is a no-op. Returns how many messages were queued.
pub async fn queue(
    store: &Store,
    config: &RepoConfig,
    event: NotifyEvent,
    occurrence: &str,
    message: &Message,
) -> Result<usize, StoreError> {
    let body = serde_json::to_string(message).unwrap_or_default();
    let mut queued = 0;
    for (index, rule) in config.notify.iter().enumerate() {
        if !rule.on.contains(&event) {
            continue;
        }
        let (channel, url_var, secret_var) = match &rule.channel {
            Channel::Slack { url } => ("slack", url, None),
            Channel::DingTalk { url, secret } => ("dingtalk", url, secret.as_ref()),
            Channel::Webhook { url } => ("webhook", url, None),
        };
        let dedupe_key = format!(
            "{}:{}:{occurrence}:{index}",
            message.repository, message.event
        );
        let row = NewNotification {
            dedupe_key: &dedupe_key,
            repository: &message.repository,
            event: &message.event,
            channel,
            url_var: url_var.as_str(),
            secret_var: secret_var.map(|v| v.as_str()),
            message: &body,
        };
        if store.queue_notification(&row, now_ms()).await? {
            queued += 1;
        }
    }
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_quoting_a_secret_is_masked() {
        let message = Message {
            event: "preview_failed".into(),
            repository: "acme/shop".into(),
            pr: Some(1),
            sha: None,
            commit_url: None,
            actor: None,
            title: "Preview of acme/shop#1 failed".into(),
            text: "deploy.sh: login failed for token tok-123456789".into(),
            links: vec![("log".into(), "https://gitferry/runs/1?token=abc".into())],
        };
        let masked = message.masked(&crate::secrets::Masker::new(["tok-123456789"]));
        assert_eq!(masked.text, "deploy.sh: login failed for token ***");
        assert_eq!(masked.title, "Preview of acme/shop#1 failed");
    }
}
