//! Check 2: the remote pod sees the sending pod's own address, although
//! every node masquerades pod traffic leaving the cluster CIDR (the
//! CNI-like table).

use super::{last, pod};
use crate::traffic::tcp_transfer;
use crate::{Lab, LabError, Result};
use std::net::IpAddr;
use std::time::Duration;

/// From the gateway's pod and the last node's pod of every cluster to a
/// pod of the next cluster.
pub fn run(lab: &mut Lab) -> Result<String> {
    let clusters = lab.plan.clusters.len();
    let mut seen = Vec::new();
    for c in 0..clusters {
        let gw = lab.gateway(c).clone();
        for src in [gw, last(lab, c)] {
            let dst = pod(lab, (c + 1) % clusters, 0);
            let t = tcp_transfer(
                &src.pod_ns,
                &dst.pod_ns,
                dst.pod_ip,
                1 << 20,
                Duration::from_secs(10),
            )?;
            let want = lab.seen_from(c, src.pod_ip);
            if t.peer.ip() != IpAddr::V4(want) {
                return Err(LabError::Traffic {
                    from: src.pod_ns,
                    to: dst.pod_ns,
                    detail: format!(
                        "the receiver saw source {} instead of {want} (pod {}; masqueraded)",
                        t.peer.ip(),
                        src.pod_ip
                    ),
                });
            }
            seen.push(format!("{want}"));
        }
    }
    seen.dedup();
    Ok(format!(
        "remote pods saw the senders' own addresses ({}) despite the CNI-like masquerade",
        seen.join(", ")
    ))
}
