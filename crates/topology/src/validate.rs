//! The rules a parsed topology must satisfy. Each error names the field
//! path (`remoteClusters[1].subnets[0]`) and what to write instead.
//! Checks run in file order; the first violation is returned.

use crate::{Endpoint, Result, Topology, TopologyError};
use ipnet::IpNet;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Smallest MTU accepted (the IPv4 minimum datagram every host must take).
pub const MIN_MTU: u32 = 576;
/// Largest MTU accepted.
pub const MAX_MTU: u32 = 65535;
/// Smallest fixed MSS accepted (576 - 40).
pub const MIN_MSS: u16 = 536;
/// Largest VXLAN network identifier (24 bits).
pub const MAX_VNI: u32 = 16_777_215;
/// Longest interface name (IFNAMSIZ - 1).
pub const MAX_IFNAME_LEN: usize = 15;

pub(crate) fn err<T>(path: impl Into<String>, message: impl Into<String>) -> Result<T> {
    Err(TopologyError::invalid(path, message))
}

/// Where a value sits in the file. Formatted only for an error message, so
/// that validating thousands of entries allocates no path strings.
#[derive(Debug, Clone, Copy)]
enum Loc {
    /// `cluster.<field>[i]` (`clusterCIDRs`, `serviceCIDRs`).
    Local(&'static str, usize),
    /// `cluster.nodes[i]<suffix>`.
    Node(usize, &'static str),
    /// `cluster.gateways[i]<suffix>`.
    Gateway(usize, &'static str),
    /// `remoteClusters[i]<suffix>`.
    Remote(usize, &'static str),
    /// `remoteClusters[i].subnets[j]`.
    Subnet(usize, usize),
    /// `cluster.globalCIDR`.
    Global,
}

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Loc::Local(field, i) => write!(f, "cluster.{field}[{i}]"),
            Loc::Node(i, rest) => write!(f, "cluster.nodes[{i}]{rest}"),
            Loc::Gateway(i, rest) => write!(f, "cluster.gateways[{i}]{rest}"),
            Loc::Remote(i, rest) => write!(f, "remoteClusters[{i}]{rest}"),
            Loc::Subnet(i, j) => write!(f, "remoteClusters[{i}].subnets[{j}]"),
            Loc::Global => f.write_str("cluster.globalCIDR"),
        }
    }
}

/// Checks `t`; see the module doc.
pub fn validate(t: &Topology) -> Result<()> {
    let c = &t.cluster;
    cluster_id("cluster.id", &c.id)?;
    if c.cluster_cidrs.is_empty() {
        return err(
            "cluster.clusterCIDRs",
            "is empty; list the cluster's pod network CIDR(s), e.g. [10.244.0.0/16]",
        );
    }
    // Every CIDR with its path and owner, for the overlap checks.
    let mut owned: Vec<(Loc, &str, IpNet)> = Vec::new();
    for (field, list) in [
        ("clusterCIDRs", &c.cluster_cidrs),
        ("serviceCIDRs", &c.service_cidrs),
    ] {
        for (i, n) in list.iter().enumerate() {
            let path = Loc::Local(field, i);
            host_bits(path, n)?;
            owned.push((path, &c.id, *n));
        }
    }
    if let Some(n) = &c.global_cidr {
        host_bits(Loc::Global, n)?;
        owned.push((Loc::Global, &c.id, *n));
    }
    nodes(t)?;
    gateways(t)?;
    // The local cluster id is `cluster.id`, the only id not in a list.
    let mut ids: BTreeMap<&str, Option<Loc>> = BTreeMap::new();
    ids.insert(&c.id, None);
    let mut cable_ips: BTreeMap<IpAddr, Loc> = BTreeMap::new();
    if let Some(g) = t.active_gateway() {
        cable_ips.insert(g.cable_ip(), Loc::Gateway(0, ""));
    }
    for (i, r) in t.remote_clusters.iter().enumerate() {
        let id_path = Loc::Remote(i, ".id");
        cluster_id(id_path, &r.id)?;
        if let Some(prev) = ids.insert(&r.id, Some(id_path)) {
            let prev = prev.map_or("cluster.id".to_string(), |p| p.to_string());
            return err(
                id_path.to_string(),
                format!(
                    "cluster id {:?} is already used by {prev}; cluster ids must be unique",
                    r.id
                ),
            );
        }
        if r.subnets.is_empty() {
            return err(
                Loc::Remote(i, ".subnets").to_string(),
                "is empty; list the remote cluster's pod and service CIDRs",
            );
        }
        for (j, n) in r.subnets.iter().enumerate() {
            let path = Loc::Subnet(i, j);
            host_bits(path, n)?;
            owned.push((path, &r.id, *n));
        }
        let gw_path = Loc::Remote(i, ".gateway");
        endpoint_ips(gw_path, &r.gateway)?;
        crate::backend::cable_backend(t, gw_path, &r.gateway)?;
        let ip = r.gateway.cable_ip();
        if let Some(prev) = cable_ips.insert(ip, gw_path) {
            return err(
                gw_path.to_string(),
                format!("cable address {ip} (publicIP, else privateIP) is also {prev}'s; each gateway needs its own"),
            );
        }
    }
    overlaps(&owned)?;
    subnets_clear_of_endpoints(t)?;
    tunables(t)
}

/// Cluster ids are DNS-1123 labels, as Submariner requires.
fn cluster_id(path: impl std::fmt::Display, id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 63
        && id
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
        && !id.starts_with('-')
        && !id.ends_with('-');
    if ok {
        Ok(())
    } else {
        err(path.to_string(), format!("{id:?} is not a valid cluster id; use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. cluster-a)"))
    }
}

/// The tunnel address ranges (first octet 240: vx-submariner, 241: cable).
fn tunnel_ranges() -> [IpNet; 2] {
    let net = |a: [u8; 4]| IpNet::V4(ipnet::Ipv4Net::new(a.into(), 8).unwrap_or_default());
    [net([240, 0, 0, 0]), net([241, 0, 0, 0])]
}

/// No host bits; clear of the tunnel ranges.
fn host_bits(path: impl std::fmt::Display, n: &IpNet) -> Result<()> {
    if n.addr() != n.network() {
        return err(
            path.to_string(),
            format!("\"{n}\" has host bits set; write \"{}\"", n.trunc()),
        );
    }
    for r in tunnel_ranges() {
        if r.contains(n) || n.contains(&r) {
            return err(
                path.to_string(),
                format!("\"{n}\" overlaps {r}, which the tunnels use for their own addresses; use another range"),
            );
        }
    }
    Ok(())
}

/// A remote subnet holding a tunnel endpoint would capture the tunnels'
/// own packets (table 150 is looked up before main) or local node traffic.
fn subnets_clear_of_endpoints(t: &Topology) -> Result<()> {
    // Each endpoint with the remote cluster it belongs to (None: local).
    let mut endpoints: Vec<(Loc, IpAddr, Option<usize>)> = t
        .cluster
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (Loc::Node(i, ".ip"), n.ip, None))
        .collect();
    for (i, g) in t.cluster.gateways.iter().enumerate() {
        endpoints.extend(
            g.public_ip
                .map(|ip| (Loc::Gateway(i, ".publicIP"), ip, None)),
        );
    }
    for (i, r) in t.remote_clusters.iter().enumerate() {
        let g = &r.gateway;
        endpoints.push((Loc::Remote(i, ".gateway.privateIP"), g.private_ip, Some(i)));
        endpoints.extend(
            g.public_ip
                .map(|ip| (Loc::Remote(i, ".gateway.publicIP"), ip, Some(i))),
        );
    }
    // Sorted by address: the endpoints inside a subnet are one contiguous run.
    endpoints.sort_by_key(|(_, ip, _)| *ip);
    // An external cable reaches a remote gateway inside its own cluster's
    // subnet through a next-hop route (Submariner #1106).
    let own_ok = t.cluster.cable.is_none();
    for (i, r) in t.remote_clusters.iter().enumerate() {
        for (j, n) in r.subnets.iter().enumerate() {
            let first = endpoints.partition_point(|(_, ip, _)| *ip < n.network());
            let inside = endpoints[first..]
                .iter()
                .take_while(|(_, ip, _)| n.contains(ip))
                .find(|(_, _, owner)| !(own_ok && *owner == Some(i)));
            if let Some((p, ip, _)) = inside {
                return err(
                    Loc::Subnet(i, j).to_string(),
                    format!("\"{n}\" contains {p} {ip}: traffic to that tunnel endpoint would be routed into the tunnels; list only the cluster's pod and service CIDRs"),
                );
            }
        }
    }
    Ok(())
}

