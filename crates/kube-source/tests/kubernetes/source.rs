//! The source driven through the fake API server.

use crate::common::{cfg, cluster, endpoint, node, remotes, wait_for, NS};
use crate::fake::Logged;
use kube_source::SourceState;
use std::time::{Duration, Instant};

fn lists(log: &[Logged], res: &str) -> usize {
    log.iter()
        .filter(|l| l.method == "GET" && !l.is_watch() && l.path.ends_with(res) && l.code == 200)
        .count()
}

fn watches(log: &[Logged], res: &str) -> Vec<Logged> {
    log.iter()
        .filter(|l| l.is_watch() && l.path.ends_with(res))
        .cloned()
        .collect()
}

fn gateway(s: &SourceState) -> Option<String> {
    s.topology
        .as_ref()?
        .active_gateway()
        .map(|g| g.hostname.clone())
}

const B: &str = "cluster-b-submariner-cable-cluster-b-172-18-0-5";

#[tokio::test]
async fn endpoint_create_update_delete() {
    let fake = cluster();
    let (mut rx, task) = kube_source::start(fake.client(NS), cfg("worker-1"));
    let s = wait_for(&mut rx, 5.0, "first topology", |s| {
        s.healthy && s.topology.is_some()
    })
    .await;
    assert_eq!(gateway(&s).as_deref(), Some("gw-1"));
    assert!(s.reason.is_none());
    let t = s.topology.unwrap();
    assert_eq!(t.cluster.nodes.len(), 3);
    assert!(t.remote_clusters.is_empty());

    fake.put(
        "endpoints",
        endpoint("cluster-b", "b-gw", "172.18.0.5", &["10.245.0.0/16"]),
    );
    let s = wait_for(&mut rx, 5.0, "cluster-b", |s| !remotes(s).is_empty()).await;
    assert_eq!(
        remotes(&s),
        [("cluster-b".to_string(), vec!["10.245.0.0/16".to_string()])]
    );
    assert_eq!(s.remote_endpoints[0].hostname, "b-gw");

    // Subnets change: honoured (Submariner ignores Endpoint updates).
    let mut e = endpoint(
        "cluster-b",
        "b-gw",
        "172.18.0.5",
        &["10.245.0.0/16", "10.98.0.0/16"],
    );
    e["spec"]["healthCheckIP"] = "10.245.0.1".into();
    fake.put("endpoints", e);
    let s = wait_for(&mut rx, 5.0, "updated subnets", |s| {
        remotes(s).first().is_some_and(|r| r.1.len() == 2)
    })
    .await;
    assert_eq!(
        s.topology.unwrap().remote_clusters[0]
            .gateway
            .health_check_ip
            .unwrap()
            .to_string(),
        "10.245.0.1"
    );

    // A node joins.
    fake.put("nodes", node("worker-2", "192.168.1.21"));
    wait_for(&mut rx, 5.0, "worker-2", |s| {
        s.topology
            .as_ref()
            .is_some_and(|t| t.node("worker-2").is_ok())
    })
    .await;

    // Another namespace is not watched.
    let mut other = endpoint("cluster-z", "z-gw", "172.18.0.9", &["10.249.0.0/16"]);
    other["metadata"]["namespace"] = "other".into();
    fake.put("endpoints", other);
    assert!(fake.delete("endpoints", NS, B));
    wait_for(&mut rx, 5.0, "cluster-b gone", |s| remotes(s).is_empty()).await;
    let log = fake.requests();
    assert_eq!(
        (lists(&log, "/endpoints"), lists(&log, "/nodes")),
        (1, 1),
        "one list each, then watches only"
    );
    task.abort();
}

#[tokio::test]
async fn gateway_moves_between_nodes() {
    let fake = cluster();
    let (mut rx, task) = kube_source::start(fake.client(NS), cfg("gw-2"));
    let s = wait_for(&mut rx, 5.0, "gw-1 active", |s| {
        gateway(s).as_deref() == Some("gw-1")
    })
    .await;
    assert!(!s.topology.unwrap().is_gateway("gw-2"));
    // Failover: gw-1's Endpoint goes, gw-2's comes.
    fake.delete(
        "endpoints",
        NS,
        "cluster-a-submariner-cable-cluster-a-192-168-1-10",
    );
    let s = wait_for(&mut rx, 5.0, "no gateway", |s| {
        s.topology
            .as_ref()
            .is_some_and(|t| t.cluster.gateways.is_empty())
    })
    .await;
    assert!(s.healthy);
    fake.put(
        "endpoints",
        endpoint("cluster-a", "gw-2", "192.168.1.11", &["10.244.0.0/16"]),
    );
    let s = wait_for(&mut rx, 5.0, "gw-2 active", |s| {
        gateway(s).as_deref() == Some("gw-2")
    })
    .await;
    assert!(s.topology.unwrap().is_gateway("gw-2"));
    // gw-1 comes back as a newer Endpoint: this node (gw-2) still has one, so it stays active.
    fake.put(
        "endpoints",
        endpoint("cluster-a", "gw-1", "192.168.1.10", &["10.244.0.0/16"]),
    );
    let s = wait_for(&mut rx, 5.0, "two gateways", |s| {
        s.topology
            .as_ref()
            .is_some_and(|t| t.cluster.gateways.len() == 2)
    })
    .await;
    assert_eq!(gateway(&s).as_deref(), Some("gw-2"));
    task.abort();
}

