//! Which code fences, `<details>` elements and tables are open at a line boundary of a
//! Markdown text.
//!
//! Splitting a long comment (close what is open at the end of one part, reopen it at the start
//! of the next), finding the sticky comment's section markers (they count only outside every
//! block) and balancing a section's Markdown all need the same answer, so one scanner gives it.
//!
//! It is GitHub-flavoured Markdown reduced to what those uses need:
//! - a fence opens with at most 3 spaces of indentation and at least 3 backticks or tildes (a
//!   backtick fence's info string holds no backtick) and closes with the same character, at
//!   least as many, and nothing but blanks after them; nothing inside a fence is markup;
//! - `<details>`, `<summary>…</summary>` and `</details>` count on lines that begin with a tag
//!   (HTML block lines), so prose that mentions `<details>` in a code span does not open one;
//! - a table starts with a header row and a delimiter row with as many cells, and runs to a
//!   blank line (or an HTML or fence line). It needs no closing, but a part that continues one
//!   must repeat its header and delimiter rows, or the rows would render as plain text.
//!
//! Block quotes and indented code blocks are not tracked: gitferry's own rendering does not put
//! fences or `<details>` inside them.

use super::units;

/// A summary longer than this is not repeated when a `<details>` block is reopened in the next
/// part (it would eat the part's room); "(continued)" alone stands in for it.
const MAX_REOPENED_SUMMARY: usize = 200;

/// An info string longer than this is dropped when a fence is reopened, for the same reason.
const MAX_REOPENED_INFO: usize = 100;

