//! The address plan and the topology files (pure: no I/O).
//!
//! Cluster `c` (1-based, letter `a` + c-1), node `i`:
//! - node `PREFIX-<l><i>`: eth0 `10.c.0.i/24` on the cluster bridge
//!   (`PREFIX-<l>br`, which holds `10.c.0.254`, the nodes' default route);
//! - pod `PREFIX-<l><i>p`: eth0 `10.(243+c).i.2/24`, default via the node's
//!   `pod0` at `10.(243+c).i.1` (the CNI interface, inside the cluster CIDR
//!   `10.(243+c).0.0/16`); services `10.(95+c).0.0/16`;
//! - nodes 1 and 2: eth1 `192.168.50.(10c+i)/24` on the underlay bridge
//!   (`PREFIX-ul`);
//! - with Globalnet: global CIDR `242.c.0.0/16`, the cluster's egress
//!   global IP `242.c.0.1`.

use crate::config::Cable;
use std::fmt::Write;
use std::net::Ipv4Addr;

/// One node of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePlan {
    /// Node name, as in the topology file (`a1`).
    pub name: String,
    /// 1-based index inside its cluster.
    pub index: usize,
    /// The node's namespace.
    pub ns: String,
    /// Its pod's namespace.
    pub pod_ns: String,
    /// InternalIP (eth0).
    pub ip: Ipv4Addr,
    /// The CNI interface (`pod0`) address, the pod's gateway.
    pub cni_ip: Ipv4Addr,
    /// The pod's address.
    pub pod_ip: Ipv4Addr,
    /// The underlay (public) address, on nodes 1 and 2.
    pub public_ip: Option<Ipv4Addr>,
}

/// One cluster of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterPlan {
    /// 1-based index.
    pub index: usize,
    /// `a`, `b`, ...
    pub letter: char,
    /// `cluster-a`.
    pub id: String,
    /// Pod network `10.(243+c).0.0/16`.
    pub pod_cidr: String,
    /// Service network `10.(95+c).0.0/16`.
    pub service_cidr: String,
    /// Globalnet CIDR `242.c.0.0/16` (used with `--globalnet`).
    pub global_cidr: String,
    /// The global IP the cluster's egress is SNATed to (`242.c.0.1`).
    pub global_ip: Ipv4Addr,
    /// The cluster network's bridge namespace.
    pub bridge_ns: String,
    /// Its nodes.
    pub nodes: Vec<NodePlan>,
}

/// The whole lab's addresses and names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Namespace prefix.
    pub prefix: String,
    /// The underlay bridge namespace.
    pub underlay_ns: String,
    /// The clusters.
    pub clusters: Vec<ClusterPlan>,
}

impl Plan {
    /// The plan for `clusters` x `nodes` (sizes checked by
    /// [`crate::LabConfig::validate`]).
    pub fn new(prefix: &str, clusters: usize, nodes: usize) -> Plan {
        let clusters = (1..=clusters)
            .map(|c| {
                let letter = (b'a' + (c - 1) as u8) as char;
                let p = (243 + c) as u8;
                ClusterPlan {
                    index: c,
                    letter,
                    id: format!("cluster-{letter}"),
                    pod_cidr: format!("10.{p}.0.0/16"),
                    service_cidr: format!("10.{}.0.0/16", 95 + c),
                    global_cidr: format!("242.{c}.0.0/16"),
                    global_ip: Ipv4Addr::new(242, c as u8, 0, 1),
                    bridge_ns: format!("{prefix}-{letter}br"),
                    nodes: (1..=nodes)
                        .map(|i| NodePlan {
                            name: format!("{letter}{i}"),
                            index: i,
                            ns: format!("{prefix}-{letter}{i}"),
                            pod_ns: format!("{prefix}-{letter}{i}p"),
                            ip: Ipv4Addr::new(10, c as u8, 0, i as u8),
                            cni_ip: Ipv4Addr::new(10, p, i as u8, 1),
                            pod_ip: Ipv4Addr::new(10, p, i as u8, 2),
                            public_ip: (i <= 2)
                                .then(|| Ipv4Addr::new(192, 168, 50, (10 * c + i) as u8)),
                        })
                        .collect(),
                }
            })
            .collect();
        Plan {
            prefix: prefix.to_string(),
            underlay_ns: format!("{prefix}-ul"),
            clusters,
        }
    }

