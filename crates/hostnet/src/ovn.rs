//! The OVN datapath's host facts ([`ovn_facts`]): OVN-Kubernetes'
//! management port, its IPv4 address, and the cluster router address G
//! (the next hop of the main-table route for a cluster CIDR on the port).

use crate::addresses::list_addresses;
use crate::error::Result;
use crate::links::list_links;
use crate::routes::list_routes;
use ipnet::IpNet;
use plan::ovn::{OvnFacts, MP0};
use rtnetlink::Handle;
use std::net::IpAddr;

/// Equals `ip -4 addr show dev ovn-k8s-mp0` and `ip -4 route show table
/// main dev ovn-k8s-mp0`, keeping the first route whose destination lies in
/// one of `cluster_cidrs` and has a gateway. A missing port gives empty
/// facts (the planner warns), not an error.
pub async fn ovn_facts(handle: &Handle, cluster_cidrs: &[IpNet]) -> Result<OvnFacts> {
    let mut facts = OvnFacts {
        mp0: MP0.to_string(),
        mp0_addr: None,
        router: None,
    };
    let Some(index) = list_links(handle).await?.index(MP0) else {
        return Ok(facts);
    };
    facts.mp0_addr = list_addresses(handle)
        .await?
        .into_iter()
        .filter(|a| a.index == index)
        .find_map(|a| match a.addr.addr() {
            IpAddr::V4(v4) => Some(v4),
            IpAddr::V6(_) => None,
        });
    facts.router = list_routes(handle)
        .await?
        .iter()
        .filter(|r| r.table == plan::routes::MAIN_TABLE && r.oif == Some(index))
        .filter(|r| {
            cluster_cidrs
                .iter()
                .any(|c| c.contains(&r.dst) || r.dst.contains(c))
        })
        .find_map(|r| match r.via {
            Some(IpAddr::V4(g)) => Some(g),
            _ => None,
        });
    Ok(facts)
}
