//! What people will read, as insta snapshots: a sticky comment with every section, the same
//! comment split across parts, and the requests behind a check run.

use chrono::{TimeZone, Utc};

use super::checks::{
    Action, Annotation, AnnotationLevel, CheckRunSpec, CheckStatus, Conclusion, plan_check_run,
};
use super::markdown::{self, Align, Table};
use super::sticky::{Section, StickyComment};

fn all_sections() -> StickyComment {
    let preview = format!(
        "{}\n\n{} is live at {} (commit {}).",
        markdown::heading(3, "Preview"),
        markdown::bold("preview/pr-42"),
        markdown::link(
            "shop-pr-42.preview.example.com",
            "https://shop-pr-42.preview.example.com"
        ),
        markdown::code("1f2e3d4"),
    );
    let results = Table::new(["Step", "Result", "Tests"])
        .align(2, Align::Right)
        .row(["`unit`", "✅ passed", "128"])
        .row(["`functional`", "❌ 2 failed", "41"])
        .render();
    let log = "checkout::applies_coupon ... FAILED\n  left: 90\n right: 100\n```\nnested fence in output\n```";
    let tests = format!(
        "{}\n\n{results}\n\n{}",
        markdown::heading(3, "Tests"),
        markdown::details(
            "functional: 2 failed",
            &format!(
                "Failures in {}:\n\n{}",
                markdown::escape("checkout_test.rs | cart_test.rs"),
                markdown::code_block("text", log)
            )
        ),
    );
    let drift = format!(
        "{}\n\nThis PR changes {} in {}.\n\n{}",
        markdown::heading(3, "Drift"),
        markdown::code("Deployment/shop"),
        markdown::bold("staging"),
        markdown::code_block("diff", "- replicas: 2\n+ replicas: 3"),
    );
    let queue = format!(
        "{}\n\nPosition 2 of 3 in the queue for {} (priority 1).",
        markdown::heading(3, "Merge queue"),
        markdown::code("latest"),
    );
    let promotion = format!(
        "{}\n\nWaiting for an approval from {}.",
        markdown::heading(3, "Promotion"),
        markdown::escape("@acme/release-managers"),
    );
    StickyComment::new()
        .with(Section::Promotion, promotion)
        .with(Section::Queue, queue)
        .with(Section::Drift, drift)
        .with(Section::Tests, tests)
        .with(Section::Preview, preview)
}

#[test]
fn sticky_comment_with_every_section() {
    let parts = all_sections().render_parts(42);
    assert_eq!(parts.len(), 1);
    insta::assert_snapshot!(parts[0]);
}

/// Tests with a long table and a long log, to split inside both.
fn long_tests() -> StickyComment {
    let mut table = Table::new(["Test", "Result"]);
    for i in 1..=8 {
        table.push([
            markdown::code(&format!("checkout::case_{i}")),
            "❌ failed".into(),
        ]);
    }
    let log: String = (1..=12)
        .map(|i| format!("case_{i}: expected 100, got 90\n"))
        .collect();
    let tests = format!(
        "{}\n\n{}\n\n{}",
        markdown::heading(3, "Tests"),
        table.render(),
        markdown::details("functional log", &markdown::code_block("text", &log)),
    );
    StickyComment::new()
        .with(Section::Preview, "Preview ready.")
        .with(Section::Tests, tests)
}

#[test]
fn sticky_comment_split_across_parts() {
    let comment = long_tests();
    let parts = comment.render_parts_within(42, 400);
    assert_eq!(StickyComment::parse(&parts), comment);
    let shown: Vec<String> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| format!("===== comment {} =====\n{p}", i + 1))
        .collect();
    insta::assert_snapshot!(shown.join("\n"));
}

#[test]
fn check_run_requests() {
    let spec = CheckRunSpec {
        text: Some(markdown::code_block("text", "2 failed, 128 passed")),
        annotations: vec![
            Annotation::new(
                "tests/checkout_test.rs",
                17,
                AnnotationLevel::Failure,
                "assertion `left == right` failed",
            )
            .title("checkout::applies_coupon")
            .raw_details("left: 90\nright: 100"),
            Annotation::new(
                "src/cart.rs",
                4,
                AnnotationLevel::Warning,
                "unused variable",
            )
            .columns(9, 13),
        ],
        details_url: Some("https://gitferry.example.com/runs/7".into()),
        actions: vec![Action::new(
            "Re-run failed",
            "Run the 2 failed tests again",
            "rerun-failed",
        )],
        started_at: Some(Utc.with_ymd_and_hms(2025, 5, 4, 1, 14, 52).unwrap()),
        completed_at: Some(Utc.with_ymd_and_hms(2025, 5, 4, 1, 17, 3).unwrap()),
        ..CheckRunSpec::new(
            "gitferry/functional",
            "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c",
            "pr-42/functional",
            CheckStatus::Completed(Conclusion::Failure),
            "2 of 130 tests failed",
            "**functional** ran against the preview of #42.",
        )
    };
    let plan = plan_check_run(None, &spec).unwrap();
    insta::assert_json_snapshot!(plan.first_body());
}
