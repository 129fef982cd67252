//! The pod's log, line by line: ordinary lines go to the step's log; the wrapper's report
//! blocks (`::gitferry-junit begin <path>::`, base64 lines, `::gitferry-junit end::`) are
//! decoded into the workspace at their path instead, so the executor finds the reports where
//! the local runner would have left them. The paths come from the pod, so they are checked:
//! relative, no `..`, and the sizes are capped. A bad block is noted in the log and skipped; it
//! does not fail the step.

use std::path::{Component, Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::wrapper::{BEGIN, END, MARKER_CLOSE};
use crate::runs::RunLog;

/// Most bytes of one report.
pub const MAX_REPORT: usize = 50 * 1024 * 1024;
/// Most bytes of all of a step's reports together.
pub const MAX_TOTAL: usize = 200 * 1024 * 1024;
/// Base64 of [`MAX_REPORT`] bytes, plus room for the line breaks.
const MAX_ENCODED: usize = MAX_REPORT / 3 * 4 + MAX_REPORT / 50 + 8;

/// Where the lines of one pod's log go.
pub struct Reports<'a> {
    root: &'a Path,
    log: &'a RunLog,
    block: Option<Block>,
    written: usize,
}

/// A report block being read.
struct Block {
    path: String,
    encoded: String,
    too_big: bool,
}

impl<'a> Reports<'a> {
    pub fn new(root: &'a Path, log: &'a RunLog) -> Self {
        Self {
            root,
            log,
            block: None,
            written: 0,
        }
    }

    /// One line of the pod's log, without its line break.
    pub async fn line(&mut self, line: &str) {
        if let Some(path) = line
            .strip_prefix(BEGIN)
            .and_then(|rest| rest.strip_suffix(MARKER_CLOSE))
        {
            if let Some(open) = self.block.take() {
                self.note(&open.path, "its block has no end marker");
            }
            self.block = Some(Block {
                path: path.to_owned(),
                encoded: String::new(),
                too_big: false,
            });
            return;
        }
        if line == END {
            match self.block.take() {
                Some(block) => self.save(block).await,
                None => self
                    .log
                    .line("gitferry: a JUnit report end marker without a start"),
            }
            return;
        }
        let Some(block) = &mut self.block else {
            self.log.line(line);
            return;
        };
        if block.too_big {
            return;
        }
        block.encoded.push_str(line.trim());
        if block.encoded.len() > MAX_ENCODED {
            block.too_big = true;
            block.encoded = String::new();
        }
    }

    /// The log ended: a block still open is noted.
    pub fn finish(&mut self) {
        if let Some(open) = self.block.take() {
            self.note(&open.path, "the log ended inside its block");
        }
    }

    /// A note of gitferry's own in the step's log.
    pub fn log_note(&self, text: &str) {
        self.log.line(format!("gitferry: {text}"));
    }

    fn note(&self, path: &str, why: &str) {
        self.log.line(format!(
            "gitferry: skipped the JUnit report {path:?}: {why}"
        ));
    }

    async fn save(&mut self, block: Block) {
        let Some(relative) = safe_path(&block.path) else {
            self.note(
                &block.path,
                "its path must be relative and stay inside the repository",
            );
            return;
        };
        if block.too_big {
            self.note(
                &block.path,
                &format!("it is larger than {MAX_REPORT} bytes"),
            );
            return;
        }
        let bytes = match STANDARD.decode(block.encoded.as_bytes()) {
            Ok(bytes) => bytes,
            Err(e) => {
                self.note(&block.path, &format!("it is not valid base64 ({e})"));
                return;
            }
        };
        if self.written + bytes.len() > MAX_TOTAL {
            self.note(
                &block.path,
                &format!("the step's reports exceed {MAX_TOTAL} bytes together"),
            );
            return;
        }
        let target = self.root.join(relative);
        if let Err(e) = write(&target, &bytes).await {
            self.note(&block.path, &format!("cannot write it: {e}"));
            return;
        }
        self.written += bytes.len();
    }
}

async fn write(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = target.parent() {
        tokio::fs::create_dir_all(parent).await?;
    }
    tokio::fs::write(target, bytes).await
}

/// The path when it is relative and has no `..` (nor a root or drive); `./` parts are dropped.
fn safe_path(path: &str) -> Option<PathBuf> {
    let mut safe = PathBuf::new();
    for component in Path::new(path).components() {
        match component {
            Component::Normal(part) => safe.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (!safe.as_os_str().is_empty()).then_some(safe)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn feed(root: &Path, log: &RunLog, text: &str) {
        let mut reports = Reports::new(root, log);
        for line in text.lines() {
            reports.line(line).await;
        }
        reports.finish();
    }

    #[tokio::test]
    async fn a_block_becomes_a_file_and_leaves_no_trace_in_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = RunLog::default();

        feed(
            dir.path(),
            &log,
            "ok 1 tests\n::gitferry-junit begin ./reports/unit.xml::\nPHRlc3RzdWl0ZSBu\nYW1lPSJ1bml0Ii8+\n::gitferry-junit end::\ndone\n",
        )
        .await;

        assert_eq!(log.text(), "ok 1 tests\ndone\n");
        let report = std::fs::read_to_string(dir.path().join("reports/unit.xml")).unwrap();
        assert_eq!(report, "<testsuite name=\"unit\"/>");
    }

    #[tokio::test]
    async fn escaping_paths_and_broken_blocks_are_noted_and_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        let log = RunLog::default();

        feed(
            &root,
            &log,
            "::gitferry-junit begin ../evil.xml::\nPGEvPg==\n::gitferry-junit end::\n\
             ::gitferry-junit begin /etc/evil.xml::\nPGEvPg==\n::gitferry-junit end::\n\
             ::gitferry-junit begin bad.xml::\n!!!\n::gitferry-junit end::\n\
             ::gitferry-junit begin cut.xml::\nPGEv\n",
        )
        .await;

        assert!(!dir.path().join("evil.xml").exists());
        assert!(!root.exists(), "nothing was written");
        let text = log.text();
        assert!(
            text.contains("skipped the JUnit report \"../evil.xml\": its path must be relative"),
            "{text}"
        );
        assert!(
            text.contains("skipped the JUnit report \"/etc/evil.xml\""),
            "{text}"
        );
        assert!(
            text.contains("skipped the JUnit report \"bad.xml\": it is not valid base64"),
            "{text}"
        );
        assert!(
            text.contains("skipped the JUnit report \"cut.xml\": the log ended inside its block"),
            "{text}"
        );
    }
}