#[tokio::test]
async fn duplicate_remote_endpoints_newest_wins() {
    let fake = cluster();
    fake.put(
        "endpoints",
        endpoint("cluster-b", "b-gw-1", "172.18.0.5", &["10.245.0.0/16"]),
    );
    let (mut rx, task) = kube_source::start(fake.client(NS), cfg("worker-1"));
    remote_gateway_is(&mut rx, "old b", "b-gw-1").await;
    fake.put(
        "endpoints",
        endpoint("cluster-b", "b-gw-2", "172.18.0.6", &["10.245.0.0/16"]),
    );
    let s = remote_gateway_is(&mut rx, "new b", "b-gw-2").await;
    assert_eq!(
        s.topology.unwrap().remote_clusters[0]
            .gateway
            .private_ip
            .to_string(),
        "172.18.0.6"
    );
    assert_eq!(s.remote_endpoints.len(), 1);
    // The newest goes away: the older one is used again.
    fake.delete(
        "endpoints",
        NS,
        "cluster-b-submariner-cable-cluster-b-172-18-0-6",
    );
    remote_gateway_is(&mut rx, "old b again", "b-gw-1").await;
    // An invalid Endpoint is skipped and named; the others stay.
    fake.put(
        "endpoints",
        endpoint("cluster-c", "c-gw", "172.18.0.7", &["10.999.0.0/16"]),
    );
    let s = wait_for(&mut rx, 5.0, "warning", |s| !s.warnings.is_empty()).await;
    assert!(
        s.warnings[0].contains("cluster-c") && s.warnings[0].contains("10.999.0.0/16"),
        "{:?}",
        s.warnings
    );
    assert_eq!(remotes(&s).len(), 1);
    assert!(s.healthy);
    task.abort();
}

#[tokio::test]
async fn broken_watch_resumes_from_the_last_resource_version() {
    let fake = cluster();
    let (mut rx, task) = kube_source::start(fake.client(NS), cfg("worker-1"));
    wait_for(&mut rx, 5.0, "first topology", |s| s.healthy).await;
    fake.put(
        "endpoints",
        endpoint("cluster-b", "b-gw", "172.18.0.5", &["10.245.0.0/16"]),
    );
    wait_for(&mut rx, 5.0, "cluster-b", |s| remotes(s).len() == 1).await;
    assert_eq!(
        fake.open_watches(),
        2,
        "one watch on Endpoints, one on Nodes"
    );
    let seen = fake.resource_version();
    let before = watches(&fake.requests(), "/endpoints").len();
    fake.break_watches();
    // Written while no watch is open: must arrive through the resumed watch.
    fake.put(
        "endpoints",
        endpoint("cluster-c", "c-gw", "172.18.0.6", &["10.246.0.0/16"]),
    );
    wait_for(&mut rx, 5.0, "cluster-c", |s| remotes(s).len() == 2).await;
    let log = fake.requests();
    let w = watches(&log, "/endpoints");
    assert!(w.len() > before);
    assert_eq!(
        w[before].rv(),
        Some(seen.to_string().as_str()),
        "resumed from the last seen version"
    );
    assert_eq!(lists(&log, "/endpoints"), 1, "no relist");

    // A bookmark advances the resume point past other kinds' writes.
    fake.put("nodes", node("worker-2", "192.168.1.21"));
    wait_for(&mut rx, 5.0, "worker-2", |s| {
        s.topology
            .as_ref()
            .is_some_and(|t| t.node("worker-2").is_ok())
    })
    .await;
    fake.bookmark();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let marked = fake.resource_version();
    let before = watches(&fake.requests(), "/endpoints").len();
    fake.break_watches();
    let deadline = Instant::now() + Duration::from_secs(5);
    while watches(&fake.requests(), "/endpoints").len() == before {
        assert!(Instant::now() < deadline, "no re-watch");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        watches(&fake.requests(), "/endpoints")[before].rv(),
        Some(marked.to_string().as_str())
    );
    assert!(rx.borrow().healthy);
    assert_eq!(fake.open_watches(), 2);
    task.abort();
}

