//! Dry-run mode (`gitferry receive --dry-run`): writes are shown, not sent.
//!
//! Lets an operator replay a webhook payload against the real decision code and see every
//! comment, check run and merge it *would* make, without credentials and without touching
//! GitHub. Reads still go to GitHub when credentials exist, since the decisions depend on them.

use std::io::Write;
use std::sync::{Mutex, PoisonError};

use http::Method;

/// A write that dry-run mode suppressed.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedCall {
    pub method: Method,
    pub path: String,
    pub body: Option<serde_json::Value>,
}

#[derive(Default)]
pub(crate) struct DryRunLog {
    calls: Mutex<Vec<RecordedCall>>,
}

impl DryRunLog {
    /// Records the call and prints it as `DRY-RUN <METHOD> <path>` followed by the pretty JSON
    /// body. A closed stdout is not a reason to fail the (simulated) effect, so write errors are
    /// ignored.
    pub(crate) fn record(&self, call: RecordedCall) {
        let mut text = format!("DRY-RUN {} {}\n", call.method, call.path);
        if let Some(body) = &call.body
            && let Ok(pretty) = serde_json::to_string_pretty(body)
        {
            text.push_str(&pretty);
            text.push('\n');
        }
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(call);
    }

    pub(crate) fn calls(&self) -> Vec<RecordedCall> {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
