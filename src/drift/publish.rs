//! What a drift check found, and how a pull request is told: the `gitferry/drift` check run on
//! its head and the drift section of its sticky comment, in two parts kept apart: what the pull
//! request **changes** in the environment (Git against Git) and whether the environment **has
//! drifted** from what its branch declares (the cluster against Git). The check concludes
//! `success` when the environment has not drifted (what the pull request changes is
//! information), `neutral` when it has, or `failure` with `drift.on_pr: fail`; a part that
//! could not be made is shown as an error, never as "in sync".

use sha2::{Digest, Sha256};

use super::Report;
use super::render::{self, View};
use crate::app::AppContext;
use crate::deploy::StatusCheck;
use crate::github::{InstallationClient, short_sha};
use crate::repo_config::RepoConfig;
use crate::report::checks::{CheckStatus, Conclusion};
use crate::report::{CheckRunSpec, Section, update_section, upsert_check_run};
use crate::store::drift::DriftCheck;

/// GitHub's limit for a check run's summary and a comment; each part gets part of it.
const PART_LIMIT: usize = 30_000;

/// One part of a report.
#[derive(Clone, Debug)]
pub enum Part {
    Objects(Report),
    /// The provider's `status` command's verdict.
    Status(StatusCheck),
    /// The provider has nothing to compare this way (the command provider has no objects).
    NotApplicable,
    Error(String),
}

impl Part {
    fn drifted(&self) -> Option<bool> {
        match self {
            // Objects that could not be compared leave the answer open, unless others drifted.
            Self::Objects(report) if report.is_in_sync() && report.counts.errors > 0 => None,
            Self::Objects(report) => Some(!report.is_in_sync()),
            Self::Status(status) => Some(status.drifted),
            Self::NotApplicable => Some(false),
            Self::Error(_) => None,
        }
    }

    fn markdown(&self, view: View, in_sync: &str, limit: usize) -> String {
        match self {
            Self::Objects(report) if report.is_in_sync() && report.counts.errors == 0 => {
                in_sync.to_owned()
            }
            Self::Objects(report) => render::markdown_as(report, limit, view),
            Self::Status(status) if !status.drifted => {
                format!("{in_sync} (its `status` command exited 0).")
            }
            Self::Status(status) => format!(
                "Its `status` command reports drift (exit 2):\n\n```\n{}\n```",
                tail(&status.output, limit)
            ),
            Self::NotApplicable => {
                "Not available: this environment's provider has no objects to compare (its \
                 `status` command is its drift check)."
                    .to_owned()
            }
            Self::Error(error) => format!(
                "**Could not be checked**:\n\n{}",
                crate::report::markdown::code_block("text", error)
            ),
        }
    }
}

/// The two parts: `changes` only for a pull request.
#[derive(Clone, Debug)]
pub struct Findings {
    pub changes: Option<Part>,
    pub drift: Part,
}

impl Findings {
    /// The stored outcome: `in_sync`, `drifted` or `error`.
    pub fn outcome(&self) -> &'static str {
        match self.drift.drifted() {
            Some(false) => "in_sync",
            Some(true) => "drifted",
            None => "error",
        }
    }

    /// What changes when the drifted objects and fields change (the sweep notifies then).
    pub fn fingerprint(&self) -> Option<String> {
        match &self.drift {
            Part::Objects(report) if !report.is_in_sync() => Some(report.fingerprint()),
            Part::Status(status) if status.drifted => {
                Some(hex::encode(Sha256::digest(status.output.as_bytes())))
            }
            _ => None,
        }
    }
}

/// The check run and the sticky comment's drift section on the pull request.
pub async fn on_pull_request(
    ctx: &AppContext,
    gh: &InstallationClient,
    config: &RepoConfig,
    check: &DriftCheck,
    findings: &Findings,
) -> anyhow::Result<()> {
    let env = &check.environment;
    let mut text = parts(check, findings, PART_LIMIT);
    if let Some(link) = ctx.run_links.shown(&check.id, &check.token_hash) {
        text.push_str(&format!("\n[The full report]({link})\n"));
    }
    let (conclusion, title) = match findings.drift.drifted() {
        Some(false) => (Conclusion::Success, format!("{env} is in sync with Git")),
        Some(true) => {
            let conclusion = if config.drift.fails_pull_requests() {
                Conclusion::Failure
            } else {
                Conclusion::Neutral
            };
            (conclusion, format!("{env} has drifted from Git"))
        }
        None => {
            let conclusion = if config.drift.fails_pull_requests() {
                Conclusion::Failure
            } else {
                Conclusion::Neutral
            };
            (conclusion, format!("{env}: drift could not be checked"))
        }
    };
    let spec = CheckRunSpec::new(
        &crate::report::checks::check_name("drift"),
        &check.head_sha,
        &format!("drift-{env}-{}", check.pr),
        CheckStatus::Completed(conclusion),
        &title,
        &text,
    );
    upsert_check_run(gh, &check.repository, &spec).await?;
    let bot = ctx.identity().await?.bot_login();
    let number = u64::try_from(check.pr).unwrap_or_default();
    update_section(gh, &check.repository, number, &bot, Section::Drift, &text).await?;
    Ok(())
}

/// Both parts in Markdown, each cut to `limit`.
fn parts(check: &DriftCheck, findings: &Findings, limit: usize) -> String {
    let env = &check.environment;
    let changes = findings.changes.as_ref().map_or_else(String::new, |part| {
        format!(
            "#### What this pull request changes in **{env}**\n\n{}\n\n",
            part.markdown(
                View::Changes,
                "Nothing: the objects it declares are the same as at the base.",
                limit,
            )
        )
    });
    let drift = format!(
        "#### Whether **{env}** has drifted from `{}` (`{}`)\n\n{}\n",
        check.branch,
        short_sha(&check.base_sha),
        findings.drift.markdown(
            View::Drift,
            "In sync: the live objects are what Git declares.",
            limit
        )
    );
    format!("{changes}{drift}")
}

/// The whole report, uncut: what `/runs/<id>` shows.
pub fn full_report(check: &DriftCheck, findings: &Findings) -> String {
    parts(check, findings, usize::MAX)
}

/// The last `limit` bytes of `text`, on a character boundary.
fn tail(text: &str, limit: usize) -> &str {
    let mut start = text.len().saturating_sub(limit);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text.get(start..).unwrap_or_default()
}
