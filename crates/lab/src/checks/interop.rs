//! Check (`--cable mixed`): routeagent's own VXLAN cable (cluster a) and a
//! cable laid out as Submariner's VXLAN cable driver does (the others,
//! made by the lab) talk to each other: both ends use `vxlan-tunnel` with
//! VTEP `241.<private IP b.c.d>`, and pods connect both ways.

use super::{last, need, pods_connect};
use crate::config::Cable;
use crate::ns::exec;
use crate::{Lab, LabError, Result};

/// Checks the VTEPs, then ICMP and TCP between a's and b's gateway pods
/// and last pods, in both directions.
pub fn run(lab: &mut Lab) -> Result<String> {
    need(lab, 2, 1)?;
    if lab.config.cable != Cable::Mixed {
        return Err(LabError::Skipped("interop needs --cable mixed".into()));
    }
    let mut vteps = Vec::new();
    for c in 0..2 {
        let gw = lab.gateway(c).clone();
        let o = gw.ip.octets();
        let want = format!("241.{}.{}.{}/8", o[1], o[2], o[3]);
        let addr = exec(&gw.ns, "ip", &["-4", "-o", "addr", "show", "vxlan-tunnel"])?;
        if !addr.contains(&want) {
            return Err(LabError::Agent {
                node: gw.name.clone(),
                detail: format!("vxlan-tunnel should hold VTEP {want}: {}", addr.trim()),
            });
        }
        vteps.push(format!("{} {want}", gw.name));
    }
    let pairs = [
        (lab.gateway(0).clone(), lab.gateway(1).clone(), 0),
        (last(lab, 0), last(lab, 1), 0),
        (lab.gateway(1).clone(), lab.gateway(0).clone(), 1),
        (last(lab, 1), last(lab, 0), 1),
    ];
    for (s, d, c) in &pairs {
        pods_connect(lab, s, d, *c)?;
    }
    Ok(format!(
        "routeagent's cable ({}) and the lab's Submariner-like VXLAN cable ({}) connect: \
         pods reach each other both ways (ICMP + TCP, source kept)",
        vteps[0], vteps[1]
    ))
}
