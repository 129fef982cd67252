//! How long a text is for GitHub, and cutting it to fit.
//!
//! GitHub states its limits in "characters": 65,536 for a comment body, 65,535 for a check
//! run's summary or text. Its Rails validations count Unicode code points, while browsers (and
//! so GitHub's own editor) count UTF-16 code units, in which a character outside the Basic
//! Multilingual Plane (most emoji) counts twice. We count UTF-16 code units: never fewer than
//! code points, so a text within our count is within the limit whichever way GitHub counts.

/// The length of `text` in UTF-16 code units.
pub fn len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// The longest prefix of `text` that is at most `max` code units long. It ends on a character
/// boundary, so a multi-byte character (or a surrogate pair) is never cut in half.
pub fn prefix(text: &str, max: usize) -> &str {
    let mut used = 0;
    for (at, c) in text.char_indices() {
        used += c.len_utf16();
        if used > max {
            return &text[..at];
        }
    }
    text
}

/// `text` cut to at most `max` code units, ending in `…` when something was cut.
pub fn ellipsize(text: &str, max: usize) -> String {
    if len(text) <= max {
        return text.to_owned();
    }
    let mut cut = prefix(text, max.saturating_sub(1)).to_owned();
    if max > 0 {
        cut.push('…');
    }
    cut
}

/// The longest prefix of `text` that is at most `max` bytes long, on a character boundary (for
/// limits GitHub gives in bytes, such as an annotation's 64 KB message).
pub fn prefix_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn astral_characters_count_twice() {
        assert_eq!(len("abc"), 3);
        assert_eq!(len("é"), 1);
        assert_eq!(len("😀"), 2);
    }

    #[test]
    fn prefixes_never_split_a_character() {
        assert_eq!(prefix("a😀b", 2), "a");
        assert_eq!(prefix("a😀b", 3), "a😀");
        assert_eq!(prefix("abc", 10), "abc");
        assert_eq!(prefix_bytes("aé", 2), "a");
        assert_eq!(prefix_bytes("aé", 3), "aé");
    }

    #[test]
    fn ellipsized_text_fits() {
        assert_eq!(ellipsize("Re-run everything", 10), "Re-run ev…");
        assert_eq!(len(&ellipsize("Re-run everything", 10)), 10);
        assert_eq!(ellipsize("short", 10), "short");
    }
}
