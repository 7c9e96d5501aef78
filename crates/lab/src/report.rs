//! [`DemoReport`]: the checks, the figures, a readable summary and JSON.

use serde::Serialize;
use std::fmt;

/// One check's outcome.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Check {
    /// Stable name (`pod-to-pod`, `source-address`, ...).
    pub name: String,
    /// Whether it passed (a skipped check counts as passed).
    pub passed: bool,
    /// Whether it did not apply to this lab (and did not run).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
    /// What was measured or what failed.
    pub detail: String,
}

impl Check {
    /// A check from a result: `Ok(detail)` passes, `Err(e)` fails with `e`
    /// and its causes.
    pub fn from_result<E: Into<Box<dyn std::error::Error>>>(
        name: &str,
        r: Result<String, E>,
    ) -> Check {
        match r {
            Ok(detail) => Check {
                name: name.into(),
                passed: true,
                skipped: false,
                detail,
            },
            Err(e) => Check {
                name: name.into(),
                passed: false,
                skipped: false,
                detail: errchain::Chain(&*e.into()).to_string(),
            },
        }
    }

    /// A check of the lab: [`crate::LabError::Skipped`] makes a skipped one.
    pub fn of(name: &str, r: crate::Result<String>) -> Check {
        match r {
            Err(crate::LabError::Skipped(why)) => Check {
                name: name.into(),
                passed: true,
                skipped: true,
                detail: why,
            },
            r => Check::from_result(name, r),
        }
    }
}

/// Figures measured by the checks (absent when the check did not run).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Figures {
    /// Topology change to first successful cross-cluster TCP connection.
    pub failover_ms: Option<u64>,
    /// Gbit/s with the agents' rules / without them.
    pub throughput_ratio: Option<f64>,
    /// iperf3 pod to pod across clusters, agents' rules in place (Gbit/s,
    /// best one-second interval of the runs).
    pub gbit_with: Option<f64>,
    /// The same path without the agents' packet-filter rules (likewise).
    pub gbit_without: Option<f64>,
    /// Time from starting the agents to all converged (ms).
    pub converge_ms: Option<u64>,
    /// Time to build the namespaces (ms).
    pub build_ms: Option<u64>,
    /// MiB moved by the checksummed pod-to-pod transfers.
    pub transfer_mib: Option<u64>,
    /// Wall time of the whole demo (ms).
    pub demo_ms: Option<u64>,
}

/// What `demo` returns.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DemoReport {
    /// Clusters in the main lab.
    pub clusters: usize,
    /// Nodes per cluster.
    pub nodes: usize,
    /// Who made the cables (`vxlan`, `wireguard`, `mixed`).
    pub cable: crate::Cable,
    /// Whether the lab played Globalnet.
    pub globalnet: bool,
    /// How the agents ran (`process`, `container`).
    pub agents: crate::AgentMode,
    /// Every check, in the order run.
    pub checks: Vec<Check>,
    /// Measured figures.
    pub figures: Figures,
}

impl DemoReport {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.passed)
    }

    /// One JSON object: `clusters`, `nodes`, `passed`, `checks` [{name,
    /// passed, detail}] and the figures at top level.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "clusters": self.clusters,
            "nodes": self.nodes,
            "cable": self.cable,
            "globalnet": self.globalnet,
            "agents": self.agents,
            "passed": self.passed(),
            "checks": self.checks,
        });
        if let (Some(o), Ok(serde_json::Value::Object(f))) =
            (v.as_object_mut(), serde_json::to_value(&self.figures))
        {
            o.extend(f);
        }
        v
    }
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "routeagent lab: {} clusters x {} nodes, one agent per node ({}), cable {}{}",
            self.clusters,
            self.nodes,
            self.agents.as_str(),
            self.cable.as_str(),
            if self.globalnet { ", Globalnet" } else { "" }
        )?;
        for c in &self.checks {
            let mark = match (c.passed, c.skipped) {
                (_, true) => "SKIP",
                (true, _) => "PASS",
                _ => "FAIL",
            };
            writeln!(f, "  [{mark}] {:<16} {}", c.name, c.detail)?;
        }
        let g = &self.figures;
        let mut figs = Vec::new();
        if let Some(ms) = g.failover_ms {
            figs.push(format!("failover {ms} ms"));
        }
        if let (Some(r), Some(w), Some(wo)) = (g.throughput_ratio, g.gbit_with, g.gbit_without) {
            figs.push(format!(
                "throughput {w:.1} Gbit/s with agents, {wo:.1} without (ratio {r:.2})"
            ));
        }
        if let Some(ms) = g.converge_ms {
            figs.push(format!("agents converged in {ms} ms"));
        }
        if let Some(ms) = g.demo_ms {
            figs.push(format!("demo took {:.1} s", ms as f64 / 1000.0));
        }
        if !figs.is_empty() {
            writeln!(f, "  figures: {}", figs.join("; "))?;
        }
        let passed = self.checks.iter().filter(|c| c.passed).count();
        write!(f, "  result: {passed}/{} checks passed", self.checks.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_checks_and_figures_at_top_level() {
        let r = DemoReport {
            clusters: 2,
            nodes: 3,
            cable: crate::Cable::Vxlan,
            globalnet: false,
            agents: crate::AgentMode::Container,
            checks: vec![
                Check::from_result::<String>("pod-to-pod", Ok("6 pods".into())),
                Check::from_result::<String>("failover", Err("no traffic".into())),
            ],
            figures: Figures {
                failover_ms: Some(420),
                ..Figures::default()
            },
        };
        let j = r.to_json();
        assert_eq!(j["checks"][1]["passed"], false);
        assert_eq!(j["checks"][0]["name"], "pod-to-pod");
        assert_eq!(j["failover_ms"], 420);
        assert_eq!(j["passed"], false);
        assert_eq!(j["cable"], "vxlan");
        assert_eq!(j["globalnet"], false);
        assert_eq!(j["agents"], "container");
        let skip = Check::of("failover", Err(crate::LabError::Skipped("1 node".into())));
        assert!(skip.passed && skip.skipped);
        let text = r.to_string();
        assert!(text.contains("[FAIL] failover"), "{text}");
        assert!(text.contains("1/2 checks passed"), "{text}");
    }
}