/// Refuses overlapping CIDRs (`owned` is in file order). Sorts and sweeps,
/// O(n log n), so topologies with thousands of CIDRs validate in
/// milliseconds: after sorting by first address, a CIDR overlaps an earlier
/// one exactly when it starts inside the one reaching furthest so far.
/// Reports the overlap whose later CIDR comes first in the file.
fn overlaps(owned: &[(Loc, &str, IpNet)]) -> Result<()> {
    let mut order: Vec<usize> = (0..owned.len()).collect();
    order.sort_by_key(|&i| (owned[i].2.network(), owned[i].2.prefix_len(), i));
    let mut cover: Option<usize> = None;
    let mut found: Option<(usize, usize)> = None;
    for &i in &order {
        let n = owned[i].2;
        match cover {
            Some(c) if owned[c].2.contains(&n.network()) => {
                let pair = if c < i { (i, c) } else { (c, i) };
                if found.is_none_or(|f| pair.0 < f.0) {
                    found = Some(pair);
                }
                if n.broadcast() > owned[c].2.broadcast() {
                    cover = Some(i);
                }
            }
            _ => cover = Some(i),
        }
    }
    let Some((later, earlier)) = found else {
        return Ok(());
    };
    let (path, owner, n) = &owned[later];
    let (p, o, m) = &owned[earlier];
    let what = if o == owner {
        "CIDRs of one cluster must not overlap; remove or merge one".to_string()
    } else {
        format!("clusters {o:?} and {owner:?} overlap, so traffic between them cannot be routed; change one of them (or use Globalnet: set cluster.globalCIDR and list the remote clusters' global CIDRs as their subnets)")
    };
    err(
        path.to_string(),
        format!("\"{n}\" overlaps {p} \"{m}\": {what}"),
    )
}

