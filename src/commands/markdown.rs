//! Just enough CommonMark to know which lines of a comment a reader sees as plain text.
//!
//! A command counts only if the person who wrote it would see it as a command: text that was
//! quoted, fenced, indented as code, put in a code span or hidden in an HTML comment was being
//! talked *about*, not run.
//!
//! Why not pulldown-cmark: its events describe inline content, not lines, so "does this line
//! start with visible text?" would mean mapping event offsets back through soft breaks,
//! container prefixes and extensions — about as much code as this, and GitHub renders with
//! cmark-gfm anyway, so neither answer is exact. This scanner is one pass over the lines plus
//! one over each paragraph (for code spans and comments), linear on any input, and
//! `tests/fuzz.rs` checks it against generated documents whose answer is known.
//!
//! Where the rules are unclear (a fence left open inside a quote, a fence deeply indented in
//! a nested list, an escaped `\<!--`) it leans towards *not* seeing a command: running
//! nothing is the safe mistake.

use std::borrow::Cow;

/// Calls `visit(line_number, text)` for every line that starts with visible plain text,
/// indented by at most three spaces. `text` is the line without its indentation or line
/// ending, with inline HTML comments cut out. Line numbers start at 1; `\n`, `\r\n` and a lone
/// `\r` all end a line.
pub(super) fn for_each_text_line(body: &str, mut visit: impl FnMut(usize, Cow<'_, str>)) {
    let mut blocks = Blocks::default();
    for line in lines(body) {
        if let Some(paragraph) = blocks.push(body, line) {
            paragraph.visit_text_lines(body, &mut visit);
        }
    }
    if let Some(paragraph) = blocks.paragraph.take() {
        paragraph.visit_text_lines(body, &mut visit);
    }
}

/// One line of the body, as byte offsets, without its line ending.
#[derive(Debug, Clone, Copy)]
struct Line {
    number: usize,
    start: usize,
    end: usize,
}

fn lines(body: &str) -> impl Iterator<Item = Line> + '_ {
    let bytes = body.as_bytes();
    let mut start = 0;
    let mut number = 0;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        number += 1;
        let offset = bytes[start..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r');
        let (end, next) = match offset {
            None => (bytes.len(), bytes.len()),
            Some(offset) => {
                let end = start + offset;
                let crlf = bytes[end] == b'\r' && bytes.get(end + 1) == Some(&b'\n');
                (end, end + if crlf { 2 } else { 1 })
            }
        };
        let line = Line { number, start, end };
        start = next;
        Some(line)
    })
}

/// Leading indentation as (columns, bytes); a tab advances to the next multiple of four.
fn indentation(line: &str) -> (usize, usize) {
    let mut columns = 0;
    for (i, b) in line.bytes().enumerate() {
        match b {
            b' ' => columns += 1,
            b'\t' => columns += 4 - columns % 4,
            _ => return (columns, i),
        }
    }
    (columns, line.len())
}

/// An open fenced code block: the fence character and how many of them opened it.
#[derive(Debug, Clone, Copy)]
struct Fence {
    marker: u8,
    length: usize,
}

impl Fence {
    /// A fence opener, given a line with its indentation (at most three spaces) removed.
    fn opens(content: &str) -> Option<Fence> {
        let marker = *content.as_bytes().first()?;
        if marker != b'`' && marker != b'~' {
            return None;
        }
        let length = content.bytes().take_while(|&b| b == marker).count();
        // A backtick fence's info string cannot contain backticks (it would be a code span).
        let info_ok = marker == b'~' || !content[length..].contains('`');
        (length >= 3 && info_ok).then_some(Fence { marker, length })
    }

    /// Whether `line` (with indentation) closes this fence.
    fn closed_by(self, line: &str) -> bool {
        let (columns, bytes) = indentation(line);
        let content = &line[bytes..];
        let run = content.bytes().take_while(|&b| b == self.marker).count();
        columns <= 3 && run >= self.length && content[run..].trim_matches([' ', '\t']).is_empty()
    }
}

