//! The notifications of releases: `released`, `release_failed`, `rolled_back`, queued in the
//! outbox (sent in the background) with the environment, version, sha, who caused it and
//! links.

use crate::app::AppContext;
use crate::notify::{self, Message};
use crate::repo_config::{NotifyEvent, RepoConfig};
use crate::store::StoreError;
use crate::store::releases::Release;

/// Queues `event` about `release` for the config's channels; once per release and event.
pub async fn announce(
    ctx: &AppContext,
    config: &RepoConfig,
    event: NotifyEvent,
    release: &Release,
    what: &str,
    text: String,
) -> Result<(), StoreError> {
    let github = &ctx.settings.github_url;
    let mut links = Vec::new();
    if let Some(url) = &release.url {
        links.push((release.environment.clone(), url.clone()));
    }
    // A reference, made a link when sent: the outbox keeps no token.
    links.push((
        "release log".to_owned(),
        crate::runs::links::log_ref(&release.id),
    ));
    let message = Message {
        event: notify::event_name(event),
        repository: release.repository.clone(),
        pr: None,
        sha: Some(release.sha.clone()),
        actor: release.actor.clone(),
        title: format!(
            "{} {what} in {} ({})",
            release.version(),
            release.environment,
            release.repository
        ),
        text,
        links,
        commit_url: Some(notify::commit_url(
            github,
            &release.repository,
            &release.sha,
        )),
    };
    let secrets = &ctx.settings.repo_secrets;
    let masker = crate::secrets::repo_masker(config, &release.repository, secrets);
    let message = message.masked(&masker);
    notify::queue(&ctx.store, config, event, &release.id, &message).await?;
    Ok(())
}
