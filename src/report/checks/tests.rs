//! Check-run planning as scenarios: first report, replays, more annotations than one request
//! takes, a run re-used for a new attempt, and specs GitHub would refuse.

use serde_json::Value;

use super::*;

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn failures(n: usize) -> Vec<Annotation> {
    (1..=n)
        .map(|i| {
            Annotation::new(
                "tests/checkout.rs",
                i as u32,
                AnnotationLevel::Failure,
                &format!("assertion failed in case {i}"),
            )
        })
        .collect()
}

fn unit_tests(annotations: Vec<Annotation>) -> CheckRunSpec {
    CheckRunSpec {
        annotations,
        ..CheckRunSpec::new(
            "gitferry/unit",
            SHA,
            "pr-7/unit",
            CheckStatus::Completed(Conclusion::Failure),
            "3 tests failed",
            "See the annotations.",
        )
    }
}

fn batch_sizes(plan: &CheckRunPlan) -> Vec<usize> {
    let first = match &plan.first {
        FirstWrite::Create(body) | FirstWrite::Update(_, body) => body,
    };
    std::iter::once(first)
        .chain(&plan.appends)
        .map(|b| {
            b.pointer("/output/annotations")
                .and_then(Value::as_array)
                .map_or(0, Vec::len)
        })
        .collect()
}

#[test]
fn a_new_run_is_created_with_the_first_50_annotations_and_the_rest_appended() {
    let plan = plan_check_run(None, &unit_tests(failures(120))).unwrap();
    assert!(matches!(plan.first, FirstWrite::Create(_)));
    assert_eq!(batch_sizes(&plan), vec![50, 50, 20]);
    for append in &plan.appends {
        assert_eq!(append["output"]["summary"], "See the annotations.");
        assert!(
            append.get("status").is_none(),
            "appends only add annotations"
        );
    }
}

#[test]
fn a_replay_updates_in_place_and_sends_no_annotation_twice() {
    let spec = unit_tests(failures(120));
    let existing = ExistingRun {
        id: CheckRunId(99),
        annotations: failures(120),
    };
    let plan = plan_check_run(Some(&existing), &spec).unwrap();
    assert!(matches!(plan.first, FirstWrite::Update(CheckRunId(99), _)));
    assert_eq!(plan.annotations_sent(), 0);
    assert!(plan.appends.is_empty());
}

#[test]
fn a_run_interrupted_half_way_gets_only_what_it_lacks() {
    let existing = ExistingRun {
        id: CheckRunId(99),
        annotations: failures(50),
    };
    let plan = plan_check_run(Some(&existing), &unit_tests(failures(120))).unwrap();
    assert_eq!(batch_sizes(&plan), vec![50, 20]);
}

#[test]
fn a_run_holding_annotations_the_spec_dropped_is_replaced_by_a_new_run() {
    let existing = ExistingRun {
        id: CheckRunId(99),
        annotations: failures(3),
    };
    let fixed = unit_tests(failures(1));
    let plan = plan_check_run(Some(&existing), &fixed).unwrap();
    assert!(matches!(plan.first, FirstWrite::Create(_)));
    assert_eq!(plan.annotations_sent(), 1);
}

#[test]
fn duplicate_annotations_are_counted_not_merged() {
    let twice = [failures(1), failures(1)].concat();
    assert_eq!(missing_annotations(&failures(1), &twice), Some(failures(1)));
    assert_eq!(missing_annotations(&twice, &failures(1)), None);
}

#[test]
fn annotations_as_github_lists_them_match_what_was_sent() {
    let listed: Annotation = serde_json::from_value(serde_json::json!({
        "path": "tests/checkout.rs", "start_line": 1, "end_line": 1,
        "start_column": null, "end_column": null, "annotation_level": "failure",
        "message": "assertion failed in case 1", "title": "", "raw_details": null,
        "blob_href": "https://github.com/acme/shop/blob/0123/tests/checkout.rs"
    }))
    .unwrap();
    assert_eq!(missing_annotations(&[listed], &failures(1)), Some(vec![]));
}