/// HTML blocks whose content is hidden from the reader (comments) or shown as code (`<pre>`
/// and friends), with the text that ends them. Other HTML blocks (`<details>`) show their
/// text, so commands inside them count.
const HIDING_HTML_BLOCKS: &[(&str, &str)] = &[
    ("<!--", "-->"),
    ("<pre", "</pre>"),
    ("<script", "</script>"),
    ("<style", "</style>"),
    ("<textarea", "</textarea>"),
];

/// If `content` starts a hiding HTML block, the text that ends it.
fn hiding_html_block(content: &str) -> Option<&'static str> {
    HIDING_HTML_BLOCKS.iter().find_map(|&(start, end)| {
        let head = content.get(..start.len())?;
        let after = content[start.len()..].bytes().next();
        let boundary = start == "<!--" || matches!(after, None | Some(b' ' | b'\t' | b'>'));
        (head.eq_ignore_ascii_case(start) && boundary).then_some(end)
    })
}

/// `haystack` contains `needle` (ASCII, short), ignoring ASCII case.
fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

fn is_atx_heading(content: &str) -> bool {
    let hashes = content.bytes().take_while(|&b| b == b'#').count();
    (1..=6).contains(&hashes) && matches!(content.as_bytes().get(hashes), None | Some(b' ' | b'\t'))
}

fn is_thematic_break(content: &str) -> bool {
    let Some(marker) = content.bytes().next() else {
        return false;
    };
    matches!(marker, b'-' | b'*' | b'_')
        && content
            .bytes()
            .all(|b| b == marker || b == b' ' || b == b'\t')
        && content.bytes().filter(|&b| b == marker).count() >= 3
}

fn is_list_item(content: &str) -> bool {
    let bytes = content.as_bytes();
    let spaced = |i: usize| matches!(bytes.get(i), None | Some(b' ' | b'\t'));
    match bytes.first() {
        Some(b'-' | b'+' | b'*') => spaced(1),
        Some(b'0'..=b'9') => {
            let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            digits <= 9 && matches!(bytes.get(digits), Some(b'.' | b')')) && spaced(digits + 1)
        }
        _ => false,
    }
}

/// `content` without any leading list markers (`- `, `1. `, `* - `).
fn after_list_markers(content: &str) -> &str {
    let mut rest = content;
    while is_list_item(rest) && !is_thematic_break(rest) {
        let marker = rest.find([' ', '\t']).unwrap_or(rest.len());
        rest = rest[marker..].trim_start_matches([' ', '\t']);
    }
    rest
}

/// Whether a block-quote line leaves a paragraph open inside the quote, so that the next line
/// without `>` continues it lazily (and is quoted too, as GitHub renders it).
fn quote_leaves_paragraph_open(content: &str, was_open: bool) -> bool {
    let mut inner = content;
    loop {
        let (columns, bytes) = indentation(inner);
        let rest = &inner[bytes..];
        if columns <= 3
            && let Some(after) = rest.strip_prefix('>')
        {
            inner = after.strip_prefix([' ', '\t']).unwrap_or(after);
            continue;
        }
        if rest.is_empty() {
            return false;
        }
        if columns >= 4 {
            // Indented code, unless it continues a paragraph already open.
            return was_open;
        }
        return !(Fence::opens(rest).is_some()
            || hiding_html_block(rest).is_some()
            || is_atx_heading(rest)
            || is_thematic_break(rest));
    }
}

/// The block-level state between lines.
#[derive(Debug, Default)]
struct Blocks {
    fence: Option<Fence>,
    /// Inside a hiding HTML block; the text that ends it.
    html_block: Option<&'static str>,
    /// The last quote line left a paragraph open (lazy continuation applies).
    quote_paragraph: bool,
    paragraph: Option<Paragraph>,
}

