//! Check 6: an agent told a feature is missing (`--assume-missing
//! comments`, not needed for connectivity) keeps its node connected and
//! reports the degradation in `/status` and in `routeagent doctor --json`.

use super::{last, need, pod, usual_args};
use crate::traffic::{ping, tcp_transfer};
use crate::{Lab, LabError, Result};
use std::net::IpAddr;
use std::time::Duration;

/// The feature assumed missing.
pub const FEATURE: &str = "comments";

/// Restarts the last node of cluster a degraded, checks, restores.
pub fn run(lab: &mut Lab) -> Result<String> {
    need(lab, 2, 1)?;
    let node = last(lab, 0);
    let mut args = usual_args(lab, &node.name);
    args.extend(["--assume-missing".to_string(), FEATURE.to_string()]);
    let result = lab
        .restart_agents(std::slice::from_ref(&node.name), &args)
        .and_then(|()| body(lab, &node));
    let usual = usual_args(lab, &node.name);
    let restored = lab.restart_agents(std::slice::from_ref(&node.name), &usual);
    let d = result?;
    restored?;
    Ok(d)
}

fn body(lab: &mut Lab, node: &crate::plan::NodePlan) -> Result<String> {
    let err = |detail: String| LabError::Agent {
        node: node.name.clone(),
        detail,
    };
    let s = lab.agent_status(&node.name)?;
    let listed = s["degradations"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|d| d["feature"] == FEATURE);
    if !listed || s["features"][FEATURE]["enabled"].as_bool() != Some(false) {
        return Err(err(format!(
            "/status does not report {FEATURE} as missing: features.{FEATURE} = {}, degradations = {}",
            s["features"][FEATURE], s["degradations"]
        )));
    }
    let (code, out, stderr) = lab.agent_exec(
        &node.name,
        &["doctor", "--json", "--assume-missing", FEATURE],
    )?;
    let doc: serde_json::Value = serde_json::from_str(&out).map_err(|e| {
        err(format!(
            "`routeagent doctor --json --assume-missing {FEATURE}` (exit {code}) printed no JSON ({e}): {stderr:.300}"
        ))
    })?;
    if doc["features"][FEATURE]["enabled"].as_bool() != Some(false) {
        return Err(err(format!(
            "doctor does not report {FEATURE} as missing: {}",
            doc["features"][FEATURE]
        )));
    }
    let dst = pod(lab, 1, 0);
    ping(&node.pod_ns, dst.pod_ip)?;
    let t = tcp_transfer(
        &node.pod_ns,
        &dst.pod_ns,
        dst.pod_ip,
        10 << 20,
        Duration::from_secs(10),
    )?;
    let want = lab.seen_from(0, node.pod_ip);
    if t.peer.ip() != IpAddr::V4(want) || t.sent_sha256 != t.received_sha256 {
        return Err(err(format!(
            "degraded path: source seen {} (want {}), sha256 {} vs {}",
            t.peer.ip(),
            want,
            t.sent_sha256,
            t.received_sha256
        )));
    }
    let back = tcp_transfer(
        &dst.pod_ns,
        &node.pod_ns,
        node.pod_ip,
        1 << 20,
        Duration::from_secs(10),
    )?;
    Ok(format!(
        "{} with {FEATURE} assumed missing: /status and doctor report it ({}); pods still connect both ways ({} ms for 10 MiB, {} ms back)",
        node.name,
        s["features"][FEATURE]["reason"].as_str().unwrap_or("no reason given"),
        t.elapsed.as_millis(),
        back.elapsed.as_millis()
    ))
}
