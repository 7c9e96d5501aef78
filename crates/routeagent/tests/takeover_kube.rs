//! Taking a node over from Submariner's Go route agent in Kubernetes mode:
//! `routeagent run --source kubernetes` against the kube-source tests' fake
//! API server (served on the node namespace's loopback; with Submariner's
//! RouteAgent CRD and the operator's Role, or with `deploy/crds`'), on a
//! node holding the Go agent's state (`support::go_agent`, iptables-nft
//! layout) and the RouteAgent object the Go agent left (its pod as owner, a stale status). The agent
//! converges with every route-agent leftover removed, others' objects
//! (Globalnet-like, kube-proxy-like, the gateway engine's XFRM policies)
//! byte-identical and `vx-submariner` adopted; `/status` reports the
//! takeover, and so does the RouteAgent's `status.takeover` (counts) where
//! the CRD keeps it; the stale RouteAgent is updated in place (never created
//! again), loses the Go pod's owner reference and carries routeagent's
//! status.

mod fake_api;
mod support;

use fake_api::fake::FakeApi;
use fake_api::serve_in;
use serde_json::{json, Value};
use std::time::Duration;
use support::go_agent::*;
use support::*;

const NS: &str = "submariner-operator";
const GO_POD_UID: &str = "6b1e0c2a-0000-4000-8000-00000000go01";

/// The cluster as the API server holds it: nodes a1-a3, this cluster's
/// gateway Endpoint on `gateway`, cluster-b's with [`REMOTES`], and the
/// RouteAgent the Go agent left for a1.
fn cluster(fake: &FakeApi, gateway: &str) {
    for n in 1..=3 {
        fake.put(
            "nodes",
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": format!("a{n}")},
            "status": {"addresses": [{"type": "InternalIP", "address": format!("10.1.0.{n}")}]}}),
        );
    }
    let ep = |cluster: &str, host: &str, private: &str, public: &str, subnets: &[&str]| {
        fake_api::endpoint_json(NS, cluster, host, private, public, subnets)
    };
    let n = &gateway[1..];
    fake.put(
        "endpoints",
        ep(
            "cluster-a",
            gateway,
            &format!("10.1.0.{n}"),
            &format!("192.168.50.{n}"),
            &LOCALS,
        ),
    );
    fake.put(
        "endpoints",
        ep("cluster-b", "b-gw", "10.2.0.1", "192.168.50.10", &REMOTES),
    );
    fake.put(
        "routeagents",
        json!({"apiVersion": "submariner.io/v1", "kind": "RouteAgent",
            "metadata": {"name": "a1", "namespace": NS, "labels": {"app": "submariner-routeagent"},
                "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": "submariner-routeagent-x7k2p",
                    "uid": GO_POD_UID, "controller": false}]},
            "status": {"version": "0.18.2", "statusFailure": "Failed to program routes",
                "remoteEndpoints": [{"status": "connected", "statusMessage": "",
                    "spec": {"cluster_id": "cluster-old", "cable_name": "old", "hostname": "old-gw",
                        "private_ip": "10.9.0.1", "public_ip": "10.9.0.1", "nat_enabled": false,
                        "backend": "libreswan", "subnets": ["10.250.0.0/16"]}}]}}),
    );
}

