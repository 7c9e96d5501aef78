//! [`run`]: the northbound side as a task of its own, so that the host
//! side never waits for the database. It converges on every change of the
//! wanted state and on a periodic resync (which also repairs objects
//! someone else deleted), at once when the connection of a converged pass
//! closes (checked every [`LIVENESS`]: a database that goes away is seen
//! in about a second, not at the next resync), retries a failed pass after
//! a short delay (the session's backoff keeps reconnects spaced), and
//! publishes an
//! [`NbStatus`] saying what it did or why it could not: a database that is
//! down or refuses a transaction is a `degraded` status, never an exit.

use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;

use crate::desired::Desired;
use crate::sync::NbSync;

/// How often a converged database is checked again.
pub const RESYNC: Duration = Duration::from_secs(60);
/// How soon a failed pass is retried.
pub const RETRY: Duration = Duration::from_secs(2);
/// How often a converged runner checks that its connection is still open.
pub const LIVENESS: Duration = Duration::from_secs(1);

/// What the northbound side is doing, for `/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NbStatus {
    /// The database endpoint.
    pub endpoint: String,
    /// `idle` (nothing to write: see `ovn::topo`), `converged`, or
    /// `degraded` (see `error`).
    pub state: &'static str,
    /// Whether a connection is open.
    pub connected: bool,
    /// What this node writes: `gateway` (policies and static routes to its
    /// own `ovn-k8s-mp0`), `interconnect` (its zone's policies to the
    /// gateway's transit switch address), or empty (nothing).
    pub role: &'static str,
    /// The next hop of what it writes (with `gateway`, this node's
    /// `ovn-k8s-mp0` address).
    pub nexthop: Option<std::net::IpAddr>,
    /// Why the last pass failed, with its causes.
    pub error: Option<String>,
    /// Policies routeagent owns on the router after the last good pass.
    pub policies: usize,
    /// Static routes routeagent owns after the last good pass.
    pub routes: usize,
    /// Passes that changed the database.
    pub changes: u64,
}

impl NbStatus {
    /// The status before the first pass.
    pub fn new(endpoint: &str) -> NbStatus {
        NbStatus {
            endpoint: endpoint.to_string(),
            state: "idle",
            connected: false,
            role: "",
            nexthop: None,
            error: None,
            policies: 0,
            routes: 0,
            changes: 0,
        }
    }
}

/// Runs until `want`'s sender is dropped. `None` means this node is not
/// the gateway: the database is left alone (the gateway's agent owns the
/// objects, whichever node it is).
pub async fn run(
    mut sync: NbSync,
    mut want: watch::Receiver<Option<Desired>>,
    status: watch::Sender<NbStatus>,
    resync: Duration,
    retry: Duration,
) {
    let mut next = tokio::time::Instant::now();
    // Whether the last pass converged over an open connection.
    let mut watch_connection = false;
    loop {
        tokio::select! {
            changed = want.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            _ = tokio::time::sleep_until(next) => {}
            _ = tokio::time::sleep(LIVENESS), if watch_connection => {
                if sync.is_connected() {
                    continue;
                }
                tracing::info!("OVN northbound connection closed; checking the database now");
            }
        }
        let current = want.borrow_and_update().clone();
        let Some(desired) = current else {
            status.send_modify(|s| {
                s.state = "idle";
                s.role = "";
                s.nexthop = None;
                s.error = None;
                s.connected = sync.is_connected();
            });
            watch_connection = false;
            next = tokio::time::Instant::now() + resync;
            continue;
        };
        status.send_if_modified(|s| {
            let changed = s.role != desired.role || s.nexthop != desired.nexthop;
            s.role = desired.role;
            s.nexthop = desired.nexthop;
            changed
        });
        let delay = match sync.reconcile(&desired).await {
            Ok(report) => {
                status.send_modify(|s| {
                    s.state = "converged";
                    s.error = None;
                    s.connected = sync.is_connected();
                    s.policies = desired.policies.len();
                    s.routes = desired.routes.len();
                    s.changes += u64::from(report.changed());
                });
                watch_connection = sync.is_connected();
                resync
            }
            Err(e) => {
                let text = errchain::Chain(&e).to_string();
                tracing::warn!(error = %text, "OVN northbound side degraded; the host side is unaffected");
                status.send_modify(|s| {
                    s.state = "degraded";
                    s.error = Some(text);
                    s.connected = sync.is_connected();
                });
                watch_connection = false;
                retry
            }
        };
        next = tokio::time::Instant::now() + delay;
    }
}
