//! A comparable, serializable picture of a namespace's networking (links,
//! addresses, routes in all tables, rules, FDB of VXLAN links, chosen
//! sysctls) without volatile fields (ifindexes, MACs, counters, ages,
//! operational state), and a readable diff. Uninstall tests and the lab use
//! it to prove "exactly as before".

use crate::addresses::list_addresses;
use crate::error::Result;
use crate::fdb::list_fdb;
use crate::links::list_links;
use crate::routes::list_routes;
use crate::rules::{list_rules, RuleState};
use crate::sysctl::read_sysctl;
use crate::Host;
use ipnet::IpNet;
use rtnetlink::Handle;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

/// The whole namespace's networking, every list sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostSnapshot {
    /// `ip -d link`.
    pub links: Vec<LinkSnap>,
    /// `ip addr`.
    pub addresses: Vec<AddrSnap>,
    /// `ip route show table all` (IPv4 and IPv6).
    pub routes: Vec<RouteSnap>,
    /// `ip rule` (IPv4 and IPv6), as the rules module reads them.
    pub rules: Vec<RuleState>,
    /// `bridge fdb show` of VXLAN links.
    pub fdb: Vec<FdbSnap>,
    /// The sysctls asked for; `None` when the key does not exist.
    pub sysctls: BTreeMap<String, Option<String>>,
}

/// A link.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LinkSnap {
    /// Name.
    pub name: String,
    /// Kind (`vxlan`, `veth`, `bridge`), if any.
    pub kind: Option<String>,
    /// MTU.
    pub mtu: u32,
    /// Administratively up.
    pub up: bool,
    /// Master's name.
    pub master: Option<String>,
    /// VXLAN parameters in `ip -d link` words.
    pub vxlan: Option<String>,
}

/// An address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AddrSnap {
    /// Device.
    pub dev: String,
    /// Address/prefix.
    pub addr: IpNet,
    /// Scope number.
    pub scope: u8,
}

/// A route.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RouteSnap {
    /// Table.
    pub table: u32,
    /// Destination.
    pub dst: IpNet,
    /// TOS.
    pub tos: u8,
    /// Route type number.
    pub kind: u8,
    /// Next hop.
    pub via: Option<IpAddr>,
    /// Device name.
    pub dev: Option<String>,
    /// Preferred source.
    pub src: Option<IpAddr>,
    /// Protocol number.
    pub protocol: u8,
    /// Scope number.
    pub scope: u8,
    /// Metric.
    pub metric: Option<u32>,
    /// `onlink`.
    pub onlink: bool,
}

/// An FDB entry of a VXLAN link.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FdbSnap {
    /// Device.
    pub dev: String,
    /// MAC, `aa:bb:...`.
    pub mac: String,
    /// Remote VTEP.
    pub dst: Option<IpAddr>,
    /// NUD state bits.
    pub state: u16,
    /// NTF flags.
    pub flags: u8,
}

/// Takes a snapshot on a fresh connection (inside a tokio runtime), reading
/// the sysctls `sysctl_keys` too. Equals `ip -d link; ip addr; ip route show
/// table all; ip rule; bridge fdb show; sysctl KEYS...`.
pub async fn snapshot(sysctl_keys: &[&str]) -> Result<HostSnapshot> {
    let host = Host::new()?;
    snapshot_with(host.handle(), sysctl_keys).await
}