    /// Every node of every cluster.
    pub fn nodes(&self) -> impl Iterator<Item = (&ClusterPlan, &NodePlan)> {
        self.clusters
            .iter()
            .flat_map(|c| c.nodes.iter().map(move |n| (c, n)))
    }

    /// The node called `name` (`a1`).
    pub fn node(&self, name: &str) -> Option<&NodePlan> {
        self.nodes().map(|(_, n)| n).find(|n| n.name == name)
    }

    /// Every namespace of the lab, in creation order.
    pub fn namespaces(&self) -> Vec<String> {
        let mut v = vec![self.underlay_ns.clone()];
        for c in &self.clusters {
            v.push(c.bridge_ns.clone());
            for n in &c.nodes {
                v.push(n.ns.clone());
                v.push(n.pod_ns.clone());
            }
        }
        v
    }

    /// The subnets remote clusters route to cluster `c` (0-based): pods,
    /// services and, with Globalnet, its global CIDR.
    pub fn subnets(&self, c: usize, globalnet: bool) -> Vec<String> {
        let cl = &self.clusters[c];
        let mut v = vec![cl.pod_cidr.clone(), cl.service_cidr.clone()];
        if globalnet {
            v.push(cl.global_cidr.clone());
        }
        v
    }

    /// The topology file of cluster `c` (0-based), given each cluster's
    /// active gateway node (0-based), extra `tunables` keys (`mtu: 1300`),
    /// who makes each cluster's cable and whether Globalnet runs.
    pub fn topology_yaml(
        &self,
        c: usize,
        gateways: &[usize],
        tunables: &[String],
        cable: Cable,
        globalnet: bool,
    ) -> String {
        let cl = &self.clusters[c];
        let mut y = String::new();
        let _ = writeln!(y, "# written by the routeagent lab ({})", self.prefix);
        let _ = writeln!(y, "cluster:");
        let _ = writeln!(y, "  id: {}", cl.id);
        let _ = writeln!(y, "  clusterCIDRs: [{}]", cl.pod_cidr);
        let _ = writeln!(y, "  serviceCIDRs: [{}]", cl.service_cidr);
        if cable.routeagent_owns(c) {
            let _ = writeln!(y, "  cable: vxlan");
        }
        if globalnet {
            let _ = writeln!(y, "  globalCIDR: {}", cl.global_cidr);
        }
        let _ = writeln!(y, "  nodes:");
        for n in &cl.nodes {
            let _ = writeln!(y, "    - {{name: {}, ip: {}}}", n.name, n.ip);
        }
        let _ = writeln!(y, "  gateways:");
        let local = endpoint(&cl.nodes[gateways[c]], cable.backend(c), cable.interface(c));
        let _ = writeln!(y, "    - {local}");
        if self.clusters.len() > 1 {
            let _ = writeln!(y, "remoteClusters:");
        }
        for (r, rc) in self.clusters.iter().enumerate().filter(|(r, _)| *r != c) {
            let _ = writeln!(y, "  - id: {}", rc.id);
            let _ = writeln!(
                y,
                "    subnets: [{}]",
                self.subnets(r, globalnet).join(", ")
            );
            let remote = endpoint(&rc.nodes[gateways[r]], cable.backend(r), "");
            let _ = writeln!(y, "    gateway: {remote}");
        }
        if !tunables.is_empty() {
            let _ = writeln!(y, "tunables: {{{}}}", tunables.join(", "));
        }
        y
    }
}