/// The blocks open at one point of a text, outermost first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenBlocks {
    details: Vec<Details>,
    /// Always the innermost block: nothing opens inside a fence.
    fence: Option<Fence>,
    /// The header and delimiter rows of the table being read (never with a fence).
    table: Option<(String, String)>,
    /// The last line, if it could be a table's header row.
    maybe_header: Option<String>,
    /// The last non-blank line opened something (or could be a table header): a part ending
    /// there would end on an empty block.
    just_opened: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Details {
    /// The inner HTML of its `<summary>`, once seen.
    summary: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Fence {
    indent: usize,
    marker: char,
    len: usize,
    info: String,
}

impl OpenBlocks {
    /// No fence or `<details>` is open (a table may be: it needs no closing). Section markers
    /// count only here.
    pub fn nothing_to_close(&self) -> bool {
        self.details.is_empty() && self.fence.is_none()
    }

    /// The last non-blank line opened a block, or could be a table's header: a bad place to
    /// end a part.
    pub fn just_opened(&self) -> bool {
        self.just_opened
    }

    pub fn in_fence(&self) -> bool {
        self.fence.is_some()
    }

    /// Moves past one line (with or without its line ending).
    pub fn advance(&mut self, line: &str) {
        let line = line.strip_suffix('\n').unwrap_or(line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some(fence) = &self.fence {
            if fence.is_closed_by(line) {
                self.fence = None;
            }
            self.just_opened = false;
            return;
        }
        if line.trim().is_empty() {
            self.table = None;
            self.maybe_header = None;
            return;
        }
        let header = self.maybe_header.take();
        self.just_opened = false;
        if let Some(fence) = Fence::opened_by(line) {
            self.table = None;
            self.fence = Some(fence);
            self.just_opened = true;
            return;
        }
        let html = line.trim_start().starts_with('<');
        if self.table.is_some() && !html {
            return;
        }
        self.table = None;
        if let Some(header) = header
            && is_delimiter_row(line, cells(&header))
        {
            self.table = Some((header, line.to_owned()));
            self.just_opened = true;
            return;
        }
        if html {
            let depth = self.details.len();
            self.scan_tags(line);
            self.just_opened = self.details.len() > depth;
        } else if line.contains('|') {
            self.maybe_header = Some(line.to_owned());
            self.just_opened = true;
        } else {
            // A heading belongs with what follows it.
            self.just_opened = is_heading(line);
        }
    }

    /// Moves past every line of `text`.
    #[cfg(test)]
    pub fn advance_all(&mut self, text: &str) {
        for line in text.split_inclusive('\n') {
            self.advance(line);
        }
    }

    /// The lines that reopen these blocks at the start of a new part; empty when nothing is
    /// open. A reopened `<details>` says "(continued)" and is followed by a blank line so the
    /// Markdown inside it renders.
    pub fn reopen(&self) -> String {
        let mut out = String::new();
        for details in &self.details {
            let summary = details
                .summary
                .as_deref()
                .filter(|s| units::len(s) <= MAX_REOPENED_SUMMARY && !s.trim().is_empty());
            match summary {
                Some(s) => {
                    out.push_str(&format!("<details><summary>{s} (continued)</summary>\n\n"))
                }
                None => out.push_str("<details><summary>(continued)</summary>\n\n"),
            }
        }
        if let Some(fence) = &self.fence {
            let info = if units::len(&fence.info) <= MAX_REOPENED_INFO {
                fence.info.as_str()
            } else {
                ""
            };
            out.push_str(&format!("{}{info}\n", fence.delimiter()));
        }
        if let Some((header, delimiter)) = &self.table {
            out.push_str(&format!("{header}\n{delimiter}\n"));
        }
        out
    }

    /// The lines that close these blocks, innermost first, joined by line breaks and without a
    /// final one; empty when nothing is open. Must start on a fresh line.
    pub fn close(&self) -> String {
        let mut lines = Vec::with_capacity(self.details.len() + 1);
        if let Some(fence) = &self.fence {
            lines.push(fence.delimiter());
        }
        lines.extend(self.details.iter().map(|_| "</details>".to_owned()));
        lines.join("\n")
    }

    /// Opens and closes `<details>` and records summaries, left to right along an HTML line.
    fn scan_tags(&mut self, line: &str) {
        // ASCII lower-casing keeps byte offsets, so positions found in `lower` index `line`.
        let lower = line.to_ascii_lowercase();
        let mut at = 0;
        while let Some(found) = lower[at..].find('<') {
            let start = at + found;
            let rest = &lower[start..];
            at = start + 1;
            if tag_named(rest, "<details") {
                self.details.push(Details { summary: None });
            } else if tag_named(rest, "</details") {
                self.details.pop();
            } else if tag_named(rest, "<summary") {
                let Some(open_end) = rest.find('>') else {
                    continue;
                };
                let inner_start = start + open_end + 1;
                let Some(inner_len) = lower[inner_start..].find("</summary>") else {
                    continue;
                };
                if let Some(top) = self.details.last_mut()
                    && top.summary.is_none()
                {
                    top.summary =
                        Some(line[inner_start..inner_start + inner_len].trim().to_owned());
                }
                at = inner_start + inner_len;
            }
        }
    }
}

/// An ATX heading: up to 3 spaces, 1 to 6 `#`, then a blank or the end of the line.
fn is_heading(line: &str) -> bool {
    let rest = line.trim_start_matches(' ');
    if line.len() - rest.len() > 3 {
        return false;
    }
    let after = rest.trim_start_matches('#');
    let level = rest.len() - after.len();
    (1..=6).contains(&level) && (after.is_empty() || after.starts_with([' ', '\t']))
}

/// The cells of a table row: split on unescaped pipes, a leading and a trailing pipe dropped.
fn row_cells(line: &str) -> Vec<&str> {
    let line = line.trim();
    let line = line.strip_prefix('|').unwrap_or(line);
    let line = match line.strip_suffix('|') {
        Some(rest) if !rest.ends_with('\\') => rest,
        _ => line,
    };
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            '\\' => escaped = !escaped,
            '|' if !escaped => {
                out.push(&line[start..i]);
                start = i + 1;
            }
            _ => escaped = false,
        }
    }
    out.push(&line[start..]);
    out
}

fn cells(line: &str) -> usize {
    row_cells(line).len()
}

/// `| --- | :---: | ---: |`, with `cells` cells.
fn is_delimiter_row(line: &str, cells: usize) -> bool {
    let row = row_cells(line);
    row.len() == cells
        && line.contains('|')
        && row.iter().all(|cell| {
            let cell = cell.trim();
            let inner = cell.strip_prefix(':').unwrap_or(cell);
            let inner = inner.strip_suffix(':').unwrap_or(inner);
            !inner.is_empty() && inner.chars().all(|c| c == '-')
        })
}

/// Whether `text` starts with the tag `name` (`<details`, `</details`…) as a whole word.
fn tag_named(text: &str, name: &str) -> bool {
    text.strip_prefix(name).is_some_and(|after| {
        after
            .chars()
            .next()
            .is_some_and(|c| c == '>' || c == '/' || c.is_ascii_whitespace())
    })
}

impl Fence {
    fn opened_by(line: &str) -> Option<Fence> {
        let rest = line.trim_start_matches(' ');
        let indent = line.len() - rest.len();
        if indent > 3 {
            return None;
        }
        let marker = rest.chars().next().filter(|c| matches!(c, '`' | '~'))?;
        let len = rest.len() - rest.trim_start_matches(marker).len();
        let info = rest[len..].trim();
        if len < 3 || (marker == '`' && info.contains('`')) {
            return None;
        }
        Some(Fence {
            indent,
            marker,
            len,
            info: info.to_owned(),
        })
    }

