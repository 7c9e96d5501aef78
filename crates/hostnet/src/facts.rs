//! Host facts for the planner, discovered from the `ip -j addr` /
//! `ip -j link` equivalents: which interface holds the node IP (uplink),
//! which faces the CNI, which holds the public IP.

use crate::addresses::{list_addresses, AddrState};
use crate::error::{Error, Result};
use crate::links::{list_links, LinkTable};
use crate::routes::{list_routes_where, RouteFilter, RouteState};
use plan::{FactsQuery, HostFacts, Iface};
use rtnetlink::Handle;
use std::net::{IpAddr, Ipv4Addr};

/// Answers `q` from one link dump, one address dump and one dump of the
/// main table's IPv4 unicast routes, filtered by the kernel
/// (`ip -j link` + `ip -j addr` + `ip -4 -j route show table main type
/// unicast`; not the other tables' thousands of routes):
/// - uplink: the interface holding `q.node_ip` (`ip -o addr show to NODE_IP`),
///   with its MTU; an error when no interface holds it;
/// - cni: the interface named `q.cni_interface` if given (its address inside
///   the cluster CIDRs, else its first IPv4 address), otherwise the
///   lowest-ifindex interface holding an address inside `q.cluster_cidrs`;
/// - public: the interface holding `q.public_ip`, when that is not the uplink;
/// - default_route: the interface of the lowest-metric IPv4 default route in
///   the main table (`ip -4 route show default`), with its first IPv4 address;
/// - next_hops: for each of `q.next_hop_for`, the `via` of the longest
///   main-table route to it, or the address itself when it is on a link
///   (`ip route get IP`, main table only).
///
/// Reached through [`crate::Host::discover`].
pub(crate) async fn discover(handle: &Handle, q: &FactsQuery) -> Result<HostFacts> {
    let (node_ip, cluster_cidrs, public_ip) = (q.node_ip, &q.cluster_cidrs, q.public_ip);
    let cni_override = q.cni_interface.as_deref();
    let links = list_links(handle).await?;
    let mut addrs = list_addresses(handle).await?;
    addrs.sort_by_key(|a| a.index);
    let uplink = holder(&links, &addrs, node_ip).ok_or_else(|| Error::Facts {
        reason: format!(
            "no interface holds the node IP {node_ip}; check NODE_NAME's InternalIP and `ip addr`"
        ),
    })?;
    let in_cluster = |a: &AddrState| cluster_cidrs.iter().any(|c| c.contains(&a.addr.addr()));
    let cni = match cni_override {
        Some(name) => {
            let link = links.get(name).ok_or_else(|| Error::Facts {
                reason: format!(
                    "the CNI interface {name} given in the configuration does not exist"
                ),
            })?;
            let on_it: Vec<&AddrState> = addrs.iter().filter(|a| a.index == link.index).collect();
            let addr = on_it
                .iter()
                .find(|a| in_cluster(a))
                .or_else(|| on_it.iter().find(|a| a.addr.addr().is_ipv4()))
                .ok_or_else(|| Error::Facts {
                    reason: format!("the CNI interface {name} has no IPv4 address"),
                })?;
            Some(iface(&links, addr))
        }
        None => addrs
            .iter()
            .find(|a| in_cluster(a))
            .map(|a| iface(&links, a)),
    };
    let public = public_ip
        .and_then(|ip| holder(&links, &addrs, ip))
        .filter(|p| p.name != uplink.name);
    let main: Vec<RouteState> = list_routes_where(handle, &RouteFilter::MAIN_V4_UNICAST).await?;
    let default_route = main
        .iter()
        .filter(|r| r.dst.prefix_len() == 0)
        .min_by_key(|r| r.metric.unwrap_or(0))
        .and_then(|r| r.oif)
        .and_then(|i| links.by_name.values().find(|l| l.index == i))
        .map(|l| Iface {
            name: l.name.clone(),
            mtu: l.mtu,
            addr: addrs
                .iter()
                .find(|a| a.index == l.index && a.addr.addr().is_ipv4())
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.addr.addr()),
        });
    let next_hops =
        q.next_hop_for
            .iter()
            .filter_map(|ip| {
                let best = main.iter().filter(|r| r.dst.contains(ip)).max_by_key(|r| {
                    (r.dst.prefix_len(), std::cmp::Reverse(r.metric.unwrap_or(0)))
                })?;
                Some((*ip, best.via.unwrap_or(*ip)))
            })
            .collect();
    Ok(HostFacts {
        uplink,
        cni,
        public,
        default_route,
        next_hops,
    })
}

fn holder(links: &LinkTable, addrs: &[AddrState], ip: IpAddr) -> Option<Iface> {
    addrs
        .iter()
        .find(|a| a.addr.addr() == ip)
        .map(|a| iface(links, a))
}

fn iface(links: &LinkTable, a: &AddrState) -> Iface {
    let link = links.by_name.values().find(|l| l.index == a.index);
    Iface {
        name: link
            .map(|l| l.name.clone())
            .unwrap_or_else(|| format!("if{}", a.index)),
        mtu: link.map(|l| l.mtu).unwrap_or(0),
        addr: a.addr.addr(),
    }
}
