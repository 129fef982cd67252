//! The sticky comment read back from what was posted: sections survive rendering, splitting
//! and parsing unchanged, whatever they hold.

use proptest::prelude::*;

use super::split_props::document;
use super::sticky::{COMMENT_LIMIT, MAX_SECTION_LEN, PartMarker, Section, StickyComment};
use super::units;

fn huge_log(chars: usize) -> String {
    let line = "test result: FAILED. tests::checkout_applies_the_coupon ... 0.42s\n";
    let body: String = line.chars().cycle().take(chars).collect();
    format!("### Tests\n\n```text\n{body}\n```")
}

#[test]
fn sections_render_in_a_fixed_order_whatever_the_order_they_were_set() {
    let comment = StickyComment::new()
        .with(Section::Promotion, "promo")
        .with(Section::Preview, "preview");
    let rendered = comment.render();
    assert!(rendered.find("promo") > rendered.find("preview"));
}

#[test]
fn setting_a_section_leaves_the_others_alone() {
    let posted = StickyComment::new()
        .with(Section::Preview, "Preview at https://pr-7.example.com")
        .with(Section::Tests, "old results")
        .render_parts(7);
    let mut comment = StickyComment::parse(&posted);
    comment.set(Section::Tests, "new results");
    assert_eq!(
        comment.get(Section::Preview),
        Some("Preview at https://pr-7.example.com")
    );
    assert_eq!(comment.get(Section::Tests), Some("new results"));
}

#[test]
fn empty_markdown_removes_a_section() {
    let mut comment = StickyComment::new().with(Section::Drift, "drifted");
    comment.set(Section::Drift, "  \n");
    assert!(comment.is_empty());
    assert!(comment.render_parts(1).is_empty());
}

#[test]
fn open_blocks_are_closed_and_marker_lookalikes_defused() {
    let comment = StickyComment::new().with(
        Section::Tests,
        "<details><summary>log</summary>\n\n<!-- /gitferry:section -->\n```\nunterminated",
    );
    let tests = comment.get(Section::Tests).unwrap_or_default();
    assert!(tests.contains("&lt;!-- /gitferry:section -->"), "{tests}");
    assert!(tests.ends_with("unterminated\n```\n</details>"), "{tests}");
    let reparsed = StickyComment::parse(&comment.render_parts(3));
    assert_eq!(reparsed, comment);
}

#[test]
fn a_huge_section_is_split_and_read_back_whole() {
    let comment = StickyComment::new()
        .with(Section::Preview, "Preview ready")
        .with(Section::Tests, huge_log(150_000));
    let parts = comment.render_parts(42);
    assert_eq!(parts.len(), 3);
    for (i, part) in parts.iter().enumerate() {
        assert!(units::len(part) <= COMMENT_LIMIT);
        let marker = PartMarker::parse(part.lines().next().unwrap_or_default());
        assert_eq!(marker.map(|m| (m.pr, m.part)), Some((42, i)));
    }
    assert_eq!(StickyComment::parse(&parts), comment);
}

#[test]
fn a_section_beyond_the_cap_is_cut_with_a_note() {
    let comment = StickyComment::new().with(Section::Tests, huge_log(MAX_SECTION_LEN * 2));
    let tests = comment.get(Section::Tests).unwrap_or_default();
    assert!(units::len(tests) <= MAX_SECTION_LEN);
    assert!(
        tests.contains("\n```\n\n_… "),
        "the fence is closed before the note"
    );
    assert!(tests.ends_with("more characters not shown._"));
    assert_eq!(StickyComment::parse(&comment.render_parts(1)), comment);
}

#[test]
fn comments_without_a_marker_or_with_edited_sizes_do_not_break_parsing() {
    let parts = [
        "just a comment".to_owned(),
        "<!-- gitferry:sticky pr=1 part=0 head=999999 -->\n<!-- gitferry:section=queue -->\n#3 in the queue\n\n<!-- /gitferry:section -->\n".to_owned(),
    ];
    let comment = StickyComment::parse(&parts);
    assert_eq!(comment.get(Section::Queue), Some("#3 in the queue"));
}

#[test]
fn unknown_sections_and_missing_end_markers_lose_only_themselves() {
    let body = "<!-- gitferry:sticky pr=1 part=0 -->\n\
        <!-- gitferry:section=future -->\nsomething new\n\n<!-- /gitferry:section -->\n\
        <!-- gitferry:section=drift -->\nno drift\n";
    let comment = StickyComment::parse(&[body]);
    assert_eq!(
        comment,
        StickyComment::new().with(Section::Drift, "no drift")
    );
}

fn section() -> impl Strategy<Value = Section> {
    prop::sample::select(Section::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn what_is_posted_parses_back_to_the_same_comment(
        sections in prop::collection::vec((section(), document(60)), 0..5),
        padding in 0usize..3,
    ) {
        let mut comment = StickyComment::new();
        for (i, (section, markdown)) in sections.into_iter().enumerate() {
            // Some sections large enough to be split across comments.
            let markdown = if i < padding { markdown.repeat(60_000 / markdown.len().max(1) + 1) } else { markdown };
            comment.set(section, markdown);
        }
        let parts = comment.render_parts(9);
        for part in &parts {
            prop_assert!(units::len(part) <= COMMENT_LIMIT);
        }
        prop_assert_eq!(StickyComment::parse(&parts), comment);
    }
}
