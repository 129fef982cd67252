//! `notify:` — messages to chat and webhooks when things happen.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::repo_config::load::at_key;
use crate::repo_config::values::EnvVarName;

/// Where to send which events: one channel per entry. Read by the notifier.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(try_from = "RawNotification")]
#[schemars(with = "RawNotification")]
pub struct Notification {
    /// The events to send.
    pub on: Vec<NotifyEvent>,
    /// Where to send them.
    pub channel: Channel,
}

/// A notification channel. Each names the variable of the gitferry process that holds the
/// webhook URL: secrets stay in the bot's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    /// A Slack incoming webhook.
    Slack { url: EnvVarName },
    /// A DingTalk robot webhook, with the variable holding its signing secret if it has one.
    DingTalk {
        url: EnvVarName,
        secret: Option<EnvVarName>,
    },
    /// A generic JSON webhook.
    Webhook { url: EnvVarName },
}

/// Things worth telling people about.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum NotifyEvent {
    PreviewReady,
    PreviewFailed,
    TestsFailed,
    TestsPassed,
    /// A release of a branch-bound environment is deployed and verified.
    Released,
    /// A release failed (its deploy, or a step after it).
    ReleaseFailed,
    Promoted,
    RolledBack,
    DriftDetected,
    QueueMerged,
    QueueFailed,
}

/// A notification entry as written: `on`, exactly one of `slack`/`dingtalk`/`webhook`, and
/// `secret` for DingTalk signing.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    rename = "Notification",
    extend("oneOf" = [
        { "required": ["slack"] },
        { "required": ["dingtalk"] },
        { "required": ["webhook"] }
    ])
)]
pub struct RawNotification {
    /// The events to send: preview_ready, preview_failed, tests_failed, tests_passed,
    /// released, release_failed, promoted, rolled_back, drift_detected, queue_merged,
    /// queue_failed.
    on: Vec<NotifyEvent>,
    /// The variable of the gitferry process that holds a Slack incoming-webhook URL.
    #[serde(default)]
    slack: Option<EnvVarName>,
    /// The variable of the gitferry process that holds a DingTalk robot webhook URL.
    #[serde(default)]
    dingtalk: Option<EnvVarName>,
    /// The variable of the gitferry process that holds a URL to POST JSON to.
    #[serde(default)]
    webhook: Option<EnvVarName>,
    /// DingTalk only: the variable holding the robot's signing secret.
    #[serde(default)]
    secret: Option<EnvVarName>,
}

impl TryFrom<RawNotification> for Notification {
    type Error = String;

    fn try_from(raw: RawNotification) -> Result<Self, Self::Error> {
        let set: Vec<&str> = [
            ("slack", raw.slack.is_some()),
            ("dingtalk", raw.dingtalk.is_some()),
            ("webhook", raw.webhook.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect();
        if let [first, second, ..] = set.as_slice() {
            return Err(at_key(
                second,
                format!(
                    "one channel per entry: `{first}` and `{second}` are both set; write two entries"
                ),
            ));
        }
        if raw.secret.is_some() && raw.dingtalk.is_none() {
            return Err(at_key(
                "secret",
                "`secret` signs DingTalk messages; it needs `dingtalk`",
            ));
        }
        let channel = match (raw.slack, raw.dingtalk, raw.webhook) {
            (Some(url), _, _) => Channel::Slack { url },
            (_, Some(url), _) => Channel::DingTalk {
                url,
                secret: raw.secret,
            },
            (_, _, Some(url)) => Channel::Webhook { url },
            (None, None, None) => {
                return Err("name a channel: `slack`, `dingtalk` or `webhook`".to_owned());
            }
        };
        Ok(Notification {
            on: raw.on,
            channel,
        })
    }
}
