//! The agent binary on the OVN-Kubernetes datapath, in a network namespace
//! with a stand-in `ovn-k8s-mp0`, against a real northbound database
//! (`ovsdb-server` from the `ovn` crate's test helpers; `ovn-nbctl` reads
//! back): the kernel holds `routeagent plan`'s OVN plan, the reroute
//! policy is in the database, the management port's address re-added by
//! "ovnkube-node" is repaired at once (not by the 30 s resync), a database
//! stopped under the agent degrades only the OVN part and a restart
//! recovers it, and uninstall leaves the namespace as it was; under OVN
//! interconnect a node's own zone database follows the gateway (policies
//! to the gateway's transit switch address while another node is the
//! gateway, its own policies and static routes while it is).
#[path = "../../ovn/tests/common/mod.rs"]
mod nb;
mod support;

use netns::NetNs;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use support::*;

/// Every wait's deadline: the machine may be loaded.
const DEADLINE: Duration = Duration::from_secs(30);

/// Cluster a on OVN-Kubernetes with an external cable, gateway a1.
fn ovn_topology(remotes: &[(&str, &[&str])]) -> String {
    topology(remotes, "a1").replacen("  cable: vxlan\n", "  cni: OVNKubernetes\n", 1)
}

/// [`ovn_topology`] under OVN interconnect (every node a zone of its own,
/// transit switch addresses 100.88.0.<i+1>), gateway `gateway`.
fn interconnect_topology(remotes: &[(&str, &[&str])], gateway: &str) -> String {
    let mut t =
        topology(remotes, gateway).replacen("  cable: vxlan\n", "  cni: OVNKubernetes\n", 1);
    for i in 1..=3 {
        t = t.replacen(
            &format!("{{name: a{i}, ip: 10.1.0.{i}}}"),
            &format!(
                "{{name: a{i}, ip: 10.1.0.{i}, ovn: {{zone: a{i}, transitSwitchIP: 100.88.0.{}}}}}",
                i + 1
            ),
            1,
        );
    }
    t
}

/// The agent's host objects: rules, routes, its nft table.
fn host_side(ns: &NetNs) -> String {
    ns.sh("ip -4 rule show | grep 'proto 166'; ip route show table all proto 166; nft -s list table inet routeagent")
        .unwrap()
}

/// Waits until `/status` satisfies `f`; returns it.
fn wait_status(ns: &NetNs, agent: &Agent, what: &str, f: impl Fn(&Value) -> bool) -> Value {
    let mut last = None;
    let start = std::time::Instant::now();
    while !last.as_ref().is_some_and(&f) {
        assert!(
            start.elapsed() < DEADLINE,
            "timed out waiting for {what}: {last:#?}\nlog: {}",
            log(agent)
        );
        std::thread::sleep(Duration::from_millis(20));
        last = status(ns);
    }
    last.unwrap()
}

fn policies(db: &nb::NbServer) -> String {
    db.nbctl(&["lr-policy-list", "ovn_cluster_router"])
}

fn plan_json(ns: &NetNs, cfg: &Path) -> Value {
    serde_json::from_str(
        &ns.sh(&format!(
            "{BIN} plan --config {} --node a1 --json",
            cfg.display()
        ))
        .unwrap(),
    )
    .unwrap()
}

