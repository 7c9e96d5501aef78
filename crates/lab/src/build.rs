//! Builds the lab's namespaces and links (no agent involved): cluster
//! networks, pods with CNI-like host-gw routing, the underlay, sysctls and
//! the CNI-like masquerading nftables table on every node.

use crate::ns::{create, ip_batch, nft, sh};
use crate::plan::{ClusterPlan, NodePlan, Plan};
use crate::Result;

/// MTU of the pods' `eth0` and the nodes' `pod0` (below the VXLAN MTUs).
pub const POD_MTU: u32 = 1400;

/// Sysctls set on every node namespace before anything else
/// (`sysctl -w`): forwarding; loose rp_filter as systemd ships it; no IPv6
/// duplicate address detection, so link-local addresses and their routes
/// exist at once (and snapshots taken right after the build are settled).
pub const NODE_SYSCTLS: &str = "net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=2 \
net.ipv4.conf.default.rp_filter=2 net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0";

/// The CNI-like table of a node of `cluster`, as `nft list table ip
/// cni-like` prints it: masquerade pod traffic leaving the cluster CIDR
/// (flannel / Calico natOutgoing).
pub fn cni_table(cluster: &ClusterPlan) -> String {
    format!(
        "table ip cni-like {{\n\tchain postrouting {{\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n\t\tip saddr {p} ip daddr != {p} masquerade\n\t}}\n}}\n",
        p = cluster.pod_cidr
    )
}

/// Creates every namespace and link of `plan`. On error the caller tears
/// down (see [`crate::Lab::down`]).
pub fn build(plan: &Plan) -> Result<()> {
    for ns in plan.namespaces() {
        create(&ns)?;
    }
    ip_batch(
        &plan.underlay_ns,
        &["link add br0 type bridge".into(), "link set br0 up".into()],
    )?;
    for c in &plan.clusters {
        ip_batch(
            &c.bridge_ns,
            &[
                "link add br0 type bridge".into(),
                format!("addr add 10.{}.0.254/24 dev br0", c.index),
                "link set br0 up".into(),
            ],
        )?;
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = plan
            .nodes()
            .map(|(c, n)| s.spawn(move || build_node(plan, c, n)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect::<Result<Vec<()>>>()
    })?;
    for c in &plan.clusters {
        let ports: Vec<String> = c
            .nodes
            .iter()
            .flat_map(|n| {
                [
                    format!("link set n{} master br0", n.index),
                    format!("link set n{} up", n.index),
                ]
            })
            .collect();
        ip_batch(&c.bridge_ns, &ports)?;
    }
    let ports: Vec<String> = plan
        .nodes()
        .filter(|(_, n)| n.public_ip.is_some())
        .flat_map(|(c, n)| {
            [
                format!("link set g{}{} master br0", c.letter, n.index),
                format!("link set g{}{} up", c.letter, n.index),
            ]
        })
        .collect();
    ip_batch(&plan.underlay_ns, &ports)
}

/// One node and its pod: `ip link add eth0 type veth peer name nI netns
/// BRIDGE`, `pod0`, routes, underlay link, sysctls, CNI-like table.
fn build_node(plan: &Plan, c: &ClusterPlan, n: &NodePlan) -> Result<()> {
    sh(&n.ns, &format!("sysctl -qw {NODE_SYSCTLS}"))?;
    let mut cmds = vec![
        format!(
            "link add eth0 type veth peer name n{} netns {}",
            n.index, c.bridge_ns
        ),
        format!("link add pod0 type veth peer name eth0 netns {}", n.pod_ns),
        format!("addr add {}/24 dev eth0", n.ip),
        "link set eth0 up".into(),
        format!("link set pod0 mtu {POD_MTU}"),
        format!("addr add {}/24 dev pod0", n.cni_ip),
        "link set pod0 up".into(),
        format!("route add default via 10.{}.0.254 dev eth0", c.index),
    ];
    for other in c.nodes.iter().filter(|o| o.index != n.index) {
        cmds.push(format!(
            "route add {}.0/24 via {} dev eth0",
            subnet_base(other),
            other.ip
        ));
    }
    if let Some(public) = n.public_ip {
        cmds.push(format!(
            "link add eth1 type veth peer name g{}{} netns {}",
            c.letter, n.index, plan.underlay_ns
        ));
        cmds.push(format!("addr add {public}/24 dev eth1"));
        cmds.push("link set eth1 up".into());
    }
    ip_batch(&n.ns, &cmds)?;
    ip_batch(
        &n.pod_ns,
        &[
            format!("link set eth0 mtu {POD_MTU}"),
            format!("addr add {}/24 dev eth0", n.pod_ip),
            "link set eth0 up".into(),
            format!("route add default via {}", n.cni_ip),
        ],
    )?;
    nft(&n.ns, &cni_table(c))
}

/// `10.P.I` of a node's pod subnet `10.P.I.0/24`.
fn subnet_base(n: &NodePlan) -> String {
    let o = n.cni_ip.octets();
    format!("{}.{}.{}", o[0], o[1], o[2])
}
