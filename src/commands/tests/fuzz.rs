//! Property tests over hostile and generated comments: the extractor never panics, never
//! returns more than [`MAX_COMMANDS`], and never takes a command a reader would see quoted,
//! fenced, indented, commented out or in a code span.
//!
//! Time is bounded by construction (the scanner is linear; see `markdown.rs`), and the
//! pathological inputs below are the ones a quadratic scanner would choke on. Nothing here
//! measures wall time (DESIGN.md: tests never assert on it).

use proptest::prelude::*;

use crate::commands::{Extracted, MAX_COMMANDS, MAX_NAME_LEN, extract, parse_command};

const SLUG: &str = "gitferry-test";

/// Command lines and the name each must extract as.
const COMMANDS: &[(&str, &str)] = &[
    ("/preview", "preview"),
    ("/queue p=3", "queue"),
    ("@gitferry-test retest unit", "retest"),
    ("  /drift", "drift"),
    ("/PROMOTE production", "promote"),
    ("@GitFerry-Test[bot] /help", "help"),
    ("/prevew destroy", "prevew"),
    ("/queue freeze deploy window", "queue"),
];

#[derive(Debug, Clone)]
enum Inner {
    Command(usize),
    Text(String),
}

impl Inner {
    fn text(&self) -> String {
        match self {
            Inner::Command(i) => COMMANDS[*i].0.to_owned(),
            Inner::Text(text) => text.clone(),
        }
    }
}

/// A top-level block; blocks are separated by blank lines, so each stands on its own.
#[derive(Debug, Clone)]
enum Block {
    Command(usize),
    Text(String),
    Quote {
        depth: usize,
        lines: Vec<Inner>,
    },
    Fence {
        marker: char,
        length: usize,
        info: String,
        lines: Vec<Inner>,
    },
    Indented {
        tab: bool,
        lines: Vec<Inner>,
    },
    Comment(Vec<Inner>),
    /// A code span opened on a text line and closed after a command line.
    CodeSpan {
        ticks: usize,
        text: String,
        command: usize,
    },
    /// An inline HTML comment opened on a text line and closed after a command line.
    InlineComment {
        text: String,
        command: usize,
    },
    /// A command line continuing a paragraph: still a command.
    Paragraph {
        text: String,
        command: usize,
    },
    /// A command line right after a quote continues it lazily: quoted.
    LazyQuote {
        text: String,
        command: usize,
    },
}

fn text() -> impl Strategy<Value = String> {
    "[a-z][a-z .,!?]{0,30}"
}

fn inner() -> impl Strategy<Value = Inner> {
    prop_oneof![
        (0..COMMANDS.len()).prop_map(Inner::Command),
        text().prop_map(Inner::Text),
    ]
}

fn block() -> impl Strategy<Value = Block> {
    let lines = || prop::collection::vec(inner(), 1..5);
    prop_oneof![
        3 => (0..COMMANDS.len()).prop_map(Block::Command),
        2 => text().prop_map(Block::Text),
        2 => (1..4usize, lines()).prop_map(|(depth, lines)| Block::Quote { depth, lines }),
        2 => (prop_oneof![Just('`'), Just('~')], 3..6usize, "[a-z]{0,6}", lines())
            .prop_map(|(marker, length, info, lines)| Block::Fence { marker, length, info, lines }),
        1 => (any::<bool>(), lines()).prop_map(|(tab, lines)| Block::Indented { tab, lines }),
        1 => lines().prop_map(Block::Comment),
        1 => (1..4usize, text(), 0..COMMANDS.len())
            .prop_map(|(ticks, text, command)| Block::CodeSpan { ticks, text, command }),
        1 => (text(), 0..COMMANDS.len())
            .prop_map(|(text, command)| Block::InlineComment { text, command }),
        1 => (text(), 0..COMMANDS.len()).prop_map(|(text, command)| Block::Paragraph { text, command }),
        1 => (text(), 0..COMMANDS.len()).prop_map(|(text, command)| Block::LazyQuote { text, command }),
    ]
}

/// Renders blocks as a comment, leaving the last fence or comment unclosed if asked, and
/// returns the commands a reader sees: (line, name).
fn render(blocks: &[Block], unclosed_last: bool, eol: &str) -> (String, Vec<(usize, String)>) {
    let mut lines: Vec<String> = Vec::new();
    let mut visible = Vec::new();
    for (index, block) in blocks.iter().enumerate() {
        let close = !(unclosed_last && index + 1 == blocks.len());
        if index > 0 {
            lines.push(String::new());
        }
        match block {
            Block::Command(i) => {
                lines.push(COMMANDS[*i].0.to_owned());
                visible.push((lines.len(), COMMANDS[*i].1.to_owned()));
            }
            Block::Text(text) => lines.push(text.clone()),
            Block::Quote {
                depth,
                lines: inner,
            } => {
                for line in inner {
                    lines.push(format!("{} {}", ">".repeat(*depth), line.text()));
                }
            }
            Block::Fence {
                marker,
                length,
                info,
                lines: inner,
            } => {
                let fence = marker.to_string().repeat(*length);
                lines.push(format!("{fence}{info}"));
                lines.push(marker.to_string().repeat(length - 1)); // too short to close
                lines.extend(inner.iter().map(Inner::text));
                if close {
                    lines.push(fence);
                }
            }
            Block::Indented { tab, lines: inner } => {
                let indent = if *tab { "\t" } else { "    " };
                lines.extend(inner.iter().map(|line| format!("{indent}{}", line.text())));
            }
            Block::Comment(inner) => {
                lines.push("<!--".to_owned());
                lines.extend(inner.iter().map(Inner::text));
                if close {
                    lines.push("-->".to_owned());
                }
            }
            Block::CodeSpan {
                ticks,
                text,
                command,
            } => {
                let ticks = "`".repeat(*ticks);
                lines.push(format!("{text} {ticks}"));
                lines.push(COMMANDS[*command].0.to_owned());
                lines.push(format!("it{ticks} runs")); // a line starting with ``` would be a fence
            }
            Block::InlineComment { text, command } => {
                lines.push(format!("{text} <!--"));
                lines.push(COMMANDS[*command].0.to_owned());
                lines.push(format!("--> {text}"));
            }
            Block::Paragraph { text, command } => {
                lines.push(text.clone());
                lines.push(COMMANDS[*command].0.to_owned());
                visible.push((lines.len(), COMMANDS[*command].1.to_owned()));
            }
            Block::LazyQuote { text, command } => {
                lines.push(format!("> {text}"));
                lines.push(COMMANDS[*command].0.to_owned());
            }
        }
    }
    (lines.join(eol), visible)
}

