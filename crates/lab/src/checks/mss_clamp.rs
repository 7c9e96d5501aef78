//! Check 4: MSS clamping is what keeps TCP alive when the cable's MTU is
//! below the pods' MTU and ICMP "fragmentation needed" is dropped (so path
//! MTU discovery cannot help): a transfer between the gateways' pods
//! completes with clamping, and stalls with `--assume-missing mss-clamp`.

use super::usual_args;
use crate::build::POD_MTU;
use crate::ns::{exec, ip_batch, nft};
use crate::plan::NodePlan;
use crate::traffic::tcp_transfer;
use crate::{Lab, LabError, Result};
use std::time::Duration;

/// The lab-owned table dropping ICMP frag-needed on the gateways, forwarded
/// or generated locally.
pub const PMTU_DROP: &str = "table inet lab-pmtu {
  chain lab_fwd { type filter hook forward priority -400; policy accept;
    icmp type destination-unreachable icmp code frag-needed counter drop
  }
  chain lab_out { type filter hook output priority -400; policy accept;
    icmp type destination-unreachable icmp code frag-needed counter drop
  }
}
";

/// Runs the check and always restores the lab (MTUs, table, agents).
pub fn run(lab: &mut Lab) -> Result<String> {
    super::need(lab, 2, 1)?;
    let ga = lab.gateway(0).clone();
    let gb = lab.gateway(1).clone();
    let cable = link_mtu(&ga.ns, lab.config.cable.interface(0))?;
    let big = cable + 100;
    let result = prepare(&ga, &gb, big).and_then(|()| body(lab, &ga, &gb, cable, big));
    let restore = restore(lab, &ga, &gb);
    let detail = result?;
    restore?;
    Ok(detail)
}

fn body(lab: &mut Lab, ga: &NodePlan, gb: &NodePlan, cable: u32, big: u32) -> Result<String> {
    let with = tcp_transfer(
        &ga.pod_ns,
        &gb.pod_ns,
        gb.pod_ip,
        20 << 20,
        Duration::from_secs(10),
    )
    .map_err(|e| LabError::Traffic {
        from: ga.pod_ns.clone(),
        to: gb.pod_ns.clone(),
        detail: format!("with MSS clamping the transfer failed: {e}"),
    })?;
    let flag = ["--assume-missing".to_string(), "mss-clamp".to_string()];
    for g in [ga, gb] {
        let mut args = usual_args(lab, &g.name);
        args.extend(flag.iter().cloned());
        lab.restart_agents(std::slice::from_ref(&g.name), &args)?;
        let s = lab.agent_status(&g.name)?;
        if s["features"]["mss-clamp"]["enabled"].as_bool() != Some(false) {
            return Err(LabError::Agent {
                node: g.name.clone(),
                detail: format!(
                    "started with --assume-missing mss-clamp but /status features.mss-clamp = {}",
                    s["features"]["mss-clamp"]
                ),
            });
        }
    }
    let without = tcp_transfer(
        &ga.pod_ns,
        &gb.pod_ns,
        gb.pod_ip,
        20 << 20,
        Duration::from_secs(3),
    );
    match without {
        Ok(t) => Err(LabError::Traffic {
            from: ga.pod_ns.clone(),
            to: gb.pod_ns.clone(),
            detail: format!(
                "without MSS clamping the transfer still completed ({} bytes in {} ms): \
                 the test path does not need clamping",
                t.bytes,
                t.elapsed.as_millis()
            ),
        }),
        Err(e) => Ok(format!(
            "cable MTU {cable}, pod MTU {big}, frag-needed dropped: 20 MiB in {} ms with clamping; \
             with --assume-missing mss-clamp the transfer fails ({})",
            with.elapsed.as_millis(),
            match e {
                LabError::Traffic { detail, .. } => detail,
                other => other.to_string(),
            }
        )),
    }
}

/// `ip -j link show DEV` -> mtu.
fn link_mtu(ns: &str, dev: &str) -> Result<u32> {
    let out = exec(ns, "ip", &["-j", "link", "show", dev])?;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
    v[0]["mtu"]
        .as_u64()
        .map(|m| m as u32)
        .ok_or_else(|| LabError::Command {
            ns: ns.into(),
            command: format!("ip -j link show {dev}"),
            stderr: format!("no mtu in {out:.200}"),
        })
}

fn set_mtus(ga: &NodePlan, gb: &NodePlan, mtu: u32) -> Result<()> {
    for g in [ga, gb] {
        ip_batch(&g.ns, &[format!("link set pod0 mtu {mtu}")])?;
        ip_batch(&g.pod_ns, &[format!("link set eth0 mtu {mtu}")])?;
    }
    Ok(())
}

pub(crate) fn prepare(ga: &NodePlan, gb: &NodePlan, big: u32) -> Result<()> {
    set_mtus(ga, gb, big)?;
    for g in [ga, gb] {
        nft(&g.ns, PMTU_DROP)?;
        // Forget any path MTU learnt before.
        let _ = exec(&g.pod_ns, "ip", &["route", "flush", "cache"]);
    }
    Ok(())
}

fn restore(lab: &mut Lab, ga: &NodePlan, gb: &NodePlan) -> Result<()> {
    let mut first_err = None;
    for g in [ga, gb] {
        let _ = exec(&g.ns, "nft", &["delete", "table", "inet", "lab-pmtu"]);
        let usual = usual_args(lab, &g.name);
        if let Err(e) = lab.restart_agents(std::slice::from_ref(&g.name), &usual) {
            first_err.get_or_insert(e);
        }
    }
    if let Err(e) = set_mtus(ga, gb, POD_MTU) {
        first_err.get_or_insert(e);
    }
    first_err.map_or(Ok(()), Err)
}