#[test]
#[ignore = "needs root, network namespaces, ovsdb-server, ovsdb-tool, ovn-nbctl"]
fn ovn_gateway_against_a_real_northbound_database() {
    let mut db = nb::NbServer::start();
    let ns = ovn_node();
    let before = snapshot(&ns);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("topology.yaml");
    let state = dir.path().join("state");
    std::fs::write(&cfg, ovn_topology(&[("cluster-b", &["10.245.0.0/16"])])).unwrap();
    let nb_db = db.endpoint().to_string();
    let mut agent = start_env(&ns, &cfg, "a1", &state, &[], &[("OVN_NB_DB", &nb_db)]);
    let s = wait_converged(&ns, &cfg, &mut agent);
    assert_eq!(s["datapath"], "ovn-kubernetes", "{s:#}");
    assert_eq!(s["role"], "gateway");
    wait_status(&ns, &agent, "northbound converged", |s| {
        s["ovn"]["state"] == "converged"
    });
    let p = policies(&db);
    assert!(
        p.contains("ip4.dst == 10.245.0.0/16") && p.contains("reroute") && p.contains("10.244.1.2"),
        "{p}"
    );

    // The kernel holds the plan; no vx-submariner.
    let plan = plan_json(&ns, &cfg);
    assert!(plan["links"].as_array().unwrap().is_empty(), "{plan:#}");
    let rules = ns.sh("ip -4 rule show").unwrap();
    for want in [
        "150:\tfrom all to 10.245.0.0/16 lookup 150 proto 166",
        "149:\tfrom 10.245.0.0/16 to 10.244.0.0/16 lookup 149 proto 166",
        "149:\tfrom 10.245.0.0/16 to 10.96.0.0/16 lookup 149 proto 166",
    ] {
        assert!(rules.contains(want), "{want} missing:\n{rules}");
    }
    assert_eq!(
        rules.matches("proto 166").count(),
        plan["rules"].as_array().unwrap().len(),
        "{rules}"
    );
    let routes = ns.sh("ip route show table all proto 166").unwrap();
    assert!(
        routes.contains("default via 10.244.1.1 dev ovn-k8s-mp0 table 149"),
        "{routes}"
    );
    assert_eq!(
        routes.lines().count(),
        plan["routes"].as_array().unwrap().len(),
        "{routes}"
    );
    let table = nft(&ns, "-s list table inet routeagent");
    let planned = planned_table(&ns, &cfg);
    assert_eq!(table, planned, "nft list table differs from the plan");
    assert!(
        table.contains("iifname \"ovn-k8s-mp0\" oifname \"eth1\" ip daddr @remote-v4 accept"),
        "{table}"
    );
    let converged = host_side(&ns);

    // ovnkube-node re-adds the port's address: the kernel drops table 149's
    // route silently; the monitor's event brings it back well before the
    // 30 s resync.
    ns.sh("ip addr flush dev ovn-k8s-mp0; ip addr add 10.244.1.2/24 dev ovn-k8s-mp0; ip route add 10.244.0.0/16 via 10.244.1.1 dev ovn-k8s-mp0")
        .unwrap();
    let took = until("table 149 repaired", Duration::from_secs(15), || {
        ns.sh("ip route show table 149")
            .unwrap()
            .contains("default via 10.244.1.1")
    });
    eprintln!("table 149 route back {took:?} after the address was re-added");
    wait_converged(&ns, &cfg, &mut agent);
    assert_eq!(host_side(&ns), converged);

    // Database down: the OVN part degrades, the host side stays and keeps working.
    db.stop();
    let s = wait_status(&ns, &agent, "northbound degraded", |s| {
        s["ovn"]["state"] == "degraded"
    });
    assert!(
        s["ovn"]["error"]
            .as_str()
            .unwrap()
            .starts_with("OVN northbound database at unix:"),
        "{s:#}"
    );
    assert_eq!(s["ready"], true, "{s:#}");
    std::fs::write(
        &cfg,
        ovn_topology(&[
            ("cluster-b", &["10.245.0.0/16"]),
            ("cluster-c", &["10.246.0.0/16"]),
        ]),
    )
    .unwrap();
    wait_converged(&ns, &cfg, &mut agent);
    assert!(
        ns.sh("ip -4 rule show")
            .unwrap()
            .contains("to 10.246.0.0/16 lookup 150"),
        "the host side follows the topology while the database is down"
    );

    // Back: the northbound side catches up.
    db.restart();
    wait_status(&ns, &agent, "northbound converged again", |s| {
        s["ovn"]["state"] == "converged" && s["ovn"]["policies"] == 2
    });
    assert!(policies(&db).contains("ip4.dst == 10.246.0.0/16"));
    assert!(
        agent.child.try_wait().unwrap().is_none(),
        "the agent kept running"
    );

    // Uninstall: the namespace as it was, and the database without
    // routeagent's rows; OVN-Kubernetes' own priority-20000 policy (no
    // routeagent external_ids) stays.
    drop(agent);
    db.nbctl(&[
        "lr-policy-add",
        "ovn_cluster_router",
        "20000",
        "ip4.dst == 10.99.0.0/16",
        "reroute",
        "10.244.1.9",
    ]);
    let foreign = "ip4.dst == 10.99.0.0/16";
    assert!(policies(&db).contains(foreign));
    let out = ns
        .sh(&format!(
            "OVN_NB_DB={nb_db} {BIN} uninstall --network-plugin OVNKubernetes --state-dir {}",
            state.display()
        ))
        .unwrap();
    assert!(out.contains("uninstalled"), "{out}");
    assert!(
        out.contains("northbound: 2 logical router policies"),
        "{out}"
    );
    let left = policies(&db);
    assert!(
        left.contains(foreign)
            && !left.contains("10.245.0.0/16")
            && !left.contains("10.246.0.0/16"),
        "{left}"
    );
    assert_eq!(snapshot(&ns), before, "uninstall left traces");
}

