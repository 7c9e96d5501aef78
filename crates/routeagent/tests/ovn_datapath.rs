//! Packets through a real OVN datapath follow routeagent's objects.
//!
//! One cluster on OVN-Kubernetes with two nodes, a1 (the gateway) and a2,
//! on one OVN chassis in namespaces (support/ovn_datapath.rs: ovn-northd,
//! ovn-controller, ovs-vswitchd with the userspace datapath), the
//! northbound database from the `ovn` crate's test helpers:
//! `ovn_cluster_router`, per node a switch with the management port
//! `k8s-NODE` (the node's `ovn-k8s-mp0`, with `10.244.0.0/16 via <router
//! IP> dev ovn-k8s-mp0` as OVN-Kubernetes installs it), and a pod on a2.
//! The gateway's eth1 is the cable's stand-in: a veth to a "remote"
//! namespace holding 10.245.0.1 (cluster b's 10.245.0.0/16).
//!
//! Before the agent runs, and after `routeagent uninstall`, the pod
//! reaches a1's management port but not the remote cluster (the router
//! has no route there). With routeagent running on a1, the pod's packets
//! follow the priority-20000 reroute policy to a1's mp0, leave a1 by
//! table 150 over eth1, and the replies come back by table 149 into OVN:
//! ICMP and a TCP connection succeed end to end, and the remote end sees
//! the pod's own address.
#[path = "../../ovn/tests/common/mod.rs"]
mod nb;
#[path = "support/ovn_datapath.rs"]
mod ovn_datapath;
mod support;

use netns::NetNs;
use ovn_datapath::OvnDatapath;
use std::process::{Child, Stdio};
use support::*;

const POD: &str = "10.244.1.5";
const REMOTE: &str = "10.245.0.1";
const GATEWAY_MP0: &str = "10.244.0.2";

/// The namespaces of the cluster and the remote end; the datapath.
/// Fields drop in this order: the daemons go before their databases.
struct Lab {
    ovn: OvnDatapath,
    a1: NetNs,
    a2: NetNs,
    pod: NetNs,
    _remote: NetNs,
    db: nb::NbServer,
    /// `socat` in the remote namespace answering `peer=<source address>`.
    server: Option<Child>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut c) = self.server.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Builds the topology above and waits until every logical port is up.