/// [`snapshot`] on an existing handle.
pub async fn snapshot_with(handle: &Handle, sysctl_keys: &[&str]) -> Result<HostSnapshot> {
    let links = list_links(handle).await?;
    let name = |i: u32| links.name(i).map(str::to_string);
    let mut s = HostSnapshot::default();
    for l in links.by_name.values() {
        s.links.push(LinkSnap {
            name: l.name.clone(),
            kind: l.kind.clone(),
            mtu: l.mtu,
            up: l.up,
            master: l.master.and_then(name),
            vxlan: l.vxlan.as_ref().map(|v| {
                let mut w = format!("id {} dstport {}", v.vni, v.port);
                if let Some(a) = v.local {
                    w += &format!(" local {a}");
                }
                if let Some(a) = v.remote {
                    w += &format!(" remote {a}");
                }
                if let Some(i) = v.underlay {
                    w += &format!(" dev {}", name(i).unwrap_or_else(|| format!("if{i}")));
                }
                w += if v.learning {
                    " learning"
                } else {
                    " nolearning"
                };
                w
            }),
        });
    }
    for a in list_addresses(handle).await? {
        s.addresses.push(AddrSnap {
            dev: name(a.index).unwrap_or_else(|| format!("if{}", a.index)),
            addr: a.addr,
            scope: a.scope,
        });
    }
    for r in list_routes(handle).await? {
        s.routes.push(RouteSnap {
            table: r.table,
            dst: r.dst,
            tos: r.tos,
            kind: r.kind,
            via: r.via,
            dev: r.oif.and_then(name),
            src: r.src,
            protocol: r.protocol,
            scope: r.scope,
            metric: r.metric,
            onlink: r.onlink,
        });
    }
    s.rules = list_rules(handle).await?;
    for f in list_fdb(handle).await? {
        let vxlan = links
            .by_name
            .values()
            .any(|l| l.index == f.index && l.vxlan.is_some());
        if vxlan {
            s.fdb.push(FdbSnap {
                dev: name(f.index).unwrap_or_default(),
                mac: f
                    .mac
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(":"),
                dst: f.dst,
                state: f.state,
                flags: f.flags,
            });
        }
    }
    for k in sysctl_keys {
        s.sysctls
            .insert(k.to_string(), read_sysctl(handle, k).await.ok());
    }
    s.links.sort();
    s.addresses.sort();
    s.routes.sort();
    s.rules.sort();
    s.fdb.sort();
    Ok(s)
}

impl HostSnapshot {
    /// Lines only in `self` (`- `) and only in `after` (`+ `), section by
    /// section; empty when the two are equal.
    pub fn diff(&self, after: &HostSnapshot) -> Vec<String> {
        let mut out = Vec::new();
        section(&mut out, "link", &self.links, &after.links);
        section(&mut out, "addr", &self.addresses, &after.addresses);
        section(&mut out, "route", &self.routes, &after.routes);
        section(&mut out, "rule", &self.rules, &after.rules);
        section(&mut out, "fdb", &self.fdb, &after.fdb);
        let keys: std::collections::BTreeSet<&String> =
            self.sysctls.keys().chain(after.sysctls.keys()).collect();
        for k in keys {
            let (a, b) = (
                self.sysctls.get(k).cloned().flatten(),
                after.sysctls.get(k).cloned().flatten(),
            );
            if a != b {
                let show = |v: Option<String>| v.unwrap_or_else(|| "(absent)".into());
                out.push(format!("~ sysctl {k}: {} -> {}", show(a), show(b)));
            }
        }
        out
    }
}

fn section<T: PartialEq + fmt::Display>(out: &mut Vec<String>, what: &str, a: &[T], b: &[T]) {
    out.extend(
        a.iter()
            .filter(|x| !b.contains(x))
            .map(|x| format!("- {what} {x}")),
    );
    out.extend(
        b.iter()
            .filter(|x| !a.contains(x))
            .map(|x| format!("+ {what} {x}")),
    );
}

/// A readable diff of two snapshots (`diff -u`-like lines, one per
/// object); empty when equal.
pub fn diff(before: &HostSnapshot, after: &HostSnapshot) -> String {
    before.diff(after).join("\n")
}

impl fmt::Display for LinkSnap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} mtu {} {}",
            self.name,
            self.mtu,
            if self.up { "up" } else { "down" }
        )?;
        if let Some(k) = &self.kind {
            write!(f, " type {k}")?;
        }
        if let Some(v) = &self.vxlan {
            write!(f, " {v}")?;
        }
        if let Some(m) = &self.master {
            write!(f, " master {m}")?;
        }
        Ok(())
    }
}

impl fmt::Display for AddrSnap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} dev {} scope {}", self.addr, self.dev, self.scope)
    }
}

impl fmt::Display for RouteSnap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "type {} {}", self.kind, self.dst)?;
        if self.tos != 0 {
            write!(f, " tos {:#x}", self.tos)?;
        }
        if let Some(v) = self.via {
            write!(f, " via {v}")?;
        }
        if let Some(d) = &self.dev {
            write!(f, " dev {d}")?;
        }
        write!(
            f,
            " table {} proto {} scope {}",
            self.table, self.protocol, self.scope
        )?;
        if let Some(s) = self.src {
            write!(f, " src {s}")?;
        }
        if let Some(m) = self.metric {
            write!(f, " metric {m}")?;
        }
        if self.onlink {
            write!(f, " onlink")?;
        }
        Ok(())
    }
}

impl fmt::Display for FdbSnap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} dev {}", self.mac, self.dev)?;
        if let Some(d) = self.dst {
            write!(f, " dst {d}")?;
        }
        write!(f, " state {:#x} flags {:#x}", self.state, self.flags)
    }
}
