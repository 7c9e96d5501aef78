//! The agent's status: what `/status` returns and `/metrics` counts.

use capabilities::{Degradation, Feature, FeatureState};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, RwLock};

/// The outcome of the last pass.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LastApply {
    /// Unix time in milliseconds when the pass ended.
    pub at_unix_ms: u128,
    /// How long the pass took.
    pub duration_ms: f64,
    /// Whether every step succeeded.
    pub ok: bool,
    /// What triggered it.
    pub trigger: String,
    /// Host objects changed (created + updated + deleted).
    pub host_changes: usize,
    /// How the packet filter was updated: `replace`, `sets`, `unchanged`, `failed`.
    pub packet_filter: String,
}

/// Everything `/status` shows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Status {
    /// This node.
    pub node: String,
    /// `gateway` or `non-gateway` (`unknown` before the first topology).
    pub role: String,
    /// The packet-filter backend in use (`none` when not ready).
    pub backend: String,
    /// Why this backend was chosen.
    pub backend_reason: String,
    /// Can do its core job (a backend and a valid topology).
    pub ready: bool,
    /// The last pass converged the host to the current topology.
    pub converged: bool,
    /// Why not ready, if not.
    pub not_ready_reason: Option<String>,
    /// FNV-1a 64 of the topology source's bytes the agent acts on.
    pub config_digest: String,
    /// Local cluster id.
    pub cluster: String,
    /// Remote cluster ids.
    pub remote_clusters: Vec<String>,
    /// Every feature with its state.
    pub features: BTreeMap<String, FeatureState>,
    /// Features the agent runs without.
    pub degradations: Vec<Degradation>,
    /// Current errors (topology, host objects, kernel refusals).
    pub errors: Vec<String>,
    /// Planning warnings (address collisions, skipped CIDRs).
    pub warnings: Vec<String>,
    /// The last pass.
    pub last_apply: Option<LastApply>,
    /// Counters for /metrics.
    #[serde(skip)]
    pub counters: Counters,
}

/// Monotonic counters and histograms for `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    /// Passes run.
    pub passes: u64,
    /// Passes that failed somewhere.
    pub pass_errors: u64,
    /// Whole packet-filter replaces.
    pub filter_replaces: u64,
    /// Set-only updates.
    pub filter_set_updates: u64,
    /// Drift repairs (a pass triggered by an external change that changed something).
    pub repairs: u64,
    /// Sum of pass durations in seconds.
    pub pass_seconds_sum: f64,
    /// Pass-duration histogram buckets (le seconds -> count).
    pub pass_buckets: [u64; 8],
    /// Topology reloads refused by validation.
    pub topology_errors: u64,
}

/// Histogram bucket bounds (seconds) for pass durations.
pub const BUCKETS: [f64; 8] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5];

impl Counters {
    /// Records one pass duration.
    pub fn observe(&mut self, seconds: f64) {
        self.pass_seconds_sum += seconds;
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                self.pass_buckets[i] += 1;
            }
        }
    }
}

/// The status shared between the loop and the HTTP server.
pub type SharedStatus = Arc<RwLock<Status>>;

impl Status {
    /// Fills `features` and `degradations` from the chosen constructs.
    pub fn set_features(
        &mut self,
        features: &BTreeMap<Feature, FeatureState>,
        degradations: &[Degradation],
    ) {
        self.features = features
            .iter()
            .map(|(f, s)| (f.name().to_string(), s.clone()))
            .collect();
        self.degradations = degradations.to_vec();
    }

    /// The Prometheus text exposition of the status.
    pub fn metrics(&self) -> String {
        let mut m = String::new();
        let c = &self.counters;
        let node = &self.node;
        let _ = writeln!(m, "# HELP routeagent_ready Whether the agent can do its core job.\n# TYPE routeagent_ready gauge");
        let _ = writeln!(
            m,
            "routeagent_ready{{node=\"{node}\"}} {}",
            u8::from(self.ready)
        );
        let _ = writeln!(m, "# HELP routeagent_converged Whether the last pass converged the host.\n# TYPE routeagent_converged gauge");
        let _ = writeln!(
            m,
            "routeagent_converged{{node=\"{node}\"}} {}",
            u8::from(self.converged)
        );
        let _ = writeln!(m, "# HELP routeagent_gateway Whether this node is the active gateway.\n# TYPE routeagent_gateway gauge");
        let _ = writeln!(
            m,
            "routeagent_gateway{{node=\"{node}\"}} {}",
            u8::from(self.role == "gateway")
        );
        let _ = writeln!(m, "# HELP routeagent_backend_info The packet-filter backend in use.\n# TYPE routeagent_backend_info gauge");
        let _ = writeln!(
            m,
            "routeagent_backend_info{{node=\"{node}\",backend=\"{}\"}} 1",
            self.backend
        );
        let _ = writeln!(m, "# HELP routeagent_feature_enabled Whether a feature is in use (0: degraded or unsupported).\n# TYPE routeagent_feature_enabled gauge");
        for (f, s) in &self.features {
            let _ = writeln!(
                m,
                "routeagent_feature_enabled{{node=\"{node}\",feature=\"{f}\"}} {}",
                u8::from(s.enabled)
            );
        }
        let _ = writeln!(m, "# HELP routeagent_remote_clusters Remote clusters in the topology.\n# TYPE routeagent_remote_clusters gauge");
        let _ = writeln!(
            m,
            "routeagent_remote_clusters{{node=\"{node}\"}} {}",
            self.remote_clusters.len()
        );
        let _ = writeln!(
            m,
            "# HELP routeagent_errors Current errors.\n# TYPE routeagent_errors gauge"
        );
        let _ = writeln!(
            m,
            "routeagent_errors{{node=\"{node}\"}} {}",
            self.errors.len()
        );
        for (name, help, v) in [
            ("routeagent_passes_total", "Reconcile passes run.", c.passes),
            (
                "routeagent_pass_errors_total",
                "Reconcile passes that failed.",
                c.pass_errors,
            ),
            (
                "routeagent_filter_replaces_total",
                "Atomic packet-filter replaces.",
                c.filter_replaces,
            ),
            (
                "routeagent_filter_set_updates_total",
                "Set-element-only packet-filter updates.",
                c.filter_set_updates,
            ),
            (
                "routeagent_repairs_total",
                "Passes that repaired external changes.",
                c.repairs,
            ),
            (
                "routeagent_topology_errors_total",
                "Topology reloads refused by validation.",
                c.topology_errors,
            ),
        ] {
            let _ = writeln!(
                m,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name}{{node=\"{node}\"}} {v}"
            );
        }
        let _ = writeln!(m, "# HELP routeagent_pass_duration_seconds Duration of reconcile passes.\n# TYPE routeagent_pass_duration_seconds histogram");
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                m,
                "routeagent_pass_duration_seconds_bucket{{node=\"{node}\",le=\"{b}\"}} {}",
                c.pass_buckets[i]
            );
        }
        let _ = writeln!(
            m,
            "routeagent_pass_duration_seconds_bucket{{node=\"{node}\",le=\"+Inf\"}} {}",
            c.passes
        );
        let _ = writeln!(
            m,
            "routeagent_pass_duration_seconds_sum{{node=\"{node}\"}} {}",
            c.pass_seconds_sum
        );
        let _ = writeln!(
            m,
            "routeagent_pass_duration_seconds_count{{node=\"{node}\"}} {}",
            c.passes
        );
        m
    }
}
