//! The northbound objects routeagent wants on the cluster router, as a
//! pure function of the remote clusters' subnets and the gateway's
//! `ovn-k8s-mp0` address: per remote subnet one logical router policy
//! (priority [`POLICY_PRIORITY`], `reroute` to the gateway) and one static
//! route. Every object carries [`OWNER_KEY`]`=`[`OWNER`]; that, and never
//! the match string, is how routeagent recognises its own objects.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;

/// The `external_ids` key that marks routeagent's objects.
pub const OWNER_KEY: &str = "submariner.io/owner";
/// Its value.
pub const OWNER: &str = "routeagent";
/// The `external_ids` key naming the remote cluster an object is for
/// (informational; ownership is [`OWNER_KEY`] alone).
pub const CLUSTER_KEY: &str = "submariner.io/remote-cluster";
/// Priority of the reroute policies (Submariner's, above OVN-Kubernetes'
/// own policies).
pub const POLICY_PRIORITY: i64 = 20000;
/// The router OVN-Kubernetes routes pods through.
pub const CLUSTER_ROUTER: &str = "ovn_cluster_router";

/// One remote cluster's subnets (cluster and service CIDRs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// The remote cluster's id.
    pub cluster_id: String,
    /// Its subnets.
    pub subnets: Vec<IpNet>,
}

/// A logical router policy routeagent owns:
/// `ovn-nbctl lr-policy-add ovn_cluster_router 20000 "ip4.dst == SUBNET" reroute NEXTHOP`
/// plus the owner's `external_ids`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Policy {
    /// Priority ([`POLICY_PRIORITY`]).
    pub priority: i64,
    /// The OVN match (`ip4.dst == 10.1.0.0/16`).
    pub match_: String,
    /// The reroute next hop (the gateway's `ovn-k8s-mp0` address).
    pub nexthop: IpAddr,
    /// `external_ids`, [`OWNER_KEY`] included.
    pub external_ids: BTreeMap<String, String>,
}

/// A static route routeagent owns:
/// `ovn-nbctl lr-route-add ovn_cluster_router SUBNET NEXTHOP` plus the
/// owner's `external_ids`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StaticRoute {
    /// The destination.
    pub ip_prefix: IpNet,
    /// The next hop (the gateway's `ovn-k8s-mp0` address).
    pub nexthop: IpAddr,
    /// `external_ids`, [`OWNER_KEY`] included.
    pub external_ids: BTreeMap<String, String>,
}

/// Everything routeagent wants on the router.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Desired {
    /// Reroute policies, sorted.
    pub policies: BTreeSet<Policy>,
    /// Static routes, sorted.
    pub routes: BTreeSet<StaticRoute>,
    /// Subnets left out because their family differs from the next hop's,
    /// as `cluster subnet` texts for the status.
    pub skipped: Vec<String>,
    /// Why this node writes them: [`ROLE_GATEWAY`] or [`ROLE_INTERCONNECT`]
    /// (set by [`crate::topo::wanted`]; empty otherwise).
    pub role: &'static str,
    /// The next hop the objects lead to.
    pub nexthop: Option<IpAddr>,
}

/// The active gateway: policies and static routes to its own
/// `ovn-k8s-mp0` address (Submariner's `GatewayRoute`).
pub const ROLE_GATEWAY: &str = "gateway";
/// A node in another interconnect zone than the gateway's: policies to the
/// gateway's transit switch address (Submariner's `NonGatewayRoute`).
pub const ROLE_INTERCONNECT: &str = "interconnect";

