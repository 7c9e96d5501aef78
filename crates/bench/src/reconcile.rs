//! `routeagent bench reconcile`: a real agent process in its own namespace,
//! converging a gateway with N remote clusters of 4 CIDRs each, with its
//! own VXLAN cable (`cable: vxlan`: 4,000 table-150 and table-100 routes
//! and N FDB entries), as the figures before issue 10 were measured.
//!
//! - `converge_ms`: from spawning `routeagent run` to `/status` reporting
//!   converged (includes process start, probe, first pass).
//! - `one_change_ms`: from writing a topology with one more remote cluster to
//!   `/status` reporting converged on it (wall time, polled every 1 ms), and
//!   `one_change_pass_ms`, the agent's own measurement of that pass.
//! - `converge_phases_ms` / `one_change_phases_ms`: where the agent's pass
//!   spent its time (facts, plan, host, filter), from `/status`.
//! - `rss_mib`: the agent's peak resident set (VmHWM) at the end.

use netns::NetNs;
use serde::Serialize;
use std::fmt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use topology::digest;

/// The figures.
#[derive(Debug, Clone, Serialize)]
pub struct ReconcileReport {
    /// Remote clusters.
    pub remote_clusters: usize,
    /// Remote CIDRs (4 per cluster).
    pub remote_cidrs: usize,
    /// Start to converged.
    pub converge_ms: f64,
    /// One remote cluster added, wall time to converged.
    pub one_change_ms: f64,
    /// The agent's own duration of that pass.
    pub one_change_pass_ms: f64,
    /// Phases of the pass that converged the first topology.
    pub converge_phases_ms: Phases,
    /// Phases of the pass for the one change.
    pub one_change_phases_ms: Phases,
    /// Peak RSS of the agent process.
    pub rss_mib: f64,
}

impl fmt::Display for ReconcileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "reconcile benchmark: gateway node, {} remote clusters, {} remote CIDRs",
            self.remote_clusters, self.remote_cidrs
        )?;
        writeln!(
            f,
            "  converge_ms          {:>9.1}  (process start to converged)",
            self.converge_ms
        )?;
        writeln!(
            f,
            "  one_change_ms        {:>9.1}  (one remote cluster added, wall time)",
            self.one_change_ms
        )?;
        writeln!(
            f,
            "  one_change_pass_ms   {:>9.1}  (the agent's pass for it)",
            self.one_change_pass_ms
        )?;
        writeln!(f, "  converge pass        {}", self.converge_phases_ms)?;
        writeln!(f, "  one change pass      {}", self.one_change_phases_ms)?;
        write!(
            f,
            "  rss_mib              {:>9.1}  (peak resident set of the agent)",
            self.rss_mib
        )
    }
}

/// A pass's phases in milliseconds, as `/status` `last_apply.phases` has them.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Phases {
    /// Learning the host's interfaces.
    pub facts: f64,
    /// Planning.
    pub plan: f64,
    /// Converging host objects.
    pub host: f64,
    /// Bringing the packet filter to the plan.
    pub filter: f64,
}

impl Phases {
    fn of(status: &serde_json::Value) -> Phases {
        let p = &status["last_apply"]["phases"];
        let f = |k: &str| p[k].as_f64().unwrap_or(f64::NAN);
        Phases {
            facts: f("facts"),
            plan: f("plan"),
            host: f("host"),
            filter: f("filter"),
        }
    }
}

impl fmt::Display for Phases {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "facts {:.1} + plan {:.1} + host {:.1} + filter {:.1} ms",
            self.facts, self.plan, self.host, self.filter
        )
    }
}

