//! The loop both background executors (previews, pipeline steps) run: claim one piece of due
//! work from the store under a lease, hand it to a task, and when nothing is due wait for an
//! in-process wake-up or the poll interval (other processes write work too). At most `slots`
//! pieces are in hand at once; on shutdown the loop stops claiming and waits for the tasks,
//! which saw the cancellation and give their work back.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use tracing::{error, warn};

use crate::store::StoreError;

/// How one executor claims.
pub struct ClaimLoop<'a> {
    /// What is claimed, for the logs (`preview work`, `a pipeline step`).
    pub what: &'static str,
    pub slots: usize,
    /// Notified when work was written in this process.
    pub wake: &'a Notify,
    pub poll: Duration,
    pub shutdown: &'a CancellationToken,
}

impl ClaimLoop<'_> {
    /// Runs until shutdown: `claim` takes one due piece (or none), `work` does it, given a
    /// token that is cancelled on shutdown.
    pub async fn run<T, C, CF, W, WF>(&self, mut claim: C, work: W)
    where
        T: Send + 'static,
        C: FnMut() -> CF,
        CF: Future<Output = Result<Option<T>, StoreError>>,
        W: Fn(T, CancellationToken) -> WF,
        WF: Future<Output = ()> + Send + 'static,
    {
        let slots = Arc::new(Semaphore::new(self.slots.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            let permit = tokio::select! {
                permit = Arc::clone(&slots).acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
                () = self.shutdown.cancelled() => break,
            };
            let idle = match claim().await {
                Ok(Some(item)) => {
                    let job = work(item, self.shutdown.child_token());
                    tasks.spawn(async move {
                        job.await;
                        drop(permit);
                    });
                    None
                }
                Ok(None) => Some(true),
                Err(err) => {
                    error!(error = %err, "claiming {} failed", self.what);
                    Some(false)
                }
            };
            if let Some(wakeable) = idle {
                tokio::select! {
                    () = self.wake.notified(), if wakeable => {}
                    () = tokio::time::sleep(self.poll) => {}
                    () = self.shutdown.cancelled() => break,
                }
            }
            while let Some(done) = tasks.try_join_next() {
                if let Err(err) = done {
                    warn!(error = %err, "a task doing {} panicked", self.what);
                }
            }
        }
        while tasks.join_next().await.is_some() {}
    }
}
