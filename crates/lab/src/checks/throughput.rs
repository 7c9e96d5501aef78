//! Check 8: iperf3 pod to pod across clusters with the agents' rules, and
//! on the same path with their nftables tables deleted; the agents are
//! stopped (SIGSTOP) during both runs; `throughput_ratio` = with / without (target >= 0.95).
//! The check and `routeagent bench throughput` measure alike: [`pairs`]
//! of runs, alternating which side goes first, and the median of the
//! pairs' ratios.
//!
//! Without the agents' tables the CNI-like masquerade would break the path,
//! so the baseline adds the minimum to keep it working: a lab-owned
//! `snat to ip saddr` for pod-to-remote-pod traffic (what keeps the source).

use super::{last, need};
use crate::ns::{exec, nft};
use crate::stats::Summary;
use crate::traffic::{iperf3, Iperf};
use crate::{Lab, LabError, Result};
use serde::Serialize;
use std::collections::BTreeMap;

/// Seconds per iperf3 run.
pub const SECS: u32 = 3;
/// Pairs the demo's check measures (the benchmark takes `--pairs`).
pub const PAIRS: usize = 3;
/// The median ratio the check requires.
pub const TARGET: f64 = 0.95;

/// One pair of iperf3 runs over the same path.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Pair {
    /// Whether the run with the agents' rules went first.
    pub with_first: bool,
    /// Gbit/s received over the whole run, with the agents' rules.
    pub gbit_with: f64,
    /// Likewise without them.
    pub gbit_without: f64,
    /// `gbit_with / gbit_without`.
    pub ratio: f64,
}

/// `n` pairs from the last pod of cluster a to the last pod of cluster b,
/// `secs` seconds per run; pair `i` runs with the rules first when `i` is
/// even, so a trend in the machine's load favours neither side.
pub fn pairs(lab: &mut Lab, n: usize, secs: u32) -> Result<Vec<Pair>> {
    need(lab, 2, 1)?;
    let src = last(lab, 0);
    let dst = last(lab, 1);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let with_first = i % 2 == 0;
        let with = |lab: &Lab| measure_with(lab, &src.pod_ns, &dst.pod_ns, dst.pod_ip, secs);
        let (w, wo) = if with_first {
            let w = with(lab)?;
            (
                w,
                measure_without(lab, &src.pod_ns, &dst.pod_ns, dst.pod_ip, secs)?,
            )
        } else {
            let wo = measure_without(lab, &src.pod_ns, &dst.pod_ns, dst.pod_ip, secs)?;
            (with(lab)?, wo)
        };
        out.push(Pair {
            with_first,
            gbit_with: w.gbit,
            gbit_without: wo.gbit,
            ratio: w.gbit / wo.gbit,
        });
    }
    Ok(out)
}

/// [`PAIRS`] pairs of [`SECS`] s runs; passes when the median ratio is at
/// least [`TARGET`].
pub fn run(lab: &mut Lab) -> Result<String> {
    let ps = pairs(lab, PAIRS, SECS)?;
    let median = |f: fn(&Pair) -> f64| {
        Summary::of(&ps.iter().map(f).collect::<Vec<_>>()).map_or(0.0, |s| s.median)
    };
    let ratios = Summary::of(&ps.iter().map(|p| p.ratio).collect::<Vec<_>>());
    let Some(ratios) = ratios else {
        return Err(LabError::Config("no iperf3 pairs measured".into()));
    };
    let (with, without) = (median(|p| p.gbit_with), median(|p| p.gbit_without));
    lab.figures.gbit_with = Some(with);
    lab.figures.gbit_without = Some(without);
    lab.figures.throughput_ratio = Some(ratios.median);
    let each: Vec<String> = ps
        .iter()
        .map(|p| format!("{:.2}/{:.2}", p.gbit_with, p.gbit_without))
        .collect();
    let d = format!(
        "{PAIRS} interleaved pairs of {SECS} s iperf3 runs (with/without Gbit/s: {}); ratio {ratios:.3}, target {TARGET}",
        each.join(", ")
    );
    let (src, dst) = (last(lab, 0).pod_ns, last(lab, 1).pod_ns);
    if ratios.median >= TARGET {
        Ok(format!("{src} -> {dst}: {d}"))
    } else {
        Err(LabError::Traffic {
            from: src,
            to: dst,
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

/// One iperf3 run through the agents' tables, with the agents stopped as in
/// [`measure_without`], so that the two sides differ only in the rules the
/// packets meet (not in what the agents' processes do meanwhile).
fn measure_with(
    lab: &Lab,
    from: &str,
    to: &str,
    ip: std::net::Ipv4Addr,
    secs: u32,
) -> Result<Iperf> {
    lab.signal_agents(libc::SIGSTOP);
    let r = iperf3(from, to, ip, secs);
    lab.signal_agents(libc::SIGCONT);
    r
}

/// One iperf3 run with the agents stopped and their tables replaced by
/// the lab's minimal baseline (see the module doc); then the tables are
/// restored and the agents continue and converge.
fn measure_without(
    lab: &mut Lab,
    from: &str,
    to: &str,
    ip: std::net::Ipv4Addr,
    secs: u32,
) -> Result<Iperf> {
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
        iperf3(from, to, ip, secs)
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
