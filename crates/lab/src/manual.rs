//! Test-only: programs every node by hand (the way netns-lab-spike.sh
//! does, with the agent's object names) so the plumbing and the traffic
//! helpers can be tested without the agent binary.

use crate::ns::{ip_batch, nft, sh};
use crate::plan::Plan;
use crate::Result;

/// Programs all nodes; node 1 of each cluster is the gateway.
pub fn program(plan: &Plan) -> Result<()> {
    for c in &plan.clusters {
        let remotes: Vec<_> = plan
            .clusters
            .iter()
            .filter(|r| r.index != c.index)
            .collect();
        let remote_cidrs: Vec<&str> = remotes.iter().map(|r| r.pod_cidr.as_str()).collect();
        for n in &c.nodes {
            let mut cmds = vec![
                "link add vx-submariner type vxlan id 100 dstport 4800 dev eth0 nolearning"
                    .to_string(),
                format!("addr add 240.{}.0.{}/8 dev vx-submariner", c.index, n.index),
                "link set vx-submariner up".into(),
            ];
            if n.index == 1 {
                for o in c.nodes.iter().filter(|o| o.index != 1) {
                    cmds.push(format!(
                        "fdb append 00:00:00:00:00:00 dev vx-submariner dst {}",
                        o.ip
                    ));
                }
                cmds.push(
                    "link add vxlan-tunnel type vxlan id 1000 dstport 4500 dev eth1 nolearning"
                        .into(),
                );
                cmds.push(format!("addr add 100.64.0.{}/24 dev vxlan-tunnel", c.index));
                for r in &remotes {
                    let ip = r.nodes[0].public_ip.expect("gateway has an underlay");
                    cmds.push(format!(
                        "fdb append 00:00:00:00:00:00 dev vxlan-tunnel dst {ip}"
                    ));
                }
                cmds.push("link set vxlan-tunnel up".into());
                for r in &remotes {
                    cmds.push(format!(
                        "route add {} via 100.64.0.{} dev vxlan-tunnel table 150",
                        r.pod_cidr, r.index
                    ));
                }
                cmds.push("rule add pref 150 lookup 150".into());
            } else {
                cmds.push(format!(
                    "fdb append 00:00:00:00:00:00 dev vx-submariner dst {}",
                    c.nodes[0].ip
                ));
                for r in &remotes {
                    cmds.push(format!(
                        "route add {} via 240.{}.0.1 dev vx-submariner",
                        r.pod_cidr, c.index
                    ));
                }
            }
            // `ip -batch` takes `fdb` only through `bridge`; split it out.
            let (fdb, ip): (Vec<String>, Vec<String>) =
                cmds.into_iter().partition(|l| l.starts_with("fdb "));
            let link_first: Vec<String> = ip
                .iter()
                .filter(|l| !l.starts_with("route") && !l.starts_with("rule"))
                .cloned()
                .collect();
            let routes: Vec<String> = ip
                .iter()
                .filter(|l| l.starts_with("route") || l.starts_with("rule"))
                .cloned()
                .collect();
            ip_batch(&n.ns, &link_first)?;
            for f in fdb {
                sh(&n.ns, &format!("bridge {f}"))?;
            }
            ip_batch(&n.ns, &routes)?;
            sh(
                &n.ns,
                "sysctl -qw net.ipv4.conf.vx-submariner.rp_filter=2 net.ipv4.conf.pod0.rp_filter=2",
            )?;
            nft(
                &n.ns,
                &format!(
                    "table ip routeagent {{
  chain post {{ type nat hook postrouting priority srcnat - 10; policy accept;
    ip saddr 240.0.0.0/8 oifname \"vx-submariner\" snat ip to {cni}
    ip saddr {pod} ip daddr {{ {remote} }} snat ip to ip saddr
  }}
  chain mss {{ type filter hook forward priority 0; policy accept;
    tcp flags syn tcp option maxseg size set rt mtu
  }}
}}\n",
                    cni = n.cni_ip,
                    pod = c.pod_cidr,
                    remote = remote_cidrs.join(", ")
                ),
            )?;
        }
    }
    Ok(())
}