/// vx-submariner addresses are derived from IPv4 node addresses
/// (240.b.c.d), so nodes and gateways must be IPv4 unicast.
fn ipv4_unicast(path: impl std::fmt::Display, ip: &IpAddr) -> Result<()> {
    match ip {
        IpAddr::V4(v4)
            if !v4.is_unspecified()
                && !v4.is_loopback()
                && !v4.is_multicast()
                && !v4.is_broadcast() =>
        {
            Ok(())
        }
        IpAddr::V4(_) => err(path.to_string(), format!("{ip} is not a unicast address; use the node's InternalIP")),
        IpAddr::V6(_) => err(path.to_string(), format!("{ip} is IPv6; tunnel endpoints must be IPv4 (the tunnel addresses 240.x/241.x are derived from them)")),
    }
}

fn endpoint_ips(path: impl std::fmt::Display, e: &Endpoint) -> Result<()> {
    if e.hostname.is_empty() {
        return err(
            format!("{path}.hostname"),
            "is empty; write the gateway node's name",
        );
    }
    ipv4_unicast(format_args!("{path}.privateIP"), &e.private_ip)?;
    if let Some(p) = &e.public_ip {
        ipv4_unicast(format_args!("{path}.publicIP"), p)?;
    }
    crate::backend::endpoint_backend(path, e)
}

