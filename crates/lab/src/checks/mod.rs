//! The checks of the main job, one module each, and [`demo`].
//!
//! Every check takes a [`Lab`] that is up with its agents converged,
//! returns a one-line detail on success, leaves the lab as it found it
//! (agents restarted with their usual arguments, lab-owned tables removed),
//! and records its figures in [`Lab::figures`].

pub mod degraded;
pub mod failover;
pub mod foreign_objects;
pub mod globalnet;
pub mod host_network;
pub mod ingress_source;
pub mod interop;
pub mod mss_clamp;
pub mod ovn;
pub mod pod_to_pod;
pub mod source_address;
pub mod takeover;
pub mod three_clusters;
pub mod throughput;
pub mod uninstall;

use crate::plan::NodePlan;
use crate::report::{Check, DemoReport};
use crate::{Lab, LabConfig, LabError, Result};
use std::time::Instant;

/// A check: runs against a lab, returns its detail.
pub type CheckFn = fn(&mut Lab) -> Result<String>;

/// The checks `demo` runs on the main lab, in order; [`sequence`] adds the
/// mode's checks and `three-clusters` before uninstall, which removes the
/// agents' work.
pub const SEQUENCE: &[(&str, CheckFn)] = &[
    ("pod-to-pod", pod_to_pod::run),
    ("source-address", source_address::run),
    ("ingress-source", ingress_source::run),
    ("host-network", host_network::run),
    ("degraded", degraded::run),
    ("mss-clamp", mss_clamp::run),
    ("throughput", throughput::run),
    ("failover", failover::run),
    ("uninstall", uninstall::run),
    ("foreign-objects", foreign_objects::run),
];

/// The checks for a lab built from `config`: [`SEQUENCE`] with `interop`
/// (`--cable mixed`) and `globalnet` (`--globalnet`) after throughput, and
/// `three-clusters` (three or more clusters) before uninstall.
pub fn sequence(config: &LabConfig) -> Vec<(&'static str, CheckFn)> {
    let mut v = Vec::new();
    for &(name, f) in SEQUENCE {
        if name == "failover" {
            if config.cable == crate::Cable::Mixed {
                v.push(("interop", interop::run as CheckFn));
            }
            if config.globalnet {
                v.push(("globalnet", globalnet::run as CheckFn));
            }
        }
        if name == "uninstall" && config.clusters >= 3 {
            v.push(("three-clusters", three_clusters::run as CheckFn));
        }
        v.push((name, f));
    }
    v
}

/// A pod (namespace, address) of cluster `c`, node `i` (0-based; clamped
/// to the last node).
pub fn pod(lab: &Lab, c: usize, i: usize) -> NodePlan {
    let nodes = &lab.plan.clusters[c].nodes;
    nodes[i.min(nodes.len() - 1)].clone()
}

/// The last node of cluster `c`: a non-gateway when the cluster has two
/// or more nodes and its gateway is node 1.
pub fn last(lab: &Lab, c: usize) -> NodePlan {
    pod(lab, c, usize::MAX)
}

/// ICMP, then 1 MiB of TCP from `s`'s pod to `d`'s pod (`s` in cluster
/// `c`): the receiver must get the bytes sent, from the address cluster
/// `c` shows for that pod ([`Lab::seen_from`]).
pub fn pods_connect(lab: &Lab, s: &NodePlan, d: &NodePlan, c: usize) -> Result<()> {
    crate::traffic::ping(&s.pod_ns, d.pod_ip)?;
    let t = crate::traffic::tcp_transfer(
        &s.pod_ns,
        &d.pod_ns,
        d.pod_ip,
        1 << 20,
        std::time::Duration::from_secs(10),
    )?;
    let want = lab.seen_from(c, s.pod_ip);
    if t.peer.ip() != std::net::IpAddr::V4(want) || t.sent_sha256 != t.received_sha256 {
        return Err(LabError::Traffic {
            from: s.pod_ns.clone(),
            to: d.pod_ns.clone(),
            detail: format!(
                "source seen {} (want {want}), sha256 equal: {}",
                t.peer.ip(),
                t.sent_sha256 == t.received_sha256
            ),
        });
    }
    Ok(())
}

