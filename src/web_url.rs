//! Which URLs gitferry passes on as links. A preview's address can come from a deploy script's
//! output (`GITFERRY_URL=…`), so it is as hostile as the pull request that script deploys: in
//! a Slack `<url|label>` link a `|` or `>` ends the URL early and the rest becomes text Slack
//! parses (`<!channel>`); in DingTalk markdown a `)` ends the link; a `javascript:` scheme
//! runs in the reader's browser. Only plain web addresses pass, so every place that renders a
//! link can put the URL in as it is.

/// Why a URL is not used as a link.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsafeUrl {
    #[error("it is not an http:// or https:// address")]
    Scheme,
    #[error("it has no host")]
    NoHost,
    #[error("it contains whitespace or a control character")]
    Whitespace,
    #[error("it contains `{0}`, which would end a chat link early")]
    Delimiter(char),
    #[error("it is longer than {MAX_LEN} characters")]
    TooLong,
}

/// The longest URL accepted (browsers and chat services cut longer ones anyway).
pub const MAX_LEN: usize = 2048;

/// Characters that end or split a link in Slack (`<url|label>`), DingTalk or Markdown
/// (`[label](url)`), or start HTML.
const DELIMITERS: [char; 9] = ['|', '<', '>', '"', '\'', '`', '(', ')', '\\'];

/// Checks that `url` is an `http(s)` address that is safe to put into a chat link verbatim.
pub fn check(url: &str) -> Result<&str, UnsafeUrl> {
    if url.len() > MAX_LEN {
        return Err(UnsafeUrl::TooLong);
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UnsafeUrl::Whitespace);
    }
    if let Some(c) = url.chars().find(|c| DELIMITERS.contains(c)) {
        return Err(UnsafeUrl::Delimiter(c));
    }
    let lower = url.to_ascii_lowercase();
    let rest = ["https://", "http://"]
        .iter()
        .find_map(|scheme| lower.strip_prefix(scheme))
        .ok_or(UnsafeUrl::Scheme)?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // `http://@evil` or `http:///path` have no host a reader could check.
    let host = host.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err(UnsafeUrl::NoHost);
    }
    Ok(url)
}

/// Whether `url` passes [`check`].
pub fn is_safe(url: &str) -> bool {
    check(url).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_web_addresses_pass() {
        for url in [
            "https://pr-7.preview.example.com",
            "http://10.0.0.7:8080/path?a=1&b=2#top",
            "HTTPS://Example.COM/",
            "https://example.com/%7Cpercent-encoded%3E",
        ] {
            assert_eq!(check(url), Ok(url), "{url}");
        }
    }

    #[test]
    fn what_an_attacker_prints_is_refused() {
        let cases = [
            (
                "https://x.example.com|<!channel>",
                UnsafeUrl::Delimiter('|'),
            ),
            ("https://x.example.com><!here>", UnsafeUrl::Delimiter('>')),
            ("https://x.example.com)[@all](x", UnsafeUrl::Delimiter(')')),
            ("https://x.example.com <!channel>", UnsafeUrl::Whitespace),
            ("https://x.example.com\n@all", UnsafeUrl::Whitespace),
            ("javascript:alert(1)", UnsafeUrl::Delimiter('(')),
            (
                "javascript://x.example.com/%0aalert%281%29",
                UnsafeUrl::Scheme,
            ),
            ("data:text/html,hi", UnsafeUrl::Scheme),
            ("ftp://x.example.com", UnsafeUrl::Scheme),
            ("https://", UnsafeUrl::NoHost),
            ("https:///path", UnsafeUrl::NoHost),
            ("https://user@/path", UnsafeUrl::NoHost),
        ];
        for (url, why) in cases {
            assert_eq!(check(url), Err(why), "{url}");
        }
        assert_eq!(
            check(&format!("https://x.example.com/{}", "a".repeat(MAX_LEN))),
            Err(UnsafeUrl::TooLong)
        );
    }
}
