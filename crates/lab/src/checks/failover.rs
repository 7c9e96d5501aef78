//! Check 5: the active gateway of cluster a fails (its underlay link goes
//! down, so no traffic can take the old path) and the gateway role moves to
//! its other underlay node (both clusters' files rewritten); traffic flows
//! again. `failover_ms` = from the file change to the first cross-cluster
//! TCP connection that answers (necessarily through the new gateway).

use super::{last, need};
use crate::ns::{exec, ip_batch};
use crate::plan::NodePlan;
use crate::traffic::{ping, probe, Responder};
use crate::{Lab, LabError, Result};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long traffic may take to come back.
pub const LIMIT: Duration = Duration::from_secs(20);

/// Fails the gateway over and checks every pod of both clusters.
pub fn run(lab: &mut Lab) -> Result<String> {
    need(lab, 2, 2)?;
    let old = lab.gateway(0).clone();
    let new_index = if old.index == 1 { 1 } else { 0 };
    let src = last(lab, 0);
    let dst = last(lab, 1);
    let responder = Responder::start(&dst.pod_ns, dst.pod_ip)?;
    probe(&src.pod_ns, responder.addr, Duration::from_secs(2))?;
    let ms = move_gateway(lab, new_index, &src, &responder)?;
    lab.figures.failover_ms = Some(ms);
    let new = lab.gateway(0).clone();
    // Every pod of cluster a reaches cluster b, and back.
    let back = Responder::start(&src.pod_ns, src.pod_ip)?;
    for n in lab.plan.clusters[0].nodes.clone() {
        ping(&n.pod_ns, dst.pod_ip)?;
        probe(&n.pod_ns, responder.addr, Duration::from_secs(2))?;
    }
    for n in lab.plan.clusters[1].nodes.clone() {
        probe(&n.pod_ns, back.addr, Duration::from_secs(2))?;
    }
    let rules = |ns: &str| exec(ns, "ip", &["rule", "show"]).unwrap_or_default();
    if rules(&new.ns).contains("lookup 150") && rules(&old.ns).contains("lookup 150") {
        return Err(LabError::Agent {
            node: old.name.clone(),
            detail: format!(
                "the old gateway still has its table-150 rule:\n{}",
                rules(&old.ns)
            ),
        });
    }
    Ok(format!(
        "gateway {} (underlay down) -> {}: traffic back {ms} ms after the topology change; \
         all pods of both clusters connect; {} has no table-150 rule",
        old.name, new.name, old.name
    ))
}

/// Moves cluster a's gateway role to its node `new_index` (0-based) and
/// returns `failover_ms`: the current gateway loses its underlay (`ip link
/// set eth1 down`, so only the new path can work), both clusters' files
/// are rewritten, and a connection from `src`'s pod to `responder` is
/// attempted every 10 ms until one is answered. Then every agent converges
/// and the old gateway's underlay comes back up (as a non-gateway's).
pub fn move_gateway(
    lab: &mut Lab,
    new_index: usize,
    src: &NodePlan,
    responder: &Responder,
) -> Result<u64> {
    let old = lab.gateway(0).clone();
    ip_batch(&old.ns, &["link set eth1 down".into()])?;
    let t0 = Instant::now();
    let result = fail_over(lab, new_index, src, responder, t0);
    let converged = match result {
        Ok(_) => lab.wait_converged(),
        Err(_) => Ok(()),
    };
    let up = ip_batch(&old.ns, &["link set eth1 up".into()]);
    let ms = result?;
    converged?;
    up?;
    Ok(ms)
}

/// Rewrites the files, then starts a probe every 10 ms (each may wait
/// 500 ms: a SYN sent before the new path exists is lost, and waiting for
/// its retransmission would blur the figure); the ms at which the first one
/// is answered.
fn fail_over(
    lab: &mut Lab,
    new_index: usize,
    src: &NodePlan,
    responder: &Responder,
    t0: Instant,
) -> Result<u64> {
    lab.set_gateway(0, new_index)?;
    let done: Mutex<Option<u64>> = Mutex::new(None);
    let last_err: Mutex<String> = Mutex::new(String::new());
    std::thread::scope(|s| {
        while done.lock().map(|d| d.is_none()).unwrap_or(false) && t0.elapsed() < LIMIT {
            s.spawn(
                || match probe(&src.pod_ns, responder.addr, Duration::from_millis(500)) {
                    Ok(()) => {
                        let ms = t0.elapsed().as_millis() as u64;
                        if let Ok(mut d) = done.lock() {
                            *d = Some(d.map_or(ms, |x| x.min(ms)));
                        }
                    }
                    Err(e) => {
                        if let Ok(mut l) = last_err.lock() {
                            *l = e.to_string();
                        }
                    }
                },
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    let ms = done.into_inner().ok().flatten();
    ms.ok_or_else(|| LabError::Traffic {
        from: src.pod_ns.clone(),
        to: responder.addr.to_string(),
        detail: format!(
            "no connection within {LIMIT:?} of the failover: {}",
            last_err.into_inner().unwrap_or_default()
        ),
    })
}
