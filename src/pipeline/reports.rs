//! Finding a step's JUnit reports in its workspace and reading them into one `Report`.
//!
//! The globs come from the default branch's config, but the files are the step's (and so the
//! pull request's) doing: a report may be a symlink to a file outside the checkout, a folder
//! named like a report, or one of thousands of matches. Only regular files inside the
//! workspace are read, and only so many.

use std::path::{Path, PathBuf};

use crate::junit::{self, Limits, Report};
use crate::secrets::Masker;

/// Most report files read for one step; beyond them the step's summary says some were left.
pub const MAX_REPORT_FILES: usize = 200;

/// What a step's reports said.
#[derive(Debug, Default)]
pub struct Collected {
    /// Every readable report merged; `None` when none matched or none could be read.
    pub report: Option<Report>,
    /// `reports/junit.xml: not XML at line 3`, one per file that could not be used.
    pub errors: Vec<String>,
    /// How many files were read.
    pub files: usize,
    /// The first report the step wrote that could not be read, and why (`reports/a.xml:
    /// malformed JUnit XML at line 3, column 5 …`). Its tests may have failed, so the step's
    /// results are unknown and it cannot pass. A glob that matches no file is not this: a
    /// step may write no report (documented).
    pub unreadable: Option<String>,
}

impl Collected {
    /// No report could be read because something outside the reports failed.
    pub fn failed(why: String) -> Self {
        Collected {
            errors: vec![why.clone()],
            unreadable: Some(why),
            ..Collected::default()
        }
    }
}

impl Collected {
    /// The reports with `masker`'s secret values replaced by `***` wherever their text reaches
    /// the check run and the sticky comment: test names, failure messages and output (a test
    /// asserting on a token prints it there, not in the log).
    #[must_use]
    pub fn masked(mut self, masker: &Masker) -> Self {
        if masker.is_empty() {
            return self;
        }
        let mask = |text: &mut String| {
            if let std::borrow::Cow::Owned(masked) = masker.mask(text) {
                *text = masked;
            }
        };
        if let Some(report) = self.report.as_mut() {
            for case in report.failures.iter_mut().chain(report.slowest.iter_mut()) {
                mask(&mut case.classname);
                mask(&mut case.name);
                case.message.iter_mut().for_each(mask);
                case.text.iter_mut().for_each(mask);
            }
        }
        self.errors.iter_mut().for_each(mask);
        self
    }
}

/// Reads the reports matching `globs` under `root`, blocking (run it off the async threads).
pub fn collect(root: &Path, globs: &[String], limits: &Limits) -> Collected {
    let mut collected = Collected::default();
    let Ok(root) = root.canonicalize() else {
        return Collected::failed("the workspace is gone; no report could be read".to_owned());
    };
    let mut paths = Vec::new();
    for pattern in globs {
        match matches(&root, pattern) {
            Ok(found) => paths.extend(found),
            Err(error) => collected.errors.push(format!("`{pattern}`: {error}")),
        }
    }
    paths.sort();
    paths.dedup();
    if paths.len() > MAX_REPORT_FILES {
        collected.errors.push(format!(
            "{} report files matched; the first {MAX_REPORT_FILES} were read",
            paths.len()
        ));
        paths.truncate(MAX_REPORT_FILES);
    }
    for path in paths {
        let shown = path
            .strip_prefix(&root)
            .unwrap_or(&path)
            .display()
            .to_string();
        match junit::parse_file(&path, limits) {
            Ok(report) => {
                collected.files += 1;
                match &mut collected.report {
                    Some(merged) => merged.merge(report, limits),
                    None => collected.report = Some(report),
                }
            }
            Err(error) => {
                let why = format!("{shown}: {error}");
                collected.unreadable.get_or_insert_with(|| why.clone());
                collected.errors.push(why);
            }
        }
    }
    collected
}

