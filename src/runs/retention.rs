//! How long run logs and their links live (`GITFERRY_RUN_RETENTION`, 30 days by default).
//! A log can hold whatever a deploy script or a test printed, and its link sits in PR
//! comments and chat messages for good; keeping both forever would leave every old log one
//! leaked link away. After the retention the link answers `410 Gone` (saying so), and a
//! periodic tick empties the logs, so the store does not keep what nobody may read.

use std::sync::Arc;
use std::time::Duration;

use tracing::info;

use crate::app::AppContext;
use crate::jobs::{Scheduler, Tick};
use crate::settings::Settings;
use crate::store::{duration_ms, now_ms};

/// Whether a run's log is past its retention: its log was purged, or it finished more than
/// `retention` ago. A run still going never expires.
pub fn is_expired(
    finished_at: Option<i64>,
    log_expired_at: Option<i64>,
    now: i64,
    retention: Duration,
) -> bool {
    log_expired_at.is_some()
        || finished_at.is_some_and(|at| at.saturating_add(duration_ms(retention)) <= now)
}

/// How often the purge runs: a quarter of the retention (so a log outlives it by at most a
/// quarter), between a second and an hour.
pub fn purge_interval(retention: Duration) -> Duration {
    (retention / 4).clamp(Duration::from_secs(1), Duration::from_secs(3600))
}

/// The purge as the `runs.purge` tick, every [`purge_interval`]: empties the logs of runs past
/// the retention.
pub fn register(ticks: &mut Scheduler<Arc<AppContext>>, settings: &Settings) {
    ticks.register(Tick::new(
        "runs.purge",
        purge_interval(settings.run_retention),
        |ctx: Arc<AppContext>, _held| async move { purge(&ctx).await },
    ));
}

async fn purge(ctx: &AppContext) -> anyhow::Result<()> {
    let now = now_ms();
    let retention = ctx.settings.run_retention;
    let purged = ctx
        .store
        .purge_run_logs(now - duration_ms(retention), now)
        .await?;
    if purged > 0 {
        info!(purged, "expired run logs purged");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 24 * 3600 * 1000;
    const THIRTY_DAYS: Duration = Duration::from_secs(30 * 24 * 3600);

    #[test]
    fn a_log_expires_when_its_retention_is_over_or_it_was_purged() {
        let now = 100 * DAY;
        assert!(!is_expired(Some(now - 29 * DAY), None, now, THIRTY_DAYS));
        assert!(is_expired(Some(now - 30 * DAY), None, now, THIRTY_DAYS));
        assert!(!is_expired(None, None, now, THIRTY_DAYS), "still running");
        assert!(
            is_expired(Some(now - DAY), Some(now - DAY), now, THIRTY_DAYS),
            "purged under a shorter retention"
        );
    }

    #[test]
    fn the_purge_runs_often_enough_and_not_too_often() {
        assert_eq!(purge_interval(THIRTY_DAYS), Duration::from_secs(3600));
        assert_eq!(
            purge_interval(Duration::from_secs(2)),
            Duration::from_secs(1)
        );
        assert_eq!(
            purge_interval(Duration::from_secs(600)),
            Duration::from_secs(150)
        );
    }
}
