//! Check 1: pod to pod across clusters from every node's pod: ICMP, and a
//! 100 MiB TCP transfer whose sha256 matches on both ends; the transfers
//! from cluster a crossed its gateway's cable interface (`vxlan-tunnel`,
//! or the lab's WireGuard link `submariner`).

use super::pod;
use crate::ns::exec;
use crate::traffic::{ping, tcp_transfer};
use crate::{Lab, LabError, Result};
use std::time::{Duration, Instant};

/// Bytes of each transfer.
pub const BYTES: u64 = 100 << 20;
/// Bytes of each transfer over the lab's userspace WireGuard (about
/// 0.2-0.7 Gbit/s here, against 3-15 for VXLAN).
pub const WIREGUARD_BYTES: u64 = 20 << 20;

/// From every pod of cluster c to the pod of the same node index in cluster
/// c+1 (wrapping).
pub fn run(lab: &mut Lab) -> Result<String> {
    let start = Instant::now();
    let bytes = match lab.config.cable {
        crate::Cable::Wireguard => WIREGUARD_BYTES,
        _ => BYTES,
    };
    let clusters = lab.plan.clusters.len();
    if clusters < 2 {
        return Err(LabError::Config("pod-to-pod needs 2 clusters".into()));
    }
    let gw = lab.gateway(0).clone();
    let cable = lab.config.cable.interface(0);
    let before = tx_bytes(&gw.ns, cable)?;
    let mut pairs = 0;
    for c in 0..clusters {
        for i in 0..lab.plan.clusters[c].nodes.len() {
            let src = pod(lab, c, i);
            let dst = pod(lab, (c + 1) % clusters, i);
            ping(&src.pod_ns, dst.pod_ip)?;
            let t = tcp_transfer(
                &src.pod_ns,
                &dst.pod_ns,
                dst.pod_ip,
                bytes,
                Duration::from_secs(30),
            )?;
            if t.sent_sha256 != t.received_sha256 || t.sent_sha256.len() != 64 {
                return Err(LabError::Traffic {
                    from: src.pod_ns,
                    to: dst.pod_ns,
                    detail: format!(
                        "sha256 mismatch: sent {} received {}",
                        t.sent_sha256, t.received_sha256
                    ),
                });
            }
            pairs += 1;
        }
    }
    let crossed = tx_bytes(&gw.ns, cable)?.saturating_sub(before);
    let from_a = lab.plan.clusters[0].nodes.len() as u64 * bytes;
    if crossed < from_a {
        return Err(LabError::Agent {
            node: gw.name,
            detail: format!(
                "{} MiB left cluster a but only {} MiB went out of the cable interface {cable}",
                from_a >> 20,
                crossed >> 20
            ),
        });
    }
    lab.figures.transfer_mib = Some(pairs * (bytes >> 20));
    Ok(format!(
        "{pairs} pods: ICMP and {} MiB TCP each across clusters, sha256 equal ({:.1} s); \
         {} MiB out of {}'s {cable}",
        bytes >> 20,
        start.elapsed().as_secs_f64(),
        crossed >> 20,
        gw.name
    ))
}

/// Bytes sent by `dev` (`ip -j -s link show DEV`: stats64.tx.bytes).
fn tx_bytes(ns: &str, dev: &str) -> Result<u64> {
    let out = exec(ns, "ip", &["-j", "-s", "link", "show", dev])?;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
    v[0]["stats64"]["tx"]["bytes"]
        .as_u64()
        .ok_or_else(|| LabError::Command {
            ns: ns.into(),
            command: format!("ip -j -s link show {dev}"),
            stderr: format!("no tx bytes in {out:.200}"),
        })
}