/// The arguments `node`'s agent runs with normally.
pub fn usual_args(lab: &Lab, node: &str) -> Vec<String> {
    lab.config
        .extra_agent_args
        .get(node)
        .cloned()
        .unwrap_or_default()
}

/// [`LabError::Skipped`] unless the lab has at least `clusters` clusters
/// and `nodes` nodes.
pub fn need(lab: &Lab, clusters: usize, nodes: usize) -> Result<()> {
    if lab.config.clusters < clusters || lab.config.nodes < nodes {
        return Err(LabError::Skipped(format!(
            "this check needs at least {clusters} clusters x {nodes} nodes, the lab has {} x {}",
            lab.config.clusters, lab.config.nodes
        )));
    }
    Ok(())
}

/// Up, every check of [`sequence`], down; then, when the lab has fewer
/// than three clusters, a 3-cluster x 2-node lab (same cable, Globalnet)
/// for `three-clusters`.
pub fn demo(config: LabConfig) -> DemoReport {
    let start = Instant::now();
    let mut report = DemoReport {
        clusters: config.clusters,
        nodes: config.nodes,
        cable: config.cable,
        globalnet: config.globalnet,
        agents: config.agents,
        ..DemoReport::default()
    };
    let third = config.clusters < 3;
    match Lab::up(config.clone()) {
        Err(e) => report
            .checks
            .push(Check::from_result::<LabError>("lab-up", Err(e))),
        Ok(mut lab) => {
            lab.check_foreign("agents converged");
            for (name, f) in sequence(&config) {
                let r = f(&mut lab);
                if r.is_err() && config.cable == crate::Cable::Wireguard {
                    // For the record of an unexplained failure (see the
                    // WireGuard demo test): the cables as they are now.
                    eprintln!(
                        "{name} failed; WireGuard cables now:\n{}",
                        crate::engine::state(&lab)
                    );
                }
                lab.check_cni_tables(name);
                lab.check_foreign(name);
                report.checks.push(Check::of(name, r));
            }
            report.figures = lab.figures.clone();
            if let Err(e) = lab.down() {
                report
                    .checks
                    .push(Check::from_result::<LabError>("lab-down", Err(e)));
            }
        }
    }
    if third {
        let mut c3 = config.clone();
        c3.clusters = 3;
        c3.nodes = config.nodes.clamp(1, 2);
        c3.prefix = format!("{}-3c", config.prefix);
        c3.work_dir = config.work_dir.with_file_name(format!(
            "{}-3c",
            config
                .work_dir
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default()
        ));
        let r = Lab::up(c3).and_then(|mut lab| {
            let r = three_clusters::run(&mut lab);
            lab.down()?;
            r
        });
        report.checks.push(Check::of("three-clusters", r));
    }
    report.figures.demo_ms = Some(start.elapsed().as_millis() as u64);
    report
}

#[cfg(test)]
mod tests {
    use super::sequence;
    use crate::{Cable, LabConfig};

    #[test]
    fn mode_checks_come_before_failover_and_three_clusters_before_uninstall() {
        let names = |c: &LabConfig| sequence(c).iter().map(|(n, _)| *n).collect::<Vec<_>>();
        let mut c = LabConfig::new("t");
        let plain = names(&c);
        assert!(!plain.contains(&"interop") && !plain.contains(&"three-clusters"));
        c.cable = Cable::Mixed;
        c.globalnet = true;
        c.clusters = 3;
        let all = names(&c);
        let at = |n: &str| all.iter().position(|x| *x == n).unwrap();
        assert!(at("interop") < at("failover") && at("globalnet") < at("failover"));
        assert_eq!(at("three-clusters") + 1, at("uninstall"));
        assert_eq!(all.last(), Some(&"foreign-objects"));
    }
}
