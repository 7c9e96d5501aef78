//! [`HealthChecker`]: on non-gateway nodes, pings each remote gateway's
//! `healthCheckIP` every `SUBMARINER_HEALTHCHECKINTERVAL` seconds; after
//! `SUBMARINER_HEALTHCHECKMAXPACKETLOSSCOUNT` consecutive losses the remote
//! endpoint is `error`. Results feed the RouteAgent status
//! ([`HealthChecker::results`]) and `/metrics` ([`HealthChecker::metrics`]).
//!
//! - [`icmp`]: the ICMP echo socket.
//! - `metrics.rs`: the results as a `prometheus-client` collector.

pub mod icmp;
mod metrics;

use crate::config::HealthCheckConfig;
use crate::crd::{go_duration, ConnectionStatus, EndpointSpec, LatencyRttSpec};
use crate::source::SourceState;
use crate::status::RemoteHealth;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Running RTT statistics (nanoseconds).
#[derive(Debug, Clone, Default)]
struct Stats {
    count: u64,
    sum: f64,
    sum_sq: f64,
    min: u128,
    max: u128,
    last: u128,
}

impl Stats {
    fn add(&mut self, rtt: Duration) {
        let ns = rtt.as_nanos();
        self.min = if self.count == 0 {
            ns
        } else {
            self.min.min(ns)
        };
        self.max = self.max.max(ns);
        self.last = ns;
        self.count += 1;
        self.sum += ns as f64;
        self.sum_sq += (ns as f64) * (ns as f64);
    }
    fn mean(&self) -> f64 {
        self.sum / self.count.max(1) as f64
    }
    fn std_dev(&self) -> f64 {
        let m = self.mean();
        (self.sum_sq / self.count.max(1) as f64 - m * m)
            .max(0.0)
            .sqrt()
    }
    fn spec(&self) -> Option<LatencyRttSpec> {
        let d = |ns: f64| go_duration(Duration::from_nanos(ns as u64));
        (self.count > 0).then(|| LatencyRttSpec {
            last: d(self.last as f64),
            min: d(self.min as f64),
            average: d(self.mean()),
            max: d(self.max as f64),
            std_dev: d(self.std_dev()),
        })
    }
}

/// One remote endpoint being checked.
#[derive(Debug, Clone)]
struct Entry {
    spec: EndpointSpec,
    ip: Option<IpAddr>,
    sent: u64,
    received: u64,
    lost_in_row: u32,
    stats: Stats,
    status: ConnectionStatus,
    message: String,
}

struct Inner {
    cfg: HealthCheckConfig,
    /// Keyed by cluster id.
    entries: BTreeMap<String, Entry>,
    tasks: BTreeMap<String, (Option<IpAddr>, JoinHandle<()>)>,
}

/// Pings remote gateways; cheap to clone (shared state).
#[derive(Clone)]
pub struct HealthChecker {
    inner: Arc<Mutex<Inner>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for (_, t) in self.tasks.values() {
            t.abort();
        }
    }
}

