//! Shared helpers: a short-timeout config, object builders, waiting.

use crate::fake::FakeApi;
use kube_source::{KubeConfig, SourceState};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::watch;

pub const NS: &str = "submariner-operator";

/// Logs to the test output when RUST_LOG is set.
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// Config for node `node` of cluster-a with short timeouts.
pub fn cfg(node: &str) -> KubeConfig {
    let m: BTreeMap<&str, &str> = [
        ("SUBMARINER_NAMESPACE", NS),
        ("SUBMARINER_CLUSTERID", "cluster-a"),
        ("SUBMARINER_CLUSTERCIDR", "10.244.0.0/16"),
        ("SUBMARINER_SERVICECIDR", "10.96.0.0/16"),
        ("NODE_NAME", node),
        ("ROUTEAGENT_KUBE_GRACE_SECONDS", "1"),
        ("ROUTEAGENT_KUBE_RETRY_MIN_MS", "20"),
        ("ROUTEAGENT_KUBE_RETRY_MAX_MS", "100"),
    ]
    .into_iter()
    .collect();
    let mut c = KubeConfig::from_lookup(|k| m.get(k).map(|v| v.to_string())).unwrap();
    c.os_hostname = node.to_string();
    c
}

pub fn node(name: &str, ip: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": {},
        "status": {"addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}]}
    })
}

/// An Endpoint shaped like the ones Submariner's gateway writes.
pub fn endpoint(cluster: &str, host: &str, ip: &str, subnets: &[&str]) -> Value {
    let cable = format!("submariner-cable-{cluster}-{}", ip.replace('.', "-"));
    json!({
        "apiVersion": "submariner.io/v1", "kind": "Endpoint",
        "metadata": {"name": format!("{cluster}-{cable}"), "namespace": NS, "labels": {"submariner-io/clusterID": cluster}},
        "spec": {
            "cluster_id": cluster, "cable_name": cable, "hostname": host,
            "private_ip": ip, "public_ip": "", "nat_enabled": false, "backend": "libreswan",
            "backend_config": {"natt-discovery-port": "4490", "preferred-server": "false", "udp-port": "4500"},
            "healthCheckIP": format!("10.{}.0.1", 200 + ip.rsplit('.').next().unwrap().parse::<u8>().unwrap() % 50),
            "subnets": subnets
        }
    })
}

/// A fake with nodes gw-1, gw-2, worker-1 and gw-1's local Endpoint.
pub fn cluster() -> FakeApi {
    init_tracing();
    let api = FakeApi::new();
    api.put("nodes", node("gw-1", "192.168.1.10"));
    api.put("nodes", node("gw-2", "192.168.1.11"));
    api.put("nodes", node("worker-1", "192.168.1.20"));
    api.put(
        "endpoints",
        endpoint(
            "cluster-a",
            "gw-1",
            "192.168.1.10",
            &["10.244.0.0/16", "10.96.0.0/16"],
        ),
    );
    api
}

/// Waits (at most `secs`) until `pred` holds for the published state.
pub async fn wait_for(
    rx: &mut watch::Receiver<SourceState>,
    secs: f64,
    what: &str,
    pred: impl Fn(&SourceState) -> bool,
) -> SourceState {
    let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(secs);
    loop {
        {
            let s = rx.borrow_and_update();
            if pred(&s) {
                return s.clone();
            }
        }
        if tokio::time::timeout_at(deadline, rx.changed())
            .await
            .is_err()
        {
            let s = rx.borrow();
            panic!("timed out after {secs}s waiting for {what}; last state: healthy={} reason={:?} topology={:?}", s.healthy, s.reason, s.topology);
        }
    }
}

/// Remote cluster ids and their subnets, from a state.
pub fn remotes(s: &SourceState) -> Vec<(String, Vec<String>)> {
    s.topology
        .as_ref()
        .map(|t| {
            t.remote_clusters
                .iter()
                .map(|r| {
                    (
                        r.id.clone(),
                        r.subnets.iter().map(ToString::to_string).collect(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
