//! What each channel is sent: Slack's incoming-webhook JSON, a DingTalk robot's markdown
//! message (signed when the robot has a secret), or the message itself as JSON for a generic
//! webhook. Pure functions, so the wire formats are tested without a network.

use base64::Engine as _;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{Message, escape};
use crate::web_url;

/// The JSON body for `channel`.
pub fn body(channel: &str, message: &Message) -> Value {
    match channel {
        "slack" => slack(message),
        "dingtalk" => dingtalk(message),
        _ => webhook(message),
    }
}

/// The message as stored, plus the short sha; links that are not plain web addresses are
/// left out, as in the chat channels.
fn webhook(message: &Message) -> Value {
    let mut safe = message.clone();
    safe.links.retain(|(_, url)| web_url::is_safe(url));
    safe.commit_url = safe.commit_url.filter(|url| web_url::is_safe(url));
    let mut value = serde_json::to_value(&safe).unwrap_or(Value::Null);
    if let (Some(object), Some(short)) = (value.as_object_mut(), message.short_sha()) {
        object.insert("short_sha".to_owned(), json!(short));
    }
    value
}

/// A link in a channel's syntax, or just its (escaped) label when the URL is not a plain web
/// address: a hostile URL never reaches the markup.
fn link(label: &str, url: Option<&str>, syntax: fn(&str, &str) -> String) -> String {
    match url.filter(|url| web_url::is_safe(url)) {
        Some(url) => syntax(label, url),
        None => label.to_owned(),
    }
}

/// "Commit `abc1234`", linked to the commit when the message has its URL.
fn commit_line(message: &Message, syntax: fn(&str, &str) -> String) -> Option<String> {
    let short = message.short_sha()?;
    Some(format!(
        "Commit {}",
        link(short, message.commit_url.as_deref(), syntax)
    ))
}

fn slack_link(label: &str, url: &str) -> String {
    format!("<{url}|{label}>")
}

fn slack(message: &Message) -> Value {
    let links: Vec<String> = message
        .links
        .iter()
        .map(|(label, url)| link(&escape::slack(label), Some(url), slack_link))
        .collect();
    let mut text = format!("*{}*\n", escape::slack(&escape::one_line(&message.title)));
    if let Some(commit) = commit_line(message, slack_link) {
        text.push_str(&commit);
        text.push('\n');
    }
    text.push_str(&escape::slack(&message.text));
    if !links.is_empty() {
        text.push('\n');
        text.push_str(&links.join(" · "));
    }
    json!({ "text": text })
}

fn markdown_link(label: &str, url: &str) -> String {
    format!("[{label}]({url})")
}

