//! `routeagent lab demo --takeover`: a lab whose nodes are first
//! programmed the way Submariner's Go route agent leaves them (its `proto
//! static` routes, `pref 150 lookup 150` without protocol, its 0.21+
//! nftables table `ip submariner-ipv4` with the self-SNAT chain), carrying
//! traffic; then a long TCP stream and a 10 ms ping run across clusters
//! while routeagent starts on every node. Reports the longest interruption
//! the ping saw (`takeover_gap_ms`) and whether the stream survived; then
//! uninstalls and checks the hand-back: the Go-agent-like programming
//! applies again and carries traffic.

use crate::checks::last;
use crate::ns::{nft, sh};
use crate::plan::NodePlan;
use crate::{Lab, LabConfig, LabError, Result};
use serde::Serialize;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What the takeover demo measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TakeoverReport {
    /// Cross-cluster ping worked through the Go-agent-like programming.
    pub go_like_traffic: bool,
    /// Longest run of unanswered 10 ms pings while the agents took over.
    pub takeover_gap_ms: Option<u64>,
    /// The TCP stream across clusters kept going through the takeover.
    pub stream_survived: bool,
    /// Agents converged after the takeover, in ms from their start.
    pub converge_ms: Option<u64>,
    /// No Go-agent leftover remained on any node afterwards.
    pub leftovers_removed: bool,
    /// After `uninstall`, the Go-agent-like programming applied again and
    /// carried traffic.
    pub hand_back: bool,
    /// What went wrong, if anything.
    pub error: Option<String>,
}

impl TakeoverReport {
    /// Stream survived, gap under 100 ms, leftovers gone, hand-back worked.
    pub fn passed(&self) -> bool {
        self.error.is_none()
            && self.go_like_traffic
            && self.stream_survived
            && self.takeover_gap_ms.is_some_and(|g| g < 100)
            && self.leftovers_removed
            && self.hand_back
    }
}

impl std::fmt::Display for TakeoverReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "takeover: {}",
            if self.passed() { "PASS" } else { "FAIL" }
        )?;
        writeln!(f, "  Go-agent-like traffic:   {}", self.go_like_traffic)?;
        writeln!(f, "  takeover_gap_ms:         {:?}", self.takeover_gap_ms)?;
        writeln!(f, "  TCP stream survived:     {}", self.stream_survived)?;
        writeln!(f, "  converge_ms:             {:?}", self.converge_ms)?;
        writeln!(f, "  leftovers removed:       {}", self.leftovers_removed)?;
        writeln!(f, "  hand-back:               {}", self.hand_back)?;
        if let Some(e) = &self.error {
            writeln!(f, "  error: {e}")?;
        }
        Ok(())
    }
}

/// The Go agent's 0.21+ table for a node of a cluster with `local` and
/// `remote` CIDRs: 240/8 SNAT to the CNI address, its egress self-SNAT
/// (kube-proxy handler, 2025), the VXLAN port, forwarding into the VXLAN,
/// MSS clamping.
fn go_table(n: &NodePlan, local: &str, remote: &[String]) -> String {
    format!(
        "table ip submariner-ipv4 {{
  set SUBMARINER-LOCALCIDRS {{ type ipv4_addr; flags interval; elements = {{ {local} }} }}
  set SUBMARINER-REMOTECIDRS {{ type ipv4_addr; flags interval; elements = {{ {r} }} }}
  chain SUBMARINER-POSTROUTING {{ type nat hook postrouting priority srcnat - 10; policy accept;
    ip saddr 240.0.0.0/8 oifname \"vx-submariner\" snat to {cni}
  }}
  chain SUBMARINER-SELF-SNAT {{ type nat hook postrouting priority srcnat - 5; policy accept;
    ip saddr @SUBMARINER-LOCALCIDRS ip daddr @SUBMARINER-REMOTECIDRS snat to ip saddr
  }}
  chain SUBMARINER-INPUT {{ type filter hook input priority 0; policy accept;
    udp dport 4800 accept
  }}
  chain SUBMARINER-FORWARD {{ type filter hook forward priority -10; policy accept;
    oifname \"vx-submariner\" accept
  }}
  chain SUBMARINER-POSTROUTING-MSS {{ type filter hook postrouting priority -10; policy accept;
    ip saddr @SUBMARINER-LOCALCIDRS ip daddr @SUBMARINER-REMOTECIDRS tcp flags syn / syn,rst tcp option maxseg size set rt mtu
  }}
}}
",
        r = remote.join(", "),
        cni = n.cni_ip
    )
}

