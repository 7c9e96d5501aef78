//! End to end: `routeagent lab demo --cni ovn-kubernetes` (the lab crate's
//! `checks::ovn`): one OVN-Kubernetes cluster of two nodes on a real OVN
//! datapath (ovn-northd, ovn-controller, ovs-vswitchd with the userspace
//! datapath, in namespaces). Pod traffic to a remote cluster is dropped by
//! `ovn_cluster_router` until routeagent runs; then it follows the
//! gateway agent's priority-20000 reroute policy to the gateway's
//! `ovn-k8s-mp0`, leaves by table 150 and comes back by table 149 (ICMP,
//! a 1 MiB checksummed TCP transfer with the pod's own source address, the
//! other node's host network, the remote cluster to the pod, and again
//! after the gateway moves); after `routeagent uninstall` it is dropped
//! again. Needs root and the OVN/OVS packages (scripts/setup.sh);
//! fails loudly without them. Its prefix (`raovn`) is its own.

use lab::LabConfig;

#[test]
#[ignore = "needs root, network namespaces, ovn-northd, ovn-controller, ovs-vswitchd"]
fn pod_traffic_follows_routeagents_objects_through_a_real_ovn_datapath() {
    lab::netns::require_root();
    let mut c = LabConfig::new("raovn");
    c.agent_binary = env!("CARGO_BIN_EXE_routeagent").into();
    c.work_dir = std::env::temp_dir().join("raovn");
    let start = std::time::Instant::now();
    let r = lab::checks::ovn::demo(c);
    eprintln!("{r}\nwhole demo {:?}", start.elapsed());
    assert!(r.passed(), "{r}");
    assert!(
        r.policy
            .as_deref()
            .is_some_and(|p| p.contains("20000 ip4.dst == 10.245.0.0/16 reroute 10.244.0.2")),
        "{r}"
    );
    assert!(lab::netns::list().iter().all(|n| !n.starts_with("raovn-")));
}