fn dingtalk(message: &Message) -> Value {
    let links: Vec<String> = message
        .links
        .iter()
        .map(|(label, url)| link(&escape::dingtalk_line(label), Some(url), markdown_link))
        .collect();
    let title = escape::dingtalk_line(&message.title);
    let mut text = format!("### {title}\n\n");
    if let Some(commit) = commit_line(message, markdown_link) {
        text.push_str(&commit);
        text.push_str("\n\n");
    }
    // Markdown joins single lines into one paragraph; two spaces keep each line its own.
    let body: Vec<String> = message.text.lines().map(escape::dingtalk).collect();
    text.push_str(&body.join("  \n"));
    if !links.is_empty() {
        text.push_str("\n\n");
        text.push_str(&links.join(" · "));
    }
    json!({
        "msgtype": "markdown",
        // The title shows in the notification preview, as plain text.
        "markdown": { "title": escape::dingtalk_plain(&message.title), "text": text },
        // Nobody is mentioned, whatever the text says.
        "at": { "isAtAll": false, "atMobiles": [], "atUserIds": [] },
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
            commit_url: Some("https://github.com/acme/shop/commit/0123456789".into()),
        }
    }

    /// What a hostile PR controls: its title (in the message's title and text), its branch,
    /// and the preview URL its deploy script prints.
    fn hostile() -> Message {
        Message {
            title: "Preview of <!channel> @all ](javascript:alert(1)) is ready\n### pwned".into(),
            text: "Deployed fix](javascript:alert(1)) <!here> @all & <https://evil.example.com|x>"
                .into(),
            links: vec![
                (
                    "preview".into(),
                    "https://evil.example.com|<!channel>".into(),
                ),
                (
                    "pr](javascript:alert(1))".into(),
                    "https://github.com/acme/shop/pull/7".into(),
                ),
                ("x".into(), "javascript:alert(1)".into()),
            ],
            ..message()
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
        assert!(
            text.contains("Commit <https://github.com/acme/shop/commit/0123456789|0123456>"),
            "{text}"
        );
    }

    #[test]
    fn slack_never_sees_a_mention_or_a_link_it_did_not_get_from_gitferry() {
        let body = body("slack", &hostile());
        let text = body["text"].as_str().unwrap();
        // The only `<` left open the links gitferry itself made.
        let opened: Vec<&str> = text.match_indices('<').map(|(at, _)| &text[at..]).collect();
        assert!(
            opened
                .iter()
                .all(|rest| rest.starts_with("<https://github.com/acme/shop/")),
            "{text}"
        );
        assert!(!text.contains("<!"), "{text}");
        assert!(
            text.contains("&lt;!channel&gt;") && text.contains("&amp;"),
            "{text}"
        );
        // The refused preview URL is left out; its label stays as text.
        assert!(!text.contains("<https://evil"), "{text}");
        assert!(text.contains("\npreview · "), "{text}");
        assert!(
            !text.contains("javascript:alert(1)|") && !text.contains("<javascript"),
            "{text}"
        );
        assert!(
            text.starts_with("*Preview of &lt;!channel&gt; @all"),
            "{text}"
        );
        assert!(
            !text.contains("\n### pwned"),
            "the title stays one line: {text}"
        );
    }

    #[test]
    fn dingtalk_never_sees_a_mention_or_a_link_it_did_not_get_from_gitferry() {
        let body = body("dingtalk", &hostile());
        let text = body["markdown"]["text"].as_str().unwrap();
        let title = body["markdown"]["title"].as_str().unwrap();
        assert!(!text.contains("@all") && !title.contains("@all"), "{text}");
        assert_eq!(body["at"]["isAtAll"], false);
        // Every `](` is a link gitferry made, to GitHub.
        let links: Vec<&str> = text
            .match_indices("](")
            .map(|(at, _)| &text[at..])
            .collect();
        assert_eq!(links.len(), 2, "{text}");
        assert!(
            links
                .iter()
                .all(|rest| rest.starts_with("](https://github.com/acme/shop/")),
            "{text}"
        );
        assert!(!text.contains("evil.example.com|"), "{text}");
        assert!(!text.contains("\n### pwned"), "{text}");
    }

    #[test]
    fn every_channel_names_the_commit_and_links_it() {
        let slack = body("slack", &message());
        let ding = body("dingtalk", &message());
        let hook = body("webhook", &message());
        assert!(slack["text"].as_str().unwrap().contains("|0123456>"));
        assert!(
            ding["markdown"]["text"]
                .as_str()
                .unwrap()
                .contains("Commit [0123456](https://github.com/acme/shop/commit/0123456789)")
        );
        assert_eq!(hook["short_sha"], "0123456");
        assert_eq!(
            hook["commit_url"],
            "https://github.com/acme/shop/commit/0123456789"
        );
    }

    #[test]
    fn a_webhook_gets_only_safe_links() {
        let hook = body("webhook", &hostile());
        let links = hook["links"].as_array().unwrap();
        assert_eq!(links.len(), 1, "{links:?}");
        assert_eq!(links[0][1], "https://github.com/acme/shop/pull/7");
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