/// Node a1 is [`node_ns`] without `cni0`, its eth1's peer moved into the
/// remote namespace and its eth0's into a2 (a2's node address 10.1.0.2);
/// IP forwarding is on in both, as on any Kubernetes node.
fn lab() -> Lab {
    let db = nb::NbServer::start();
    let ovn = OvnDatapath::start(&db.path("nb.sock"));
    ovn.node_switch("a1", "10.244.0.1/24");
    ovn.node_switch("a2", "10.244.1.1/24");
    let a1 = node_ns("ra-ovndp-a1");
    let a2 = NetNs::new("ra-ovndp-a2").expect("namespace");
    let pod = NetNs::new("ra-ovndp-pod").expect("namespace");
    let remote = NetNs::new("ra-ovndp-remote").expect("namespace");
    ovn.attach(&a1, "ovn-k8s-mp0", "a1", "k8s-a1", "10.244.0.2/24");
    ovn.attach(&a2, "ovn-k8s-mp0", "a2", "k8s-a2", "10.244.1.2/24");
    ovn.attach(&pod, "eth0", "a2", "pod-a2", "10.244.1.5/24");
    for (ns, router) in [(&a1, "10.244.0.1"), (&a2, "10.244.1.1")] {
        ns.sh(&format!(
            "ip route add 10.244.0.0/16 via {router} dev ovn-k8s-mp0 && sysctl -qw net.ipv4.ip_forward=1"
        ))
        .expect("node routes");
    }
    a1.sh(&format!(
        "ip link del cni0 && ip link set eth1p netns {} && ip link set eth0p netns {}",
        remote.name(),
        a2.name()
    ))
    .expect("a1 plumbing");
    a2.sh("ip addr add 10.1.0.2/24 dev eth0p && ip link set eth0p up")
        .expect("a2's node address");
    pod.sh("ip route add default via 10.244.1.1")
        .expect("pod route");
    remote
        .sh(&format!(
            "set -e
             ip addr add 192.168.50.10/24 dev eth1p
             ip link set eth1p up
             ip addr add {REMOTE}/32 dev lo
             ip route add 10.244.0.0/16 via 192.168.50.1"
        ))
        .expect("remote plumbing");
    for port in ["k8s-a1", "k8s-a2", "pod-a2"] {
        ovn.wait_up(port);
    }
    let server = remote
        .cmd("socat")
        .args([
            &format!("TCP-LISTEN:7000,bind={REMOTE},reuseaddr,fork"),
            "SYSTEM:echo peer=$SOCAT_PEERADDR",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("socat");
    Lab {
        ovn,
        a1,
        a2,
        pod,
        _remote: remote,
        db,
        server: Some(server),
    }
}

/// Pings `dst` from `ns` until one answers (the deadline allows for load).
fn reaches(lab: &Lab, ns: &NetNs, dst: &str) {
    lab.ovn.wait(&format!("{} reaching {dst}", ns.name()), || {
        ns.sh(&format!("ping -n -c1 -W1 {dst}")).is_ok()
    });
}

/// Three pings from `ns` to the remote end, none answered.
fn blocked(ns: &NetNs) {
    let out = ns
        .sh(&format!("ping -n -c3 -i0.2 -W1 {REMOTE} 2>&1 || true"))
        .unwrap();
    assert!(
        out.contains(" 0 received") || out.contains("unreachable"),
        "{REMOTE} answered {}:\n{out}",
        ns.name()
    );
}

/// The remote end's answer to a TCP connection from the pod: the source
/// address it saw (`socat -T2 - TCP:10.245.0.1:7000`).
fn tcp_peer(lab: &Lab) -> String {
    let mut last = String::new();
    lab.ovn.wait("a TCP answer from the remote end", || {
        match lab
            .pod
            .sh(&format!("socat -T2 - TCP:{REMOTE}:7000 </dev/null"))
        {
            Ok(out) if out.starts_with("peer=") => {
                last = out.trim().to_string();
                true
            }
            Ok(out) => {
                last = out;
                false
            }
            Err(e) => {
                last = e.to_string();
                false
            }
        }
    });
    last
}

#[test]
#[ignore = "needs root, network namespaces, ovn-northd, ovn-controller, ovs-vswitchd"]
fn pod_traffic_follows_routeagents_objects_through_a_real_ovn_datapath() {
    let started = std::time::Instant::now();
    let lab = lab();
    eprintln!("OVN datapath up in {:?}", started.elapsed());

    // OVN routes between the nodes' switches; nothing leads to cluster b.
    reaches(&lab, &lab.pod, GATEWAY_MP0);
    lab.ovn.sync();
    blocked(&lab.pod);
    blocked(&lab.a2);

    // routeagent on both nodes; the gateway's writes the reroute policy
    // and the route.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("topology.yaml");
    let topo = topology(&[("cluster-b", &["10.245.0.0/16"])], "a1").replacen(
        "  cable: vxlan\n",
        "  cni: OVNKubernetes\n",
        1,
    );
    std::fs::write(&cfg, topo).unwrap();
    let nb_db = lab.db.endpoint().to_string();
    let env = [("OVN_NB_DB", nb_db.as_str())];
    let mut agents = Vec::new();
    for (node, ns) in [("a1", &lab.a1), ("a2", &lab.a2)] {
        let state = dir.path().join(node);
        let mut agent = start_env(ns, &cfg, node, &state, &[], &env);
        wait_converged(ns, &cfg, &mut agent);
        agents.push(agent);
    }
    lab.ovn.wait("the gateway's northbound objects", || {
        status(&lab.a1).is_some_and(|s| s["ovn"]["state"] == "converged")
    });
    let policies = lab.ovn.nbctl(&["lr-policy-list", "ovn_cluster_router"]);
    assert!(
        policies.contains("20000")
            && policies.contains("ip4.dst == 10.245.0.0/16")
            && policies.contains(&format!("reroute                {GATEWAY_MP0}")),
        "{policies}"
    );
    lab.ovn.sync();

    // The pod reaches cluster b through a1, and b sees the pod's address;
    // so does a2's host network (table 150 into its mp0, then the policy).
    reaches(&lab, &lab.pod, REMOTE);
    assert_eq!(tcp_peer(&lab), format!("peer={POD}"));
    reaches(&lab, &lab.a2, REMOTE);
    let route = |ns: &NetNs, args: &str| ns.sh(&format!("ip route get {args}")).unwrap();
    let back = route(&lab.a1, &format!("{POD} from {REMOTE} iif eth1"));
    assert!(
        back.contains("via 10.244.0.1 dev ovn-k8s-mp0 table 149"),
        "replies enter OVN by table 149: {back}"
    );
    let out = route(&lab.a1, &format!("{REMOTE} from {POD} iif ovn-k8s-mp0"));
    assert!(
        out.contains("dev eth1 table 150"),
        "the pod's packets leave a1 by table 150: {out}"
    );
    let out = route(&lab.a2, REMOTE);
    assert!(
        out.contains("via 10.244.1.1 dev ovn-k8s-mp0 table 150"),
        "a2's host traffic enters OVN by table 150: {out}"
    );

    // Uninstall removes the objects: the path is gone again.
    drop(agents);
    for node in ["a1", "a2"] {
        let ns = if node == "a1" { &lab.a1 } else { &lab.a2 };
        let out = ns
            .sh(&format!(
                "OVN_NB_DB={nb_db} {BIN} uninstall --network-plugin OVNKubernetes --state-dir {}",
                dir.path().join(node).display()
            ))
            .unwrap();
        assert!(out.contains("uninstalled"), "{node}: {out}");
    }
    assert_eq!(
        lab.ovn.nbctl(&["lr-policy-list", "ovn_cluster_router"]),
        "",
        "uninstall left policies"
    );
    lab.ovn.sync();
    reaches(&lab, &lab.pod, GATEWAY_MP0);
    blocked(&lab.pod);
    blocked(&lab.a2);
    eprintln!("whole test {:?}", started.elapsed());
}
