//! The plan as the `ip`, `bridge` and `sysctl` commands that would create
//! it on an empty host, in an order that works (links, addresses, FDB,
//! routes, rules, sysctls). For `routeagent plan`; the agent itself
//! programs over netlink. The packet filter is the ruleset's nft text.

use crate::host::{HostPlan, LinkKind, ROUTE_PROTOCOL};
use crate::routes::MAIN_TABLE;
use ipnet::IpNet;
use ruleset::IpVersion;

/// One command per line, shell-ready.
pub fn ip_commands(p: &HostPlan) -> Vec<String> {
    let mut out = Vec::new();
    for l in &p.links {
        let mut s = format!("ip link add {}", l.name);
        if let Some(m) = l.mtu {
            s.push_str(&format!(" mtu {m}"));
        }
        match &l.kind {
            LinkKind::Vxlan(v) => {
                s.push_str(&format!(" type vxlan id {} dstport {}", v.vni, v.port));
                if let Some(a) = v.local {
                    s.push_str(&format!(" local {a}"));
                }
                if let Some(a) = v.remote {
                    s.push_str(&format!(" remote {a}"));
                }
                if let Some(d) = &v.underlay {
                    s.push_str(&format!(" dev {d}"));
                }
                s.push_str(" nolearning");
            }
        }
        out.push(s);
        out.push(format!("ip link set {} up", l.name));
    }
    for a in &p.addresses {
        out.push(format!("ip addr replace {} dev {}", a.addr, a.dev));
    }
    for f in &p.fdb {
        out.push(format!(
            "bridge fdb append 00:00:00:00:00:00 dev {} dst {}",
            f.dev, f.dst
        ));
    }
    for r in &p.routes {
        let mut s = format!("ip route replace {}", route_dst(&r.dst));
        if let Some(v) = r.via {
            s.push_str(&format!(" via {v}"));
        }
        s.push_str(&format!(" dev {}", r.dev));
        if r.onlink {
            s.push_str(" onlink");
        }
        if r.via.is_none() {
            s.push_str(" scope link");
        }
        if r.table == MAIN_TABLE {
            s.push_str(" table main");
        } else {
            s.push_str(&format!(" table {}", r.table));
        }
        s.push_str(&format!(" proto {ROUTE_PROTOCOL}"));
        if let Some(src) = r.src {
            s.push_str(&format!(" src {src}"));
        }
        out.push(s);
    }
    for r in &p.rules {
        let v = match r.version {
            IpVersion::V4 => "-4",
            IpVersion::V6 => "-6",
        };
        let mut sel = String::new();
        if let Some(f) = r.from {
            sel.push_str(&format!(" from {f}"));
        }
        if let Some(t) = r.to {
            sel.push_str(&format!(" to {t}"));
        }
        out.push(format!(
            "ip {v} rule add pref {}{sel} lookup {} proto {ROUTE_PROTOCOL}",
            r.pref, r.table
        ));
    }
    for s in &p.sysctls {
        out.push(format!("sysctl -w {}={}", s.key, s.value));
    }
    out
}

fn route_dst(d: &IpNet) -> String {
    d.to_string()
}
