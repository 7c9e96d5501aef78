//! Sysctls: loose reverse-path filtering on the CNI interface and the
//! tunnels (the tunnel path is asymmetric, strict rp_filter drops it),
//! forwarding on the tunnels, and IPv4 forwarding.

use crate::host::Sysctl;
use crate::input::Ctx;

fn set(key: String, value: &str) -> Sysctl {
    Sysctl {
        key,
        value: value.into(),
    }
}

/// `sysctl -w net.ipv4.conf.<cni>.rp_filter=2`, and for each tunnel
/// interface `net.ipv4.conf.<if>.rp_filter=2` and `...forwarding=1`, and
/// `net.ipv4.ip_forward=1`.
pub(crate) fn plan(ctx: &Ctx<'_>, tunnel_ifaces: &[String]) -> Vec<Sysctl> {
    let mut out = Vec::new();
    if let Some(cni) = &ctx.cni_name {
        out.push(set(format!("net.ipv4.conf.{cni}.rp_filter"), "2"));
    }
    for i in tunnel_ifaces {
        out.push(set(format!("net.ipv4.conf.{i}.rp_filter"), "2"));
        out.push(set(format!("net.ipv4.conf.{i}.forwarding"), "1"));
    }
    out.push(set("net.ipv4.ip_forward".into(), "1"));
    out
}