#[test]
fn the_conclusion_goes_with_completed_and_head_sha_only_with_create() {
    let spec = CheckRunSpec::new(
        "gitferry/preview",
        SHA,
        "pr-7",
        CheckStatus::InProgress,
        "Deploying",
        "",
    );
    let FirstWrite::Create(body) = plan_check_run(None, &spec).unwrap().first else {
        panic!("expected a create");
    };
    assert_eq!(body["status"], "in_progress");
    assert!(body.get("conclusion").is_none());
    assert_eq!(body["head_sha"], SHA);
    let existing = ExistingRun {
        id: CheckRunId(5),
        annotations: vec![],
    };
    let FirstWrite::Update(_, body) = plan_check_run(Some(&existing), &unit_tests(vec![]))
        .unwrap()
        .first
    else {
        panic!("expected an update");
    };
    assert_eq!(body["conclusion"], "failure");
    assert!(body.get("head_sha").is_none());
}

#[test]
fn long_texts_and_labels_are_cut_to_githubs_limits() {
    let mut spec = unit_tests(vec![]);
    spec.summary = format!("```text\n{}\n```", "x\n".repeat(40_000));
    spec.text = Some("😀".repeat(40_000));
    spec.actions = vec![Action::new(
        "Re-run the failed tests",
        "Runs only the tests that failed on this commit again",
        "rerun-failed",
    )];
    let checked = spec.checked().unwrap();
    assert!(super::super::units::len(&checked.summary) <= MAX_OUTPUT_TEXT);
    assert!(
        checked.summary.contains("\n```\n\n_… truncated"),
        "fence closed before the note"
    );
    assert!(
        super::super::units::len(checked.text.as_deref().unwrap_or_default()) <= MAX_OUTPUT_TEXT
    );
    assert_eq!(checked.actions[0].label, "Re-run the failed t…");
    assert_eq!(checked.actions[0].description.chars().count(), 40);
}

#[test]
fn annotations_are_clamped_to_what_github_accepts() {
    let odd = Annotation::new("a.rs", 0, AnnotationLevel::Warning, "m")
        .lines(5, 3)
        .columns(4, 2)
        .title(&"t".repeat(300));
    let checked = unit_tests(vec![odd]).checked().unwrap();
    let a = &checked.annotations[0];
    assert_eq!((a.start_line, a.end_line), (5, 5));
    assert_eq!((a.start_column, a.end_column), (Some(4), Some(4)));
    assert_eq!(a.title.as_deref().map(|t| t.chars().count()), Some(255));
    let multi_line = Annotation::new("a.rs", 1, AnnotationLevel::Notice, "m")
        .lines(1, 3)
        .columns(1, 2);
    let checked = unit_tests(vec![multi_line]).checked().unwrap();
    assert_eq!(
        checked.annotations[0].start_column, None,
        "columns need a single line"
    );
}

#[test]
fn more_annotations_than_the_cap_are_counted_in_the_summary() {
    let checked = unit_tests(failures(MAX_ANNOTATIONS + 5)).checked().unwrap();
    assert_eq!(checked.annotations.len(), MAX_ANNOTATIONS);
    assert!(
        checked
            .summary
            .ends_with("_5 more annotations are not shown._")
    );
}

#[test]
fn specs_github_would_refuse_are_errors() {
    let mut spec = unit_tests(vec![]);
    spec.actions = vec![Action::new("a", "b", "c"); 4];
    assert_eq!(spec.checked(), Err(InvalidCheckRun::TooManyActions(4)));
    spec.actions = vec![Action::new("a", "b", "an-identifier-far-too-long")];
    assert!(matches!(
        spec.checked(),
        Err(InvalidCheckRun::ActionIdentifier(_))
    ));
    assert!(matches!(
        CheckRunSpec {
            head_sha: "main".into(),
            ..unit_tests(vec![])
        }
        .checked(),
        Err(InvalidCheckRun::HeadSha(_))
    ));
    assert_eq!(
        CheckRunSpec {
            external_id: String::new(),
            ..unit_tests(vec![])
        }
        .checked(),
        Err(InvalidCheckRun::EmptyExternalId)
    );
    assert!(matches!(
        CheckRunSpec {
            details_url: Some("javascript:alert(1)".into()),
            ..unit_tests(vec![])
        }
        .checked(),
        Err(InvalidCheckRun::DetailsUrl(_))
    ));
}
