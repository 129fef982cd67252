//! Catching up from GitHub (DESIGN principle 6): webhooks get lost, so a tick re-reads the
//! pull request of every preview that is up or wanted up, and when GitHub's state differs
//! from what gitferry last heard (closed, or a newer head), it hands the pull request to the
//! same handlers a webhook reaches, as a `pull_request.closed` or `pull_request.synchronize`
//! delivery in the inbox. So a lost `closed` no longer leaves a preview running until its
//! TTL, a lost `synchronize` is deployed and tested, and both are visible in
//! `gitferry deliveries` like any other delivery.
//!
//! Reads are conditional (`If-None-Match` with the last `ETag`), so an unchanged pull request
//! costs a `304`, which GitHub does not count against the rate limit. The ETags live in this
//! process; a replica that takes the tick over starts with one full read per preview.
//!
//! A delivery written here has the id `resync-<hash of repository, PR, action, head>`, so
//! passes that find the same change write it once; if the real webhook arrives after all,
//! the handlers see the same state twice, which changes nothing (every effect is idempotent).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context as _;
use serde_json::json;
use sha2::{Digest, Sha256};
use tracing::{info, warn};

use crate::app::AppContext;
use crate::github::api::{Conditional, PullSnapshot};
use crate::github::{GithubError, InstallationId};
use crate::inbox::envelope::Envelope;
use crate::jobs::{Scheduler, Tick};
use crate::settings::Settings;
use crate::store::previews::Preview;
use crate::store::{DeliveryState, Inserted, now_ms};

/// The last `ETag` of each (repository, PR).
type Etags = Arc<Mutex<HashMap<(String, i64), String>>>;

/// Registers the `preview.resync` tick, every `GITFERRY_RESYNC_INTERVAL`.
pub fn register(ticks: &mut Scheduler<Arc<AppContext>>, settings: &Settings) {
    let etags: Etags = Arc::default();
    ticks.register(Tick::new(
        "preview.resync",
        settings.resync_interval,
        move |ctx: Arc<AppContext>, _held| {
            let etags = Arc::clone(&etags);
            async move { resync(&ctx, &etags).await }
        },
    ));
}

/// What GitHub says that gitferry did not hear.
#[derive(Debug, PartialEq, Eq)]
enum Missed {
    Nothing,
    Closed,
    NewHead,
}

/// `known_head`: the head gitferry last heard of.
fn missed(known_head: &str, pull: &PullSnapshot) -> Missed {
    if !pull.is_open() {
        Missed::Closed
    } else if pull.head_sha != known_head {
        Missed::NewHead
    } else {
        Missed::Nothing
    }
}

async fn resync(ctx: &AppContext, etags: &Etags) -> anyhow::Result<()> {
    for repository in ctx.store.preview_repositories().await? {
        for preview in ctx.store.previews_of(&repository).await? {
            if !preview.wants_up() {
                continue;
            }
            if let Err(err) = resync_one(ctx, etags, &preview).await {
                warn!(
                    repository = %preview.repository,
                    pr = preview.pr,
                    error = format!("{err:#}"),
                    "cannot re-read the pull request"
                );
            }
        }
    }
    Ok(())
}

async fn resync_one(ctx: &AppContext, etags: &Etags, preview: &Preview) -> anyhow::Result<()> {
    let key = (preview.repository.clone(), preview.pr);
    let etag = etags
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
        .cloned();
    let installation = InstallationId::from_stored(preview.installation_id);
    let gh = ctx.github.installation(installation);
    let pull = match gh
        .pull_if_changed(&preview.repository, preview.pr, etag.as_deref())
        .await
    {
        Ok(Conditional::Unchanged) => return Ok(()),
        Ok(Conditional::Changed { value, etag }) => {
            let mut etags = etags.lock().unwrap_or_else(PoisonError::into_inner);
            match etag {
                Some(etag) => etags.insert(key, etag),
                None => etags.remove(&key),
            };
            value
        }
        Err(GithubError::Status { status: 404, .. }) => {
            // The repository is gone or the App lost access: the installation events say
            // what to do about that, not a guess here.
            return Ok(());
        }
        Err(err) => return Err(err.into()),
    };
    let action = match missed(&preview.head_sha, &pull) {
        Missed::Nothing => return Ok(()),
        Missed::Closed => "closed",
        Missed::NewHead => "synchronize",
    };
    let written = enqueue(ctx, preview, &pull, action).await?;
    if written {
        info!(
            repository = %preview.repository,
            pr = preview.pr,
            action,
            "a pull request changed without a webhook; handling it as if one had come"
        );
    }
    Ok(())
}

/// Writes the delivery GitHub would have sent; `false` when an earlier pass wrote it.
async fn enqueue(
    ctx: &AppContext,
    preview: &Preview,
    pull: &PullSnapshot,
    action: &str,
) -> anyhow::Result<bool> {
    let payload = json!({
        "action": action,
        "number": preview.pr,
        "pull_request": pull.raw,
        "repository": pull.raw["base"]["repo"],
        "installation": { "id": preview.installation_id },
        "sender": pull.raw["user"],
    });
    let body = serde_json::to_string(&payload).context("encoding the delivery")?;
    let envelope = Envelope::parse(body.as_bytes()).context("the pull request's shape")?;
    let id = delivery_id(&preview.repository, preview.pr, action, &pull.head_sha);
    let delivery =
        envelope.into_new_delivery(&id, "pull_request", body, now_ms(), DeliveryState::Pending);
    Ok(ctx.store.insert_delivery(&delivery).await? == Inserted::New)
}

fn delivery_id(repository: &str, pr: i64, action: &str, head: &str) -> String {
    let digest = Sha256::digest(format!("{repository}#{pr}/{action}/{head}"));
    format!("resync-{}", &hex::encode(digest)[..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pull(state: &str, head: &str) -> PullSnapshot {
        PullSnapshot {
            state: state.to_owned(),
            merged: false,
            head_sha: head.to_owned(),
            raw: serde_json::Value::Null,
        }
    }

    #[test]
    fn a_closed_pull_request_is_a_missed_close_whatever_its_head() {
        assert_eq!(missed("a", &pull("closed", "a")), Missed::Closed);
        assert_eq!(missed("a", &pull("closed", "b")), Missed::Closed);
    }

    #[test]
    fn an_open_pull_request_with_another_head_is_a_missed_push() {
        assert_eq!(missed("a", &pull("open", "b")), Missed::NewHead);
        assert_eq!(missed("a", &pull("open", "a")), Missed::Nothing);
    }

    #[test]
    fn the_same_change_found_twice_is_one_delivery() {
        let first = delivery_id("octo/shop", 7, "closed", "abc");
        assert_eq!(first, delivery_id("octo/shop", 7, "closed", "abc"));
        assert_ne!(first, delivery_id("octo/shop", 7, "synchronize", "abc"));
        assert_ne!(first, delivery_id("octo/shop", 8, "closed", "abc"));
        assert!(first.starts_with("resync-") && first.len() == 39);
    }
}