fn nodes(t: &Topology) -> Result<()> {
    let nodes = &t.cluster.nodes;
    if nodes.is_empty() {
        return err(
            "cluster.nodes",
            "is empty; list every node with its name and ip",
        );
    }
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    let mut ips: BTreeMap<IpAddr, usize> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        let path = Loc::Node(i, "");
        if n.name.is_empty() {
            return err(
                format!("{path}.name"),
                "is empty; write the node's name (NODE_NAME)",
            );
        }
        if let Some(j) = names.insert(&n.name, i) {
            return err(
                format!("{path}.name"),
                format!(
                    "node name {:?} is also cluster.nodes[{j}]'s; node names must be unique",
                    n.name
                ),
            );
        }
        ipv4_unicast(Loc::Node(i, ".ip"), &n.ip)?;
        if let Some(o) = &n.ovn {
            if o.zone.as_deref().is_some_and(|z| z.trim().is_empty()) {
                return err(
                    format!("{path}.ovn.zone"),
                    "is empty; write the node's zone (k8s.ovn.org/zone-name) or leave it out",
                );
            }
            if let Some(t) = o.transit_switch_ip {
                ipv4_unicast(format!("{path}.ovn.transitSwitchIP"), &IpAddr::V4(t))?;
            }
        }
        if let Some(j) = ips.insert(n.ip, i) {
            return err(
                format!("{path}.ip"),
                format!(
                    "{} is also cluster.nodes[{j}]'s ip; node IPs must be unique",
                    n.ip
                ),
            );
        }
    }
    Ok(())
}

fn gateways(t: &Topology) -> Result<()> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, g) in t.cluster.gateways.iter().enumerate() {
        let path = format!("cluster.gateways[{i}]");
        endpoint_ips(&path, g)?;
        if i == 0 {
            crate::backend::cable_backend(t, &path, g)?;
        }
        let Ok(node) = t.node(&g.hostname) else {
            let known: Vec<&str> = t.cluster.nodes.iter().map(|n| n.name.as_str()).collect();
            return err(
                format!("{path}.hostname"),
                format!("{:?} is not in cluster.nodes (known: {}); a gateway must be one of the cluster's nodes", g.hostname, known.join(", ")),
            );
        };
        if node.ip != g.private_ip {
            return err(
                format!("{path}.privateIP"),
                format!(
                    "{} is not node {:?}'s ip {}; write {}",
                    g.private_ip, node.name, node.ip, node.ip
                ),
            );
        }
        if let Some(j) = seen.insert(&g.hostname, i) {
            return err(
                format!("{path}.hostname"),
                format!(
                    "{:?} is also cluster.gateways[{j}]; list each gateway once",
                    g.hostname
                ),
            );
        }
    }
    Ok(())
}

fn tunables(t: &Topology) -> Result<()> {
    let u = &t.tunables;
    for (field, vni) in [("vxlanVNI", u.vxlan_vni), ("cableVNI", u.cable_vni)] {
        if !(1..=MAX_VNI).contains(&vni) {
            return err(
                format!("tunables.{field}"),
                format!("{vni} is out of range; a VNI is 1 to {MAX_VNI}"),
            );
        }
    }
    for (field, port) in [("vxlanPort", u.vxlan_port), ("cablePort", u.cable_port)] {
        if port == 0 {
            return err(
                format!("tunables.{field}"),
                "is 0; use a UDP port from 1 to 65535",
            );
        }
    }
    if u.vxlan_port == u.cable_port && u.vxlan_vni == u.cable_vni {
        return err(
            "tunables.cableVNI",
            format!("vx-submariner and the cable would both be VNI {} on UDP port {}; change cableVNI or cablePort", u.cable_vni, u.cable_port),
        );
    }
    if let Some(mtu) = u.mtu {
        if !(MIN_MTU..=MAX_MTU).contains(&mtu) {
            return err(
                "tunables.mtu",
                format!("{mtu} is out of range; use {MIN_MTU} to {MAX_MTU}, or null for uplink MTU - 50"),
            );
        }
    }
    if let Some(mss) = u.mss {
        if mss < MIN_MSS {
            return err(
                "tunables.mss",
                format!("{mss} is below {MIN_MSS}; use at least {MIN_MSS}, or null to clamp to the route MTU"),
            );
        }
    }
    if u.resync_period_seconds == 0 {
        return err(
            "tunables.resyncPeriodSeconds",
            "is 0; use at least 1 (default 30)",
        );
    }
    if let Some(name) = &u.cni_interface {
        crate::backend::ifname("tunables.cniInterface", name)?;
    }
    Ok(())
}
