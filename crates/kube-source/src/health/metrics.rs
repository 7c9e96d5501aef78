//! The health checker's results as `prometheus-client` metrics, collected
//! on each scrape: one sample per remote endpoint that has a verdict,
//! labelled with its cluster and health-check IP.

use super::{Entry, HealthChecker};
use crate::crd::ConnectionStatus;
use agent::metrics::{Escaped, Label};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use std::fmt;

/// One family: name (counters without `_total`), help, type, and the value
/// of an entry (None: no sample for it).
type Family = (
    &'static str,
    &'static str,
    MetricType,
    fn(&Entry) -> Option<f64>,
);

const FAMILIES: [Family; 5] = [
    (
        "routeagent_remote_endpoint_up",
        "1 if the remote gateway's health-check IP answers pings, 0 if it failed, absent before a verdict",
        MetricType::Gauge,
        |e| match e.status {
            ConnectionStatus::Connected => Some(1.0),
            ConnectionStatus::Error => Some(0.0),
            _ => None,
        },
    ),
    (
        "routeagent_remote_endpoint_rtt_seconds",
        "Last health-check round-trip time",
        MetricType::Gauge,
        |e| (e.stats.count > 0).then(|| e.stats.last as f64 / 1e9),
    ),
    (
        "routeagent_remote_endpoint_pings_sent",
        "Health-check echo requests sent",
        MetricType::Counter,
        |e| Some(e.sent as f64),
    ),
    (
        "routeagent_remote_endpoint_pings_received",
        "Health-check echo replies received",
        MetricType::Counter,
        |e| Some(e.received as f64),
    ),
    (
        "routeagent_remote_endpoint_lost_in_row",
        "Consecutive health-check pings lost",
        MetricType::Gauge,
        |e| Some(f64::from(e.lost_in_row)),
    ),
];

impl fmt::Debug for HealthChecker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthChecker")
            .field("endpoints", &self.lock().entries.len())
            .finish()
    }
}

impl Collector for HealthChecker {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let g = self.lock();
        for (name, help, kind, value) in FAMILIES {
            let samples: Vec<([Label; 2], f64)> = g
                .entries
                .iter()
                .filter(|(_, e)| e.status != ConnectionStatus::None)
                .filter_map(|(cluster, e)| {
                    let labels = [
                        ("cluster", Escaped(cluster.clone())),
                        ("ip", Escaped(e.ip?.to_string())),
                    ];
                    Some((labels, value(e)?))
                })
                .collect();
            let mut family = encoder.encode_descriptor(name, help, None, kind)?;
            for (labels, v) in samples {
                let sample = family.encode_family(&labels)?;
                match kind {
                    MetricType::Counter => ConstCounter::new(v as u64).encode(sample)?,
                    _ => ConstGauge::new(v).encode(sample)?,
                }
            }
        }
        Ok(())
    }
}
