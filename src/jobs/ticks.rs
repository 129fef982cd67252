//! Periodic ticks that run on exactly one replica at a time.
//!
//! A feature registers a [`Tick`] (a name, a period and an async function) the way it
//! registers a webhook handler; [`Scheduler::run`] drives every registered tick until shutdown.
//! For each tick, every replica loops: take or renew the tick's lease in the store
//! (`store::ticks`), and when it holds the lease and the tick is due, run it. While a run
//! lasts the workers' [`Heartbeat`] keeps renewing the lease; once this replica lost it (e.g.
//! it stalled longer than the lease), the run is told to stop through [`Held::stopped`].
//! A replica that dies simply stops renewing: another takes the tick over once the lease has
//! lapsed, so within one lease period. On a clean shutdown the lease is given back at once.
//!
//! Clocks: leases compare Unix milliseconds written by the replicas themselves, as every
//! lease in the store does, so replicas' clocks must agree to well within a lease (NTP).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt as _;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::Heartbeat;
use crate::store::{Store, duration_ms, lease_owner, now_ms};

type TickFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;
type TickFn<C> = Arc<dyn Fn(C, Held) -> TickFuture + Send + Sync>;

/// One periodic piece of background work.
pub struct Tick<C> {
    name: &'static str,
    every: Duration,
    run: TickFn<C>,
}

impl<C> Tick<C> {
    /// `run` is called every `every` on the replica holding the tick's lease. It gets the
    /// shared context and the proof that the lease is held.
    pub fn new<F, Fut>(name: &'static str, every: Duration, run: F) -> Self
    where
        F: Fn(C, Held) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        Self {
            name,
            every,
            run: Arc::new(move |ctx, held| Box::pin(run(ctx, held))),
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// Proof that this replica holds a tick's lease (in the manner of bors's
/// `ExclusiveLockProof`): work that must happen on one replica at a time takes it as an
/// argument, so the types show where the lease is held.
#[derive(Clone, Debug)]
pub struct Held {
    tick: &'static str,
    stop: CancellationToken,
}

impl Held {
    pub fn tick(&self) -> &'static str {
        self.tick
    }

    /// Cancelled when the lease was lost or the process shuts down: a long run should stop
    /// at its next safe point.
    pub fn stopped(&self) -> &CancellationToken {
        &self.stop
    }
}

/// The registered ticks and how long their leases last.
pub struct Scheduler<C> {
    ticks: Vec<Tick<C>>,
    lease: Duration,
}

impl<C: Clone + Send + Sync + 'static> Scheduler<C> {
    /// `lease`: how long a replica holds a tick without renewing it, so also how long a tick
    /// waits for a new holder after its holder died. Renewed every third of it.
    pub fn new(lease: Duration) -> Self {
        Self {
            ticks: Vec::new(),
            lease: lease.max(Duration::from_millis(30)),
        }
    }

    pub fn register(&mut self, tick: Tick<C>) -> &mut Self {
        self.ticks.push(tick);
        self
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.ticks.iter().map(Tick::name).collect()
    }

    /// Drives every tick until `shutdown`; returns once each has given its lease back.
    pub async fn run(self, store: Store, ctx: C, shutdown: CancellationToken) {
        let holder = lease_owner("tick");
        let mut tasks = tokio::task::JoinSet::new();
        for tick in self.ticks {
            let driver = Driver {
                tick,
                store: store.clone(),
                holder: holder.clone(),
                lease: self.lease,
            };
            tasks.spawn(driver.drive(ctx.clone(), shutdown.clone()));
        }
        while let Some(done) = tasks.join_next().await {
            if let Err(err) = done {
                warn!(error = %err, "a tick driver panicked");
            }
        }
    }
}

/// One tick on this replica.
struct Driver<C> {
    tick: Tick<C>,
    store: Store,
    holder: String,
    lease: Duration,
}

impl<C: Clone + Send + Sync + 'static> Driver<C> {
    fn renew_every(&self) -> Duration {
        self.lease / 3
    }

    /// Takes or renews the lease: `Some(next_due_at)` while this replica holds it.
    async fn hold(&self) -> Option<i64> {
        let now = now_ms();
        let until = now + duration_ms(self.lease);
        match self
            .store
            .take_tick_lease(self.tick.name, &self.holder, until, now)
            .await
        {
            Ok(held) => held,
            Err(err) => {
                warn!(tick = self.tick.name, error = %err, "cannot reach the tick's lease");
                None
            }
        }
    }

    async fn drive(self, ctx: C, shutdown: CancellationToken) {
        let mut holding = false;
        loop {
            let due = self.hold().await;
            if due.is_some() != holding {
                holding = due.is_some();
                info!(tick = self.tick.name, holding, "tick lease changed hands");
            }
            let mut wait = self.renew_every();
            if let Some(due) = due {
                let now = now_ms();
                if now >= due {
                    self.run_once(ctx.clone(), &shutdown).await;
                    wait = wait.min(self.tick.every);
                } else {
                    let until_due = u64::try_from(due - now).unwrap_or(0);
                    wait = wait.min(Duration::from_millis(until_due));
                }
            }
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = shutdown.cancelled() => break,
            }
        }
        if holding
            && let Err(err) = self
                .store
                .release_tick_lease(self.tick.name, &self.holder)
                .await
        {
            warn!(tick = self.tick.name, error = %err, "cannot give the tick's lease back");
        }
    }

    /// One run under a heartbeat; its end (and any error) is recorded with the next due time.
    async fn run_once(&self, ctx: C, shutdown: &CancellationToken) {
        let name = self.tick.name;
        match self
            .store
            .start_tick_run(name, &self.holder, now_ms())
            .await
        {
            Ok(true) => {}
            Ok(false) => return,
            Err(err) => {
                warn!(tick = name, error = %err, "cannot record the tick's start");
                return;
            }
        }
        let stop = shutdown.child_token();
        let held = Held {
            tick: name,
            stop: stop.clone(),
        };
        let run = AssertUnwindSafe((self.tick.run)(ctx, held)).catch_unwind();
        tokio::pin!(run);
        let lost = Heartbeat::new(self.lease).until_lost(name, |until| async move {
            let held = self
                .store
                .take_tick_lease(name, &self.holder, until, now_ms())
                .await?;
            Ok(held.is_some())
        });
        // Once the lease is lost the run is told to stop, and awaited: it ends at its next
        // safe point, and its end is recorded only if the lease is still this replica's.
        let outcome = tokio::select! {
            outcome = &mut run => outcome,
            () = lost => {
                warn!(tick = name, "lost the tick's lease during a run; stopping it");
                stop.cancel();
                run.await
            }
        };
        let error = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(err)) => Some(format!("{err:#}")),
            Err(_) => Some("the tick panicked".to_owned()),
        };
        if let Some(error) = &error {
            warn!(tick = name, error = error.as_str(), "tick failed");
        }
        let now = now_ms();
        let next = now + duration_ms(self.tick.every);
        if let Err(err) = self
            .store
            .finish_tick_run(name, &self.holder, now, next, error.as_deref())
            .await
        {
            warn!(tick = name, error = %err, "cannot record the tick's end");
        }
    }
}
