//! Secrets and `checksum/` annotations: compared, never shown.

use serde_json::json;

use super::fixtures::{base64, deployment, live_copy, secret};
use super::modified;
use crate::drift::render::{COMMENT_LIMIT, markdown};
use crate::drift::{Options, Outcome, compare};

#[test]
fn a_changed_secret_names_the_key_and_shows_no_value_anywhere() {
    let desired = secret("db", &[("password", "hunter2-old"), ("user", "shop")]);
    let mut live = live_copy(&desired);
    live["data"]["password"] = json!(base64(b"s3cr3t-new"));
    // A `kubectl apply` by hand leaves the whole object, values in clear, in an annotation.
    live["metadata"]["annotations"] = json!({
        "kubectl.kubernetes.io/last-applied-configuration":
            r#"{"kind":"Secret","stringData":{"password":"s3cr3t-new"}}"#
    });

    let report = compare(&[desired], &[live], &Options::default());

    let (fields, labels, diff) = modified(&report.objects[0].outcome);
    assert_eq!(fields, ["/data/password"]);
    assert_eq!(labels, ["data.password"]);
    assert!(diff.contains("(hidden, changed)"), "{diff}");
    let debug = format!("{report:?}");
    let comment = markdown(&report, COMMENT_LIMIT);
    assert!(
        comment.contains("Secret shop/db: changed (values hidden) (data.password)"),
        "{comment}"
    );
    for revealing in [
        "hunter2-old".to_owned(),
        "s3cr3t-new".to_owned(),
        base64(b"hunter2-old"),
        base64(b"s3cr3t-new"),
        base64(b"shop"),
        "sha256".to_owned(),
    ] {
        assert!(
            !debug.contains(&revealing),
            "the report's Debug shows {revealing}"
        );
        assert!(
            !comment.contains(&revealing),
            "the comment shows {revealing}"
        );
    }
}

#[test]
fn string_data_in_git_equals_the_same_bytes_in_data_live() {
    let desired = secret("db", &[("a", "x")]);
    let live = live_copy(&desired);
    assert_eq!(
        live["data"]["a"],
        json!("eA=="),
        "the API server stores stringData as data"
    );

    let report = compare(&[desired], &[live], &Options::default());

    assert_eq!(report.objects[0].outcome, Outcome::InSync);
}

#[test]
fn a_changed_checksum_annotation_is_drift_shown_as_hidden() {
    let old = "3f1a9c0e7b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a";
    let new = "9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b";
    let mut desired = deployment("web", "shop/web:1.0", 3);
    desired["spec"]["template"]["metadata"]["annotations"] = json!({"checksum/config": old});
    let mut live = live_copy(&desired);
    live["spec"]["template"]["metadata"]["annotations"]["checksum/config"] = json!(new);

    let report = compare(&[desired], &[live], &Options::default());

    let (fields, labels, diff) = modified(&report.objects[0].outcome);
    assert_eq!(
        fields,
        ["/spec/template/metadata/annotations/checksum~1config"]
    );
    assert_eq!(
        labels,
        ["spec.template.metadata.annotations[\"checksum/config\"]"]
    );
    assert!(
        diff.contains("-        checksum/config: (hidden)\n"),
        "{diff}"
    );
    assert!(
        diff.contains("+        checksum/config: (hidden, changed)\n"),
        "{diff}"
    );
    let shown = format!("{report:?}{}", markdown(&report, COMMENT_LIMIT));
    assert!(!shown.contains(old) && !shown.contains(new), "{shown}");
}