fn static_routes(db: &nb::NbServer) -> String {
    db.nbctl(&["lr-route-list", "ovn_cluster_router"])
}

#[test]
#[ignore = "needs root, network namespaces, ovsdb-server, ovsdb-tool, ovn-nbctl"]
fn ovn_interconnect_zone_follows_the_gateway() {
    let db = nb::NbServer::start();
    let ns = ovn_node();
    let before = snapshot(&ns);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("topology.yaml");
    let state = dir.path().join("state");
    let remotes: &[(&str, &[&str])] = &[("cluster-b", &["10.245.0.0/16"])];
    // a1's zone, while a2 (transit address 100.88.0.3) is the gateway.
    std::fs::write(&cfg, interconnect_topology(remotes, "a2")).unwrap();
    let nb_db = db.endpoint().to_string();
    // `apply --once` writes the northbound side too.
    let once = ns
        .sh(&format!(
            "OVN_NB_DB={nb_db} {BIN} apply --once --config {} --node a1 --state-dir {}",
            cfg.display(),
            state.display()
        ))
        .unwrap();
    assert!(
        once.contains("northbound (interconnect): 1 policies, 0 static routes; 1 added"),
        "{once}"
    );
    assert!(policies(&db).contains("100.88.0.3"));
    let mut agent = start_env(&ns, &cfg, "a1", &state, &[], &[("OVN_NB_DB", &nb_db)]);
    wait_converged(&ns, &cfg, &mut agent);
    let s = wait_status(&ns, &agent, "interconnect policies", |s| {
        s["ovn"]["state"] == "converged" && s["ovn"]["role"] == "interconnect"
    });
    assert_eq!(s["ovn"]["nexthop"], "100.88.0.3", "{s:#}");
    let p = policies(&db);
    assert!(
        p.contains("ip4.dst == 10.245.0.0/16") && p.contains("reroute") && p.contains("100.88.0.3"),
        "{p}"
    );
    assert!(
        !static_routes(&db).contains("10.245.0.0/16"),
        "no static routes in another zone"
    );

    // The gateway moves here: this zone's objects lead to a1's own mp0.
    std::fs::write(&cfg, interconnect_topology(remotes, "a1")).unwrap();
    wait_converged(&ns, &cfg, &mut agent);
    wait_status(&ns, &agent, "gateway objects", |s| {
        s["ovn"]["state"] == "converged" && s["ovn"]["role"] == "gateway"
    });
    let p = policies(&db);
    assert!(p.contains("10.244.1.2") && !p.contains("100.88.0.3"), "{p}");
    let r = static_routes(&db);
    assert!(
        r.contains("10.245.0.0/16") && r.contains("10.244.1.2"),
        "{r}"
    );

    // And away again: back to the transit address, the static route gone.
    std::fs::write(&cfg, interconnect_topology(remotes, "a2")).unwrap();
    wait_converged(&ns, &cfg, &mut agent);
    wait_status(&ns, &agent, "interconnect again", |s| {
        s["ovn"]["state"] == "converged" && s["ovn"]["role"] == "interconnect"
    });
    assert!(policies(&db).contains("100.88.0.3"));
    assert!(!static_routes(&db).contains("10.245.0.0/16"));

    drop(agent);
    let out = ns
        .sh(&format!(
            "OVN_NB_DB={nb_db} {BIN} uninstall --network-plugin OVNKubernetes --state-dir {}",
            state.display()
        ))
        .unwrap();
    assert!(
        out.contains("northbound: 1 logical router policies"),
        "{out}"
    );
    assert!(!policies(&db).contains("10.245.0.0/16"));
    assert_eq!(snapshot(&ns), before, "uninstall left traces");
}