    fn is_closed_by(&self, line: &str) -> bool {
        let rest = line.trim_start_matches(' ');
        if line.len() - rest.len() > 3 {
            return false;
        }
        let after = rest.trim_start_matches(self.marker);
        let len = rest.len() - after.len();
        len >= self.len && after.trim_matches([' ', '\t']).is_empty()
    }

    fn delimiter(&self) -> String {
        format!(
            "{}{}",
            " ".repeat(self.indent),
            self.marker.to_string().repeat(self.len)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(text: &str) -> OpenBlocks {
        let mut open = OpenBlocks::default();
        open.advance_all(text);
        open
    }

    #[test]
    fn a_fence_stays_open_until_a_long_enough_closing_fence() {
        let open = after("````rust\n```\nlet x = 1;\n");
        assert!(
            open.in_fence(),
            "three backticks do not close a four-backtick fence"
        );
        assert_eq!(open.reopen(), "````rust\n");
        assert_eq!(open.close(), "````");
        assert!(after("````rust\n```\n`````  \n").nothing_to_close());
    }

    #[test]
    fn tildes_and_indentation_are_fences_too() {
        let open = after("  ~~~ yaml\nkey: 1\n");
        assert_eq!(open.close(), "  ~~~");
        assert!(
            after("    ```\n").nothing_to_close(),
            "four spaces make indented code, not a fence"
        );
        assert!(
            after("``` a`b\n").nothing_to_close(),
            "a backtick in the info string: inline code"
        );
    }

    #[test]
    fn details_nest_and_remember_their_summary() {
        let open = after(
            "<details><summary>Logs</summary>\n\n<details>\n<summary>step <b>2</b></summary>\n",
        );
        assert_eq!(
            open.reopen(),
            "<details><summary>Logs (continued)</summary>\n\n\
             <details><summary>step <b>2</b> (continued)</summary>\n\n"
        );
        assert_eq!(open.close(), "</details>\n</details>");
    }

    #[test]
    fn one_line_details_open_and_close() {
        assert!(after("<details><summary>a</summary>b</details>\n").nothing_to_close());
        assert!(after("<DETAILS open>\n</Details>\n").nothing_to_close());
    }

    #[test]
    fn markup_inside_fences_and_prose_is_not_a_tag() {
        assert!(after("```\n<details>\n```\n").nothing_to_close());
        assert!(after("Use `<details>` to fold output.\n").nothing_to_close());
        assert!(after("<detailsx>\n").nothing_to_close());
    }

    #[test]
    fn a_fence_inside_details_closes_first() {
        let open = after("<details><summary>Out</summary>\n\n```text\nline\n");
        assert_eq!(open.close(), "```\n</details>");
        assert_eq!(
            open.reopen(),
            "<details><summary>Out (continued)</summary>\n\n```text\n"
        );
    }

    #[test]
    fn a_table_is_reopened_with_its_header_until_a_blank_line() {
        let open = after("| Test | Result |\n| --- | :---: |\n| a | ok |\n");
        assert!(open.nothing_to_close(), "a table needs no closing");
        assert_eq!(open.reopen(), "| Test | Result |\n| --- | :---: |\n");
        assert_eq!(after("| a | b |\n|---|---|\n| 1 | 2 |\n\n").reopen(), "");
        assert_eq!(
            after("a | b\n---\n").reopen(),
            "",
            "cell counts differ: a heading"
        );
        assert_eq!(
            after("a \\| b | c\n- | -\n").reopen(),
            "a \\| b | c\n- | -\n"
        );
    }

    #[test]
    fn openers_are_bad_places_to_end_a_part() {
        assert!(after("text\n<details><summary>x</summary>\n\n").just_opened());
        assert!(after("```\n").just_opened());
        assert!(
            after("| a | b |\n").just_opened(),
            "could be a table's header"
        );
        assert!(after("| a | b |\n| - | - |\n").just_opened());
        assert!(!after("| a | b |\n| - | - |\n| 1 | 2 |\n").just_opened());
        assert!(!after("<details>\nbody\n").just_opened());
        assert!(
            after("### Tests\n\n").just_opened(),
            "a heading goes with what follows"
        );
        assert!(!after("#hashtag\n").just_opened());
    }

    #[test]
    fn stray_closing_tags_are_ignored() {
        assert!(after("</details>\n").nothing_to_close());
    }
}
