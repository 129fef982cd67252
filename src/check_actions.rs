//! Routing `check_run.rerequested` ("Re-run") and `check_run.requested_action` (a button on a
//! check run) to the feature that owns the check, by its name `gitferry/<feature>`.
//!
//! The identifier of a requested action is read from the raw payload: octocrab's typed event
//! drops it. Checks whose feature has no re-run yet (or that are not gitferry's) are ignored.

use std::sync::Arc;

use tracing::debug;

use crate::app::AppContext;
use crate::report::checks::{feature_of, requested_action, rerequested};
use crate::router::{Event, HandlerError, Router};

pub fn register(router: &mut Router) {
    router.on("check_run.rerequested", on_rerequested);
    router.on("check_run.requested_action", on_requested_action);
}

async fn on_rerequested(ctx: Arc<AppContext>, event: Arc<Event>) -> Result<(), HandlerError> {
    let Some(run) = rerequested(&event.payload) else {
        return Ok(());
    };
    match feature_of(&run.name) {
        Some("config") => crate::config_check::recheck(&ctx, &event, &run.head_sha).await,
        other => {
            debug!(check = %run.name, feature = ?other, "re-run of a check no feature owns");
            Ok(())
        }
    }
}

async fn on_requested_action(_ctx: Arc<AppContext>, event: Arc<Event>) -> Result<(), HandlerError> {
    if let Some(action) = requested_action(&event.payload) {
        debug!(
            check = %action.name,
            identifier = %action.identifier,
            "check-run action no feature owns yet"
        );
    }
    Ok(())
}
