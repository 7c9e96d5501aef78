//! Check 8: iperf3 pod to pod across clusters with the agents' rules, and
//! on the same path with the agents stopped (SIGSTOP) and their nftables
//! tables deleted; `throughput_ratio` = with / without (target >= 0.95).
//!
//! Without the agents' tables the CNI-like masquerade would break the path,
//! so the baseline adds the minimum to keep it working: a lab-owned
//! `snat to ip saddr` for pod-to-remote-pod traffic (what keeps the source).

use super::{last, need};
use crate::ns::{exec, nft};
use crate::traffic::{iperf3, Iperf};
use crate::{Lab, LabError, Result};
use std::collections::BTreeMap;

/// Seconds per iperf3 run.
pub const SECS: u32 = 3;
/// Runs of each kind.
pub const ROUNDS: usize = 3;
/// The ratio the check requires.
pub const TARGET: f64 = 0.95;

/// Measures with, without, with, without ... (interleaved, so load from
/// elsewhere on the machine hits both sides alike) and compares the best
/// one-second interval of each side: interference only ever lowers a
/// sample, so the best is the least disturbed.
pub fn run(lab: &mut Lab) -> Result<String> {
    need(lab, 2, 1)?;
    let src = last(lab, 0);
    let dst = last(lab, 1);
    let (mut withs, mut withouts) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        withs.push(iperf3(&src.pod_ns, &dst.pod_ns, dst.pod_ip, SECS)?);
        withouts.push(measure_without(lab, &src.pod_ns, &dst.pod_ns, dst.pod_ip)?);
    }
    let best = |v: &[Iperf]| v.iter().map(|r| r.best_second).fold(0f64, f64::max);
    let (with, without) = (best(&withs), best(&withouts));
    let ratio = with / without;
    lab.figures.gbit_with = Some(with);
    lab.figures.gbit_without = Some(without);
    lab.figures.throughput_ratio = Some(ratio);
    let d = format!(
        "best second of {ROUNDS} x {SECS} s runs: {with:.2} Gbit/s with the agents' rules, \
         {without:.2} without (ratio {ratio:.2}, target {TARGET}; run means {} / {})",
        fmt(&withs),
        fmt(&withouts)
    );
    if ratio >= TARGET {
        Ok(format!("{} -> {}: {d}", src.pod_ns, dst.pod_ns))
    } else {
        Err(LabError::Traffic {
            from: src.pod_ns,
            to: dst.pod_ns,
            detail: d,
        })
    }
}

/// Names of the agents' tables in `ns`: `(family, name)` of every table
/// called `routeagent` (`nft -j list tables`).
fn agent_tables(ns: &str) -> Result<Vec<(String, String)>> {
    let out = exec(ns, "nft", &["-j", "list", "tables"])?;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
    Ok(v["nftables"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o.get("table"))
        .filter(|t| {
            t["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("routeagent"))
        })
        .map(|t| {
            (
                t["family"].as_str().unwrap_or("ip").to_string(),
                t["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect())
}

fn measure_without(lab: &mut Lab, from: &str, to: &str, ip: std::net::Ipv4Addr) -> Result<Iperf> {
    lab.signal_agents(libc::SIGSTOP);
    let mut saved: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let result = (|| {
        for (c, n) in lab.plan.nodes() {
            let mut texts = Vec::new();
            for (fam, name) in agent_tables(&n.ns)? {
                texts.push(exec(&n.ns, "nft", &["list", "table", &fam, &name])?);
                exec(&n.ns, "nft", &["delete", "table", &fam, &name])?;
            }
            saved.insert(n.ns.clone(), texts);
            let remote: Vec<&str> = lab
                .plan
                .clusters
                .iter()
                .filter(|o| o.index != c.index)
                .map(|o| o.pod_cidr.as_str())
                .collect();
            nft(
                &n.ns,
                &format!(
                    "table ip lab-baseline {{\n  chain post {{\n    type nat hook postrouting priority srcnat - 10; policy accept;\n    ip saddr {} ip daddr {{ {} }} snat ip to ip saddr\n  }}\n}}\n",
                    c.pod_cidr,
                    remote.join(", ")
                ),
            )?;
        }
        iperf3(from, to, ip, SECS)
    })();
    let mut restore_err = None;
    for (_, n) in lab.plan.nodes() {
        let _ = exec(&n.ns, "nft", &["delete", "table", "ip", "lab-baseline"]);
        for t in saved.get(&n.ns).into_iter().flatten() {
            if let Err(e) = nft(&n.ns, t) {
                restore_err.get_or_insert(e);
            }
        }
    }
    lab.signal_agents(libc::SIGCONT);
    let converged = lab.wait_converged();
    let measured = result?;
    if let Some(e) = restore_err {
        return Err(e);
    }
    converged?;
    Ok(measured)
}

fn fmt(v: &[Iperf]) -> String {
    v.iter()
        .map(|r| format!("{:.2}", r.gbit))
        .collect::<Vec<_>>()
        .join(", ")
}