/// A gateway Endpoint; `interface` (only WireGuard publishes one, as
/// Submariner's drivers do) goes to `backendConfig.interface-name`.
fn endpoint(n: &NodePlan, backend: &str, interface: &str) -> String {
    let mut s = format!("{{hostname: {}, privateIP: {}", n.name, n.ip);
    if let Some(p) = n.public_ip {
        let _ = write!(s, ", publicIP: {p}");
    }
    let _ = write!(s, ", healthCheckIP: {}, backend: {backend}", n.cni_ip);
    if backend == "wireguard" && !interface.is_empty() {
        let _ = write!(s, ", backendConfig: {{interface-name: {interface}}}");
    }
    s.push('}');
    s
}

/// FNV-1a 64 of `bytes` as 16 hex digits: the `config_digest` an agent
/// reports for the file it acted on.
///
/// The agent's digest is `topology::digest`; the lab keeps this copy on
/// purpose, as an independent oracle (it does not link the code it checks),
/// pinned to FNV-1a by `digest_is_fnv1a_64`.
pub fn digest(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_follow_the_plan() {
        let p = Plan::new("t", 3, 3);
        let b2 = p.node("b2").unwrap();
        assert_eq!(b2.ns, "t-b2");
        assert_eq!(b2.pod_ns, "t-b2p");
        assert_eq!(b2.ip.to_string(), "10.2.0.2");
        assert_eq!(b2.cni_ip.to_string(), "10.245.2.1");
        assert_eq!(b2.pod_ip.to_string(), "10.245.2.2");
        assert_eq!(b2.public_ip.unwrap().to_string(), "192.168.50.22");
        assert_eq!(p.node("c3").unwrap().public_ip, None);
        assert_eq!(p.namespaces().len(), 1 + 3 * (1 + 3 * 2));
        assert_eq!(p.clusters[2].service_cidr, "10.98.0.0/16");
    }

    #[test]
    fn topology_names_active_gateways() {
        let p = Plan::new("t", 2, 3);
        let y = p.topology_yaml(1, &[1, 0], &["mtu: 1300".into()], Cable::Vxlan, false);
        assert!(y.contains("  id: cluster-b\n"), "{y}");
        assert!(y.contains("\n  cable: vxlan\n"), "{y}");
        assert!(
            y.contains("hostname: b1, privateIP: 10.2.0.1, publicIP: 192.168.50.21"),
            "{y}"
        );
        assert!(y.contains("  - id: cluster-a\n    subnets: [10.244.0.0/16, 10.96.0.0/16]\n    gateway: {hostname: a2, privateIP: 10.1.0.2, publicIP: 192.168.50.12, healthCheckIP: 10.244.2.1, backend: vxlan}"), "{y}");
        assert!(y.ends_with("tunables: {mtu: 1300}\n"), "{y}");
    }

    #[test]
    fn external_cables_and_globalnet_are_written_as_submariner_publishes_them() {
        let p = Plan::new("t", 2, 2);
        let y = p.topology_yaml(0, &[0, 0], &[], Cable::Wireguard, true);
        assert!(!y.contains("cable:"), "{y}");
        assert!(y.contains("  globalCIDR: 242.1.0.0/16\n"), "{y}");
        assert!(
            y.contains("backend: wireguard, backendConfig: {interface-name: submariner}}"),
            "{y}"
        );
        assert!(
            y.contains("subnets: [10.245.0.0/16, 10.97.0.0/16, 242.2.0.0/16]"),
            "{y}"
        );
        let m = p.topology_yaml(1, &[0, 0], &[], Cable::Mixed, false);
        assert!(!m.contains("cable:"), "{m}");
        assert!(p
            .topology_yaml(0, &[0, 0], &[], Cable::Mixed, false)
            .contains("  cable: vxlan\n"));
    }

    #[test]
    fn digest_is_fnv1a_64() {
        assert_eq!(digest(b""), "cbf29ce484222325");
        assert_eq!(digest(b"a"), "af63dc4c8601ec8c");
    }
}
