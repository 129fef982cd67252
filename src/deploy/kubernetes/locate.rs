//! Where in a manifest file something was written, so a refusal can say `file:line`.
//!
//! serde's YAML values carry no positions, so the text is kept next to each parsed document
//! and searched again when a check needs a line: documents are split at their `---` markers
//! (the same documents the YAML parser yields), and a field is found by its key within its
//! document. A key written twice in one document (two containers, both `privileged`) is
//! reported at the first line where it has the offending value; that is enough to send the
//! author to the right place, and the message also names the container.

use std::sync::Arc;

/// The text of one YAML (or JSON) document and the line of the file it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// 1-based line of the file where the document's text starts.
    pub first_line: usize,
    /// The document's lines.
    pub text: Arc<str>,
}

impl Span {
    /// The 1-based line of the file where `key` is set to `value` (or set at all, when no
    /// line has that value), searching from the document's start. `None` when the key is not
    /// written in this document's text (e.g. it came from a `List` written in flow style on
    /// one line the search still finds, or the text could not be split).
    pub fn line_of(&self, key: &str, value: Option<&str>) -> Option<usize> {
        let lines: Vec<&str> = self.text.lines().collect();
        let with_value = value.and_then(|value| {
            lines
                .iter()
                .position(|line| key_value_at(line, key).is_some_and(|v| v == value))
        });
        with_value
            .or_else(|| {
                lines
                    .iter()
                    .position(|line| key_value_at(line, key).is_some())
            })
            .map(|index| self.first_line + index)
    }
}

/// The value written after `key:` (or `"key":`) on `line`, trimmed of quotes and of what
/// follows it in flow style; `None` when the line does not set `key`.
fn key_value_at<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(found) = line[from..].find(key) {
        let start = from + found;
        let end = start + key.len();
        from = end;
        let before = line[..start].chars().next_back();
        let starts_token = before.is_none_or(|c| matches!(c, ' ' | '\t' | '{' | ',' | '"' | '\''));
        let rest = line[end..].trim_start_matches(['"', '\'']).trim_start();
        if !starts_token || !rest.starts_with(':') {
            continue;
        }
        let value = rest[1..].trim_start();
        let value = value
            .split([',', '}', ']', '#'])
            .next()
            .unwrap_or_default()
            .trim()
            .trim_matches(['"', '\'']);
        return Some(value);
    }
    None
}

/// Splits a YAML stream into the documents the parser reads from it, with their first
/// lines. A stream's text before its first `---` is a document only when it holds more than
/// comments and blank lines (the parser sees no document there otherwise). Returns `None`
/// when the split does not give `expected` documents, so a wrong line is never reported.
pub fn yaml_documents(text: &str, expected: usize) -> Option<Vec<Span>> {
    let mut spans = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut first_line = 1;
    let mut explicit = false;
    for (index, line) in text.lines().enumerate() {
        let marker = line == "---" || line.starts_with("--- ") || line.starts_with("---\t");
        if marker {
            if explicit || has_content(&current) {
                spans.push(span(first_line, &current));
            }
            current.clear();
            explicit = true;
            // `--- {a: 1}` carries content on the marker line itself.
            first_line = index + 1;
            current.push(line.get(3..).unwrap_or_default());
        } else {
            current.push(line);
        }
    }
    if explicit || has_content(&current) {
        spans.push(span(first_line, &current));
    }
    (spans.len() == expected).then_some(spans)
}

fn has_content(lines: &[&str]) -> bool {
    lines.iter().any(|line| {
        let trimmed = line.trim();
        !trimmed.is_empty() && !trimmed.starts_with('#') && trimmed != "..."
    })
}

fn span(first_line: usize, lines: &[&str]) -> Span {
    Span {
        first_line,
        text: Arc::from(lines.join("\n")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_split_at_their_markers_with_their_first_lines() {
        let text = "# header\n---\na: 1\n---\n---\n# only a comment\n---\nb: 2\nc: 3\n";
        let spans = yaml_documents(text, 4).unwrap();
        assert_eq!(spans[0].first_line, 2);
        assert_eq!(spans[3].first_line, 7);
        assert_eq!(spans[3].line_of("c", None), Some(9));
        assert!(
            yaml_documents(text, 3).is_none(),
            "a mismatch gives no lines"
        );
    }

    #[test]
    fn a_stream_without_markers_is_one_document_from_line_one() {
        let spans = yaml_documents("a: 1\nb:\n  hostPID: true\n", 1).unwrap();
        assert_eq!(spans[0].line_of("hostPID", Some("true")), Some(3));
    }

    #[test]
    fn the_line_with_the_offending_value_wins_over_an_earlier_harmless_one() {
        let span = Span {
            first_line: 10,
            text: Arc::from(
                "containers:\n- name: a\n  securityContext: {privileged: false}\n- name: b\n  \
                 securityContext:\n    \"privileged\": true\n",
            ),
        };
        assert_eq!(span.line_of("privileged", Some("true")), Some(15));
        assert_eq!(span.line_of("privileged", Some("maybe")), Some(12));
        assert_eq!(span.line_of("hostIPC", None), None);
    }

    #[test]
    fn a_key_inside_a_longer_word_is_not_the_key() {
        let span = Span {
            first_line: 1,
            text: Arc::from("notprivileged: true\nxprivileged: 1\n"),
        };
        assert_eq!(span.line_of("privileged", None), None);
    }
}
