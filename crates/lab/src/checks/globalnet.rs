//! Check (`--globalnet`): the remote side sees the sending cluster's global
//! IP, i.e. the lab's Globalnet-like SNAT (iptables-nft, nat priority 100)
//! ran: routeagent's rules did not bind a NAT mapping before it.

use super::{last, need, pod};
use crate::ns::exec;
use crate::traffic::tcp_transfer;
use crate::{Lab, LabError, Result};
use std::net::IpAddr;
use std::time::Duration;

/// From the gateway's pod and the last pod of every cluster, and from a
/// non-gateway host, to a pod of the next cluster.
pub fn run(lab: &mut Lab) -> Result<String> {
    need(lab, 2, 1)?;
    if !lab.config.globalnet {
        return Err(LabError::Skipped("globalnet needs --globalnet".into()));
    }
    let clusters = lab.plan.clusters.len();
    let mut seen = Vec::new();
    for c in 0..clusters {
        let global = lab.plan.clusters[c].global_ip;
        let dst = pod(lab, (c + 1) % clusters, 0);
        let gw = lab.gateway(c).clone();
        for (from, name) in [
            (gw.pod_ns.clone(), gw.name.clone()),
            (last(lab, c).pod_ns, last(lab, c).name),
            (last(lab, c).ns, format!("host {}", last(lab, c).name)),
        ] {
            let t = tcp_transfer(
                &from,
                &dst.pod_ns,
                dst.pod_ip,
                1 << 20,
                Duration::from_secs(10),
            )?;
            if t.peer.ip() != IpAddr::V4(global) {
                let counters = exec(
                    &gw.ns,
                    "iptables-nft",
                    &["-t", "nat", "-L", "SM-GN-EGRESS-CLUSTER", "-v", "-n"],
                )
                .unwrap_or_default();
                return Err(LabError::Traffic {
                    from,
                    to: dst.pod_ns.clone(),
                    detail: format!(
                        "the remote pod saw source {} instead of the global IP {global}: \
                         Globalnet's SNAT was pre-empted; {}:\n{counters}",
                        t.peer.ip(),
                        gw.name
                    ),
                });
            }
            let line = format!("{name} as {global}");
            if !seen.contains(&line) {
                seen.push(line);
            }
        }
    }
    Ok(format!(
        "remote pods saw the global IPs Globalnet's SNAT (nat priority 100) gave: {}",
        seen.join(", ")
    ))
}
