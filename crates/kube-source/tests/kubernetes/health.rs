//! The ICMP pinger and the health checker, inside network namespaces
//! (root required; fails loudly without). Verdicts are compared with
//! iputils `ping` run in the same namespace.

use kube_source::crd::{ConnectionStatus, EndpointSpec};
use kube_source::health::icmp::{Pinger, SocketKind};
use kube_source::health::HealthChecker;
use kube_source::{HealthCheckConfig, RemoteHealth};
use netns::NetNs;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

fn rt() -> tokio::runtime::Runtime {
    // current_thread: every task (and socket) stays on the thread that
    // entered the namespace.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// iputils ping inside `ns`: true when one echo is answered within 1 s.
fn ping_tool(ns: &NetNs, ip: &str) -> bool {
    ns.cmd("ping")
        .args(["-c", "1", "-W", "1", "-n", ip])
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
#[ignore = "needs root and network namespaces"]
fn pinger_raw_then_datagram_socket() {
    netns::require_root();
    let ns = NetNs::new("ra-kping").unwrap();
    let kind = ns.run(|| {
        rt().block_on(async {
            let mut p = Pinger::new(Ipv4Addr::LOCALHOST).unwrap();
            let rtt = p.ping(1, Duration::from_secs(1)).await.unwrap();
            assert!(
                rtt.is_some_and(|d| d < Duration::from_millis(500)),
                "{rtt:?}"
            );
            assert!(p.ping(2, Duration::from_secs(1)).await.unwrap().is_some());
            p.kind()
        })
    });
    assert_eq!(
        kind,
        SocketKind::Raw,
        "a new namespace's ping_group_range (1 0) allows no datagram ICMP socket"
    );
    ns.sh("sysctl -q -w net.ipv4.ping_group_range='0 2147483647'")
        .unwrap();
    let kind = ns.run(|| {
        rt().block_on(async {
            let mut p = Pinger::new(Ipv4Addr::LOCALHOST).unwrap();
            assert!(p.ping(7, Duration::from_secs(1)).await.unwrap().is_some());
            p.kind()
        })
    });
    assert_eq!(kind, SocketKind::Datagram);
    assert!(ping_tool(&ns, "127.0.0.1"));
}

fn spec(cluster: &str, hc: &str) -> EndpointSpec {
    EndpointSpec {
        cluster_id: cluster.into(),
        hostname: format!("{cluster}-gw"),
        private_ip: "172.18.0.5".into(),
        health_check_ip: hc.into(),
        ..Default::default()
    }
}

fn by_cluster(r: &[RemoteHealth], c: &str) -> RemoteHealth {
    r.iter().find(|h| h.spec.cluster_id == c).cloned().unwrap()
}

#[test]
#[ignore = "needs root and network namespaces"]
fn checker_over_a_veth_connected_error_metrics() {
    netns::require_root();
    let a = NetNs::new("ra-khca").unwrap();
    let b = NetNs::new("ra-khcb").unwrap();
    a.sh(&format!("ip link add va type veth peer name vb netns {} && ip addr add 10.77.0.1/24 dev va && ip link set va up", b.name())).unwrap();
    b.sh("ip addr add 10.77.0.2/24 dev vb && ip link set vb up")
        .unwrap();
    assert!(ping_tool(&a, "10.77.0.2"), "iputils ping reaches B");
    assert!(!ping_tool(&a, "10.77.0.3"), "iputils ping: nobody at .3");

    let cfg = HealthCheckConfig {
        enabled: true,
        interval: Duration::from_millis(100),
        max_packet_loss: 3,
    };
    a.run(|| {
        rt().block_on(async {
            let hc = HealthChecker::new(cfg);
            hc.set_targets(
                &[
                    spec("cluster-b", "10.77.0.2"),
                    spec("cluster-c", "10.77.0.3"),
                    spec("cluster-d", ""),
                ],
                true,
                "",
            );
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                let r = hc.results();
                if by_cluster(&r, "cluster-b").status == ConnectionStatus::Connected
                    && by_cluster(&r, "cluster-c").status == ConnectionStatus::Error
                {
                    break;
                }
                assert!(Instant::now() < deadline, "no verdicts: {r:?}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let r = hc.results();
            let b_h = by_cluster(&r, "cluster-b");
            assert!(
                b_h.latency
                    .as_ref()
                    .is_some_and(|l| !l.average.is_empty() && !l.std_dev.is_empty()),
                "{b_h:?}"
            );
            assert!(
                by_cluster(&r, "cluster-c").message.contains("10.77.0.3"),
                "{r:?}"
            );
            let d = by_cluster(&r, "cluster-d");
            assert_eq!(d.status, ConnectionStatus::None);
            assert!(d.message.contains("healthCheckIP"));
            let m = hc.metrics();
            assert!(
                m.contains("# TYPE routeagent_remote_endpoint_up gauge"),
                "{m}"
            );
            assert!(
                m.contains(
                    "routeagent_remote_endpoint_up{cluster=\"cluster-b\",ip=\"10.77.0.2\"} 1"
                ),
                "{m}"
            );
            assert!(
                m.contains(
                    "routeagent_remote_endpoint_up{cluster=\"cluster-c\",ip=\"10.77.0.3\"} 0"
                ),
                "{m}"
            );
            assert!(
                m.contains("routeagent_remote_endpoint_pings_received_total{cluster=\"cluster-b\""),
                "{m}"
            );

            // This node becomes the gateway: checks stop, status says why.
            hc.set_targets(
                &[spec("cluster-b", "10.77.0.2")],
                false,
                "this node is the active gateway",
            );
            let r = hc.results();
            assert_eq!(r.len(), 1);
            assert_eq!(
                (r[0].status, r[0].message.as_str()),
                (ConnectionStatus::None, "this node is the active gateway")
            );
            hc.set_targets(&[spec("cluster-b", "10.77.0.2")], true, "");
            tokio::time::sleep(Duration::from_millis(350)).await;
            assert_eq!(
                by_cluster(&hc.results(), "cluster-b").status,
                ConnectionStatus::Connected
            );
        })
    });
    // B stops answering: both iputils ping and the checker see it.
    b.sh("sysctl -q -w net.ipv4.icmp_echo_ignore_all=1")
        .unwrap();
    assert!(!ping_tool(&a, "10.77.0.2"));
    a.run(|| {
        rt().block_on(async {
            let hc = HealthChecker::new(cfg_fast());
            hc.set_targets(&[spec("cluster-b", "10.77.0.2")], true, "");
            tokio::time::sleep(Duration::from_millis(600)).await;
            let h = by_cluster(&hc.results(), "cluster-b");
            assert_eq!(h.status, ConnectionStatus::Error, "{h:?}");
            assert!(h.message.contains("lost in a row"), "{h:?}");
        })
    });
}

fn cfg_fast() -> HealthCheckConfig {
    HealthCheckConfig {
        enabled: true,
        interval: Duration::from_millis(100),
        max_packet_loss: 3,
    }
}

#[test]
fn disabled_checker_reports_none() {
    let hc = HealthChecker::new(HealthCheckConfig {
        enabled: false,
        ..HealthCheckConfig::default()
    });
    rt().block_on(async { hc.set_targets(&[spec("cluster-b", "10.77.0.2")], true, "") });
    let r = hc.results();
    assert_eq!(r[0].status, ConnectionStatus::None);
    assert!(r[0].message.contains("SUBMARINER_HEALTHCHECKENABLED"));
    assert!(!hc.metrics().contains("cluster-b"), "no samples, no series");
}

/// A source state for node `me` where `gateway` holds the local Endpoint
/// and cluster-b's health-check IP is 127.0.0.1.
fn state(gateway: &str, gw_ip: &str) -> kube_source::SourceState {
    use crate::common::{cfg, endpoint, node};
    let nodes: Vec<k8s_openapi::api::core::v1::Node> = [
        node("gw-1", "192.168.1.10"),
        node("worker-1", "192.168.1.20"),
    ]
    .into_iter()
    .map(|n| serde_json::from_value(n).unwrap())
    .collect();
    let mut b = endpoint("cluster-b", "b-gw", "172.18.0.5", &["10.245.0.0/16"]);
    b["spec"]["healthCheckIP"] = "127.0.0.1".into();
    let eps: Vec<kube_source::crd::Endpoint> =
        [endpoint("cluster-a", gateway, gw_ip, &["10.244.0.0/16"]), b]
            .into_iter()
            .map(|e| serde_json::from_value(e).unwrap())
            .collect();
    let built = kube_source::build_topology(&cfg("worker-1"), &nodes, &eps, "worker-1", "worker-1")
        .unwrap();
    kube_source::SourceState {
        topology: Some(built.topology),
        healthy: true,
        reason: None,
        since: Instant::now(),
        remote_endpoints: built.remote_endpoints,
        warnings: Vec::new(),
    }
}

#[test]
#[ignore = "needs root and network namespaces"]
fn follow_checks_only_on_non_gateway_nodes() {
    netns::require_root();
    let ns = NetNs::new("ra-kfollow").unwrap();
    ns.run(|| {
        rt().block_on(async {
            let (tx, rx) = tokio::sync::watch::channel(state("gw-1", "192.168.1.10"));
            let hc = HealthChecker::new(cfg_fast());
            let task = hc.spawn(rx, "worker-1".into());
            let deadline = Instant::now() + Duration::from_secs(5);
            while hc.results().first().map(|r| r.status) != Some(ConnectionStatus::Connected) {
                assert!(Instant::now() < deadline, "{:?}", hc.results());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            // The gateway moves to this node: checks stop.
            tx.send(state("worker-1", "192.168.1.20")).unwrap();
            let deadline = Instant::now() + Duration::from_secs(5);
            while hc.results().first().map(|r| r.status) != Some(ConnectionStatus::None) {
                assert!(Instant::now() < deadline, "{:?}", hc.results());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert!(hc.results()[0].message.contains("active gateway"));
            drop(tx);
            tokio::time::timeout(Duration::from_secs(2), task)
                .await
                .expect("follow ends with the source")
                .unwrap();
        })
    });
}
