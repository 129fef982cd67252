//! The sticky comment: one comment per PR (several when it is long) holding every feature's
//! section, in a fixed order, edited in place.
//!
//! The comment is its own state. Each part starts with a hidden marker line,
//! `<!-- gitferry:sticky pr=12 part=0 -->`, by which the App finds its parts again; each section
//! sits between `<!-- gitferry:section=tests -->` and `<!-- /gitferry:section -->`, so a feature
//! can read the comment back ([`StickyComment::parse`]), replace its own section and leave the
//! others as they were. When a part had lines added to close and reopen a fence or `<details>`
//! block across the cut (see `split.rs`), its marker records their sizes (`head=`, `tail=`,
//! in bytes) so parsing removes exactly those and gets the original text back.

use std::collections::BTreeMap;
use std::fmt;

use super::blocks::OpenBlocks;
use super::split::pieces;
use super::units;

/// GitHub's limit for one comment body (see `units.rs` for how it is counted).
pub const COMMENT_LIMIT: usize = 65_536;

/// A section longer than this is cut, with a note. It bounds the number of comments one PR can
/// get (five sections of at most ~3 comments each), whatever a feature renders; features are
/// expected to keep long output short themselves (a log's tail under `<details>`).
pub const MAX_SECTION_LEN: usize = 200_000;

const PART_MARKER: &str = "<!-- gitferry:sticky ";
const SECTION_START: &str = "<!-- gitferry:section=";
const SECTION_END: &str = "<!-- /gitferry:section -->";

/// The sections of the sticky comment, in the order they are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    Preview,
    Tests,
    Drift,
    Queue,
    Promotion,
    /// Where a merged pull request's change is: which environments run it since when.
    Releases,
}

impl Section {
    pub const ALL: [Section; 6] = [
        Section::Preview,
        Section::Tests,
        Section::Drift,
        Section::Queue,
        Section::Promotion,
        Section::Releases,
    ];

    /// The name used in the section's marker.
    pub fn as_str(self) -> &'static str {
        match self {
            Section::Preview => "preview",
            Section::Tests => "tests",
            Section::Drift => "drift",
            Section::Queue => "queue",
            Section::Promotion => "promotion",
            Section::Releases => "releases",
        }
    }

    pub fn from_name(name: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.as_str() == name)
    }

    fn start_marker(self) -> String {
        format!("{SECTION_START}{} -->", self.as_str())
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the sticky comment of one PR says: Markdown per section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StickyComment {
    sections: BTreeMap<Section, String>,
}

impl StickyComment {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a section's Markdown; empty (or blank) Markdown removes the section. The Markdown
    /// is normalised so the comment can be parsed back: line endings as `\n`, trailing blanks
    /// trimmed, fences and `<details>` left open are closed, lines that look like gitferry's
    /// markers are defused, and a section longer than [`MAX_SECTION_LEN`] is cut with a note.
    pub fn set(&mut self, section: Section, markdown: impl AsRef<str>) -> &mut Self {
        let markdown = normalise(markdown.as_ref());
        if markdown.trim().is_empty() {
            self.sections.remove(&section);
        } else {
            self.sections.insert(section, markdown);
        }
        self
    }

    /// [`StickyComment::set`], by value.
    pub fn with(mut self, section: Section, markdown: impl AsRef<str>) -> Self {
        self.set(section, markdown);
        self
    }

    pub fn remove(&mut self, section: Section) -> &mut Self {
        self.sections.remove(&section);
        self
    }

    pub fn get(&self, section: Section) -> Option<&str> {
        self.sections.get(&section).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.sections.is_empty()
    }

    /// The whole comment as one text, sections in order, without part markers.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (section, markdown) in &self.sections {
            out.push_str(&section.start_marker());
            out.push('\n');
            out.push_str(markdown);
            out.push_str("\n\n");
            out.push_str(SECTION_END);
            out.push('\n');
        }
        out
    }

    /// The comment bodies to post on `pr`, in order, each within [`COMMENT_LIMIT`] with its
    /// marker line. No sections, no bodies.
    pub fn render_parts(&self, pr: u64) -> Vec<String> {
        self.render_parts_within(pr, COMMENT_LIMIT)
    }

    /// [`StickyComment::render_parts`] with a smaller limit, so tests can show splitting on
    /// comments a person can read.
    pub(crate) fn render_parts_within(&self, pr: u64, limit: usize) -> Vec<String> {
        let content = self.render();
        let widest = PartMarker {
            pr,
            part: u32::MAX as usize,
            head: limit,
            tail: limit,
        };
        let room = limit.saturating_sub(units::len(&widest.to_string()) + 1);
        pieces(&content, room)
            .iter()
            .enumerate()
            .map(|(part, piece)| {
                let marker = PartMarker {
                    pr,
                    part,
                    head: piece.head.len(),
                    tail: piece.tail.len(),
                };
                format!("{marker}\n{}", piece.render(&content))
            })
            .collect()
    }

    /// Reads the comment back from the bodies of its parts, in order (see
    /// `sticky_sync::sticky_parts` for choosing them). Bodies without a part marker are skipped;
    /// an unknown section or a missing end marker loses nothing but that section.
    pub fn parse<S: AsRef<str>>(parts: &[S]) -> StickyComment {
        let mut content = String::new();
        for body in parts {
            let body = body.as_ref().replace("\r\n", "\n");
            let (first, rest) = body.split_once('\n').unwrap_or((body.as_str(), ""));
            if let Some(marker) = PartMarker::parse(first) {
                content.push_str(marker.original(rest));
            }
        }
        sections_of(&content)
    }
}