/// Programs `n` as the Go agent leaves it: the host commands of
/// `routeagent plan` for the node (the same links, addresses, FDB and
/// sysctls; routes `proto static`, rules without protocol), and its table.
fn program_go_like(lab: &Lab, c: usize, n: &NodePlan) -> Result<()> {
    let config = lab.topology_path(c).to_string_lossy().into_owned();
    let bin = lab.config.agent_binary.to_string_lossy().into_owned();
    let text = sh(
        &n.ns,
        &format!("{bin} plan --config {config} --node {} 2>/dev/null", n.name),
    )?;
    let host: Vec<String> = text
        .lines()
        .skip_while(|l| !l.starts_with("# host networking"))
        .skip(1)
        .take_while(|l| !l.starts_with("# packet filter"))
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            // routeagent's own cable (table 100, `pref 100`) stays its own;
            // see the alias below.
            if l.contains("table 100") || l.contains("lookup 100") {
                return l.to_string();
            }
            l.replace(
                " proto 166",
                if l.starts_with("ip route") {
                    " proto static"
                } else {
                    ""
                },
            )
        })
        .collect();
    // The topology gives routeagent its own cable (`cable: vxlan`), which
    // the Go route agent never made (the gateway engine does): the lab
    // stands it up as routeagent's, marked with its alias, so that only the
    // Go agent's objects are left to take over.
    let mut host = host;
    if host
        .iter()
        .any(|l| l.starts_with("ip link add vxlan-tunnel"))
    {
        host.push("ip link set vxlan-tunnel alias routeagent".into());
    }
    sh(&n.ns, &format!("set -e\n{}", host.join("\n")))?;
    let cluster = &lab.plan.clusters[c];
    let remote: Vec<String> = lab
        .plan
        .clusters
        .iter()
        .filter(|r| r.index != cluster.index)
        .map(|r| r.pod_cidr.clone())
        .collect();
    nft(&n.ns, &go_table(n, &cluster.pod_cidr, &remote))
}

fn program_all(lab: &Lab) -> Result<()> {
    for (c, cluster) in lab.plan.clusters.iter().enumerate() {
        for n in &cluster.nodes {
            program_go_like(lab, c, n)?;
        }
    }
    Ok(())
}

fn cmd_error(ns: &str, command: &str, e: impl std::fmt::Display) -> LabError {
    LabError::Command {
        ns: ns.into(),
        command: command.into(),
        stderr: e.to_string(),
    }
}

/// `ip netns exec NS sh -c SCRIPT` in the background, stdout piped.
fn spawn(ns: &str, script: &str) -> Result<Child> {
    Command::new("ip")
        .args(["netns", "exec", ns, "sh", "-c", script])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| cmd_error(ns, script, e))
}

