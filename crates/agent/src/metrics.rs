//! `/metrics`: the agent's Prometheus (OpenMetrics text) exposition through
//! `prometheus-client`. Counters and histograms are live metrics updated as
//! passes run; gauges are read from the [`Status`] at scrape time, so the
//! exposition never disagrees with `/status`. Every sample carries the
//! `node` label.

use crate::status::Status;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::Arc;

/// Extra metrics from another part of the agent (e.g. the Kubernetes
/// health checker), collected on each scrape.
pub type ExtraMetrics = Arc<dyn Collector>;

/// The content type of [`encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Histogram bucket bounds (seconds) for pass and phase durations.
pub const BUCKETS: [f64; 8] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5];

/// A label value escaped as the exposition format requires (`\`, `"` and
/// newlines); `prometheus-client` 0.24 writes values verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Escaped(pub String);

impl EncodeLabelValue for Escaped {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        for c in self.0.chars() {
            match c {
                '\\' => encoder.write_str("\\\\")?,
                '"' => encoder.write_str("\\\"")?,
                '\n' => encoder.write_str("\\n")?,
                c => encoder.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// One label, escaped.
pub type Label = (&'static str, Escaped);

/// Counters and histograms, updated by [`Status`]'s methods. Clones share
/// the same values.
#[derive(Debug, Clone)]
pub struct Counters {
    /// Passes run.
    pub passes: Counter,
    /// Passes that failed somewhere.
    pub pass_errors: Counter,
    /// Whole packet-filter replaces.
    pub filter_replaces: Counter,
    /// Set-only updates.
    pub filter_set_updates: Counter,
    /// Drift repairs (a pass triggered by an external change that changed something).
    pub repairs: Counter,
    /// Topology reloads refused by validation.
    pub topology_errors: Counter,
    /// Pass durations.
    pub pass_seconds: Histogram,
    /// Durations of each phase of a pass (`facts`, `plan`, `host`, `filter`).
    pub phase_seconds: Family<[Label; 1], Histogram>,
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            passes: Counter::default(),
            pass_errors: Counter::default(),
            filter_replaces: Counter::default(),
            filter_set_updates: Counter::default(),
            repairs: Counter::default(),
            topology_errors: Counter::default(),
            pass_seconds: Histogram::new(BUCKETS),
            phase_seconds: Family::new_with_constructor(|| Histogram::new(BUCKETS)),
        }
    }
}

impl Counters {
    /// Records one phase's duration.
    pub fn observe_phase(&self, phase: &'static str, seconds: f64) {
        self.phase_seconds
            .get_or_create(&[("phase", Escaped(phase.into()))])
            .observe(seconds);
    }
}

/// The whole exposition for `status`, plus `extra`.
pub fn encode(status: &Status, extra: Option<&ExtraMetrics>) -> String {
    let node = [(Cow::Borrowed("node"), Cow::Owned(escape(&status.node)))];
    let mut r = Registry::with_labels(node.into_iter());
    let gauge = |v: bool| ConstGauge::new(i64::from(v));
    r.register(
        "routeagent_ready",
        "Whether the agent can do its core job",
        gauge(status.ready),
    );
    r.register(
        "routeagent_converged",
        "Whether the last pass converged the host",
        gauge(status.converged),
    );
    r.register(
        "routeagent_gateway",
        "Whether this node is the active gateway",
        gauge(status.role == Some(plan::Role::Gateway)),
    );
    r.register(
        "routeagent_datapath_supported",
        "Whether the cluster's network plugin has a datapath this agent programs (0: it programs nothing)",
        gauge(status.datapath != "unsupported"),
    );
    if let Some(nb) = &status.ovn {
        r.register(
            "routeagent_ovn_northbound_up",
            "Whether the OVN northbound side is not degraded (0: the database is down, refuses or is misconfigured; see /status ovn.error)",
            gauge(nb.state != "degraded"),
        );
        r.register(
            "routeagent_ovn_northbound_connected",
            "Whether a connection to the OVN northbound database is open",
            gauge(nb.connected),
        );
    }
    let backend = Family::<[Label; 1], Gauge>::default();
    backend
        .get_or_create(&[("backend", Escaped(status.backend.clone()))])
        .set(1);
    r.register(
        "routeagent_backend_info",
        "The packet-filter backend in use",
        backend,
    );
    let features = Family::<[Label; 1], Gauge>::default();
    for (f, s) in &status.features {
        features
            .get_or_create(&[("feature", Escaped(f.clone()))])
            .set(i64::from(s.enabled));
    }
    r.register(
        "routeagent_feature_enabled",
        "Whether a feature is in use (0: degraded or unsupported)",
        features,
    );
    r.register(
        "routeagent_remote_clusters",
        "Remote clusters in the topology",
        ConstGauge::new(status.remote_clusters.len() as i64),
    );
    r.register(
        "routeagent_errors",
        "Current errors",
        ConstGauge::new(status.errors.len() as i64),
    );
    let c = &status.counters;
    for (name, help, counter) in [
        ("routeagent_passes", "Reconcile passes run", &c.passes),
        (
            "routeagent_pass_errors",
            "Reconcile passes that failed",
            &c.pass_errors,
        ),
        (
            "routeagent_filter_replaces",
            "Atomic packet-filter replaces",
            &c.filter_replaces,
        ),
        (
            "routeagent_filter_set_updates",
            "Set-element-only packet-filter updates",
            &c.filter_set_updates,
        ),
        (
            "routeagent_repairs",
            "Passes that repaired external changes",
            &c.repairs,
        ),
        (
            "routeagent_topology_errors",
            "Topology reloads refused by validation",
            &c.topology_errors,
        ),
    ] {
        r.register(name, help, counter.clone());
    }
    r.register(
        "routeagent_pass_duration_seconds",
        "Duration of reconcile passes",
        c.pass_seconds.clone(),
    );
    r.register(
        "routeagent_pass_phase_duration_seconds",
        "Duration of each phase of a reconcile pass (facts, plan, host, filter)",
        c.phase_seconds.clone(),
    );
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode_registry(&mut out, &r);
    if let Some(extra) = extra {
        let mut er = Registry::default();
        er.register_collector(Box::new(Shared(extra.clone())));
        let _ = prometheus_client::encoding::text::encode_registry(&mut out, &er);
    }
    let _ = prometheus_client::encoding::text::encode_eof(&mut out);
    out
}

/// An [`ExtraMetrics`] as a registry's collector.
#[derive(Debug)]
struct Shared(ExtraMetrics);

impl Collector for Shared {
    fn encode(
        &self,
        encoder: prometheus_client::encoding::DescriptorEncoder,
    ) -> Result<(), std::fmt::Error> {
        self.0.encode(encoder)
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_labels_and_escaping() {
        let s = Status {
            node: "a\"1\\".into(),
            ready: true,
            backend: "nftables".into(),
            ..Default::default()
        };
        s.counters.passes.inc();
        s.counters.observe_phase("host", 0.002);
        let m = encode(&s, None);
        assert!(m.contains("routeagent_ready{node=\"a\\\"1\\\\\"} 1"), "{m}");
        assert!(m.contains("# TYPE routeagent_passes counter"), "{m}");
        assert!(m.contains("routeagent_passes_total{node="), "{m}");
        assert!(
            m.contains("routeagent_backend_info{node=\"a\\\"1\\\\\",backend=\"nftables\"} 1"),
            "{m}"
        );
        assert!(
            m.contains(
                "_phase_duration_seconds_bucket{node=\"a\\\"1\\\\\",le=\"0.005\",phase=\"host\"} 1"
            ),
            "{m}"
        );
        assert!(m.ends_with("# EOF\n"), "{m}");
    }
}
