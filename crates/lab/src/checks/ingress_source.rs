//! Check: remote-to-local traffic keeps its source although every node
//! carries a kube-proxy-like masquerade that would catch it (kube-proxy
//! marks traffic from outside the cluster CIDR with 0x4000 and
//! masquerades what is marked), because routeagent pins the source first.

use super::{last, need};
use crate::ns::{exec, nft};
use crate::plan::NodePlan;
use crate::traffic::tcp_transfer;
use crate::{Lab, LabError, Result};
use std::net::IpAddr;
use std::time::Duration;

/// The lab-owned kube-proxy-like table of a node whose cluster CIDR is `cidr`.
pub fn table(cidr: &str) -> String {
    format!(
        "table ip kube-proxy-like {{
  chain kp_mark {{ type nat hook prerouting priority dstnat; policy accept;
    ip saddr != {cidr} ip daddr {cidr} meta mark set mark | 0x4000
  }}
  chain kp_masq {{ type nat hook postrouting priority srcnat; policy accept;
    meta mark & 0x4000 == 0x4000 masquerade
  }}
}}
"
    )
}

/// Adds the table on every node, sends from the gateway's and the last
/// node's pod of each cluster to the same pods of the next cluster, and
/// always removes the table.
pub fn run(lab: &mut Lab) -> Result<String> {
    need(lab, 2, 1)?;
    let nodes: Vec<(String, String)> = lab
        .plan
        .nodes()
        .map(|(c, n)| (n.ns.clone(), c.pod_cidr.clone()))
        .collect();
    let added = nodes
        .iter()
        .try_for_each(|(ns, cidr)| nft(ns, &table(cidr)));
    let result = added.and_then(|()| body(lab));
    for (ns, _) in &nodes {
        let _ = exec(ns, "nft", &["delete", "table", "ip", "kube-proxy-like"]);
    }
    result
}

fn body(lab: &mut Lab) -> Result<String> {
    let clusters = lab.plan.clusters.len();
    let mut seen = Vec::new();
    for c in 0..clusters {
        let d = (c + 1) % clusters;
        let srcs = [lab.gateway(c).clone(), last(lab, c)];
        let dsts = [lab.gateway(d).clone(), last(lab, d)];
        // One pair when each cluster has one node.
        let n = if srcs[0].name == srcs[1].name { 1 } else { 2 };
        for (src, dst) in srcs.iter().zip(dsts.iter()).take(n) {
            let want = lab.seen_from(c, src.pod_ip);
            let t = transfer(src, dst)?;
            if t != IpAddr::V4(want) {
                return Err(LabError::Traffic {
                    from: src.pod_ns.clone(),
                    to: dst.pod_ns.clone(),
                    detail: format!(
                        "the receiving pod saw source {t} instead of {want}: the kube-proxy-like \
                         masquerade caught remote-to-local traffic"
                    ),
                });
            }
            seen.push(format!("{}->{}", src.name, dst.name));
        }
    }
    Ok(format!(
        "with a kube-proxy-like masquerade on every node, local pods saw the remote pods' addresses ({})",
        seen.join(", ")
    ))
}

fn transfer(src: &NodePlan, dst: &NodePlan) -> Result<IpAddr> {
    let t = tcp_transfer(
        &src.pod_ns,
        &dst.pod_ns,
        dst.pod_ip,
        1 << 20,
        Duration::from_secs(10),
    )?;
    Ok(t.peer.ip())
}