/// `submariner_crd`: Submariner's RouteAgent CRD and the operator's Role
/// (the status written as the whole object, routeagent's fields pruned);
/// otherwise `deploy/crds`' (status subresource, `status.takeover` kept).
fn takeover_in_kubernetes_mode(gateway: bool, submariner_crd: bool) {
    let ns = node_ns("ratkk");
    build(&ns, Layout::IptablesNft, gateway, true);
    let foreign = ns.sh(FOREIGN).unwrap();
    assert!(
        foreign.contains("GN")
            && foreign.contains("kube-proxy-like")
            && foreign.matches("proto esp").count() == 3,
        "{foreign}"
    );
    let vx_index = ns.sh("cat /sys/class/net/vx-submariner/ifindex").unwrap();
    assert!(!ns.sh(LEFTOVERS).unwrap().is_empty());

    let fake = FakeApi::new();
    if submariner_crd {
        fake.use_submariner_routeagent_crd();
        fake.enforce_operator_rbac();
    }
    cluster(&fake, if gateway { "a1" } else { "a2" });
    let stale = fake.get("routeagents", NS, "a1").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = serve_in(&ns, &fake, dir.path(), NS);
    let state = dir.path().join("state");
    let mut agent = start_kube(&ns, &kubeconfig, NS, &state, &[]);

    // Converged, and a takeover that removed something, in /status.
    let mut s = Value::Null;
    until(
        "a converged pass with a complete takeover in /status",
        Duration::from_secs(30),
        || {
            if let Ok(Some(code)) = agent.child.try_wait() {
                panic!("routeagent exited with {code}: {}", log(&agent));
            }
            s = status(&ns).unwrap_or_default();
            // A pass whose takeover failed somewhere is retried.
            s["converged"] == true
                && s["takeover"]["errors"] == json!([])
                && s["takeover"]["removed"]
                    .as_array()
                    .is_some_and(|r| !r.is_empty())
        },
    );
    let t = &s["takeover"];
    let lines = |k: &str| -> Vec<String> {
        t[k].as_array()
            .unwrap_or_else(|| panic!("takeover.{k} in {s:#}"))
            .iter()
            .map(|l| l.as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(lines("errors"), Vec::<String>::new(), "{s:#}");
    assert_eq!(lines("conflicts"), Vec::<String>::new(), "{s:#}");
    assert!(
        lines("found").iter().any(|l| l.contains("proto 4")),
        "{s:#}"
    );
    let removed = lines("removed");
    assert!(
        removed.iter().any(|l| l.contains("SUBMARINER-FORWARD"))
            && removed
                .iter()
                .any(|l| l.contains("ipset SUBMARINER-REMOTECIDRS"))
            && removed.iter().any(|l| l.contains("10.250.0.0/16")),
        "{removed:#?}"
    );
    assert!(
        lines("adopted").iter().any(|l| l.contains("vx-submariner")),
        "{s:#}"
    );
    if gateway {
        assert!(
            lines("adopted")
                .iter()
                .any(|l| l.contains("route 10.245.0.0/16")),
            "{s:#}"
        );
    }

    let left = ns.sh(LEFTOVERS).unwrap();
    assert_eq!(
        left,
        "",
        "gateway={gateway}: Go agent leftovers remain:\n{left}\nlog:\n{}",
        log(&agent)
    );
    assert_eq!(
        ns.sh(FOREIGN).unwrap(),
        foreign,
        "foreign objects changed (XFRM policies included)"
    );
    assert_eq!(
        ns.sh("cat /sys/class/net/vx-submariner/ifindex").unwrap(),
        vx_index,
        "vx-submariner was re-created instead of adopted:\n{}",
        log(&agent)
    );
    let routes = ns.sh("ip route show table all proto 166").unwrap();
    assert!(
        routes.contains("10.245.0.0/16") && !routes.contains("10.250."),
        "{routes}"
    );
    if gateway {
        assert!(ns
            .sh("ip rule show pref 150")
            .unwrap()
            .contains("proto 166"));
    }

    // The Go agent's RouteAgent, adopted: same object, routeagent's status.
    let mut ra = Value::Null;
    until(
        "routeagent's status on the RouteAgent",
        Duration::from_secs(20),
        || {
            ra = fake.get("routeagents", NS, "a1").unwrap_or_default();
            ra["status"]["version"] == json!(env!("CARGO_PKG_VERSION"))
                && (submariner_crd || ra["status"]["takeover"]["removed"].as_u64() > Some(0))
        },
    );
    if !submariner_crd {
        let t = &ra["status"]["takeover"];
        assert!(
            t["found"].as_u64() > Some(0)
                && t["adopted"].as_u64() > Some(0)
                && t["errors"] == json!([]),
            "{ra:#}"
        );
    }
    assert_eq!(
        ra["metadata"]["uid"], stale["metadata"]["uid"],
        "the RouteAgent was re-created:\n{ra:#}"
    );
    assert_eq!(ra["metadata"]["labels"], stale["metadata"]["labels"]);
    let owners = ra["metadata"]["ownerReferences"].to_string();
    assert!(
        !owners.contains(GO_POD_UID),
        "the Go agent's pod still owns the RouteAgent (it would be deleted with that pod): {ra:#}"
    );
    assert_ne!(
        ra["status"]["statusFailure"],
        json!("Failed to program routes"),
        "{ra:#}"
    );
    assert!(
        !ra["status"]["remoteEndpoints"]
            .to_string()
            .contains("cluster-old"),
        "{ra:#}"
    );
    let writes: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|l| l.path.contains("/routeagents") && l.method != "GET")
        .collect();
    assert!(
        writes.iter().all(|l| l.method == "PUT") && writes.iter().any(|l| l.code == 200),
        "the RouteAgent is updated in place, never created or deleted: {writes:?}"
    );
}

#[test]
#[ignore = "needs root and network namespaces"]
fn takeover_in_kubernetes_mode_gateway() {
    takeover_in_kubernetes_mode(true, false);
}

#[test]
#[ignore = "needs root and network namespaces"]
fn takeover_in_kubernetes_mode_non_gateway_under_the_operators_crd_and_role() {
    takeover_in_kubernetes_mode(false, true);
}