#[tokio::test]
async fn gone_410_after_compaction_relists() {
    let fake = cluster();
    fake.put(
        "endpoints",
        endpoint("cluster-b", "b-gw", "172.18.0.5", &["10.245.0.0/16"]),
    );
    let (mut rx, task) = kube_source::start(fake.client(NS), cfg("worker-1"));
    wait_for(&mut rx, 5.0, "cluster-b", |s| remotes(s).len() == 1).await;
    // While the watch is down: a delete and a create, then history is lost.
    fake.set_down(true);
    fake.delete("endpoints", NS, B);
    fake.put(
        "endpoints",
        endpoint("cluster-c", "c-gw", "172.18.0.6", &["10.246.0.0/16"]),
    );
    fake.compact();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let s = rx.borrow().clone();
    assert_eq!(
        remotes(&s).len(),
        1,
        "last good topology kept while the API is down"
    );
    fake.set_down(false);
    let s = wait_for(&mut rx, 5.0, "relisted", |s| {
        remotes(s).iter().map(|r| r.0.as_str()).eq(["cluster-c"])
    })
    .await;
    assert!(s.healthy);
    let log = fake.requests();
    assert!(
        log.iter()
            .any(|l| l.is_watch() && l.path.ends_with("/endpoints") && l.code == 200),
        "watched"
    );
    assert_eq!(
        lists(&log, "/endpoints"),
        2,
        "410 Gone made the watcher relist"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while lists(&fake.requests(), "/nodes") < 2 {
        assert!(
            Instant::now() < deadline,
            "nodes also relist (their watch got 410 too)"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(lists(&fake.requests(), "/nodes"), 2);
    task.abort();
}

#[tokio::test]
async fn api_down_keeps_topology_unhealthy_after_grace_then_recovers() {
    let fake = cluster();
    fake.put(
        "endpoints",
        endpoint("cluster-b", "b-gw", "172.18.0.5", &["10.245.0.0/16"]),
    );
    let (mut rx, task) = kube_source::start(fake.client(NS), cfg("worker-1"));
    let good = wait_for(&mut rx, 5.0, "cluster-b", |s| {
        s.healthy && remotes(s).len() == 1
    })
    .await;
    let down_at = Instant::now();
    fake.set_down(true);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        rx.borrow().healthy,
        "still healthy within the 1 s grace period"
    );
    let s = wait_for(&mut rx, 3.0, "unhealthy", |s| !s.healthy).await;
    assert!(
        down_at.elapsed() >= Duration::from_secs(1),
        "not before the grace period"
    );
    let reason = s.reason.clone().unwrap();
    assert!(
        reason.contains("Kubernetes API has failed") && reason.contains("down"),
        "{reason}"
    );
    assert_eq!(s.topology, good.topology, "last good topology kept");
    assert!(s.since >= down_at);
    // Changed while down; seen after recovery.
    fake.put(
        "endpoints",
        endpoint("cluster-c", "c-gw", "172.18.0.6", &["10.246.0.0/16"]),
    );
    fake.set_down(false);
    let s = wait_for(&mut rx, 5.0, "recovered", |s| {
        s.healthy && remotes(s).len() == 2
    })
    .await;
    assert!(s.reason.is_none());
    task.abort();
}

#[tokio::test]
async fn http_errors_at_startup_are_retried() {
    let fake = cluster();
    fake.fail("GET", "/endpoints", 500, 3);
    fake.fail("GET", "/nodes", 403, 2);
    let (mut rx, task) = kube_source::start(fake.client(NS), cfg("worker-1"));
    let s = rx.borrow().clone();
    assert!(!s.healthy && s.topology.is_none());
    wait_for(&mut rx, 5.0, "healthy", |s| {
        s.healthy && s.topology.is_some()
    })
    .await;
    let codes: Vec<u16> = fake
        .requests()
        .iter()
        .filter(|l| l.path.ends_with("/endpoints"))
        .map(|l| l.code)
        .collect();
    assert_eq!(&codes[..4], [500, 500, 500, 200]);
    task.abort();
}

#[tokio::test]
async fn api_down_at_startup_is_unhealthy_with_reason() {
    let fake = cluster();
    fake.set_down(true);
    let (mut rx, task) = kube_source::start(fake.client(NS), cfg("worker-1"));
    let s = wait_for(&mut rx, 5.0, "reason names the API", |s| {
        s.reason
            .as_deref()
            .is_some_and(|r| r.contains("Kubernetes API"))
    })
    .await;
    assert!(!s.healthy && s.topology.is_none());
    fake.set_down(false);
    wait_for(&mut rx, 5.0, "healthy", |s| s.healthy).await;
    task.abort();
}

#[tokio::test]
async fn unknown_node_name_is_unhealthy_with_the_fix() {
    let fake = cluster();
    let (mut rx, task) = kube_source::start(fake.client(NS), cfg("not-a-node"));
    let s = wait_for(&mut rx, 5.0, "reason", |s| {
        s.reason.as_deref().is_some_and(|r| r.contains("NODE_NAME"))
    })
    .await;
    assert!(!s.healthy && s.topology.is_none());
    // The node registers: healthy.
    fake.put("nodes", node("not-a-node", "192.168.1.30"));
    wait_for(&mut rx, 5.0, "healthy", |s| s.healthy).await;
    task.abort();
}

/// Waits until the chosen remote Endpoint of the first remote cluster has
/// `hostname`.
async fn remote_gateway_is(
    rx: &mut tokio::sync::watch::Receiver<kube_source::SourceState>,
    what: &str,
    hostname: &str,
) -> kube_source::SourceState {
    wait_for(rx, 5.0, what, |s| {
        s.remote_endpoints
            .first()
            .is_some_and(|e| e.hostname == hostname)
    })
    .await
}
