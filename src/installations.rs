//! Keeps the table of installations and their repositories in step with GitHub.
//!
//! Webhooks say what changed; on `created` and `unsuspend` the full repository list is also
//! read back from GitHub, because a missed `installation_repositories` delivery would
//! otherwise leave the table wrong until the next change (DESIGN.md principle 6).

use std::sync::Arc;

use crate::app::AppContext;
use crate::github::InstallationId;
use crate::github::events::{AppInstallation, RepositoryRef};
use crate::router::{Event, HandlerError, Router};
use crate::store::installations::{Installation, InstalledRepository};
use crate::store::now_ms;

pub fn register(router: &mut Router) {
    router.on("installation", handle_installation);
    router.on(
        "installation_repositories",
        handle_installation_repositories,
    );
}

fn to_installation(installation: &AppInstallation) -> Installation {
    Installation {
        id: installation.id,
        account_login: installation.account.login.clone(),
        account_type: installation.account.kind.clone(),
    }
}

fn to_installed(repositories: &[RepositoryRef]) -> Vec<InstalledRepository> {
    repositories
        .iter()
        .map(|r| InstalledRepository {
            repository_id: r.id,
            full_name: r.full_name.clone(),
        })
        .collect()
}

async fn handle_installation(ctx: Arc<AppContext>, event: Arc<Event>) -> Result<(), HandlerError> {
    let payload = event.installation_event()?;
    let installation = to_installation(&payload.installation);
    let now = now_ms();
    match event.action.as_deref() {
        Some("created") => {
            ctx.store.upsert_installation(&installation, now).await?;
            ctx.store
                .add_installation_repositories(
                    installation.id,
                    &to_installed(&payload.repositories),
                )
                .await?;
            sync_repositories(&ctx, installation.id).await
        }
        Some("unsuspend") | Some("new_permissions_accepted") => {
            ctx.store.upsert_installation(&installation, now).await?;
            ctx.store
                .set_installation_suspended(installation.id, None, now)
                .await?;
            sync_repositories(&ctx, installation.id).await
        }
        Some("suspend") => {
            ctx.store.upsert_installation(&installation, now).await?;
            Ok(ctx
                .store
                .set_installation_suspended(installation.id, Some(now), now)
                .await?)
        }
        Some("deleted") => Ok(ctx.store.delete_installation(installation.id).await?),
        _ => Ok(()),
    }
}

async fn handle_installation_repositories(
    ctx: Arc<AppContext>,
    event: Arc<Event>,
) -> Result<(), HandlerError> {
    let payload = event.installation_repositories()?;
    let installation = to_installation(&payload.installation);
    ctx.store
        .upsert_installation(&installation, now_ms())
        .await?;
    ctx.store
        .add_installation_repositories(installation.id, &to_installed(&payload.repositories_added))
        .await?;
    let removed: Vec<i64> = payload.repositories_removed.iter().map(|r| r.id).collect();
    ctx.store
        .remove_installation_repositories(installation.id, &removed)
        .await?;
    Ok(())
}

/// Replaces the stored repository list with the one GitHub reports now.
async fn sync_repositories(ctx: &AppContext, installation_id: i64) -> Result<(), HandlerError> {
    let id = InstallationId::from_stored(installation_id);
    let repositories: Vec<RepositoryRef> = ctx
        .github
        .installation(id)
        .paginate(
            "/installation/repositories?per_page=100",
            Some("repositories"),
        )
        .await?;
    ctx.store
        .replace_installation_repositories(installation_id, &to_installed(&repositories))
        .await?;
    Ok(())
}
