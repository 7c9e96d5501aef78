//! The reconcile loop: level-triggered, never exits on a host error.
//!
//! Triggers: a topology update, the periodic resync, a drift event (the
//! host monitor saw one of the agent's objects change, or the packet filter
//! no longer verifies), and retries with exponential backoff after a failed
//! pass. Each trigger runs one whole pass; bursts are coalesced.

use crate::reconcile::{Filter, Reconciler};
use crate::source::SourceUpdate;
use crate::status::{LastApply, SharedStatus};
use capabilities::NotReady;
use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
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
    Drift(String),
    /// Retry after a failed pass.
    Retry,
}

impl Trigger {
    fn name(&self) -> String {
        match self {
            Trigger::Start => "start".into(),
            Trigger::Topology => "topology".into(),
            Trigger::Resync => "resync".into(),
            Trigger::Drift(what) => format!("drift: {what}"),
            Trigger::Retry => "retry".into(),
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

/// Runs the loop until `shutdown` completes.
///
/// `make_filter` probes and chooses a backend; it is called again every
/// `backend_retry` while it returns [`NotReady`]. `drift` carries events from
/// the host monitor.
pub async fn run(
    opts: RunOptions,
    mut reconciler: Reconciler,
    mut source: watch::Receiver<SourceUpdate>,
    make_filter: impl Fn() -> Result<Filter, NotReady>,
    mut drift: mpsc::Receiver<String>,
    status: SharedStatus,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut backend_due = Instant::now();
    let mut next: Option<(Trigger, Instant)> = Some((Trigger::Start, Instant::now()));
    let mut resync_at = Instant::now() + opts.resync;
    let mut backoff = opts.min_backoff;
    let mut verify = tokio::time::interval(opts.verify_every);
    verify.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if reconciler.filter().is_none() && Instant::now() >= backend_due {
            match make_filter() {
                Ok(f) => {
                    info!(backend = f.backend.name(), why = %f.constructs.why, degraded = f.constructs.degradations.len(), "packet-filter backend chosen");
                    for d in &f.constructs.degradations {
                        warn!(feature = %d.feature, reason = %d.reason, fix = %d.fix, "running without a feature");
                    }
                    let mut s = status.write().unwrap_or_else(|p| p.into_inner());
                    s.backend = f.backend.name().to_string();
                    s.backend_reason = f.constructs.why.clone();
                    s.set_features(&f.constructs.features, &f.constructs.degradations);
                    s.not_ready_reason = None;
                    drop(s);
                    reconciler.set_filter(f);
                    next.get_or_insert((Trigger::Retry, Instant::now()));
                }
                Err(nr) => {
                    error!(reason = %nr.reason, fix = %nr.fix, "no usable packet filter; not ready, retrying");
                    let mut s = status.write().unwrap_or_else(|p| p.into_inner());
                    s.ready = false;
                    s.backend = "none".into();
                    s.not_ready_reason = Some(nr.to_string());
                    backend_due = Instant::now() + opts.backend_retry;
                }
            }
        }
        let due = next
            .as_ref()
            .map(|(_, at)| *at)
            .unwrap_or(resync_at)
            .min(resync_at);
        let due = if reconciler.filter().is_none() {
            due.min(backend_due)
        } else {
            due
        };
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
                next = Some((Trigger::Topology, Instant::now()));
            }
            Some(what) = drift.recv() => {
                next.get_or_insert((Trigger::Drift(what), Instant::now() + Duration::from_millis(10)));
            }
            _ = verify.tick() => {
                if next.is_none() {
                    match reconciler.verify() {
                        Ok(true) => {}
                        Ok(false) => next = Some((Trigger::Drift("packet filter".into()), Instant::now())),
                        Err(e) => warn!(error = %e, "cannot verify the packet filter"),
                    }
                }
            }
            _ = tokio::time::sleep_until(due.into()) => {
                if Instant::now() >= resync_at && next.is_none() {
                    next = Some((Trigger::Resync, Instant::now()));
                }
            }
        }
        let Some((trigger, at)) = next.clone() else {
            continue;
        };
        if Instant::now() < at {
            continue;
        }
        next = None;
        resync_at = Instant::now() + opts.resync;
        let update = source.borrow_and_update().clone();
        let Some(topo) = update.topology.clone() else {
            let mut s = status.write().unwrap_or_else(|p| p.into_inner());
            s.config_digest = update.digest.clone();
            s.ready = false;
            s.converged = false;
            s.errors = update.error.iter().cloned().collect();
            s.counters.topology_errors += u64::from(update.error.is_some());
            s.not_ready_reason = Some(update.error.unwrap_or_else(|| "no topology yet".into()));
            continue;
        };
        let outcome = reconciler.pass(&topo).await;
        let converged = outcome.converged();
        if converged {
            backoff = opts.min_backoff;
        } else {
            warn!(errors = ?outcome.errors, retry_in_ms = backoff.as_millis() as u64, "pass incomplete; retrying");
            next = Some((Trigger::Retry, Instant::now() + backoff));
            backoff = (backoff * 2).min(opts.max_backoff);
        }
        // Publish digest, outcome and role together: a reader never sees the
        // new digest next to the previous pass's result.
        let mut s = status.write().unwrap_or_else(|p| p.into_inner());
        s.config_digest = update.digest.clone();
        s.errors = update.error.iter().cloned().collect();
        if update.error.is_some() {
            s.counters.topology_errors += 1;
        }
        s.role = outcome.role.to_string();
        s.cluster = topo.cluster.id.clone();
        s.remote_clusters = topo.remote_clusters.iter().map(|r| r.id.clone()).collect();
        s.ready = reconciler.filter().is_some();
        // A refused reload keeps the agent converged on the last good topology,
        // but the digest shows the refused input.
        s.converged = converged && update.error.is_none();
        s.errors.extend(outcome.errors.iter().cloned());
        s.warnings = outcome.warnings.clone();
        s.counters.passes += 1;
        s.counters.observe(outcome.duration.as_secs_f64());
        if !converged {
            s.counters.pass_errors += 1;
        }
        match outcome.filter {
            crate::reconcile::FilterUpdate::Replaced => s.counters.filter_replaces += 1,
            crate::reconcile::FilterUpdate::Sets => s.counters.filter_set_updates += 1,
            _ => {}
        }
        let repaired = matches!(trigger, Trigger::Drift(_))
            && (outcome.host_changes > 0
                || outcome.filter == crate::reconcile::FilterUpdate::Replaced);
        if repaired {
            s.counters.repairs += 1;
            info!(trigger = %trigger.name(), "repaired external change");
        }
        s.last_apply = Some(LastApply {
            at_unix_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0),
            duration_ms: outcome.duration.as_secs_f64() * 1e3,
            ok: converged,
            trigger: trigger.name(),
            host_changes: outcome.host_changes,
            packet_filter: outcome.filter.as_str().to_string(),
        });
    }
}
