//! Splitting a Markdown body that is too long for one GitHub comment into parts that each
//! render on their own.
//!
//! A part ends at a line boundary, as late as fits. Whatever is open there is closed at the
//! end of the part and reopened at the start of the next: a code fence with the same delimiter
//! and info string, a `<details>` block as `<details><summary>… (continued)</summary>`, a table
//! by repeating its header rows. A line is cut only when it alone does not fit, and then on a
//! character boundary.
//!
//! Among the cuts that fit, one right after an opening line (a fence, a `<details>` or table
//! start, a heading) or one that leaves only invisible lines (blank lines, HTML comments such
//! as the sticky comment's markers) for a last part is avoided when another fits nearly as
//! well: parts should neither end on an empty block nor look empty.
//!
//! Sizes are counted in UTF-16 code units (see `units.rs`). If what has to be closed and
//! reopened leaves no room for even one character (a limit of a few dozen characters, or dozens
//! of nested `<details>`), that part goes out without the closing and reopening lines rather
//! than not at all: every part still fits and nothing is lost.

use std::ops::Range;

use super::blocks::OpenBlocks;
use super::units;

/// The smallest limit that always has room for one character (a surrogate pair counts 2).
const MIN_LIMIT: usize = 2;

/// One part of a split body: `head` (reopening lines), then `body[range]`, then `tail`
/// (closing lines). The ranges of consecutive pieces are contiguous and cover the body, so the
/// original is the concatenation of the ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    pub head: String,
    pub range: Range<usize>,
    pub tail: String,
}

impl Piece {
    pub fn render(&self, body: &str) -> String {
        let mut out = String::with_capacity(self.head.len() + self.range.len() + self.tail.len());
        out.push_str(&self.head);
        out.push_str(&body[self.range.clone()]);
        out.push_str(&self.tail);
        out
    }
}

/// `body` in parts of at most `limit` UTF-16 code units each (a `limit` below 2 counts as 2).
/// An empty body has no parts; a body that fits is one part, unchanged.
pub fn split(body: &str, limit: usize) -> Vec<String> {
    pieces(body, limit)
        .iter()
        .map(|piece| piece.render(body))
        .collect()
}

/// [`split`], keeping apart what was added and what came from `body`.
pub fn pieces(body: &str, limit: usize) -> Vec<Piece> {
    let text = Text {
        body,
        limit: limit.max(MIN_LIMIT),
        quiet_from: quiet_end(body),
    };
    let mut out = Vec::new();
    let mut at = Cursor::default();
    while at.pos < body.len() {
        let head = if out.is_empty() {
            String::new()
        } else {
            at.open.reopen()
        };
        let (piece, next) = text
            .whole_lines(&at, &head, true)
            .or_else(|| text.part_of_line(&at, &head))
            .or_else(|| text.whole_lines(&at, "", false))
            .unwrap_or_else(|| text.forced(&at));
        out.push(piece);
        at = next;
    }
    out
}

/// Where the next piece starts and what is open there.
#[derive(Clone, Debug, Default)]
struct Cursor {
    pos: usize,
    /// Start of the line `pos` is in; differs from `pos` after a line was cut.
    line_start: usize,
    /// Open in the original at `line_start`: a line changes what is open only once it has been
    /// passed whole. This is what the next part reopens.
    open: OpenBlocks,
}

/// A cut that fits: the room used up to it, where it is, what is open there, its tail.
type Cut = (usize, usize, OpenBlocks, String);

/// The body being split, and what every piece needs to know about it.
struct Text<'a> {
    body: &'a str,
    limit: usize,
    /// Where the body's trailing invisible lines start (its length if there are none).
    quiet_from: usize,
}