impl HealthChecker {
    /// A checker with no targets.
    pub fn new(cfg: HealthCheckConfig) -> Self {
        HealthChecker {
            inner: Arc::new(Mutex::new(Inner {
                cfg,
                entries: BTreeMap::new(),
                tasks: BTreeMap::new(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the remote endpoints to check; `ping` false records them
    /// unchecked (`why` says why, e.g. this node is the gateway). Starts and
    /// stops one pinging task per endpoint; must be called inside a Tokio
    /// runtime (and in the network namespace to ping from).
    pub fn set_targets(&self, targets: &[EndpointSpec], ping: bool, why: &str) {
        let mut g = self.lock();
        let ping = ping && g.cfg.enabled;
        let why = if g.cfg.enabled {
            why.to_string()
        } else {
            "health checking is disabled (SUBMARINER_HEALTHCHECKENABLED=false)".into()
        };
        let mut entries = BTreeMap::new();
        for spec in targets {
            let ip = spec.health_check_ip_v4().ok().flatten();
            let prev = g
                .entries
                .remove(&spec.cluster_id)
                .filter(|e| e.ip == ip && ping);
            let mut e = prev.unwrap_or(Entry {
                spec: spec.clone(),
                ip,
                sent: 0,
                received: 0,
                lost_in_row: 0,
                stats: Stats::default(),
                status: ConnectionStatus::Connecting,
                message: String::new(),
            });
            e.spec = spec.clone();
            if !ping {
                (e.status, e.message) = (ConnectionStatus::None, why.clone());
            } else if ip.is_none() {
                (e.status, e.message) = (
                    ConnectionStatus::None,
                    format!(
                        "the remote Endpoint of cluster {:?} has no healthCheckIP; not checked",
                        spec.cluster_id
                    ),
                );
            }
            entries.insert(spec.cluster_id.clone(), e);
        }
        g.entries = entries;
        // Stop tasks whose target went away or changed address.
        let wanted: BTreeMap<String, Option<IpAddr>> = g
            .entries
            .iter()
            .filter(|_| ping)
            .filter(|(_, e)| e.ip.is_some())
            .map(|(k, e)| (k.clone(), e.ip))
            .collect();
        let stale: Vec<String> = g
            .tasks
            .iter()
            .filter(|(k, (ip, _))| wanted.get(*k) != Some(ip))
            .map(|(k, _)| k.clone())
            .collect();
        for k in stale {
            if let Some((_, t)) = g.tasks.remove(&k) {
                t.abort();
            }
        }
        for (k, ip) in wanted {
            if let (std::collections::btree_map::Entry::Vacant(slot), Some(IpAddr::V4(v4))) =
                (g.tasks.entry(k.clone()), ip)
            {
                slot.insert((
                    ip,
                    tokio::spawn(ping_loop(Arc::downgrade(&self.inner), k, v4)),
                ));
            }
        }
    }

    /// Follows the source: checks the remote endpoints of each new state
    /// unless `node` is the active gateway. Runs until the sender is gone.
    pub async fn follow(self, mut rx: watch::Receiver<SourceState>, node: String) {
        loop {
            let (targets, gateway) = {
                let s = rx.borrow_and_update();
                let gw = s.topology.as_ref().is_some_and(|t| t.is_gateway(&node));
                (s.remote_endpoints.clone(), gw)
            };
            self.set_targets(
                &targets,
                !gateway,
                "this node is the active gateway; the gateway engine checks the connections",
            );
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    /// Spawns [`HealthChecker::follow`].
    pub fn spawn(&self, rx: watch::Receiver<SourceState>, node: String) -> JoinHandle<()> {
        tokio::spawn(self.clone().follow(rx, node))
    }

    /// Current verdicts, by cluster id, for [`crate::AgentReport::remote`].
    pub fn results(&self) -> Vec<RemoteHealth> {
        self.lock()
            .entries
            .values()
            .map(|e| RemoteHealth {
                spec: e.spec.clone(),
                status: e.status,
                message: e.message.clone(),
                latency: e.stats.spec(),
            })
            .collect()
    }

    /// The OpenMetrics text of the results alone (the agent's `/metrics`
    /// collects them through [`prometheus_client::collector::Collector`]).
    pub fn metrics(&self) -> String {
        let mut r = prometheus_client::registry::Registry::default();
        r.register_collector(Box::new(self.clone()));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode_registry(&mut out, &r);
        out
    }
}

/// Updates `cluster`'s entry with one ping result.
fn record(g: &mut Inner, cluster: &str, result: Result<Option<Duration>, String>) {
    let max = g.cfg.max_packet_loss;
    let Some(e) = g.entries.get_mut(cluster) else {
        return;
    };
    let ip = e.ip.map(|i| i.to_string()).unwrap_or_default();
    match result {
        Ok(Some(rtt)) => {
            e.sent += 1;
            e.received += 1;
            e.lost_in_row = 0;
            e.stats.add(rtt);
            (e.status, e.message) = (ConnectionStatus::Connected, String::new());
        }
        Ok(None) => {
            e.sent += 1;
            e.lost_in_row += 1;
            if e.lost_in_row >= max {
                e.status = ConnectionStatus::Error;
                e.message = format!("Failed to successfully ping the remote endpoint IP {ip:?}: {} pings lost in a row", e.lost_in_row);
            }
        }
        Err(why) => (e.status, e.message) = (ConnectionStatus::Error, why),
    }
}

/// Pings `ip` every interval and records each result for `cluster`.
/// Holds only a weak reference, so dropping the checker stops it.
async fn ping_loop(inner: Weak<Mutex<Inner>>, cluster: String, ip: std::net::Ipv4Addr) {
    let with = |f: &mut dyn FnMut(&mut Inner)| -> bool {
        match inner.upgrade() {
            Some(a) => {
                f(&mut a.lock().unwrap_or_else(|p| p.into_inner()));
                true
            }
            None => false,
        }
    };
    let mut interval = Duration::from_secs(1);
    if !with(&mut |g| interval = g.cfg.interval) {
        return;
    }
    let mut pinger = match icmp::Pinger::new(ip) {
        Ok(p) => p,
        Err(e) => {
            with(&mut |g| record(g, &cluster, Err(e.to_string())));
            return;
        }
    };
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seq: u16 = 0;
    loop {
        tick.tick().await;
        seq = seq.wrapping_add(1);
        let r = pinger
            .ping(seq, interval)
            .await
            .map_err(|e| format!("cannot ping {ip}: {e}"));
        if !with(&mut |g| record(g, &cluster, r.clone())) {
            return;
        }
    }
}
