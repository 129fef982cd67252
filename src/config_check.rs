//! The `gitferry/config` check: a config change is validated where it is made.
//!
//! - A push to the default branch that touches `.github/gitferry.yml`: the new file is checked
//!   on the pushed commit; a valid one becomes the repository's fallback, an invalid one is
//!   reported with an annotation per error and the last valid config stays in use.
//! - A pull request whose head has a different config than the default branch: the head's file
//!   is checked on the head commit, so a bad config is caught before it merges. It is only
//!   validated, never used (DESIGN.md principle 4).

use std::sync::Arc;

use crate::app::AppContext;
use crate::config_source;
use crate::github::InstallationClient;
use crate::repo_config::{self, CONFIG_PATH, ConfigError, ConfigErrors};
use crate::report::checks::{Annotation, AnnotationLevel, CheckStatus, Conclusion, check_name};
use crate::report::{CheckRunSpec, upsert_check_run};
use crate::router::{Event, HandlerError, Router};

pub fn register(router: &mut Router) {
    router.on("push", on_push);
    for action in ["opened", "reopened", "synchronize"] {
        router.on(&format!("pull_request.{action}"), on_pull_request);
    }
}

fn installation(ctx: &AppContext, event: &Event) -> Result<InstallationClient, HandlerError> {
    Ok(ctx.github.installation(event.installation()?))
}

async fn on_push(ctx: Arc<AppContext>, event: Arc<Event>) -> Result<(), HandlerError> {
    let push = event.push()?;
    let repo = &push.repository;
    let deleted_branch = push.after.chars().all(|c| c == '0');
    if push.git_ref != format!("refs/heads/{}", repo.default_branch)
        || !push.touches(CONFIG_PATH)
        || deleted_branch
    {
        return Ok(());
    }
    // Before any handler of this push loads the config (`Event::config`; this handler is
    // registered first): the push's handlers then read the new file, not the cached one.
    ctx.configs.invalidate(&repo.full_name);
    let gh = installation(&ctx, &event)?;
    let fetched = config_source::fetch(&gh, &repo.full_name, &push.after)
        .await
        .map_err(HandlerError::retry)?;
    let Some((blob_sha, bytes)) = fetched else {
        // The file was removed: the repository is unconfigured from now on.
        ctx.store.forget_config(&repo.full_name).await?;
        return Ok(());
    };
    let errors = errors_in(
        config_source::parse_and_remember(
            &ctx.store,
            &repo.full_name,
            &blob_sha,
            bytes,
            &ctx.settings.repo_secrets,
        )
        .await?,
    );
    report(
        &gh,
        &repo.full_name,
        &push.after,
        &errors,
        Origin::DefaultBranch,
    )
    .await
}

async fn on_pull_request(ctx: Arc<AppContext>, event: Arc<Event>) -> Result<(), HandlerError> {
    let pr = event.pull_request()?;
    let repo = &pr.repository;
    let gh = installation(&ctx, &event)?;
    let at_head = config_source::fetch(&gh, &repo.full_name, &pr.pull_request.head.sha)
        .await
        .map_err(HandlerError::retry)?;
    let Some((head_blob, bytes)) = at_head else {
        return Ok(()); // the PR has no config (removing it needs no validation)
    };
    // The default branch's blob, through the delivery's config: loaded once for all of its
    // handlers (previews and the pipeline act on the same one).
    let loaded = event.config(&ctx).await?;
    let default_blob = loaded.blob_sha().map(str::to_owned);
    if default_blob.as_deref() == Some(head_blob.as_str()) {
        return Ok(()); // the PR does not change the config
    }
    let errors = errors_in(config_source::parse_for(
        &bytes,
        &repo.full_name,
        &ctx.settings.repo_secrets,
    ));
    tracing::info!(
        pr = pr.pull_request.number,
        errors = errors.len(),
        "config change checked"
    );
    report(
        &gh,
        &repo.full_name,
        &pr.pull_request.head.sha,
        &errors,
        Origin::PullRequest,
    )
    .await
}

/// "Re-run" on a `gitferry/config` check: validate the file at that commit again.
pub async fn recheck(ctx: &AppContext, event: &Event, sha: &str) -> Result<(), HandlerError> {
    let repo = event.payload_repository()?;
    let gh = installation(ctx, event)?;
    let fetched = config_source::fetch(&gh, &repo.full_name, sha)
        .await
        .map_err(HandlerError::retry)?;
    let Some((_, bytes)) = fetched else {
        return Ok(());
    };
    let errors = errors_in(config_source::parse_for(
        &bytes,
        &repo.full_name,
        &ctx.settings.repo_secrets,
    ));
    report(&gh, &repo.full_name, sha, &errors, Origin::Rerun).await
}

/// The errors of a parse, none when it succeeded.
fn errors_in(parsed: Result<repo_config::RepoConfig, ConfigErrors>) -> Vec<ConfigError> {
    match parsed {
        Ok(_) => Vec::new(),
        Err(errors) => errors.into_iter().collect(),
    }
}

/// Where the checked commit comes from, which decides what the check says.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    DefaultBranch,
    PullRequest,
    Rerun,
}

/// The `gitferry/config` check run on `sha`.
async fn report(
    gh: &InstallationClient,
    repo: &str,
    sha: &str,
    errors: &[ConfigError],
    origin: Origin,
) -> Result<(), HandlerError> {
    let (conclusion, title, summary) = if errors.is_empty() {
        let summary = match origin {
            Origin::DefaultBranch => {
                format!("`{CONFIG_PATH}` is valid; gitferry uses it from this commit on.")
            }
            Origin::PullRequest => {
                format!("`{CONFIG_PATH}` as changed by this pull request is valid.")
            }
            Origin::Rerun => format!("`{CONFIG_PATH}` at this commit is valid."),
        };
        (
            Conclusion::Success,
            "Valid configuration".to_owned(),
            summary,
        )
    } else {
        let title = match errors.len() {
            1 => "1 error in the configuration".to_owned(),
            n => format!("{n} errors in the configuration"),
        };
        let mut summary = format!(
            "`{CONFIG_PATH}` has errors; each is annotated on its line. Check it locally with \
             `gitferry config check {CONFIG_PATH}`.\n\n"
        );
        summary.push_str(match origin {
            Origin::DefaultBranch => {
                "gitferry keeps using the last valid configuration until this is fixed."
            }
            Origin::PullRequest | Origin::Rerun => {
                "Fix it before merging: on the default branch gitferry would ignore it."
            }
        });
        (Conclusion::Failure, title, summary)
    };
    let mut spec = CheckRunSpec::new(
        &check_name("config"),
        sha,
        &format!("config:{sha}"),
        CheckStatus::Completed(conclusion),
        &title,
        &summary,
    );
    spec.annotations = errors.iter().map(annotation).collect();
    upsert_check_run(gh, repo, &spec).await?;
    Ok(())
}

fn annotation(error: &ConfigError) -> Annotation {
    let line = u32::try_from(error.line).unwrap_or(u32::MAX).max(1);
    let column = u32::try_from(error.column).unwrap_or(u32::MAX).max(1);
    let title = if error.path.is_empty() {
        "configuration".to_owned()
    } else {
        error.path.clone()
    };
    Annotation::new(CONFIG_PATH, line, AnnotationLevel::Failure, &error.message)
        .columns(column, column)
        .title(&title)
}