impl Text<'_> {
    /// The longest run of whole lines from `at` that fits with `head` and, when `balance`, the
    /// lines closing what is open after it; preferring a cut that is not after an opening line
    /// and does not leave only invisible lines behind.
    fn whole_lines(&self, at: &Cursor, head: &str, balance: bool) -> Option<(Piece, Cursor)> {
        let body = self.body;
        let mut used = units::len(head);
        let mut pos = at.pos;
        let mut line_start = at.line_start;
        let mut open = at.open.clone();
        let mut shown = shown_after(head);
        let mut good: Option<Cut> = None;
        let mut fallback: Option<Cut> = None;
        let mut latest = None;
        while pos < body.len() {
            let end = line_end(body, pos);
            let line_len = units::len(&body[pos..end]);
            if used + line_len > self.limit {
                if balance
                    && latest == Some(pos)
                    && let Some(filled) =
                        self.fill_with_oversized_line(at, head, pos, used, &open, &shown)
                {
                    return Some(filled);
                }
                break;
            }
            used += line_len;
            open.advance(&body[line_start..end]);
            shown.advance(&body[pos..end]);
            let at_end = end == body.len();
            let tail = if balance {
                tail_for(&shown, &open, at_end, !body[..end].ends_with('\n'))
            } else {
                String::new()
            };
            if used + units::len(&tail) <= self.limit {
                latest = Some(end);
                let awkward = shown.just_opened() || end >= self.quiet_from;
                let cut = Some((used, end, open.clone(), tail));
                if !balance || at_end || !awkward {
                    good = cut;
                } else {
                    fallback = cut;
                }
            }
            pos = end;
            line_start = end;
        }
        // Ending early wastes room: give up at most a quarter of a part for a better cut.
        let chosen = match (good, fallback) {
            (Some(g), Some(f)) if f.0 > g.0 + self.limit / 4 => Some(f),
            (Some(g), _) => Some(g),
            (None, f) => f,
        };
        let (_, end, open, tail) = chosen?;
        let piece = Piece {
            head: head.to_owned(),
            range: at.pos..end,
            tail,
        };
        let next = Cursor {
            pos: end,
            line_start: end,
            open,
        };
        Some((piece, next))
    }

    /// The piece ends with whole lines up to `pos`, and the line at `pos` does not fit. If that
    /// line could not fit in a fresh part either, it is cut anyway: cut it here and fill this
    /// part, rather than end it early (say, with a fence opened only to be closed).
    fn fill_with_oversized_line(
        &self,
        at: &Cursor,
        head: &str,
        pos: usize,
        used: usize,
        open: &OpenBlocks,
        shown: &OpenBlocks,
    ) -> Option<(Piece, Cursor)> {
        let line = line_text(self.body, pos);
        let fresh_part =
            units::len(&open.reopen()) + units::len(line) + 1 + units::len(&open.close());
        if fresh_part <= self.limit {
            return None;
        }
        let (taken, tail) = cut_line(line, shown, self.limit.checked_sub(used)?)?;
        let piece = Piece {
            head: head.to_owned(),
            range: at.pos..pos + taken,
            tail,
        };
        let next = Cursor {
            pos: pos + taken,
            line_start: pos,
            open: open.clone(),
        };
        Some((piece, next))
    }

    /// A line too long for the room left: as much of it as fits, closed and reopened like a
    /// cut at a line boundary (the cut becomes a line break in the rendering, which cannot be
    /// helped).
    fn part_of_line(&self, at: &Cursor, head: &str) -> Option<(Piece, Cursor)> {
        let room = self.limit.checked_sub(units::len(head))?;
        let (taken, tail) = cut_line(line_text(self.body, at.pos), &shown_after(head), room)?;
        let piece = Piece {
            head: head.to_owned(),
            range: at.pos..at.pos + taken,
            tail,
        };
        let next = Cursor {
            pos: at.pos + taken,
            ..at.clone()
        };
        Some((piece, next))
    }

    /// The last resort when closing and reopening leave no room at all: as many characters as
    /// fit, nothing added. Always makes progress: the limit has room for any one character.
    fn forced(&self, at: &Cursor) -> (Piece, Cursor) {
        let body = self.body;
        let end_of_line = line_end(body, at.pos);
        let mut taken = units::prefix(&body[at.pos..end_of_line], self.limit).len();
        if taken == 0 {
            taken = body[at.pos..].chars().next().map_or(0, char::len_utf8);
        }
        let end = at.pos + taken;
        let mut next = Cursor {
            pos: end,
            ..at.clone()
        };
        if end == end_of_line {
            next.open.advance(&body[at.line_start..end]);
            next.line_start = end;
        }
        let piece = Piece {
            head: String::new(),
            range: at.pos..end,
            tail: String::new(),
        };
        (piece, next)
    }
}

