//! `gitferry config check` and `gitferry config schema`, as a user runs them.

async fn gitferry(args: &[&str]) -> std::process::Output {
    crate::support::sandbox::gitferry_command()
        .args(args)
        .env("GITFERRY_ENV_FILE", "/nonexistent/.env")
        .output()
        .await
        .expect("run gitferry")
}

#[tokio::test]
async fn config_check_prints_every_error_with_line_and_column_and_exits_1() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("gitferry.yml");
    std::fs::write(
        &file,
        "pipeline:\n  - name: unit\n    run: make test\nmerge_qeue:\n  batch_size: 4\n",
    )
    .expect("write");
    let output = gitferry(&["config", "check", file.to_str().expect("utf8")]).await;
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with(&format!("{}:3:", file.display())),
        "{stdout}"
    );
    assert!(lines[0].contains("[make, test]"), "{stdout}");
    assert!(
        lines[1].starts_with(&format!("{}:4:1: ", file.display())),
        "{stdout}"
    );
    assert!(lines[1].contains("did you mean `merge_queue`?"), "{stdout}");
}

#[tokio::test]
async fn config_check_accepts_a_valid_file() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("gitferry.yml");
    std::fs::write(&file, "pipeline:\n  - name: unit\n    run: [make, test]\n").expect("write");
    let output = gitferry(&["config", "check", file.to_str().expect("utf8")]).await;
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("ok: {} is a valid gitferry config\n", file.display())
    );
}

#[tokio::test]
async fn config_schema_is_json_describing_the_top_level_keys() {
    let output = gitferry(&["config", "schema"]).await;
    assert!(output.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON schema");
    for key in [
        "pipeline",
        "environments",
        "drift",
        "merge_queue",
        "notify",
        "commands",
    ] {
        assert!(
            schema["properties"].get(key).is_some(),
            "schema lacks {key}"
        );
    }
}