/// Splits rendered content into sections by their markers, counting only markers outside every
/// fence and `<details>` block.
fn sections_of(content: &str) -> StickyComment {
    let mut comment = StickyComment::new();
    let mut open = OpenBlocks::default();
    let mut current: Option<(Option<Section>, usize)> = None;
    let mut pos = 0;
    for line in content.split_inclusive('\n') {
        let trimmed = line.trim_end();
        if open.nothing_to_close() {
            if let Some(name) = trimmed
                .strip_prefix(SECTION_START)
                .and_then(|rest| rest.strip_suffix(" -->"))
            {
                if let Some((Some(section), start)) = current {
                    comment.set(section, &content[start..pos]);
                }
                current = Some((Section::from_name(name), pos + line.len()));
            } else if trimmed == SECTION_END
                && let Some((section, start)) = current.take()
                && let Some(section) = section
            {
                comment.set(section, &content[start..pos]);
            }
        }
        open.advance(line);
        pos += line.len();
    }
    if let Some((Some(section), start)) = current {
        comment.set(section, &content[start..]);
    }
    comment
}

fn normalise(markdown: &str) -> String {
    let markdown = markdown.replace("\r\n", "\n");
    let mut out = String::with_capacity(markdown.len());
    let mut open = OpenBlocks::default();
    for line in markdown.trim_end().split_inclusive('\n') {
        let bare = line.trim_start();
        if !open.in_fence()
            && (bare.starts_with("<!-- gitferry:") || bare.starts_with("<!-- /gitferry:"))
        {
            out.push_str(&line.replacen('<', "&lt;", 1));
        } else {
            out.push_str(line);
        }
        open.advance(line);
    }
    if !open.nothing_to_close() {
        out.push('\n');
        out.push_str(&open.close());
    }
    cap(out)
}

/// A section over [`MAX_SECTION_LEN`], cut where `split` would cut it (so fences and
/// `<details>` stay balanced), and a note saying how much was left out.
fn cap(markdown: String) -> String {
    let total = units::len(&markdown);
    if total <= MAX_SECTION_LEN {
        return markdown;
    }
    let note_room = 100;
    let Some(first) = pieces(&markdown, MAX_SECTION_LEN - note_room)
        .into_iter()
        .next()
    else {
        return markdown;
    };
    let left_out = total - units::len(&markdown[first.range.clone()]);
    format!(
        "{}\n\n_… {left_out} more characters not shown._",
        first.render(&markdown).trim_end()
    )
}

/// The first line of every part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartMarker {
    pub pr: u64,
    pub part: usize,
    /// Bytes added at the start of the part to reopen blocks cut at the end of the previous one.
    pub head: usize,
    /// Bytes added at the end of the part to close blocks cut there.
    pub tail: usize,
}

impl PartMarker {
    /// Reads a marker line: `<!-- gitferry:sticky pr=12 part=0 -->` with optional `head=`
    /// and `tail=`.
    pub fn parse(line: &str) -> Option<PartMarker> {
        let fields = line.trim().strip_prefix(PART_MARKER)?.strip_suffix("-->")?;
        let (mut pr, mut part, mut head, mut tail) = (None, None, 0, 0);
        for field in fields.split_whitespace() {
            let (key, value) = field.split_once('=')?;
            match key {
                "pr" => pr = Some(value.parse().ok()?),
                "part" => part = Some(value.parse().ok()?),
                "head" => head = value.parse().ok()?,
                "tail" => tail = value.parse().ok()?,
                _ => {}
            }
        }
        Some(PartMarker {
            pr: pr?,
            part: part?,
            head,
            tail,
        })
    }

    /// Whether `body` starts with a sticky part marker.
    pub fn is_on(body: &str) -> bool {
        body.lines().next().and_then(PartMarker::parse).is_some()
    }

    /// The original text of a part (everything after the marker line), without the lines the
    /// split added. Sizes that do not fit the text (someone edited it) remove nothing.
    fn original<'a>(&self, rest: &'a str) -> &'a str {
        let end = rest.len().checked_sub(self.tail);
        match end {
            Some(end)
                if self.head <= end
                    && rest.is_char_boundary(self.head)
                    && rest.is_char_boundary(end) =>
            {
                &rest[self.head..end]
            }
            _ => rest,
        }
    }
}

impl fmt::Display for PartMarker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PART_MARKER}pr={} part={}", self.pr, self.part)?;
        if self.head > 0 {
            write!(f, " head={}", self.head)?;
        }
        if self.tail > 0 {
            write!(f, " tail={}", self.tail)?;
        }
        f.write_str(" -->")
    }
}
