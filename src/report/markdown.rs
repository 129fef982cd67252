//! Typed building blocks for the Markdown gitferry writes into comments and check runs.
//!
//! Much of what gitferry reports is controlled by a PR's author: branch names, test names,
//! failure messages, log lines. Each helper says which of its arguments are plain text (escaped
//! here, so it cannot inject markup, links or HTML) and which are Markdown the caller built with
//! these helpers. Long output goes in [`code_block`], whose fence is always longer than any run
//! of backticks inside, so the content cannot close it early.

use std::fmt::Write as _;

/// Characters that can start or end Markdown markup inline. Escaping all of them with a
/// backslash (valid for every ASCII punctuation character in CommonMark) is simpler and safer
/// than deciding, position by position, which would take effect.
const MARKDOWN_PUNCTUATION: &[char] = &[
    '\\', '`', '*', '_', '{', '}', '[', ']', '(', ')', '#', '+', '-', '.', '!', '|', '~', '<', '>',
    '"', '\'', '=', ':', '$',
];

/// Plain text as inline Markdown: markup characters escaped, `&` as an entity (so `&lt;` stays
/// literal), line breaks as spaces (a line break could start a block: a heading, a list), and
/// `@` followed by an invisible zero-width space, so a test name or branch name like
/// `@acme/everyone` cannot make the bot mention (and notify) people on every edit.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '@' => out.push_str("@&#8203;"),
            '\n' | '\r' => out.push(' '),
            c if MARKDOWN_PUNCTUATION.contains(&c) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Plain text for inside an HTML element (a `<summary>`), where Markdown is not rendered.
pub fn escape_html(text: &str) -> String {
    html_escape::encode_text(&text.replace(['\n', '\r'], " ")).into_owned()
}

/// `## text`, level clamped to 1..=6.
pub fn heading(level: u8, text: &str) -> String {
    format!(
        "{} {}",
        "#".repeat(usize::from(level.clamp(1, 6))),
        escape(text)
    )
}

/// `**text**`.
pub fn bold(text: &str) -> String {
    format!("**{}**", escape(text))
}

/// `[text](url)`. The URL's spaces, parentheses and angle brackets are percent-encoded so they
/// cannot end the link early.
pub fn link(text: &str, url: &str) -> String {
    let mut target = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            ' ' => target.push_str("%20"),
            '(' => target.push_str("%28"),
            ')' => target.push_str("%29"),
            '<' => target.push_str("%3C"),
            '>' => target.push_str("%3E"),
            '\n' | '\r' => {}
            c => target.push(c),
        }
    }
    format!("[{}]({target})", escape(text))
}

/// Plain text as an inline code span: delimited by more backticks than any run inside it,
/// padded with a space where it starts or ends with a backtick; line breaks become spaces.
pub fn code(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ");
    let ticks = "`".repeat(longest_run(&text, '`') + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{text}{pad}{ticks}")
}

/// Plain text as a fenced code block, `info` its language (backticks and line breaks removed).
/// The fence is longer than any run of backticks in the content, so nothing inside closes it.
pub fn code_block(info: &str, content: &str) -> String {
    let fence = "`".repeat((longest_run(content, '`') + 1).max(3));
    let info: String = info
        .chars()
        .filter(|c| !matches!(c, '`' | '\n' | '\r'))
        .collect();
    let content = content.strip_suffix('\n').unwrap_or(content);
    format!("{fence}{info}\n{content}\n{fence}")
}

/// A collapsed `<details>` block: `summary` is plain text, `body` is Markdown. The blank lines
/// around the body let GitHub render the Markdown inside the HTML element.
pub fn details(summary: &str, body: &str) -> String {
    format!(
        "<details><summary>{}</summary>\n\n{}\n\n</details>",
        escape_html(summary),
        body.trim_end_matches('\n')
    )
}

/// The length of the longest run of `c` in `text`.
fn longest_run(text: &str, c: char) -> usize {
    text.split(|x| x != c).map(str::len).max().unwrap_or(0)
}

/// How a table column is aligned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Align {
    #[default]
    Left,
    Center,
    Right,
}