/// Longest run of unanswered pings, in ms, from `ping -i 0.01` output.
fn longest_gap_ms(ping: &str, interval_ms: u64) -> Option<u64> {
    let seqs: Vec<u64> = ping
        .lines()
        .filter(|l| l.contains("bytes from"))
        .filter_map(|l| {
            l.split("icmp_seq=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect();
    if seqs.len() < 2 {
        return None;
    }
    let worst = seqs.windows(2).map(|w| w[1].saturating_sub(w[0])).max()?;
    Some(worst.saturating_sub(1) * interval_ms)
}

fn ping_ok(from: &NodePlan, to: &NodePlan) -> bool {
    sh(
        &from.pod_ns,
        &format!("ping -c 3 -i 0.2 -W 1 {}", to.pod_ip),
    )
    .is_ok()
}

/// No Go-agent leftover on any node: no `proto static` route, no table of
/// its, no rule without protocol at 150.
fn leftovers_gone(lab: &Lab) -> bool {
    lab.plan.nodes().all(|(_, n)| {
        sh(
            &n.ns,
            "ip route show table all proto static; nft list tables | grep submariner; ip rule show pref 150 | grep -v 'proto 166'; true",
        )
        .is_ok_and(|s| s.trim().is_empty())
    })
}

/// The whole takeover demo in its own lab (removed at the end).
pub fn demo(config: LabConfig) -> TakeoverReport {
    let mut r = TakeoverReport::default();
    if let Err(e) = steps(config, &mut r) {
        r.error = Some(e.to_string());
    }
    r
}

fn steps(config: LabConfig, r: &mut TakeoverReport) -> Result<()> {
    let mut lab = Lab::up_network(config)?;
    lab.write_topology()?;
    program_all(&lab)?;
    let (from, to) = (last(&lab, 0), last(&lab, 1));
    r.go_like_traffic = ping_ok(&from, &to);
    if !r.go_like_traffic {
        return Err(LabError::Traffic {
            from: from.pod_ns.clone(),
            to: format!("{} {}", to.pod_ns, to.pod_ip),
            detail: "no ping through the Go-agent-like programming".into(),
        });
    }
    let port = crate::traffic::next_port();
    let sink = spawn(
        &to.pod_ns,
        &format!("socat -u TCP-LISTEN:{port},reuseaddr - | wc -l"),
    )?;
    std::thread::sleep(Duration::from_millis(200));
    let mut stream = spawn(
        &from.pod_ns,
        &format!("i=0; while [ $i -lt 400 ]; do i=$((i+1)); echo $i; sleep 0.01; done | socat -u - TCP:{}:{port}", to.pod_ip),
    )?;
    let ping = spawn(&from.pod_ns, &format!("ping -i 0.01 -w 6 {}", to.pod_ip))?;
    std::thread::sleep(Duration::from_millis(1000));
    let t = Instant::now();
    let nodes: Vec<String> = lab.plan.nodes().map(|(_, n)| n.name.clone()).collect();
    for n in &nodes {
        lab.start_agent(n, &[])?;
    }
    lab.wait_converged()?;
    r.converge_ms = Some(t.elapsed().as_millis() as u64);
    let ping_out = ping
        .wait_with_output()
        .map_err(|e| cmd_error(&from.pod_ns, "ping", e))?;
    r.takeover_gap_ms = longest_gap_ms(&String::from_utf8_lossy(&ping_out.stdout), 10);
    let sent = stream
        .wait()
        .map_err(|e| cmd_error(&from.pod_ns, "socat", e))?;
    let got = sink
        .wait_with_output()
        .map_err(|e| cmd_error(&to.pod_ns, "socat", e))?;
    let lines: u64 = String::from_utf8_lossy(&got.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    r.stream_survived = sent.success() && lines == 400;
    r.leftovers_removed = leftovers_gone(&lab);
    lab.uninstall_all()?;
    program_all(&lab)?;
    r.hand_back = ping_ok(&from, &to);
    lab.down()
}

#[cfg(test)]
mod tests {
    #[test]
    fn gap_is_the_longest_run_of_missing_replies() {
        let out = "64 bytes from 10.0.0.1: icmp_seq=1 ttl=62\n64 bytes from 10.0.0.1: icmp_seq=2 ttl=62\n64 bytes from 10.0.0.1: icmp_seq=6 ttl=62\n64 bytes from 10.0.0.1: icmp_seq=7 ttl=62\n";
        assert_eq!(super::longest_gap_ms(out, 10), Some(30));
        assert_eq!(super::longest_gap_ms("", 10), None);
    }
}