/// The objects for `remotes` through `nexthop`. A subnet listed by two
/// clusters is programmed once (for the first cluster in id order).
pub fn desired(remotes: &[Remote], nexthop: IpAddr) -> Desired {
    let mut out = Desired {
        nexthop: Some(nexthop),
        ..Desired::default()
    };
    let mut remotes: Vec<&Remote> = remotes.iter().collect();
    remotes.sort_by(|a, b| a.cluster_id.cmp(&b.cluster_id));
    let mut seen = BTreeSet::new();
    for r in remotes {
        let mut subnets = r.subnets.clone();
        subnets.sort();
        for subnet in subnets {
            let subnet = subnet.trunc();
            if subnet.addr().is_ipv4() != nexthop.is_ipv4() {
                out.skipped.push(format!("{} {subnet}", r.cluster_id));
                continue;
            }
            if !seen.insert(subnet) {
                continue;
            }
            let ids = external_ids(&r.cluster_id);
            let family = if subnet.addr().is_ipv4() {
                "ip4"
            } else {
                "ip6"
            };
            out.policies.insert(Policy {
                priority: POLICY_PRIORITY,
                match_: format!("{family}.dst == {subnet}"),
                nexthop,
                external_ids: ids.clone(),
            });
            out.routes.insert(StaticRoute {
                ip_prefix: subnet,
                nexthop,
                external_ids: ids,
            });
        }
    }
    out
}

impl Desired {
    /// The objects as `ovn-nbctl` commands (`lr-policy-add ... reroute`,
    /// `lr-route-add`), without their `external_ids`: what `routeagent
    /// plan` shows.
    pub fn commands(&self) -> Vec<String> {
        let policies = self.policies.iter().map(|p| {
            format!(
                "ovn-nbctl lr-policy-add {CLUSTER_ROUTER} {} \"{}\" reroute {}",
                p.priority, p.match_, p.nexthop
            )
        });
        let routes = self.routes.iter().map(|r| {
            format!(
                "ovn-nbctl lr-route-add {CLUSTER_ROUTER} {} {}",
                r.ip_prefix, r.nexthop
            )
        });
        policies.chain(routes).collect()
    }
}

/// The `external_ids` of an object for `cluster_id`.
pub fn external_ids(cluster_id: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (OWNER_KEY.to_string(), OWNER.to_string()),
        (CLUSTER_KEY.to_string(), cluster_id.to_string()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(id: &str, subnets: &[&str]) -> Remote {
        Remote {
            cluster_id: id.into(),
            subnets: subnets.iter().map(|s| s.parse().unwrap()).collect(),
        }
    }

    #[test]
    fn one_policy_and_route_per_subnet_independent_of_order() {
        let nh: IpAddr = "10.128.0.2".parse().unwrap();
        let a = [
            remote("c2", &["10.2.0.0/16", "100.2.0.0/16"]),
            remote("c3", &["10.3.0.1/16", "fd00:3::/64"]),
        ];
        let b = [a[1].clone(), a[0].clone()];
        let d = desired(&a, nh);
        assert_eq!(d, desired(&b, nh));
        let matches: Vec<_> = d.policies.iter().map(|p| p.match_.as_str()).collect();
        assert_eq!(
            matches,
            [
                "ip4.dst == 10.2.0.0/16",
                "ip4.dst == 10.3.0.0/16",
                "ip4.dst == 100.2.0.0/16"
            ]
        );
        assert_eq!(d.routes.len(), 3);
        assert_eq!(d.skipped, ["c3 fd00:3::/64"]);
        let p = d.policies.first().unwrap();
        assert_eq!(p.priority, 20000);
        assert_eq!(p.external_ids[OWNER_KEY], "routeagent");
        assert_eq!(p.external_ids[CLUSTER_KEY], "c2");
        assert_eq!(
            d.commands()[0],
            "ovn-nbctl lr-policy-add ovn_cluster_router 20000 \"ip4.dst == 10.2.0.0/16\" reroute 10.128.0.2"
        );
        assert_eq!(
            d.commands()[3],
            "ovn-nbctl lr-route-add ovn_cluster_router 10.2.0.0/16 10.128.0.2"
        );
    }

    #[test]
    fn a_subnet_two_clusters_claim_is_programmed_once() {
        let nh: IpAddr = "10.128.0.2".parse().unwrap();
        let d = desired(
            &[remote("b", &["10.9.0.0/16"]), remote("a", &["10.9.0.0/16"])],
            nh,
        );
        assert_eq!(d.policies.len(), 1);
        assert_eq!(d.routes.first().unwrap().external_ids[CLUSTER_KEY], "a");
    }
}
