//! Multi-cluster labs in network namespaces: real clusters' worth of nodes
//! and pods on one machine, one `routeagent run` per node, real traffic
//! across clusters, and the checks that prove the agent's main job.
//!
//! Everything lives in namespaces named `PREFIX-*`; the root namespace is
//! never touched (only `/run/netns` entries are created and removed).
//!
//! # Layout
//! - [`config`]: [`LabConfig`] (size, prefix, agent binary, work dir).
//! - [`plan`]: the address plan and the topology files (pure).
//! - [`ns`]: running `ip`/`nft`/`sh` inside a namespace, errors naming it.
//! - [`build`]: namespaces, links, routes, sysctls, CNI-like nftables table.
//! - [`agents`]: starting/stopping agents, `/status`, waiting to converge.
//! - [`lab`]: [`Lab`] — up, down (also on drop), status, restarts, rewrites.
//! - [`traffic`]: ping, checksummed TCP transfers, probes, iperf3.
//! - [`snapshot`]: normalised host snapshots and their diff.
//! - [`checks`]: one module per check of the main job; [`demo`] runs them.
//! - [`report`]: [`DemoReport`], [`Check`], [`Figures`].
//! - [`cli`]: what `routeagent lab up|down|status|demo` prints and returns.
//! - [`error`]: [`LabError`], naming the namespace, command and stderr.

pub mod agents;
pub mod build;
pub mod checks;
pub mod cli;
pub mod config;
pub mod error;
pub mod lab;
pub mod ns;
pub mod plan;
pub mod report;
pub mod snapshot;
pub mod traffic;

#[cfg(test)]
mod manual;

pub use checks::demo;
pub use config::LabConfig;
pub use error::{LabError, Result};
pub use lab::{down_prefix, status_prefix, Lab};
pub use netns;
pub use report::{Check, DemoReport, Figures};

#[cfg(test)]
mod tests {
    use crate::checks::{pod_to_pod, source_address, three_clusters};
    use crate::{Lab, LabConfig};

    fn hand_programmed(prefix: &str, clusters: usize, nodes: usize) -> Lab {
        netns::require_root();
        let mut c = LabConfig::new(prefix);
        c.clusters = clusters;
        c.nodes = nodes;
        let lab = Lab::up_network(c).unwrap();
        crate::manual::program(&lab.plan).unwrap();
        lab
    }

    #[test]
    fn traffic_checks_pass_on_a_hand_programmed_lab() {
        let mut lab = hand_programmed("raman1", 2, 3);
        let d = pod_to_pod::run(&mut lab).unwrap();
        eprintln!("{d}");
        let d = source_address::run(&mut lab).unwrap();
        eprintln!("{d}");
        let d = crate::checks::host_network::run(&mut lab).unwrap();
        eprintln!("{d}");
        let g = crate::traffic::iperf3(
            "raman1-a3p",
            "raman1-b3p",
            lab.plan.node("b3").unwrap().pod_ip,
            1,
        )
        .unwrap();
        assert!(g > 0.1, "{g} Gbit/s");
        eprintln!("iperf3 {g:.2} Gbit/s");
    }

    #[test]
    fn clamping_is_what_carries_tcp_over_the_small_cable() {
        // The physics of the mss-clamp check, with hand-made rules.
        let lab = hand_programmed("ramss", 2, 1);
        let (a1, b1) = (lab.gateway(0).clone(), lab.gateway(1).clone());
        crate::checks::mss_clamp::prepare(&a1, &b1, 1550).unwrap();
        let t = std::time::Duration::from_secs(10);
        crate::traffic::tcp_transfer(&a1.pod_ns, &b1.pod_ns, b1.pod_ip, 20 << 20, t).unwrap();
        for g in [&a1, &b1] {
            crate::ns::exec(
                &g.ns,
                "nft",
                &["delete", "chain", "ip", "routeagent", "mss"],
            )
            .unwrap();
        }
        let t = std::time::Duration::from_secs(3);
        let e = crate::traffic::tcp_transfer(&a1.pod_ns, &b1.pod_ns, b1.pod_ip, 20 << 20, t);
        assert!(e.is_err(), "completed without clamping: {e:?}");
        eprintln!("{}", e.unwrap_err());
    }

    #[test]
    fn three_hand_programmed_clusters_connect_pairwise() {
        let mut lab = hand_programmed("raman3", 3, 2);
        let d = three_clusters::run(&mut lab).unwrap();
        eprintln!("{d}");
    }

    #[test]
    fn masquerade_breaks_source_without_the_exemption() {
        // Proves the CNI-like table really masquerades: with the hand-made
        // agent table removed, the remote pod sees the wrong source.
        let mut lab = hand_programmed("raman2", 2, 2);
        for (_, n) in lab.plan.nodes() {
            crate::ns::exec(&n.ns, "nft", &["delete", "table", "ip", "routeagent"]).unwrap();
        }
        let e = source_address::run(&mut lab).unwrap_err().to_string();
        assert!(e.contains("instead of the pod's"), "{e}");
    }
}

#[cfg(test)]
mod snapshot_tests {
    use crate::snapshot::{diff, take};
    use crate::{Lab, LabConfig};

    #[test]
    fn snapshots_are_stable_and_see_changes() {
        netns::require_root();
        let mut c = LabConfig::new("rasnap");
        c.nodes = 2;
        let lab = Lab::up_network(c).unwrap();
        let a2 = lab.plan.node("a2").unwrap().ns.clone();
        let before = take(&a2).unwrap();
        // IPv6 DAD and link state settle in the meantime.
        std::thread::sleep(std::time::Duration::from_millis(2500));
        let again = take(&a2).unwrap();
        assert_eq!(diff(&before, &again), Vec::<String>::new());
        crate::ns::sh(
            &a2,
            "ip link add vx-t type vxlan id 7 dstport 4789 dev eth0 && ip link set vx-t up && \
             ip route add 10.99.0.0/16 dev vx-t table 150 && ip rule add pref 150 lookup 150 && \
             bridge fdb append 00:00:00:00:00:00 dev vx-t dst 10.1.0.1 && \
             sysctl -qw net.ipv4.conf.pod0.rp_filter=1 && nft add table ip routeagent",
        )
        .unwrap();
        let changed = diff(&before, &take(&a2).unwrap()).join("\n");
        for section in [
            "links: +",
            "routes: +",
            "rules: +",
            "fdb: +",
            "sysctls: -",
            "nftables: +",
        ] {
            assert!(
                changed.contains(section),
                "{section} missing in:\n{changed}"
            );
        }
        crate::ns::sh(
            &a2,
            "ip link del vx-t && ip rule del pref 150 && sysctl -qw net.ipv4.conf.pod0.rp_filter=2 && \
             nft delete table ip routeagent",
        )
        .unwrap();
        assert_eq!(diff(&before, &take(&a2).unwrap()), Vec::<String>::new());
    }
}
