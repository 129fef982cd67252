//! Which lines of a comment are commands.

use crate::commands::{Extracted, RawCommand, extract};

const SLUG: &str = "gitferry-test";

/// The commands of `body` under the default prefix, as `(line, "name arg arg")`.
fn commands(body: &str) -> Vec<(usize, String)> {
    summarise(&extract(body, SLUG, "/"))
}

fn summarise(extracted: &Extracted) -> Vec<(usize, String)> {
    extracted
        .commands
        .iter()
        .map(|c| {
            let mut words = vec![c.name.clone()];
            words.extend(c.args.iter().cloned());
            (c.line, words.join(" "))
        })
        .collect()
}

fn one(line: usize, text: &str) -> Vec<(usize, String)> {
    vec![(line, text.to_owned())]
}

#[test]
fn a_command_on_its_own_line_is_taken_with_its_arguments() {
    let body = "Looks good to me.\n/rollback production abc1234\nThanks!";
    assert_eq!(
        extract(body, SLUG, "/").commands,
        vec![RawCommand {
            line: 2,
            name: "rollback".into(),
            args: vec!["production".into(), "abc1234".into()],
        }]
    );
}

#[test]
fn up_to_three_spaces_of_indentation_are_fine_four_are_code() {
    assert_eq!(commands("   /preview"), one(1, "preview"));
    assert_eq!(commands("    /preview"), vec![]);
    assert_eq!(commands("\t/preview"), vec![]);
}

#[test]
fn command_words_are_case_insensitive() {
    assert_eq!(commands("/PreView Destroy"), one(1, "preview Destroy"));
}

#[test]
fn mentioning_the_app_works_with_or_without_the_prefix() {
    assert_eq!(commands("@gitferry-test preview"), one(1, "preview"));
    assert_eq!(commands("@gitferry-test /preview"), one(1, "preview"));
    assert_eq!(
        commands("@GitFerry-Test[bot] queue p=3"),
        one(1, "queue p=3")
    );
    assert_eq!(
        commands("@gitferry-test\tretest unit"),
        one(1, "retest unit")
    );
}

#[test]
fn mentions_of_other_accounts_or_without_a_command_are_prose() {
    assert_eq!(commands("@gitferry-testing preview"), vec![]);
    assert_eq!(commands("@gitferry-test, preview please"), vec![]);
    assert_eq!(commands("@gitferry-test"), vec![]);
    assert_eq!(commands("@gitferry-test thanks!"), vec![]);
    assert_eq!(commands("cc @gitferry-test preview"), vec![]);
}

#[test]
fn paths_and_slashes_in_prose_are_not_commands() {
    let body =
        "/usr/bin is missing\n/ preview\n/2 people agree\n/retest, please\nand/or\n//preview";
    assert_eq!(commands(body), vec![]);
}

#[test]
fn a_plausible_unknown_word_is_extracted_so_the_grammar_can_suggest() {
    assert_eq!(commands("/prevew"), one(1, "prevew"));
}

#[test]
fn an_absurdly_long_word_is_not_a_command() {
    let body = format!("/{}", "a".repeat(33));
    assert_eq!(commands(&body), vec![]);
    assert_eq!(commands(&format!("/{}", "a".repeat(32))).len(), 1);
}

#[test]
fn a_custom_prefix_replaces_the_slash() {
    let extracted = extract("!preview\n/preview\n@gitferry-test !queue", SLUG, "!");
    assert_eq!(
        summarise(&extracted),
        vec![(1, "preview".into()), (3, "queue".into())]
    );
}

#[test]
fn an_empty_prefix_or_slug_turns_that_form_off() {
    assert_eq!(summarise(&extract("preview\n/preview", SLUG, "")), vec![]);
    assert_eq!(
        summarise(&extract("@gitferry-test preview", SLUG, "")),
        one(1, "preview")
    );
    assert_eq!(summarise(&extract("@ preview", "", "/")), vec![]);
}

#[test]
fn a_quoted_command_is_ignored() {
    let body = "> /promote production\n\nI'd rather not.";
    assert_eq!(commands(body), vec![]);
}

#[test]
fn nested_and_indented_quotes_are_ignored() {
    assert_eq!(commands(">> /preview\n  > /retest\n>/drift"), vec![]);
}

#[test]
fn a_line_right_after_a_quote_continues_it_as_github_renders() {
    // CommonMark "lazy continuation": the second line is part of the quoted paragraph.
    assert_eq!(commands("> Could you run\n/preview"), vec![]);
    // A blank line ends the quote.
    assert_eq!(commands("> Could you run\n\n/preview"), one(3, "preview"));
    // A quoted code block leaves no paragraph to continue.
    assert_eq!(commands("> ```\n> x\n> ```\n/preview"), one(4, "preview"));
}

#[test]
fn fenced_commands_are_ignored_including_info_strings_and_longer_fences() {
    let body = "```\n/preview\n```\n~~~sh\n/retest\n~~~\n````md\n```\n/drift\n````\n/approve";
    assert_eq!(commands(body), one(11, "approve"));
}