/// A GitHub-flavoured Markdown table. Cells are inline Markdown (use [`escape`] for plain text);
/// a cell's unescaped `|` and its line breaks are escaped here, since either would break the
/// row. Rows shorter than the header are padded with empty cells, longer ones cut.
#[derive(Clone, Debug, Default)]
pub struct Table {
    header: Vec<String>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// Headers are plain text.
    pub fn new<S: AsRef<str>>(header: impl IntoIterator<Item = S>) -> Self {
        let header: Vec<String> = header.into_iter().map(|h| escape(h.as_ref())).collect();
        Table {
            align: vec![Align::Left; header.len()],
            header,
            rows: Vec::new(),
        }
    }

    pub fn align(mut self, column: usize, align: Align) -> Self {
        if let Some(slot) = self.align.get_mut(column) {
            *slot = align;
        }
        self
    }

    /// Adds a row of inline-Markdown cells.
    pub fn row<S: AsRef<str>>(mut self, cells: impl IntoIterator<Item = S>) -> Self {
        self.push(cells);
        self
    }

    pub fn push<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) {
        let mut row: Vec<String> = cells
            .into_iter()
            .take(self.header.len())
            .map(|c| table_cell(c.as_ref()))
            .collect();
        row.resize(self.header.len(), String::new());
        self.rows.push(row);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let line = |cells: &[String]| format!("| {} |", cells.join(" | "));
        out.push_str(&line(&self.header));
        let rule: Vec<String> = self
            .align
            .iter()
            .map(|a| match a {
                Align::Left => "---",
                Align::Center => ":---:",
                Align::Right => "---:",
            })
            .map(str::to_owned)
            .collect();
        let _ = write!(out, "\n{}", line(&rule));
        for row in &self.rows {
            let _ = write!(out, "\n{}", line(row));
        }
        out
    }
}

/// A cell's content: pipes not already escaped get a backslash (GFM honours it even inside a
/// code span), line breaks become `<br>`.
fn table_cell(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut backslashes = 0;
    let mut chars = markdown.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '|' if backslashes % 2 == 0 => out.push_str("\\|"),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => out.push_str("<br>"),
            c => out.push(c),
        }
        backslashes = if c == '\\' { backslashes + 1 } else { 0 };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_cannot_inject_markup() {
        assert_eq!(
            escape("**bold** [x](http://evil) <img src=x>\n# h"),
            r"\*\*bold\*\* \[x\]\(http\://evil\) \<img src\=x\> \# h"
        );
        assert_eq!(escape("a & b &lt;"), "a &amp; b &amp;lt;");
        assert_eq!(escape("cc @alice"), "cc @&#8203;alice");
    }

    #[test]
    fn headings_and_links() {
        assert_eq!(heading(3, "Tests: 2 failed"), r"### Tests\: 2 failed");
        assert_eq!(heading(9, "x"), "###### x");
        assert_eq!(
            link("preview", "https://x.example/a b(c)"),
            "[preview](https://x.example/a%20b%28c%29)"
        );
    }

    #[test]
    fn code_spans_outlast_the_backticks_inside() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a `b` c"), "``a `b` c``");
        assert_eq!(code("`x`"), "`` `x` ``");
    }

    #[test]
    fn code_blocks_pick_a_fence_longer_than_any_run_inside() {
        assert_eq!(code_block("rust", "fn x() {}\n"), "```rust\nfn x() {}\n```");
        let tricky = "````\nnot the end\n````";
        let block = code_block("md", tricky);
        assert!(block.starts_with("`````md\n"), "{block}");
        assert!(block.ends_with("\n`````"));
        assert_eq!(code_block("a`b\nc", "x"), "```abc\nx\n```");
    }

    #[test]
    fn details_escape_their_summary() {
        assert_eq!(
            details("<b>2</b> failed", "- one\n"),
            "<details><summary>&lt;b&gt;2&lt;/b&gt; failed</summary>\n\n- one\n\n</details>"
        );
    }

    #[test]
    fn tables_escape_pipes_and_line_breaks_once() {
        let table = Table::new(["Test", "Result"])
            .align(1, Align::Center)
            .row([escape("a|b"), code("x | y")])
            .row(["line one\nline two"])
            .render();
        assert_eq!(
            table,
            "| Test | Result |\n| --- | :---: |\n\
             | a\\|b | `x \\| y` |\n| line one<br>line two |  |"
        );
    }
}