fn summary(extracted: &Extracted) -> Vec<(usize, String)> {
    extracted
        .commands
        .iter()
        .map(|c| (c.line, c.name.clone()))
        .collect()
}

/// Fragments that exercise every construct the scanner knows.
const FRAGMENTS: &[&str] = &[
    "\n",
    "\r\n",
    "\r",
    " ",
    "    ",
    "\t",
    "`",
    "\\",
    "``",
    "```",
    "~~~",
    ">",
    "> ",
    "<!--",
    "-->",
    "<pre>",
    "</pre>",
    "# ",
    "- ",
    "1. ",
    "---",
    "/",
    "/preview",
    "/queue p=3",
    "@gitferry-test ",
    "[bot]",
    "retest",
    "é",
    "\u{1F680}",
    "x",
];

/// The fragments in any order. (`select`, not a 29-arm `prop_oneof!`: the union is two
/// orders of magnitude slower to generate in a debug build.)
fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..400).prop_map(|parts| parts.concat())
}

/// Invariants of any extraction, whatever the input.
fn check_invariants(body: &str, extracted: &Extracted) -> Result<(), TestCaseError> {
    prop_assert!(extracted.commands.len() <= MAX_COMMANDS);
    if extracted.dropped > 0 {
        prop_assert_eq!(extracted.commands.len(), MAX_COMMANDS);
    }
    let line_count = body.split(['\n', '\r']).count();
    let mut previous = 0;
    for command in &extracted.commands {
        prop_assert!(command.line > previous && command.line <= line_count);
        previous = command.line;
        prop_assert!(!command.name.is_empty() && command.name.len() <= MAX_NAME_LEN);
        prop_assert!(command.name.starts_with(|c: char| c.is_ascii_lowercase()));
        prop_assert!(
            command
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
        // Parsing never panics either.
        let _ = parse_command(command);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_break_the_extractor(body in any::<String>(), prefix in "[/!]?") {
        let extracted = extract(&body, SLUG, &prefix);
        check_invariants(&body, &extracted)?;
    }

    #[test]
    fn markdown_soup_never_breaks_the_extractor(body in soup()) {
        let extracted = extract(&body, SLUG, "/");
        check_invariants(&body, &extracted)?;
    }

    #[test]
    fn exactly_the_commands_a_reader_sees_are_extracted(
        blocks in prop::collection::vec(block(), 0..30),
        unclosed_last in any::<bool>(),
    ) {
        let (body, visible) = render(&blocks, unclosed_last, "\n");
        let extracted = extract(&body, SLUG, "/");
        check_invariants(&body, &extracted)?;
        let kept: Vec<_> = visible.iter().take(MAX_COMMANDS).cloned().collect();
        prop_assert_eq!(summary(&extracted), kept, "body:\n{}", body);
        prop_assert_eq!(extracted.dropped, visible.len().saturating_sub(MAX_COMMANDS));

        let (crlf, _) = render(&blocks, unclosed_last, "\r\n");
        prop_assert_eq!(extract(&crlf, SLUG, "/"), extracted);
    }
}

/// Inputs that are quadratic for a scanner which searches for a closer from every opener.
#[test]
fn pathological_inputs_finish() {
    let n = 65_536;
    let growing_backtick_runs: String = (1..)
        .map(|k| format!("{} ", "`".repeat(k)))
        .scan(0, |len, s| {
            *len += s.len();
            (*len < n).then_some(s)
        })
        .collect();
    let inputs = [
        "` ".repeat(n / 2),
        growing_backtick_runs,
        "<!-- ".repeat(n / 5),
        "-->".repeat(n / 3),
        ">".repeat(n),
        "> ".repeat(n / 2) + "/preview",
        "```\n".repeat(n / 4),
        "/preview\n".repeat(n / 9),
        "a\n".repeat(n / 2) + "`",
        "/".repeat(n),
        "@gitferry-test ".repeat(n / 15),
    ];
    for body in &inputs {
        let extracted = extract(body, SLUG, "/");
        assert!(extracted.commands.len() <= MAX_COMMANDS);
    }
}
