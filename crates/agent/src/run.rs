//! The reconcile loop: level-triggered, never exits on a host error. It
//! only schedules: what a pass does is [`Reconciler::pass`], what the status
//! shows is [`Status`]'s methods.
//!
//! Triggers: a topology update, the periodic resync, a [`Drift`] (the host
//! monitor saw one of the agent's objects change, or the packet filter no
//! longer verifies), and retries with exponential backoff after a failed
//! pass. Each trigger runs one whole pass; bursts are coalesced.

use crate::host::{Drift, Scope};
use crate::reconcile::{Filter, Reconciler};
use crate::source::SourceUpdate;
use crate::status::{SharedStatus, Status};
use capabilities::NotReady;
use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tracing::{error, info, warn};

/// Why a pass runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// First pass.
    Start,
    /// The topology changed.
    Topology,
    /// Periodic resync.
    Resync,
    /// Something changed behind the agent's back.
    Drift(Drift),
    /// Retry after a failed pass.
    Retry,
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trigger::Start => f.write_str("start"),
            Trigger::Topology => f.write_str("topology"),
            Trigger::Resync => f.write_str("resync"),
            Trigger::Drift(what) => write!(f, "drift: {what}"),
            Trigger::Retry => f.write_str("retry"),
        }
    }
}

/// Loop settings.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Periodic resync (default 30 s).
    pub resync: Duration,
    /// How often the packet filter is verified against the kernel.
    pub verify_every: Duration,
    /// First retry delay after a failure; doubles up to `max_backoff`.
    pub min_backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
    /// How often a not-ready agent tries to get a backend again.
    pub backend_retry: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            resync: Duration::from_secs(30),
            verify_every: Duration::from_millis(300),
            min_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
            backend_retry: Duration::from_secs(30),
        }
    }
}

/// What the loop works with.
pub struct Agent<M> {
    /// Runs the passes; holds the backend once there is one.
    pub reconciler: Reconciler,
    /// Topology updates.
    pub source: watch::Receiver<SourceUpdate>,
    /// Probes and chooses a backend; called again every
    /// [`RunOptions::backend_retry`] while it returns [`NotReady`].
    pub make_filter: M,
    /// Drift events from the host monitor.
    pub drift: mpsc::Receiver<Drift>,
    /// What `/status` and `/metrics` show.
    pub status: SharedStatus,
}

/// When the next pass, resync and backend attempt are due.
struct Schedule {
    next: Option<(Trigger, Instant)>,
    resync_at: Instant,
    backoff: Duration,
    backend_due: Instant,
}

impl Schedule {
    fn new(opts: &RunOptions) -> Self {
        let now = Instant::now();
        Schedule {
            next: Some((Trigger::Start, now)),
            resync_at: now + opts.resync,
            backoff: opts.min_backoff,
            backend_due: now,
        }
    }

    /// Asks for a pass at `at` unless one is already pending.
    fn request(&mut self, trigger: Trigger, at: Instant) {
        self.next.get_or_insert((trigger, at));
    }

    /// When the loop must wake up next.
    fn wake_at(&self, need_backend: bool) -> Instant {
        let mut due = self.next.as_ref().map_or(self.resync_at, |(_, at)| *at);
        due = due.min(self.resync_at);
        if need_backend {
            due = due.min(self.backend_due);
        }
        due
    }

    /// The trigger of a pass that is due now, if any (a due resync counts).
    fn take_due(&mut self, opts: &RunOptions) -> Option<Trigger> {
        let now = Instant::now();
        if now >= self.resync_at {
            self.request(Trigger::Resync, now);
        }
        match &self.next {
            Some((_, at)) if *at <= now => {
                self.resync_at = now + opts.resync;
                self.next.take().map(|(t, _)| t)
            }
            _ => None,
        }
    }

