//! The wrapper run for real by `sh`, with the source served by a one-request loopback HTTP
//! server, as a pod would run it.

use std::process::Output;

use flate2::Compression;
use flate2::write::GzEncoder;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

/// A gzipped tarball with one top-level folder, as GitHub's codeload serves a commit.
fn commit_archive(files: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    for (path, text) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(
                &mut header,
                format!("acme-shop-abc1234/{path}"),
                text.as_bytes(),
            )
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// Serves `body` to the first GET and closes; returns the URL.
async fn serve_once(body: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut chunk = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            request.extend_from_slice(&chunk[..n]);
        }
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-gzip\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            body.len()
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(&body).await.unwrap();
        socket.shutdown().await.unwrap();
    });
    format!("http://{address}/acme/shop/tar.gz/abc1234")
}

/// Runs the wrapper as the pod does: `sh -c WRAPPER gitferry-step <argv...>`, with only the
/// given environment (and PATH).
async fn run_wrapper(workspace: &std::path::Path, env: &[(&str, &str)], argv: &[&str]) -> Output {
    let mut command = tokio::process::Command::new("sh");
    command
        .arg("-c")
        .arg(WRAPPER)
        .arg(SCRIPT_NAME)
        .args(argv)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GITFERRY_WORKSPACE", workspace);
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().await.unwrap()
}

fn have(program: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test]
async fn the_source_is_fetched_the_command_runs_in_its_folder_and_reports_follow_the_exit() {
    if !have("curl") && !have("wget") {
        eprintln!("neither curl nor wget: the download is not tested here");
        return;
    }
    let url = serve_once(commit_archive(&[
        ("app/greeting.txt", "hello from the commit\n"),
        ("reports/unit.xml", "<testsuite name=\"unit\"/>"),
    ]))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let workspace = dir.path().join("workspace");

    let output = run_wrapper(
        &workspace,
        &[
            ("GITFERRY_SOURCE_URL", url.as_str()),
            ("GITFERRY_STEP_DIR", "app"),
            ("GITFERRY_JUNIT", "reports/*.xml\nmissing/*.xml"),
        ],
        &[
            "sh",
            "-c",
            "cat greeting.txt; ln -s unit.xml ../reports/linked.xml; echo oops >&2; exit 3",
        ],
    )
    .await;

    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        stdout,
        "hello from the commit\n\
         ::gitferry-junit begin reports/unit.xml::\n\
         PHRlc3RzdWl0ZSBuYW1lPSJ1bml0Ii8+\n\
         ::gitferry-junit end::\n"
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr, "oops\n");
    assert!(!stdout.contains(&url) && !stderr.contains(&url));
}

#[tokio::test]
async fn arguments_reach_the_command_literally_and_a_clean_exit_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let workspace = dir.path().join("workspace");

    let output = run_wrapper(
        &workspace,
        &[("GITFERRY_JUNIT", "")],
        &["printf", "%s|", "$(touch pwned)", "a b", "*", "`id`"],
    )
    .await;

    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "$(touch pwned)|a b|*|`id`|"
    );
    assert!(!workspace.join("pwned").exists());
}

#[tokio::test]
async fn a_missing_step_folder_fails_before_the_command_with_127() {
    let dir = tempfile::tempdir().unwrap();
    let workspace = dir.path().join("workspace");

    let output = run_wrapper(
        &workspace,
        &[("GITFERRY_STEP_DIR", "nowhere")],
        &["touch", "ran"],
    )
    .await;

    assert_eq!(output.status.code(), Some(127), "{output:?}");
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "gitferry: the step's folder nowhere does not exist\n"
    );
    assert!(!workspace.join("ran").exists());
}