#[test]
fn a_shorter_or_different_fence_does_not_close_the_block() {
    let body = "~~~~\n~~~\n```\n/preview\n~~~~\n/retest";
    assert_eq!(commands(body), one(6, "retest"));
}

#[test]
fn an_unclosed_fence_runs_to_the_end() {
    assert_eq!(commands("/help\n```\n/preview\n/retest"), one(1, "help"));
}

#[test]
fn backticks_in_the_info_string_make_it_inline_code_not_a_fence() {
    assert_eq!(commands("``` `x` ```\n/preview"), one(2, "preview"));
}

#[test]
fn indented_code_is_ignored_but_does_not_swallow_what_follows() {
    let body = "Run this:\n\n    /preview\n    /retest\n\n/drift";
    assert_eq!(commands(body), one(6, "drift"));
}

#[test]
fn a_command_in_a_code_span_is_ignored() {
    assert_eq!(commands("`/preview` deploys a preview"), vec![]);
    assert_eq!(commands("Type `\n/preview\n` to deploy"), vec![]);
    assert_eq!(commands("``/preview`` and `/retest`"), vec![]);
}

#[test]
fn an_escaped_backtick_opens_nothing_but_the_rest_of_its_run_may() {
    assert_eq!(commands("a \\` b\n/preview `"), one(2, "preview `"));
    assert_eq!(commands("a \\`` b\n/preview `"), vec![]);
    // Inside a span a backslash is literal, so `x\` closes there.
    assert_eq!(commands("a `x\\` b\n/preview `"), one(2, "preview `"));
}

#[test]
fn an_unmatched_backtick_is_literal() {
    assert_eq!(commands("a ` b\n/preview"), one(2, "preview"));
}

#[test]
fn html_comments_hide_commands_in_blocks_and_inline() {
    let body =
        "<!--\n/preview\n-->\n/retest <!-- the flaky one -->\nsee <!-- hidden\n/drift\n--> done";
    assert_eq!(commands(body), one(4, "retest"));
}

#[test]
fn the_shortest_html_comments_close_themselves() {
    assert_eq!(commands("<!-->\n/preview"), one(2, "preview"));
    assert_eq!(commands("x <!---> y\n/preview"), one(2, "preview"));
}

#[test]
fn an_unclosed_html_comment_block_runs_to_the_end() {
    assert_eq!(commands("<!-- template\n/preview"), vec![]);
}

#[test]
fn pre_blocks_hide_commands_but_details_show_them() {
    let body = "<pre>\n/preview\n</pre>\n<details>\n\n/retest\n\n</details>";
    assert_eq!(commands(body), one(6, "retest"));
}

#[test]
fn quotes_and_fences_opened_inside_list_items_are_ignored() {
    assert_eq!(
        commands("- ```\n  /preview\n  ```\n/retest"),
        one(4, "retest")
    );
    assert_eq!(
        commands("1. > quoted\n   /preview\n\n/drift"),
        one(4, "drift")
    );
    assert_eq!(
        commands("- - <!--\n/preview\n-->\n/approve"),
        one(4, "approve")
    );
}

#[test]
fn crlf_and_lone_cr_line_endings_count_lines_the_same() {
    let lf = commands("hello\n/preview\n```\n/retest\n```\n/drift");
    let crlf = commands("hello\r\n/preview\r\n```\r\n/retest\r\n```\r\n/drift");
    let cr = commands("hello\r/preview\r```\r/retest\r```\r/drift");
    assert_eq!(lf, vec![(2, "preview".into()), (6, "drift".into())]);
    assert_eq!(crlf, lf);
    assert_eq!(cr, lf);
}

#[test]
fn headings_and_list_items_are_not_commands_but_end_paragraphs() {
    // The code span runs from the list item into its lazy continuation line.
    let body = "# /preview\n- /retest\n* `x\n/drift `\n\n/approve";
    assert_eq!(commands(body), one(6, "approve"));
}

#[test]
fn a_thousand_commands_run_ten_and_count_the_rest() {
    let mut body = String::new();
    for i in 0..1000 {
        body.push_str(&format!("/queue p={}\n", i % 10));
    }
    let extracted = extract(&body, SLUG, "/");
    assert_eq!(extracted.commands.len(), 10);
    assert_eq!(extracted.dropped, 990);
    assert_eq!(extracted.total(), 1000);
    assert_eq!(extracted.commands[9].line, 10);
}

#[test]
fn a_full_size_comment_of_commands_is_handled() {
    // GitHub's limit is 65,536 characters; fill it with commands and noise.
    let mut body = String::new();
    while body.len() < 65_000 {
        body.push_str("/retest unit\n> /promote production\n\n`/x` `` ` <!-- -->\n");
    }
    let extracted = extract(&body, SLUG, "/");
    assert_eq!(extracted.commands.len(), 10);
    assert!(extracted.commands.iter().all(|c| c.name == "retest"));
}

#[test]
fn whitespace_only_and_empty_bodies_have_no_commands() {
    assert_eq!(extract("", SLUG, "/"), Extracted::default());
    assert_eq!(extract(" \n\t\r\n", SLUG, "/"), Extracted::default());
}
