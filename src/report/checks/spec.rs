//! What a feature says about one check run, and the checking and clamping that make it
//! acceptable to GitHub (limits from `POST /repos/{owner}/{repo}/check-runs`).
//!
//! Mistakes a caller could only make by a bug (an empty name, a fourth button, an action
//! identifier GitHub would reject) are errors; text that is merely too long for GitHub is cut,
//! since it usually comes from test output nobody controls.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::report::split::pieces;
use crate::report::units;

/// GitHub's limit for a check run's `summary` and `text`.
pub const MAX_OUTPUT_TEXT: usize = 65_535;
/// Annotations sent for one run at most (50 a request, so 20 requests); the rest are counted
/// in the summary. A run with thousands of annotations helps nobody and costs rate limit.
pub const MAX_ANNOTATIONS: usize = 1_000;
/// GitHub's limit for an annotation's `message` and `raw_details` (64 KB).
const MAX_ANNOTATION_BYTES: usize = 65_535;
const MAX_ANNOTATION_TITLE: usize = 255;
pub const MAX_ACTIONS: usize = 3;
const MAX_ACTION_LABEL: usize = 20;
const MAX_ACTION_DESCRIPTION: usize = 40;
const MAX_ACTION_IDENTIFIER: usize = 20;

/// The id GitHub gives a check run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CheckRunId(pub u64);

impl std::fmt::Display for CheckRunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// How a completed run ended. (`stale` is missing on purpose: only GitHub may set it.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Conclusion {
    ActionRequired,
    Cancelled,
    Failure,
    Neutral,
    Success,
    Skipped,
    TimedOut,
}

/// Where a run is. A completed run always has a conclusion, so GitHub's "conclusion is required
/// when completed" cannot be broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckStatus {
    Queued,
    InProgress,
    Completed(Conclusion),
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Queued => "queued",
            CheckStatus::InProgress => "in_progress",
            CheckStatus::Completed(_) => "completed",
        }
    }

    pub fn conclusion(self) -> Option<Conclusion> {
        match self {
            CheckStatus::Completed(c) => Some(c),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnotationLevel {
    Notice,
    Warning,
    Failure,
}

/// A note on lines of a file, shown in the "Files changed" tab. Serialises as GitHub's
/// annotation object; deserialises from GitHub's list of a run's annotations too.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Annotation {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_column: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_column: Option<u32>,
    #[serde(rename = "annotation_level")]
    pub level: AnnotationLevel,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_details: Option<String>,
}

impl Annotation {
    /// An annotation on one line.
    pub fn new(path: &str, line: u32, level: AnnotationLevel, message: &str) -> Self {
        Annotation {
            path: path.to_owned(),
            start_line: line,
            end_line: line,
            start_column: None,
            end_column: None,
            level,
            message: message.to_owned(),
            title: None,
            raw_details: None,
        }
    }

    pub fn lines(mut self, start: u32, end: u32) -> Self {
        self.start_line = start;
        self.end_line = end;
        self
    }

    pub fn columns(mut self, start: u32, end: u32) -> Self {
        self.start_column = Some(start);
        self.end_column = Some(end);
        self
    }

    pub fn title(mut self, title: &str) -> Self {
        self.title = Some(title.to_owned());
        self
    }

    pub fn raw_details(mut self, details: &str) -> Self {
        self.raw_details = Some(details.to_owned());
        self
    }

    /// Within GitHub's rules: lines from 1, the end not before the start, columns only on a
    /// single line, texts within their sizes; an empty title or details counts as none (GitHub
    /// returns them so).
    pub(crate) fn clamped(mut self) -> Self {
        self.start_line = self.start_line.max(1);
        self.end_line = self.end_line.max(self.start_line);
        if self.start_line != self.end_line {
            self.start_column = None;
            self.end_column = None;
        }
        if let Some(start) = self.start_column.as_mut() {
            *start = (*start).max(1);
        }
        if let (Some(start), Some(end)) = (self.start_column, self.end_column.as_mut()) {
            *end = (*end).max(start);
        }
        self.message = units::prefix_bytes(&self.message, MAX_ANNOTATION_BYTES).to_owned();
        self.title = self
            .title
            .filter(|t| !t.is_empty())
            .map(|t| units::ellipsize(&t, MAX_ANNOTATION_TITLE));
        self.raw_details = self
            .raw_details
            .filter(|d| !d.is_empty())
            .map(|d| units::prefix_bytes(&d, MAX_ANNOTATION_BYTES).to_owned());
        self
    }
}

/// A button on the check run; clicking it sends `check_run.requested_action` with
/// `identifier`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// At most 20 characters (longer is cut).
    pub label: String,
    /// At most 40 characters (longer is cut).
    pub description: String,
    /// At most 20 characters (longer is an error: cutting it would change what it means).
    pub identifier: String,
}

impl Action {
    pub fn new(label: &str, description: &str, identifier: &str) -> Self {
        Action {
            label: label.to_owned(),
            description: description.to_owned(),
            identifier: identifier.to_owned(),
        }
    }
}

