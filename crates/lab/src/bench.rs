//! The lab's benchmarks behind `routeagent bench failover|throughput`:
//! each builds one lab, repeats a measurement the demo's checks make
//! once, and tears the lab down (also on error).

use crate::checks::{failover, last, need, throughput};
use crate::stats::Summary;
use crate::traffic::{probe, Responder};
use crate::{Lab, LabConfig, LabError, Result};
use serde::Serialize;
use std::fmt;
use std::time::Duration;

/// The failover time every run must stay under.
pub const FAILOVER_TARGET_MS: u64 = 200;

/// One gateway move.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailoverRun {
    /// The gateway that lost its underlay (`a1`).
    pub from: String,
    /// The node that took over (`a2`).
    pub to: String,
    /// Topology change to the first answered cross-cluster connection.
    pub ms: u64,
}

/// What `routeagent bench failover` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailoverReport {
    /// Every run, in order.
    pub runs: Vec<FailoverRun>,
    /// The slowest run.
    pub max_ms: u64,
    /// Distribution of the runs' `ms`.
    pub summary: Summary,
    /// [`FAILOVER_TARGET_MS`].
    pub target_ms: u64,
    /// Whether every run stayed under the target.
    pub met: bool,
}

/// `runs` gateway moves in one lab built from `config` (2 clusters x 3
/// nodes at least): cluster a's gateway goes back and forth between
/// nodes 1 and 2, each time as the demo's failover check does it
/// ([`failover::move_gateway`]); before each move one connection proves
/// the current path.
pub fn failover(config: LabConfig, runs: usize) -> Result<FailoverReport> {
    if runs == 0 {
        return Err(LabError::Config("--runs must be at least 1".into()));
    }
    let mut lab = Lab::up(config)?;
    need(&lab, 2, 2)?;
    let (src, dst) = (last(&lab, 0), last(&lab, 1));
    let responder = Responder::start(&dst.pod_ns, dst.pod_ip)?;
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs {
        probe(&src.pod_ns, responder.addr, Duration::from_secs(2))?;
        let from = lab.gateway(0).name.clone();
        let new_index = if lab.gateway(0).index == 1 { 1 } else { 0 };
        let ms = failover::move_gateway(&mut lab, new_index, &src, &responder)?;
        out.push(FailoverRun {
            from,
            to: lab.gateway(0).name.clone(),
            ms,
        });
    }
    drop(responder);
    lab.down()?;
    let ms: Vec<f64> = out.iter().map(|r| r.ms as f64).collect();
    let max_ms = out.iter().map(|r| r.ms).max().unwrap_or_default();
    Ok(FailoverReport {
        summary: Summary::of(&ms).ok_or_else(|| LabError::Config("no runs".into()))?,
        max_ms,
        target_ms: FAILOVER_TARGET_MS,
        met: max_ms < FAILOVER_TARGET_MS,
        runs: out,
    })
}

impl fmt::Display for FailoverReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "gateway failover, topology change to the first cross-cluster TCP connection ({} runs):",
            self.runs.len()
        )?;
        for (i, r) in self.runs.iter().enumerate() {
            writeln!(f, "  run {:>2}: {} -> {}: {} ms", i + 1, r.from, r.to, r.ms)?;
        }
        write!(
            f,
            "  max {} ms (target < {} ms: {}); {:.0} ms",
            self.max_ms,
            self.target_ms,
            if self.met { "met" } else { "missed" },
            self.summary
        )
    }
}

/// What `routeagent bench throughput` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThroughputReport {
    /// Every pair, in order.
    pub pairs: Vec<throughput::Pair>,
    /// Seconds per iperf3 run.
    pub secs: u32,
    /// Distribution of the pairs' ratios (with / without).
    pub ratio: Summary,
    /// Distribution of the Gbit/s with the agents' rules.
    pub gbit_with: Summary,
    /// Distribution of the Gbit/s without them.
    pub gbit_without: Summary,
    /// [`throughput::TARGET`].
    pub target: f64,
    /// Whether the median ratio reaches the target.
    pub met: bool,
}

/// `pairs` interleaved pairs of `secs`-second iperf3 runs in one lab built
/// from `config`, with and without the agents' packet-filter rules
/// ([`throughput::pairs`], the demo check's method).
pub fn throughput(config: LabConfig, pairs: usize, secs: u32) -> Result<ThroughputReport> {
    if pairs == 0 || secs == 0 {
        return Err(LabError::Config(
            "--pairs and --secs must be at least 1".into(),
        ));
    }
    let mut lab = Lab::up(config)?;
    let ps = throughput::pairs(&mut lab, pairs, secs)?;
    lab.down()?;
    let of = |f: fn(&throughput::Pair) -> f64| {
        Summary::of(&ps.iter().map(f).collect::<Vec<_>>())
            .ok_or_else(|| LabError::Config("no pairs measured".into()))
    };
    let ratio = of(|p| p.ratio)?;
    Ok(ThroughputReport {
        gbit_with: of(|p| p.gbit_with)?,
        gbit_without: of(|p| p.gbit_without)?,
        met: ratio.median >= throughput::TARGET,
        target: throughput::TARGET,
        ratio,
        secs,
        pairs: ps,
    })
}

impl fmt::Display for ThroughputReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "iperf3 pod to pod across clusters, {} interleaved pairs of {} s runs (Gbit/s):",
            self.pairs.len(),
            self.secs
        )?;
        for (i, p) in self.pairs.iter().enumerate() {
            let order = if p.with_first {
                "with first   "
            } else {
                "without first"
            };
            writeln!(
                f,
                "  pair {:>2} ({order}): with {:.2}, without {:.2}, ratio {:.3}",
                i + 1,
                p.gbit_with,
                p.gbit_without,
                p.ratio
            )?;
        }
        writeln!(f, "  with:    {:.2}", self.gbit_with)?;
        writeln!(f, "  without: {:.2}", self.gbit_without)?;
        write!(
            f,
            "  ratio:   {:.3} (target median >= {}: {})",
            self.ratio,
            self.target,
            if self.met { "met" } else { "missed" }
        )
    }
}