/// Regular files under `root` matching `pattern` (relative to it); symlinks and anything whose
/// real path leaves `root` are skipped.
fn matches(root: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let full = format!(
        "{}/{}",
        glob::Pattern::escape(&root.display().to_string()),
        pattern.trim_start_matches("./")
    );
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    let entries = glob::glob_with(&full, options).map_err(|e| e.to_string())?;
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Ok(meta) = entry.symlink_metadata() else {
            continue;
        };
        if !meta.file_type().is_file() {
            continue;
        }
        if entry
            .canonicalize()
            .is_ok_and(|real| real.starts_with(root))
        {
            found.push(entry);
        }
        if found.len() > MAX_REPORT_FILES {
            break;
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    const PASSING: &str = r#"<testsuite name="s" tests="2"><testcase classname="a" name="one" time="0.1"/><testcase classname="a" name="two" time="0.2"/></testsuite>"#;
    const FAILING: &str = r#"<testsuite name="t" tests="1"><testcase classname="b" name="three" time="0.3"><failure message="boom">x</failure></testcase></testsuite>"#;

    fn globs(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn reports_matching_the_globs_are_merged() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("reports/unit")).unwrap();
        fs::write(dir.path().join("reports/unit/a.xml"), PASSING).unwrap();
        fs::write(dir.path().join("reports/b.xml"), FAILING).unwrap();
        let collected = collect(
            dir.path(),
            &globs(&["reports/**/*.xml"]),
            &Limits::default(),
        );
        assert_eq!(collected.files, 2, "{:?}", collected.errors);
        let report = collected.report.unwrap();
        assert_eq!((report.totals.tests, report.totals.failed), (3, 1));
        assert!(collected.errors.is_empty());
    }

    #[test]
    fn no_match_is_no_report_and_no_error() {
        let dir = tempfile::tempdir().unwrap();
        let collected = collect(dir.path(), &globs(&["junit.xml"]), &Limits::default());
        assert!(collected.report.is_none());
        assert!(collected.errors.is_empty());
        assert!(collected.unreadable.is_none(), "no match is not unreadable");
    }

    #[test]
    fn an_unreadable_report_is_named_and_the_others_still_count() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("good.xml"), PASSING).unwrap();
        fs::write(
            dir.path().join("bad.xml"),
            "<testsuite>\n  <testcase name=\"a\"></testsuite>",
        )
        .unwrap();
        let collected = collect(dir.path(), &globs(&["*.xml"]), &Limits::default());
        assert_eq!(collected.files, 1);
        assert_eq!(collected.errors.len(), 1);
        assert!(
            collected.errors[0].starts_with("bad.xml: "),
            "{:?}",
            collected.errors
        );
        let unreadable = collected.unreadable.expect("the results are unknown");
        assert!(
            unreadable.starts_with("bad.xml: malformed JUnit XML at line 2, column "),
            "{unreadable}"
        );
    }

    #[test]
    fn symlinks_and_folders_outside_or_inside_are_not_read() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret.xml"), FAILING).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.xml"), dir.path().join("a.xml"))
            .unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("linked")).unwrap();
        fs::create_dir(dir.path().join("folder.xml")).unwrap();
        let collected = collect(
            dir.path(),
            &globs(&["*.xml", "linked/*.xml"]),
            &Limits::default(),
        );
        assert!(collected.report.is_none(), "{collected:?}");
        assert_eq!(collected.files, 0);
    }

    #[test]
    fn a_secret_in_a_failure_message_is_masked() {
        let dir = tempfile::tempdir().unwrap();
        let leaky = FAILING
            .replace("boom", "expected tok-5ecret-42")
            .replace(">x<", ">got tok-5ecret-42<");
        fs::write(dir.path().join("r.xml"), leaky).unwrap();
        let collected = collect(dir.path(), &globs(&["r.xml"]), &Limits::default())
            .masked(&Masker::new(["tok-5ecret-42"]));
        let failure = &collected.report.unwrap().failures[0];
        assert_eq!(failure.message.as_deref(), Some("expected ***"));
        assert_eq!(failure.text.as_deref(), Some("got ***"));
    }

    #[test]
    fn thousands_of_matches_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..(MAX_REPORT_FILES + 5) {
            fs::write(dir.path().join(format!("r{i}.xml")), PASSING).unwrap();
        }
        let collected = collect(dir.path(), &globs(&["*.xml"]), &Limits::default());
        assert_eq!(collected.files, MAX_REPORT_FILES);
        assert!(collected.unreadable.is_none(), "the files read were fine");
        assert!(
            collected.errors[0].contains("were read"),
            "{:?}",
            collected.errors
        );
    }
}