/// Errors of the benchmark.
pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn topology(n: usize) -> String {
    let mut s = String::from(
        "cluster:\n  id: local\n  cable: vxlan\n  clusterCIDRs: [10.244.0.0/16]\n  serviceCIDRs: [10.96.0.0/16]\n  nodes:\n    - {name: gw, ip: 10.1.0.1}\n    - {name: n2, ip: 10.1.0.2}\n  gateways:\n    - {hostname: gw, privateIP: 10.1.0.1}\nremoteClusters:\n",
    );
    for i in 0..n {
        // 4 CIDRs per cluster inside 100.64.0.0/10 + 172.16.0.0/12, never overlapping the local ones.
        let (a, b) = (i / 256, i % 256);
        let gw = std::net::Ipv4Addr::from(
            u32::from(std::net::Ipv4Addr::new(172, 16, 0, 0)) + i as u32 + 1,
        );
        s.push_str(&format!(
            "  - id: r{i}\n    subnets: [100.{}.{b}.0/26, 100.{}.{b}.64/26, 100.{}.{b}.128/26, 100.{}.{b}.192/26]\n    gateway: {{hostname: r{i}-gw, privateIP: {gw}}}\n",
            64 + a, 64 + a, 64 + a, 64 + a
        ));
    }
    s
}

fn wait_converged(
    ns: &NetNs,
    port: u16,
    digest: &str,
    child: &mut Child,
    timeout: Duration,
) -> Result<(Duration, serde_json::Value)> {
    let start = Instant::now();
    loop {
        if let Ok(s) = crate::status::get(ns, port) {
            if s["converged"] == true && s["config_digest"] == digest {
                return Ok((start.elapsed(), s));
            }
        }
        if let Some(code) = child.try_wait()? {
            return Err(format!("the agent exited with {code}").into());
        }
        if start.elapsed() > timeout {
            return Err(format!(
                "the agent did not converge within {timeout:?}: {:?}",
                crate::status::get(ns, port).ok()
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Runs the benchmark with `agent` (the routeagent binary).
pub fn run(agent: &Path, remote_clusters: usize) -> Result<ReconcileReport> {
    let ns = NetNs::new("ra-bench-rec")?;
    ns.sh("ip link add eth0 type veth peer name eth0p && ip addr add 10.1.0.1/24 dev eth0 && ip link set eth0 up && ip link set eth0p up \
           && ip link add cni0 type bridge && ip addr add 10.244.1.1/24 dev cni0 && ip link set cni0 up")?;
    let dir = std::env::temp_dir().join(format!("ra-bench-rec-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("topology.yaml");
    let text = topology(remote_clusters);
    std::fs::write(&file, &text)?;
    let port = 9188;
    let start = Instant::now();
    let mut child = ns
        .cmd(agent.to_str().ok_or("agent path is not UTF-8")?)
        .args([
            "run",
            "--config",
            file.to_str().unwrap_or_default(),
            "--node",
            "gw",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--state-dir",
        ])
        .arg(dir.join("state"))
        .env("ROUTEAGENT_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let result = (|| -> Result<ReconcileReport> {
        let (_, first) = wait_converged(
            &ns,
            port,
            &digest(text.as_bytes()),
            &mut child,
            Duration::from_secs(60),
        )?;
        let converge_ms = start.elapsed().as_secs_f64() * 1e3;
        let more = topology(remote_clusters + 1);
        let t = Instant::now();
        std::fs::write(&file, &more)?;
        let (_, status) = wait_converged(
            &ns,
            port,
            &digest(more.as_bytes()),
            &mut child,
            Duration::from_secs(30),
        )?;
        let one_change_ms = t.elapsed().as_secs_f64() * 1e3;
        let one_change_pass_ms = status["last_apply"]["duration_ms"]
            .as_f64()
            .unwrap_or(f64::NAN);
        let rss_kib: f64 = std::fs::read_to_string(format!("/proc/{}/status", child.id()))?
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .ok_or("no VmHWM in /proc/PID/status")?;
        Ok(ReconcileReport {
            remote_clusters,
            remote_cidrs: remote_clusters * 4,
            converge_ms,
            one_change_ms,
            one_change_pass_ms,
            converge_phases_ms: Phases::of(&first),
            one_change_phases_ms: Phases::of(&status),
            rss_mib: rss_kib / 1024.0,
        })
    })();
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
