//! Text from a pull request (titles, step names, reasons, a deploy script's output) written
//! into chat markup, neutralised so it stays text: no Slack `<!channel>` or `<url|…>` links, no
//! DingTalk mentions (`@all`) or Markdown links (`](javascript:…)`).

/// Slack's three control characters (as Slack documents for message text).
pub fn slack(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Markdown's punctuation, backslash-escaped, and every `@` followed by a zero-width space so
/// DingTalk sees no mention (`@all`, `@13800000000`) in it.
pub fn dingtalk(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '!' | '|' | '<' | '>' => {
                out.push('\\');
                out.push(c);
            }
            '@' => out.push_str("@\u{200B}"),
            _ => out.push(c),
        }
    }
    out
}

/// Plain text for DingTalk (a message's title, shown in the notification): one line, no
/// mention.
pub fn dingtalk_plain(text: &str) -> String {
    one_line(text).replace('@', "@\u{200B}")
}

/// [`dingtalk`] for a heading or title: one line.
pub fn dingtalk_line(text: &str) -> String {
    dingtalk(&one_line(text))
}

/// Line breaks as spaces: a heading must not end early and start a block of its own.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_control_characters_become_entities() {
        assert_eq!(
            slack("<!channel> & <https://evil.example.com|click>"),
            "&lt;!channel&gt; &amp; &lt;https://evil.example.com|click&gt;"
        );
    }

    #[test]
    fn dingtalk_links_and_mentions_stay_text() {
        let escaped = dingtalk("fix](javascript:alert(1)) @all [x](https://evil.example.com)");
        assert!(
            !escaped.contains("](") && !escaped.contains("@all"),
            "{escaped}"
        );
        assert_eq!(
            escaped,
            "fix\\]\\(javascript:alert\\(1\\)\\) @\u{200B}all \\[x\\]\\(https://evil.example.com\\)"
        );
        assert_eq!(
            dingtalk_line("a\n### b\r\n@all"),
            "a \\#\\#\\# b  @\u{200B}all"
        );
    }
}