impl Blocks {
    /// Takes the next line; returns a paragraph when this line ended one.
    fn push(&mut self, body: &str, line: Line) -> Option<Paragraph> {
        let text = &body[line.start..line.end];
        if let Some(fence) = self.fence {
            if fence.closed_by(text) {
                self.fence = None;
            }
            return None;
        }
        if let Some(end) = self.html_block {
            if contains_ignore_case(text, end) {
                self.html_block = None;
            }
            return None;
        }
        let (columns, bytes) = indentation(text);
        let content = &text[bytes..];
        if content.is_empty() {
            self.quote_paragraph = false;
            return self.paragraph.take();
        }
        if columns >= 4 {
            // A paragraph continuation (never a command: too indented) or indented code.
            if let Some(paragraph) = &mut self.paragraph {
                paragraph.push(line);
            }
            return None;
        }
        // A quote, fence or HTML block may also open right after list markers (`- > …`,
        // `1. ````); its content lines are then indented under the item.
        let opener = after_list_markers(content);
        if opener.starts_with('>') {
            self.quote_paragraph = quote_leaves_paragraph_open(opener, self.quote_paragraph);
            return self.paragraph.take();
        }
        if let Some(fence) = Fence::opens(opener) {
            self.quote_paragraph = false;
            self.fence = Some(fence);
            return self.paragraph.take();
        }
        if let Some(end) = hiding_html_block(opener) {
            self.quote_paragraph = false;
            // The end marker may sit on the opening line (`<!-- note -->`); for comments it may
            // overlap the opener (`<!-->`), so look from the third byte.
            let from = if end == "-->" { 2 } else { 0 };
            if !contains_ignore_case(&opener[from..], end) {
                self.html_block = Some(end);
            }
            return self.paragraph.take();
        }
        let single_line_block = is_atx_heading(content) || is_thematic_break(content);
        let list_item = !single_line_block && is_list_item(content);
        if self.quote_paragraph {
            if !(single_line_block || list_item) {
                return None; // lazy continuation of the quoted paragraph: quoted text
            }
            self.quote_paragraph = false;
        }
        if single_line_block {
            // Headings and breaks never start with a command; they end the paragraph.
            return self.paragraph.take();
        }
        match &mut self.paragraph {
            Some(paragraph) if !list_item => {
                paragraph.push(line);
                None
            }
            _ => self.paragraph.replace(Paragraph::new(line)),
        }
    }
}

/// Consecutive lines sharing one inline context (code spans and comments can cross lines
/// inside a paragraph, never out of it).
#[derive(Debug)]
struct Paragraph {
    lines: Vec<Line>,
}

impl Paragraph {
    fn new(line: Line) -> Self {
        Paragraph { lines: vec![line] }
    }

    fn push(&mut self, line: Line) {
        self.lines.push(line);
    }

