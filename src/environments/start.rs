//! Starting a release, whoever moved the branch: a push GitHub told us about, or gitferry's
//! own merge of a promotion. The release is recorded once (whichever process or redelivery
//! comes first), supersedes the environment's releases in flight, is audited, gets its head's
//! steps queued, and wakes the executor.

use tracing::info;

use crate::app::AppContext;
use crate::flow::{Deploy, Head, executor::Flow};
use crate::repo_config::RepoConfig;
use crate::router::HandlerError;
use crate::store::audit::AuditEntry;
use crate::store::now_ms;
use crate::store::releases::{NewRelease, Recorded};

/// What the audit log says about the release.
pub struct Why<'a> {
    pub outcome: &'a str,
    /// How the branch moved: "a push to latest", "gitferry's merge of #12".
    pub how: &'a str,
    pub delivery_id: Option<&'a str>,
}

/// Records and starts `new`; `None` when it was recorded already.
pub async fn release(
    ctx: &AppContext,
    config: &RepoConfig,
    new: &NewRelease<'_>,
    why: &Why<'_>,
) -> Result<Option<Recorded>, HandlerError> {
    let Some(recorded) = ctx.store.record_release(new, now_ms()).await? else {
        info!(repository = %new.repository, environment = new.environment, sha = %new.sha,
              "this commit is released already");
        return Ok(None);
    };
    ctx.releases.cancel(&recorded.superseded);
    let release = &recorded.release;
    ctx.store
        .record_audit(&AuditEntry {
            at: now_ms(),
            actor: new.actor.unwrap_or("unknown").to_owned(),
            action: "release".to_owned(),
            repository: new.repository.to_owned(),
            pr: None,
            environment: Some(new.environment.to_owned()),
            sha: Some(new.sha.to_owned()),
            outcome: why.outcome.to_owned(),
            detail: Some(format!(
                "{} from {}{}",
                release.version(),
                why.how,
                if recorded.superseded.is_empty() {
                    String::new()
                } else {
                    format!("; superseded {} in flight", recorded.superseded.len())
                }
            )),
            delivery_id: why.delivery_id.map(str::to_owned),
            source_id: Some(format!("release:{}", release.id)),
        })
        .await?;
    info!(
        repository = %new.repository,
        version = %release.version(),
        sha = %new.sha,
        "release recorded"
    );
    // The steps first: the release's deploy, once woken, looks for them.
    if !config.pipeline.is_empty() {
        let head = Head {
            repository: new.repository,
            pr: 0,
            installation_id: new.installation_id,
            sha: new.sha,
            branch: new.branch,
            base_ref: "",
            default_branch: new.default_branch,
            actor: new.actor,
        };
        Flow::new(ctx, head)
            .pushed(config, true, Deploy::Coming)
            .await?;
    }
    ctx.releases.wake();
    Ok(Some(recorded))
}
