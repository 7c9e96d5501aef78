//! Check 3: the host network of a non-gateway node (the gateway's when the
//! cluster has one node) reaches a remote pod (its traffic is SNATed to the
//! node's CNI interface address; under Globalnet then to the global IP).

use super::{last, need, pod};
use crate::traffic::{ping, tcp_transfer};
use crate::{Lab, LabError, Result};
use std::net::IpAddr;
use std::time::Duration;

/// From the last node's host namespace of cluster a to a pod of cluster b.
pub fn run(lab: &mut Lab) -> Result<String> {
    need(lab, 2, 1)?;
    let src = last(lab, 0);
    let want = lab.seen_from(0, src.cni_ip);
    let dst = pod(lab, 1, 0);
    ping(&src.ns, dst.pod_ip)?;
    let t = tcp_transfer(
        &src.ns,
        &dst.pod_ns,
        dst.pod_ip,
        10 << 20,
        Duration::from_secs(10),
    )?;
    if t.sent_sha256 != t.received_sha256 {
        return Err(LabError::Traffic {
            from: src.ns,
            to: dst.pod_ns,
            detail: "sha256 mismatch".into(),
        });
    }
    if t.peer.ip() != IpAddr::V4(want) {
        return Err(LabError::Traffic {
            from: src.ns,
            to: dst.pod_ns,
            detail: format!(
                "connected, but the pod saw source {} instead of {want} (CNI interface address {})",
                t.peer.ip(),
                src.cni_ip
            ),
        });
    }
    Ok(format!(
        "host {} -> pod {}: ICMP and 10 MiB TCP, seen from {} (the CNI interface address, or the global IP)",
        src.name,
        dst.pod_ip,
        t.peer.ip()
    ))
}