/// What a part renders as, line by line: its head, then its slice of the body, where the first
/// line may be the rest of a cut line. Tails close what *this* has open, which is what the
/// original has open except around a cut line (the prefix of a line that is not a fence can
/// look like one), so every part is balanced as shown.
fn shown_after(head: &str) -> OpenBlocks {
    let mut shown = OpenBlocks::default();
    for line in head.split_inclusive('\n') {
        shown.advance(line);
    }
    shown
}

/// The tail for a part that renders with `shown` open and ends where the original has `open`
/// open; `at_end` when that is the end of the body, which closes only what the rendering
/// opened beyond the original (the original's own end is left as it is).
fn tail_for(shown: &OpenBlocks, open: &OpenBlocks, at_end: bool, mid_line: bool) -> String {
    let closing = shown.close();
    if closing.is_empty() || (at_end && closing == open.close()) {
        return String::new();
    }
    if mid_line {
        format!("\n{closing}")
    } else {
        closing
    }
}

/// The longest non-empty prefix of `line` (its length in bytes) that fits in `room` together
/// with the tail closing what the part then shows open, and that tail. The prefix shown as a
/// line can open a block the whole line does not (a cut-off fence opener), so the tail is
/// computed from it, and the prefix shortened while the tail outgrows the room.
fn cut_line(line: &str, shown: &OpenBlocks, room: usize) -> Option<(usize, String)> {
    let mut budget = room;
    for _ in 0..4 {
        let taken = units::prefix(line, budget);
        if taken.is_empty() {
            return None;
        }
        let mut after = shown.clone();
        after.advance(taken);
        let tail = tail_for(&after, &OpenBlocks::default(), false, true);
        let needed = units::len(taken) + units::len(&tail);
        if needed <= room {
            return Some((taken.len(), tail));
        }
        budget = units::len(taken).checked_sub(needed - room)?;
    }
    None
}

/// The end of the line that `pos` is in: just after its `\n`, or the end of the body.
fn line_end(body: &str, pos: usize) -> usize {
    body[pos..].find('\n').map_or(body.len(), |i| pos + i + 1)
}

/// The text from `pos` to the end of its line, without the line break.
fn line_text(body: &str, pos: usize) -> &str {
    let line = &body[pos..line_end(body, pos)];
    line.strip_suffix('\n').unwrap_or(line)
}

