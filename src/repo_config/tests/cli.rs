//! What `gitferry config check` and `gitferry config schema` print.

use std::path::Path;

use crate::repo_config::{CONFIG_PATH, check_file, json_schema, parse};

/// Writes `text` to `<tempdir>/.github/gitferry.yml` and checks it, printing the path as
/// `.github/gitferry.yml` so the snapshot does not depend on the temporary folder.
fn check(text: &[u8]) -> (String, i32) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(CONFIG_PATH);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, text).unwrap();
    let report = check_file(&file);
    let shown = report
        .to_string()
        .replace(&format!("{}/", dir.path().display()), "");
    (shown, report.exit_code())
}

#[test]
fn check_reports_every_error_in_every_section_by_position() {
    let text = r#"merge_qeue:
  branches: [latest]
pipeline:
  - name: unit
    run: "make test"
  - name: unit
    run: [make, lint]
environments:
  preview:
    pull_requests: { base: [latest] }
    deploy: { provider: kubernetes, manifests: deploy/preview, namespace: previews }
  staging:
    branch: latest
    deploy: { provider: command, deploy: [./deploy.sh], timeout: 3 dayz }
  production:
    branch: main
    promote_from: stagng
    deploy: { provider: command, deploy: [./release.sh] }
drift: { every: 10s }
notify:
  - { on: [promoted], slack: "https://hooks.slack.com/services/T0/B0/secret" }
"#;
    let (output, code) = check(text.as_bytes());
    assert_eq!(code, 1);
    insta::assert_snapshot!(output);
}

#[test]
fn check_says_ok_for_a_valid_file() {
    let (output, code) = check(super::full_example::FULL.as_bytes());
    assert_eq!(
        (output.as_str(), code),
        ("ok: .github/gitferry.yml is a valid gitferry config\n", 0)
    );
}

#[test]
fn check_reports_a_missing_file_as_an_error() {
    let report = check_file(Path::new("/nonexistent/gitferry.yml"));
    assert_eq!(report.exit_code(), 1);
    assert!(
        report
            .to_string()
            .starts_with("/nonexistent/gitferry.yml:1:1: cannot read the file: "),
        "{report}"
    );
}

#[test]
fn check_refuses_a_huge_file_without_reading_it_all() {
    let (output, _) = check(&vec![b'#'; 3 * 1024 * 1024]);
    assert_eq!(
        output,
        ".github/gitferry.yml:1:1: the config is 1048577 bytes; the limit is 1048576 bytes (1 MiB)\n"
    );
}

#[test]
fn errors_become_check_run_annotations_on_their_lines() {
    let errors = parse("drift:\n  every: soon\n").unwrap_err();
    let annotations = errors.annotations(CONFIG_PATH);
    insta::assert_json_snapshot!(annotations);
}

#[test]
fn the_schema_describes_every_section() {
    let schema: serde_json::Value = serde_json::from_str(&json_schema()).unwrap();
    let top = serde_json::json!({
        "$schema": schema["$schema"],
        "title": schema["title"],
        "description": schema["description"],
        "additionalProperties": schema["additionalProperties"],
        "properties": schema["properties"].as_object().unwrap().keys().collect::<Vec<_>>(),
        "definitions": schema["$defs"].as_object().unwrap().keys().collect::<Vec<_>>(),
    });
    insta::assert_json_snapshot!(top);
}

#[test]
fn the_schema_and_the_loader_know_the_same_sections() {
    let schema: serde_json::Value = serde_json::from_str(&json_schema()).unwrap();
    let in_schema: Vec<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut loaded: Vec<&str> = crate::repo_config::load::Section::ALL
        .map(|s| s.name())
        .to_vec();
    loaded.sort_unstable();
    assert_eq!(in_schema, loaded);
}

#[test]
fn the_schema_explains_durations_and_providers() {
    let schema: serde_json::Value = serde_json::from_str(&json_schema()).unwrap();
    let defs = &schema["$defs"];
    assert_eq!(defs["Duration"]["type"], "string");
    assert!(defs["Duration"]["pattern"].is_string());
    let providers: Vec<&str> = defs["Deploy"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|variant| variant["properties"]["provider"]["const"].as_str().unwrap())
        .collect();
    assert_eq!(providers, ["kubernetes", "command"]);
}
