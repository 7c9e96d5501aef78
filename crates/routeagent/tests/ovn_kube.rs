//! The OVN datapath in Kubernetes mode: `routeagent run --source
//! kubernetes` against the fake API server (Submariner's operator Role
//! enforced) and a real northbound database, on a node with a stand-in
//! `ovn-k8s-mp0`, under OVN interconnect (Node annotations
//! `k8s.ovn.org/zone-name` and `node-transit-switch-port-ifaddr`). As the
//! gateway the agent writes its zone's policies to its `ovn-k8s-mp0` and
//! keeps Submariner's `GatewayRoute` / `NonGatewayRoute` objects (the Go
//! agent's of the same name adopted, others' kept); when the gateway moves
//! to another node, its zone's policies lead to that node's transit switch
//! address and it leaves the objects to the new gateway.
mod fake_api;
#[path = "../../ovn/tests/common/mod.rs"]
mod nb;
mod support;

use fake_api::fake::FakeApi;
use fake_api::serve_in;
use serde_json::{json, Value};
use std::time::Duration;
use support::*;

const NS: &str = "submariner-operator";

fn endpoint(cluster: &str, host: &str, private: &str, subnets: &[&str]) -> Value {
    fake_api::endpoint_json(NS, cluster, host, private, private, subnets)
}

/// Nodes a1-a3, each its own zone with transit switch address
/// 100.88.0.<n+1>; cluster-b's gateway Endpoint.
fn cluster(fake: &FakeApi) {
    for n in 1..=3 {
        fake.put(
            "nodes",
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": format!("a{n}"),
                "annotations": {"k8s.ovn.org/zone-name": format!("a{n}"),
                    "k8s.ovn.org/node-transit-switch-port-ifaddr": format!("{{\"ipv4\":\"100.88.0.{}/16\"}}", n + 1)}},
            "status": {"addresses": [{"type": "InternalIP", "address": format!("10.1.0.{n}")}]}}),
        );
    }
    fake.put(
        "endpoints",
        endpoint("cluster-b", "b-gw", "10.2.0.1", &["10.245.0.0/16"]),
    );
}

fn spec(fake: &FakeApi, plural: &str) -> Value {
    fake.get(plural, NS, "cluster-b")
        .map(|o| o["spec"].clone())
        .unwrap_or_default()
}

#[test]
#[ignore = "needs root, network namespaces, ovsdb-server, ovsdb-tool, ovn-nbctl"]
fn interconnect_gateway_writes_its_zone_and_submariner_s_route_objects() {
    let db = nb::NbServer::start();
    let ns = ovn_node();
    let fake = FakeApi::new();
    fake.enforce_operator_rbac();
    cluster(&fake);
    fake.put(
        "endpoints",
        endpoint(
            "cluster-a",
            "a1",
            "10.1.0.1",
            &["10.244.0.0/16", "10.96.0.0/16"],
        ),
    );
    // The Go agent's GatewayRoute (a stale next hop) and one for a cluster
    // that is gone.
    for name in ["cluster-b", "cluster-gone"] {
        fake.put(
            "gatewayroutes",
            json!({"apiVersion": "submariner.io/v1", "kind": "GatewayRoute",
                "metadata": {"name": name, "namespace": NS},
                "spec": {"nextHops": ["10.244.7.2"], "remoteCIDRs": ["10.250.0.0/16"]}}),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = serve_in(&ns, &fake, dir.path(), NS);
    let state = dir.path().join("state");
    let nb_db = db.endpoint().to_string();
    let mut agent = start_kube(
        &ns,
        &kubeconfig,
        NS,
        &state,
        &[
            ("SUBMARINER_NETWORKPLUGIN", "OVNKubernetes"),
            ("OVN_NB_DB", &nb_db),
        ],
    );
    let alive = |agent: &mut Agent| {
        if let Ok(Some(code)) = agent.child.try_wait() {
            panic!("routeagent exited with {code}: {}", log(agent));
        }
    };

    until(
        "GatewayRoute and NonGatewayRoute for cluster-b",
        Duration::from_secs(30),
        || {
            alive(&mut agent);
            spec(&fake, "gatewayroutes")["nextHops"] == json!(["10.244.1.2"])
                && spec(&fake, "nongatewayroutes")["nextHops"] == json!(["100.88.0.2"])
        },
    );
    assert_eq!(
        spec(&fake, "gatewayroutes")["remoteCIDRs"],
        json!(["10.245.0.0/16"])
    );
    let adopted = fake.get("gatewayroutes", NS, "cluster-b").unwrap();
    assert_eq!(
        adopted["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "routeagent"
    );
    assert!(
        fake.get("gatewayroutes", NS, "cluster-gone").is_some(),
        "an object routeagent did not write stays"
    );
    until(
        "the gateway's policy in its zone",
        Duration::from_secs(30),
        || {
            let p = db.nbctl(&["lr-policy-list", "ovn_cluster_router"]);
            p.contains("ip4.dst == 10.245.0.0/16") && p.contains("10.244.1.2")
        },
    );
    let s = status(&ns).unwrap();
    assert_eq!(s["ovn"]["role"], "gateway", "{s:#}");

    // The gateway moves to a2: a1's zone reroutes to a2's transit address;
    // the objects are a2's agent's to write now.
    fake.delete("endpoints", NS, "cluster-a-a1");
    fake.put(
        "endpoints",
        endpoint(
            "cluster-a",
            "a2",
            "10.1.0.2",
            &["10.244.0.0/16", "10.96.0.0/16"],
        ),
    );
    until("a1's zone reroutes to a2", Duration::from_secs(30), || {
        alive(&mut agent);
        let p = db.nbctl(&["lr-policy-list", "ovn_cluster_router"]);
        p.contains("100.88.0.3") && !p.contains("10.244.1.2")
    });
    let s = status(&ns).unwrap();
    assert_eq!(s["ovn"]["role"], "interconnect", "{s:#}");
    assert!(!db
        .nbctl(&["lr-route-list", "ovn_cluster_router"])
        .contains("10.245.0.0/16"));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        spec(&fake, "gatewayroutes")["nextHops"],
        json!(["10.244.1.2"]),
        "a node that is not the gateway leaves the objects alone"
    );
}
