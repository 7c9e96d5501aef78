//! Check 9: with three clusters, every ordered pair of clusters connects
//! pod to pod (ICMP and TCP, source preserved).

use super::{last, need};
use crate::traffic::{ping, tcp_transfer};
use crate::{Lab, LabError, Result};
use std::net::IpAddr;
use std::time::Duration;

/// Every ordered pair (x, y), x != y, from the last pod of x to the last pod of y.
pub fn run(lab: &mut Lab) -> Result<String> {
    need(lab, 3, 1)?;
    let n = lab.plan.clusters.len();
    let mut pairs = 0;
    for x in 0..n {
        for y in (0..n).filter(|y| *y != x) {
            let (s, d) = (last(lab, x), last(lab, y));
            ping(&s.pod_ns, d.pod_ip)?;
            let t = tcp_transfer(
                &s.pod_ns,
                &d.pod_ns,
                d.pod_ip,
                1 << 20,
                Duration::from_secs(10),
            )?;
            let want = lab.seen_from(x, s.pod_ip);
            if t.peer.ip() != IpAddr::V4(want) || t.sent_sha256 != t.received_sha256 {
                return Err(LabError::Traffic {
                    from: s.pod_ns,
                    to: d.pod_ns,
                    detail: format!(
                        "source seen {} (want {}), sha256 equal: {}",
                        t.peer.ip(),
                        want,
                        t.sent_sha256 == t.received_sha256
                    ),
                });
            }
            pairs += 1;
        }
    }
    Ok(format!(
        "{n} clusters: all {pairs} ordered pairs connect (ICMP + TCP, source preserved)"
    ))
}