/// Everything a check run should show. It is the whole desired state: every call names all
/// the run's annotations, not only new ones (see `plan.rs` for why).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckRunSpec {
    /// `gitferry/<feature>` or `gitferry/<step>`; see [`super::check_name`].
    pub name: String,
    pub head_sha: String,
    /// What identifies this run across replays (say `pr-12/unit` or a job id). The same
    /// `(head_sha, name, external_id)` is the same run, updated in place.
    pub external_id: String,
    pub status: CheckStatus,
    pub title: String,
    /// Markdown, at most 65,535 characters (longer is cut with a note).
    pub summary: String,
    /// Markdown, at most 65,535 characters (longer is cut with a note).
    pub text: Option<String>,
    pub annotations: Vec<Annotation>,
    pub details_url: Option<String>,
    /// At most 3.
    pub actions: Vec<Action>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl CheckRunSpec {
    /// A run with no text, annotations, link, buttons or times.
    pub fn new(
        name: &str,
        head_sha: &str,
        external_id: &str,
        status: CheckStatus,
        title: &str,
        summary: &str,
    ) -> Self {
        CheckRunSpec {
            name: name.to_owned(),
            head_sha: head_sha.to_owned(),
            external_id: external_id.to_owned(),
            status,
            title: title.to_owned(),
            summary: summary.to_owned(),
            text: None,
            annotations: Vec::new(),
            details_url: None,
            actions: Vec::new(),
            started_at: None,
            completed_at: None,
        }
    }

    /// The spec as it will be sent: checked, and cut to GitHub's limits.
    pub fn checked(&self) -> Result<CheckRunSpec, InvalidCheckRun> {
        if self.name.trim().is_empty() {
            return Err(InvalidCheckRun::EmptyName);
        }
        if self.external_id.is_empty() {
            return Err(InvalidCheckRun::EmptyExternalId);
        }
        let sha_len = self.head_sha.len();
        if !(sha_len == 40 || sha_len == 64)
            || !self.head_sha.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(InvalidCheckRun::HeadSha(self.head_sha.clone()));
        }
        if let Some(url) = &self.details_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(InvalidCheckRun::DetailsUrl(url.clone()));
        }
        if self.actions.len() > MAX_ACTIONS {
            return Err(InvalidCheckRun::TooManyActions(self.actions.len()));
        }
        let actions = self
            .actions
            .iter()
            .map(|a| {
                let id_len = units::len(&a.identifier);
                if id_len == 0 || id_len > MAX_ACTION_IDENTIFIER {
                    return Err(InvalidCheckRun::ActionIdentifier(a.identifier.clone()));
                }
                Ok(Action {
                    label: units::ellipsize(&a.label, MAX_ACTION_LABEL),
                    description: units::ellipsize(&a.description, MAX_ACTION_DESCRIPTION),
                    identifier: a.identifier.clone(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(a) = self.annotations.iter().find(|a| a.path.is_empty()) {
            return Err(InvalidCheckRun::AnnotationPath(
                a.message.chars().take(80).collect(),
            ));
        }
        let annotations: Vec<Annotation> = self
            .annotations
            .iter()
            .take(MAX_ANNOTATIONS)
            .cloned()
            .map(Annotation::clamped)
            .collect();
        let left_out = self.annotations.len() - annotations.len();
        let summary = if left_out > 0 {
            format!(
                "{}\n\n_{left_out} more annotations are not shown._",
                self.summary.trim_end()
            )
        } else {
            self.summary.clone()
        };
        Ok(CheckRunSpec {
            summary: fit_output(&summary),
            text: self.text.as_deref().map(fit_output),
            annotations,
            actions,
            ..self.clone()
        })
    }
}

/// A summary or text within [`MAX_OUTPUT_TEXT`]: cut where a comment would be split (so a code
/// fence or `<details>` block is closed, not left dangling), with a note.
fn fit_output(markdown: &str) -> String {
    if units::len(markdown) <= MAX_OUTPUT_TEXT {
        return markdown.to_owned();
    }
    let note = "\n\n_… truncated: the full output is too long for GitHub._";
    let room = MAX_OUTPUT_TEXT - units::len(note);
    match pieces(markdown, room).first() {
        Some(first) => format!("{}{note}", first.render(markdown)),
        None => note.to_owned(),
    }
}

/// GitHub's date-time format, `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A spec GitHub would refuse: a bug in the calling feature, never worth retrying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidCheckRun {
    #[error("a check run needs a name")]
    EmptyName,
    #[error("a check run needs an external_id: it is how gitferry finds the run again")]
    EmptyExternalId,
    #[error("not a commit sha: {0:?}")]
    HeadSha(String),
    #[error("details_url must be an http(s) URL: {0:?}")]
    DetailsUrl(String),
    #[error("GitHub accepts at most {MAX_ACTIONS} actions on a check run, not {0}")]
    TooManyActions(usize),
    #[error("an action identifier must have 1 to {MAX_ACTION_IDENTIFIER} characters: {0:?}")]
    ActionIdentifier(String),
    #[error("an annotation has no path (message: {0:?})")]
    AnnotationPath(String),
}