    /// After a pass: reset the backoff, or schedule a retry and double it.
    fn pass_finished(&mut self, converged: bool, opts: &RunOptions) {
        if converged {
            self.backoff = opts.min_backoff;
        } else {
            warn!(
                retry_in_ms = self.backoff.as_millis() as u64,
                "pass incomplete; retrying"
            );
            self.next = Some((Trigger::Retry, Instant::now() + self.backoff));
            self.backoff = (self.backoff * 2).min(opts.max_backoff);
        }
    }
}

fn with_status<R>(status: &SharedStatus, f: impl FnOnce(&mut Status) -> R) -> R {
    f(&mut status.write().unwrap_or_else(|p| p.into_inner()))
}

/// Runs the loop until `shutdown` completes.
pub async fn run<M>(opts: RunOptions, agent: Agent<M>, shutdown: impl Future<Output = ()>)
where
    M: Fn() -> Result<Filter, NotReady>,
{
    let Agent {
        mut reconciler,
        mut source,
        make_filter,
        mut drift,
        status,
    } = agent;
    tokio::pin!(shutdown);
    let mut schedule = Schedule::new(&opts);
    let mut verify = tokio::time::interval(opts.verify_every);
    verify.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if reconciler.filter().is_none() && Instant::now() >= schedule.backend_due {
            match make_filter() {
                Ok(f) => {
                    log_backend(&f);
                    with_status(&status, |s| s.backend_chosen(&f));
                    reconciler.set_filter(f);
                    schedule.request(Trigger::Retry, Instant::now());
                }
                Err(nr) => {
                    error!(reason = %nr.reason, fix = %nr.fix, "no usable packet filter; not ready, retrying");
                    with_status(&status, |s| s.backend_unavailable(&nr));
                    schedule.backend_due = Instant::now() + opts.backend_retry;
                }
            }
        }
        let wake = schedule.wake_at(reconciler.filter().is_none());
        tokio::select! {
            _ = &mut shutdown => {
                info!("shutting down; the host keeps the last applied state");
                return;
            }
            changed = source.changed() => {
                if changed.is_err() {
                    warn!("topology source ended; keeping the last state");
                    std::future::pending::<()>().await;
                }
                schedule.next = Some((Trigger::Topology, Instant::now()));
            }
            Some(d) = drift.recv() => {
                schedule.request(Trigger::Drift(d), Instant::now() + Duration::from_millis(10));
            }
            _ = verify.tick(), if schedule.next.is_none() => {
                match reconciler.verify() {
                    Ok(true) => {}
                    Ok(false) => schedule.next = Some((Trigger::Drift(Drift::PacketFilter), Instant::now())),
                    Err(e) => warn!(error = %errchain::Chain(&e), "cannot verify the packet filter"),
                }
            }
            _ = tokio::time::sleep_until(wake.into()) => {}
        }
        let Some(trigger) = schedule.take_due(&opts) else {
            continue;
        };
        let update = source.borrow_and_update().clone();
        let Some(topo) = update.topology.clone() else {
            with_status(&status, |s| s.no_topology(&update));
            continue;
        };
        // A topology change sends only what changed; every other trigger
        // reads the host back in full.
        let scope = match trigger {
            Trigger::Topology => Scope::Changes,
            _ => Scope::Full,
        };
        let outcome = reconciler.pass_scoped(&topo, scope).await;
        if !outcome.converged() {
            warn!(errors = ?outcome.error_lines(), "pass incomplete");
        }
        schedule.pass_finished(outcome.converged(), &opts);
        let ready = reconciler.filter().is_some();
        if with_status(&status, |s| {
            s.pass_done(&update, &topo, &trigger, &outcome, ready)
        }) {
            info!(%trigger, "repaired external change");
        }
    }
}

fn log_backend(f: &Filter) {
    info!(backend = f.backend.name(), why = %f.constructs.why, degraded = f.constructs.degradations.len(), "packet-filter backend chosen");
    for d in &f.constructs.degradations {
        warn!(feature = %d.feature, reason = %d.reason, fix = %d.fix, "running without a feature");
    }
}