    fn visit_text_lines(&self, body: &str, visit: &mut impl FnMut(usize, Cow<'_, str>)) {
        visit_segment(body, &self.lines, visit);
    }
}

fn visit_segment(body: &str, lines: &[Line], visit: &mut impl FnMut(usize, Cow<'_, str>)) {
    let (Some(first), Some(last)) = (lines.first(), lines.last()) else {
        return;
    };
    let base = first.start;
    let hidden = hidden_spans(&body[base..last.end]);
    let mut next = 0;
    for line in lines {
        let text = &body[line.start..line.end];
        let (columns, bytes) = indentation(text);
        if columns >= 4 {
            continue;
        }
        let start = line.start + bytes - base;
        let end = line.end - base;
        while hidden.get(next).is_some_and(|span| span.end <= start) {
            next += 1;
        }
        if hidden.get(next).is_some_and(|span| span.start <= start) {
            continue; // the line starts inside a code span or a comment
        }
        let comments = hidden[next..]
            .iter()
            .take_while(|span| span.start < end)
            .filter(|span| span.kind == SpanKind::Comment);
        let mut visible: Option<String> = None;
        let mut kept_from = start;
        for span in comments {
            let owned = visible.get_or_insert_with(String::new);
            owned.push_str(&body[base + kept_from..base + span.start]);
            kept_from = span.end.min(end);
        }
        match visible {
            None => visit(line.number, Cow::Borrowed(&text[bytes..])),
            Some(mut owned) => {
                owned.push_str(&body[base + kept_from..base + end]);
                visit(line.number, Cow::Owned(owned));
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SpanKind {
    Code,
    Comment,
}

/// A hidden byte range of a paragraph, in order, never overlapping.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    kind: SpanKind,
}

/// Code spans and HTML comments of one paragraph, left to right as CommonMark resolves them.
///
/// Linear time: every backtick run, comment opener and comment closer is located once up
/// front, and the scan only moves forward through those lists. (A naive "look for the closing
/// run" from every opener is quadratic on a line of unmatched backticks.)
///
/// A backslash escapes the first backtick of an opening run (`\``x`` opens with one
/// backtick); inside a span backslashes are literal, so closing runs are never escaped.
/// Escaped HTML comment openers (`\<!--`) are still treated as comments: hiding a command is
/// the safe mistake.
fn hidden_spans(text: &str) -> Vec<Span> {
    let bytes = text.as_bytes();
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            let length = bytes[i..].iter().take_while(|&&b| b == b'`').count();
            let backslashes = bytes[..i].iter().rev().take_while(|&&b| b == b'\\').count();
            if backslashes % 2 == 1 {
                // The escaped backtick is text; the rest of the run may still open a span.
                runs.push((i + 1, length - 1));
            } else {
                runs.push((i, length));
            }
            i += length;
        } else {
            i += 1;
        }
    }
    // The next run of the same length, which closes a code span opened by this run. (An
    // escaped run was recorded without its first backtick, which is right for opening and,
    // since closers are never escaped, wrong for closing: closers use the full length.)
    let mut closer = vec![None; runs.len()];
    let mut last_of_length = std::collections::HashMap::new();
    for (index, &(start, length)) in runs.iter().enumerate().rev() {
        let escaped = start > 0 && bytes[start - 1] == b'`';
        let full_length = length + usize::from(escaped);
        closer[index] = last_of_length.get(&length).copied();
        last_of_length.insert(full_length, index);
    }
    let find_all = |needle: &[u8]| -> Vec<usize> {
        bytes
            .windows(needle.len())
            .enumerate()
            .filter(|(_, window)| *window == needle)
            .map(|(at, _)| at)
            .collect()
    };
    let openers = find_all(b"<!--");
    let closers = find_all(b"-->");

    let mut spans = Vec::new();
    let (mut run, mut opener, mut close) = (0, 0, 0);
    let mut position = 0;
    loop {
        // `<=`, not `<`: an escaped single backtick leaves an empty run, which opens nothing.
        while runs
            .get(run)
            .is_some_and(|&(start, length)| start + length <= position)
        {
            run += 1;
        }
        while openers.get(opener).is_some_and(|&at| at < position) {
            opener += 1;
        }
        let next_run = runs.get(run).copied();
        let next_opener = openers.get(opener).copied();
        match (next_run, next_opener) {
            (Some((start, length)), at) if at.is_none_or(|at| start < at) => match closer[run] {
                Some(end_run) => {
                    let (end_start, end_length) = runs[end_run];
                    let end = end_start + end_length;
                    spans.push(Span {
                        start,
                        end,
                        kind: SpanKind::Code,
                    });
                    position = end;
                }
                None => position = start + length,
            },
            (_, Some(at)) => {
                // `<!-->` and `<!--->` are complete comments, so the closer may start at +2.
                while closers.get(close).is_some_and(|&c| c < at + 2) {
                    close += 1;
                }
                match closers.get(close) {
                    Some(&c) => {
                        spans.push(Span {
                            start: at,
                            end: c + 3,
                            kind: SpanKind::Comment,
                        });
                        position = c + 3;
                    }
                    None => position = at + 4,
                }
            }
            _ => break,
        }
    }
    spans
}
