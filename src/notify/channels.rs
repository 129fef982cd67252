//! What each channel is sent: Slack's incoming-webhook JSON, a DingTalk robot's markdown
//! message (signed when the robot has a secret), or the message itself as JSON for a generic
//! webhook. Pure functions, so the wire formats are tested without a network.

use base64::Engine as _;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::Message;

/// The JSON body for `channel`.
pub fn body(channel: &str, message: &Message) -> Value {
    match channel {
        "slack" => slack(message),
        "dingtalk" => dingtalk(message),
        _ => serde_json::to_value(message).unwrap_or(Value::Null),
    }
}

fn slack(message: &Message) -> Value {
    let links: Vec<String> = message
        .links
        .iter()
        .map(|(label, url)| format!("<{url}|{}>", slack_escape(label)))
        .collect();
    let mut text = format!(
        "*{}*\n{}",
        slack_escape(&message.title),
        slack_escape(&message.text)
    );
    if !links.is_empty() {
        text.push('\n');
        text.push_str(&links.join(" · "));
    }
    json!({ "text": text })
}

/// Slack's three control characters in message text.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn dingtalk(message: &Message) -> Value {
    let links: Vec<String> = message
        .links
        .iter()
        .map(|(label, url)| format!("[{label}]({url})"))
        .collect();
    let mut text = format!("### {}\n\n{}", message.title, message.text);
    if !links.is_empty() {
        text.push_str("\n\n");
        text.push_str(&links.join(" · "));
    }
    json!({
        "msgtype": "markdown",
        "markdown": { "title": message.title, "text": text },
    })
}

/// A DingTalk robot's signed URL: `timestamp` (ms) and `sign` =
/// base64(HMAC-SHA256(secret, "{timestamp}\n{secret}")), URL-encoded, as DingTalk documents.
pub fn dingtalk_signed_url(url: &str, secret: &str, timestamp_ms: i64) -> String {
    let sign = dingtalk_sign(secret, timestamp_ms);
    let encoded = percent_encoding::utf8_percent_encode(&sign, percent_encoding::NON_ALPHANUMERIC);
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}timestamp={timestamp_ms}&sign={encoded}")
}

pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    let to_sign = format!("{timestamp_ms}\n{secret}");
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Message {
        Message {
            event: "preview_ready".into(),
            repository: "acme/shop".into(),
            pr: Some(7),
            sha: Some("0123456789".into()),
            actor: Some("dora".into()),
            title: "Preview of acme/shop#7 is ready".into(),
            text: "Deployed 0123456 <for> review".into(),
            links: vec![("preview".into(), "https://pr-7.example.com".into())],
        }
    }

    #[test]
    fn slack_gets_escaped_text_with_its_own_link_syntax() {
        let body = body("slack", &message());
        let text = body["text"].as_str().unwrap();
        assert!(
            text.starts_with("*Preview of acme/shop#7 is ready*"),
            "{text}"
        );
        assert!(text.contains("&lt;for&gt;"), "{text}");
        assert!(
            text.contains("<https://pr-7.example.com|preview>"),
            "{text}"
        );
    }

    #[test]
    fn dingtalk_gets_a_markdown_message() {
        let body = body("dingtalk", &message());
        assert_eq!(body["msgtype"], "markdown");
        assert_eq!(body["markdown"]["title"], "Preview of acme/shop#7 is ready");
        let text = body["markdown"]["text"].as_str().unwrap();
        assert!(
            text.contains("[preview](https://pr-7.example.com)"),
            "{text}"
        );
    }

    #[test]
    fn a_webhook_gets_the_message_as_json() {
        let body = body("webhook", &message());
        assert_eq!(body["event"], "preview_ready");
        assert_eq!(body["pr"], 7);
        assert_eq!(body["links"][0][1], "https://pr-7.example.com");
    }

    #[test]
    fn dingtalk_signatures_follow_the_documented_recipe() {
        // Computed independently: printf '1700000000000\nSEC123' | openssl dgst -sha256
        // -hmac SEC123 -binary | base64
        assert_eq!(
            dingtalk_sign("SEC123", 1_700_000_000_000),
            "lkcPI1uoxBY1gUnCnnPH1Kkru0Hqjo7rFpA3haIVhEQ="
        );
        let url = dingtalk_signed_url(
            "https://oapi.dingtalk.com/robot/send?access_token=t",
            "SEC123",
            1_700_000_000_000,
        );
        assert!(
            url.starts_with(
                "https://oapi.dingtalk.com/robot/send?access_token=t&timestamp=1700000000000&sign="
            ),
            "{url}"
        );
        assert!(
            url.ends_with("%3D"),
            "the base64 padding is URL-encoded: {url}"
        );
    }
}