/// Where the body's trailing run of lines that show nothing starts: blank lines, HTML comments
/// (the sticky comment's markers), and lines that only close a block (`</details>`, a fence).
/// A last part made of those alone would be an empty comment, or an empty reopened block.
fn quiet_end(body: &str) -> usize {
    let mut start = body.len();
    for line in body.split_inclusive('\n').rev() {
        let bare = line.trim();
        let closes_only = bare.eq_ignore_ascii_case("</details>")
            || (bare.len() >= 3
                && (bare.chars().all(|c| c == '`') || bare.chars().all(|c| c == '~')));
        let comment = bare.len() >= 7 && bare.starts_with("<!--") && bare.ends_with("-->");
        if !(bare.is_empty() || comment || closes_only) {
            break;
        }
        start -= line.len();
    }
    start
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fence(lines: usize, width: usize) -> String {
        let mut body = String::from("```text\n");
        for i in 0..lines {
            body.push_str(&format!("{i:0width$}\n"));
        }
        body.push_str("```\n");
        body
    }

    #[test]
    fn a_body_that_fits_is_one_unchanged_part() {
        assert_eq!(split("short\n", 100), vec!["short\n"]);
        assert!(split("", 100).is_empty());
    }

    #[test]
    fn parts_end_at_line_boundaries() {
        let parts = split("aaaa\nbbbb\ncccc\n", 11);
        assert_eq!(parts, vec!["aaaa\nbbbb\n", "cccc\n"]);
    }

    #[test]
    fn a_fence_is_closed_and_reopened_with_its_info_string() {
        let body = fence(10, 9);
        let parts = split(&body, 50);
        assert!(parts.len() > 1);
        assert!(parts[0].starts_with("```text\n") && parts[0].ends_with("\n```"));
        for part in &parts[1..] {
            assert!(part.starts_with("```text\n"), "{part:?}");
        }
        for part in &parts {
            let mut open = OpenBlocks::default();
            open.advance_all(part);
            assert!(open.nothing_to_close(), "{part:?}");
            assert!(units::len(part) <= 50);
        }
    }

    #[test]
    fn details_are_continued_in_the_next_part() {
        let body = format!(
            "<details><summary>Logs</summary>\n\n{}\n</details>\n",
            "line\n".repeat(20)
        );
        let parts = split(&body, 80);
        assert!(parts[0].ends_with("</details>"));
        assert!(parts[1].starts_with("<details><summary>Logs (continued)</summary>\n\n"));
    }

    #[test]
    fn a_table_continued_in_the_next_part_repeats_its_header() {
        let rows: String = (0..20).map(|i| format!("| test_{i:02} | ok |\n")).collect();
        let body = format!("| Test | Result |\n| --- | --- |\n{rows}");
        let parts = split(&body, 120);
        assert!(parts.len() > 1);
        for part in &parts {
            assert!(
                part.starts_with("| Test | Result |\n| --- | --- |\n| test_"),
                "{part:?}"
            );
        }
    }

    #[test]
    fn a_part_does_not_end_on_a_block_it_just_opened() {
        let intro = format!("{}\n", "i".repeat(99));
        let body = format!(
            "{intro}<details><summary>Log</summary>\n\n{}</details>\n",
            "a line of the log\n".repeat(10)
        );
        let parts = split(&body, 150);
        assert_eq!(parts[0], intro, "the details block starts in the next part");
        assert!(parts[1].starts_with("<details><summary>Log</summary>\n\na line"));
    }

    #[test]
    fn the_last_part_is_not_only_invisible_lines() {
        let body = format!("{}\n<!-- end -->\n", "word ".repeat(30));
        let parts = split(&body, 140);
        assert!(
            parts.last().is_some_and(|p| p.contains("word")),
            "{parts:?}"
        );
        let log = format!(
            "<details>\n\n```\n{}```\n</details>\n",
            "log line\n".repeat(12)
        );
        let parts = split(&log, 100);
        assert!(
            parts.last().is_some_and(|p| p.contains("log line")),
            "{parts:?}"
        );
    }

    #[test]
    fn a_line_longer_than_the_limit_is_cut_on_a_character_boundary() {
        let body = "é😀".repeat(50);
        let parts = split(&body, 7);
        assert!(parts.iter().all(|p| units::len(p) <= 7));
        assert_eq!(parts.concat(), body);
    }

    #[test]
    fn a_cut_inside_a_fence_breaks_the_line_and_keeps_the_fence() {
        let body = format!("```\n{}\n```\n", "x".repeat(100));
        let parts = split(&body, 40);
        assert!(parts[0].ends_with("x\n```"), "{:?}", parts[0]);
        assert!(parts[1].starts_with("```\nx"), "{:?}", parts[1]);
    }

    #[test]
    fn no_room_for_the_balancing_lines_still_makes_progress() {
        let body = format!("{}text\n", "<details>\n".repeat(10));
        let parts = split(&body, 12);
        assert!(parts.iter().all(|p| units::len(p) <= 12));
        let joined: String = pieces(&body, 12)
            .iter()
            .map(|p| &body[p.range.clone()])
            .collect();
        assert_eq!(joined, body);
    }
}
