//! Property tests of `split`: whatever the body, parts fit and nothing is lost; for Markdown
//! made of fences and `<details>` blocks, every part is balanced and cuts fall between lines.

use proptest::prelude::*;

use super::blocks::OpenBlocks;
use super::split::{Piece, pieces, split};
use super::units;

/// A block of a generated document.
#[derive(Clone, Debug)]
enum Block {
    Text(Vec<String>),
    Fence {
        marker: char,
        len: usize,
        info: String,
        lines: Vec<String>,
    },
    Details {
        summary: String,
        blocks: Vec<Block>,
    },
    Table {
        columns: usize,
        rows: Vec<String>,
    },
}

fn render(blocks: &[Block], out: &mut String) {
    for block in blocks {
        match block {
            Block::Text(lines) => {
                for line in lines {
                    out.push_str(line);
                    out.push('\n');
                }
            }
            Block::Fence {
                marker,
                len,
                info,
                lines,
            } => {
                let delimiter = marker.to_string().repeat(*len);
                out.push_str(&format!("{delimiter}{info}\n"));
                for line in lines {
                    out.push_str(line);
                    out.push('\n');
                }
                out.push_str(&format!("{delimiter}\n"));
            }
            Block::Table { columns, rows } => {
                out.push_str(&format!("|{}\n", " Head |".repeat(*columns)));
                out.push_str(&format!("|{}\n", " --- |".repeat(*columns)));
                for row in rows {
                    out.push_str(&format!("|{}\n", format!(" {row} |").repeat(*columns)));
                }
                out.push('\n');
            }
            Block::Details { summary, blocks } => {
                out.push_str(&format!("<details><summary>{summary}</summary>\n\n"));
                render(blocks, out);
                out.push_str("</details>\n");
            }
        }
    }
}

/// Prose: words, emoji, pipes and backticks, and prose that mentions tags.
fn prose(max_len: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::string::string_regex(&format!("[a-zé😀 |*`]{{0,{max_len}}}")).expect("regex"),
        1 => Just("Use `<details>` here".to_owned()),
        1 => Just(String::new()),
    ]
}

/// Lines inside a fence, including ones that look like markup or like a shorter fence.
fn code_line(max_len: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        6 => proptest::string::string_regex(&format!("[a-z0-9 {{}}();😀]{{0,{max_len}}}")).expect("regex"),
        1 => Just("<details>".to_owned()),
        1 => Just("</details>".to_owned()),
        1 => Just("``".to_owned()),
        1 => Just("~~~ not a closer for backticks".to_owned()),
    ]
}

pub(super) fn document(max_line: usize) -> impl Strategy<Value = String> {
    let text = prop::collection::vec(prose(max_line), 1..8).prop_map(Block::Text);
    let fence = (
        prop_oneof![Just('`'), Just('~')],
        3usize..6,
        "[a-z]{0,6}",
        prop::collection::vec(code_line(max_line), 0..30),
    )
        .prop_map(|(marker, len, info, lines)| Block::Fence {
            marker,
            len,
            info,
            lines,
        });
    let table = (1usize..4, prop::collection::vec("[a-z`😀]{0,12}", 0..20))
        .prop_map(|(columns, rows)| Block::Table { columns, rows });
    let leaf = prop_oneof![text, fence, table];
    let block = leaf.prop_recursive(3, 24, 4, |inner| {
        ("[A-Za-z ]{0,20}", prop::collection::vec(inner, 0..4))
            .prop_map(|(summary, blocks)| Block::Details { summary, blocks })
    });
    prop::collection::vec(block, 1..6).prop_map(|blocks| {
        let mut out = String::new();
        render(&blocks, &mut out);
        out
    })
}

fn balanced(text: &str) -> bool {
    let mut open = OpenBlocks::default();
    open.advance_all(text);
    open.nothing_to_close()
}

/// The pieces cover `body` in order, and each rendered part is its head, its slice and its
/// tail: removing what was added gives back the original.
fn assert_lossless(body: &str, pieces: &[Piece], parts: &[String]) -> Result<(), TestCaseError> {
    prop_assert_eq!(pieces.len(), parts.len());
    let mut expected_start = 0;
    let mut original = String::new();
    for (piece, part) in pieces.iter().zip(parts) {
        prop_assert_eq!(piece.range.start, expected_start);
        expected_start = piece.range.end;
        let content = part
            .strip_prefix(piece.head.as_str())
            .and_then(|rest| rest.strip_suffix(piece.tail.as_str()));
        prop_assert_eq!(content, Some(&body[piece.range.clone()]));
        original.push_str(&body[piece.range.clone()]);
    }
    prop_assert_eq!(expected_start, body.len());
    prop_assert_eq!(original, body);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_text_splits_into_parts_that_fit_and_lose_nothing(
        body in "(?s).{0,400}",
        limit in 0usize..120,
    ) {
        let pieces = pieces(&body, limit);
        let parts = split(&body, limit);
        for part in &parts {
            prop_assert!(units::len(part) <= limit.max(2), "{} > {limit}: {part:?}", units::len(part));
        }
        assert_lossless(&body, &pieces, &parts)?;
    }

    #[test]
    fn markdown_parts_are_balanced_and_cut_between_lines(
        body in document(30),
        limit in 300usize..1500,
    ) {
        // Prose can open a fence by chance ("```"); such a document is not balanced to start
        // with, and nothing can be promised about its parts.
        prop_assume!(balanced(&body));
        let pieces = pieces(&body, limit);
        let parts = split(&body, limit);
        assert_lossless(&body, &pieces, &parts)?;
        for (piece, part) in pieces.iter().zip(&parts) {
            prop_assert!(units::len(part) <= limit);
            prop_assert!(balanced(part), "unbalanced part:\n{part}");
            let end = piece.range.end;
            prop_assert!(end == body.len() || body[..end].ends_with('\n'), "cut mid-line at {end}");
        }
    }

    #[test]
    fn long_lines_are_cut_but_parts_stay_balanced(
        body in document(900),
        limit in 400usize..1200,
    ) {
        // Prose can open a fence by chance ("```"); such a document is not balanced to start
        // with, and nothing can be promised about its parts.
        prop_assume!(balanced(&body));
        let pieces = pieces(&body, limit);
        let parts = split(&body, limit);
        assert_lossless(&body, &pieces, &parts)?;
        for part in &parts {
            prop_assert!(units::len(part) <= limit);
            prop_assert!(balanced(part), "unbalanced part:\n{part}");
        }
    }

    #[test]
    fn a_body_that_fits_is_left_alone(body in document(30)) {
        let parts = split(&body, units::len(&body));
        prop_assert_eq!(parts, vec![body]);
    }
}
