//! Test-only: programs every node by hand (the way netns-lab-spike.sh
//! does, with the agent's object names) so the plumbing and the traffic
//! helpers can be tested without the agent binary; and those tests.

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

#[cfg(test)]
mod tests {
    use crate::checks::{pod_to_pod, source_address, three_clusters};
    use crate::{Lab, LabConfig};

    fn hand_programmed(prefix: &str, clusters: usize, nodes: usize) -> Lab {
        netns::require_root();
        let mut c = LabConfig::new(prefix);
        c.clusters = clusters;
        c.nodes = nodes;
        let lab = Lab::up_network(c).unwrap();
        super::program(&lab.plan).unwrap();
        lab
    }

    #[test]
    #[ignore = "needs root and network namespaces"]
    fn traffic_checks_pass_on_a_hand_programmed_lab() {
        let mut lab = hand_programmed("raman1", 2, 3);
        let d = pod_to_pod::run(&mut lab).unwrap();
        eprintln!("{d}");
        let d = source_address::run(&mut lab).unwrap();
        eprintln!("{d}");
        let d = crate::checks::host_network::run(&mut lab).unwrap();
        eprintln!("{d}");
        let g = crate::traffic::iperf3(
            "raman1-a3p",
            "raman1-b3p",
            lab.plan.node("b3").unwrap().pod_ip,
            1,
        )
        .unwrap();
        assert!(g.gbit > 0.1 && g.best_second >= g.gbit, "{g:?}");
        eprintln!("iperf3 {g:?}");
    }

    #[test]
    #[ignore = "needs root and network namespaces"]
    fn clamping_is_what_carries_tcp_over_the_small_cable() {
        // The physics of the mss-clamp check, with hand-made rules.
        let lab = hand_programmed("ramss", 2, 1);
        let (a1, b1) = (lab.gateway(0).clone(), lab.gateway(1).clone());
        crate::checks::mss_clamp::prepare(&a1, &b1, 1550).unwrap();
        let t = std::time::Duration::from_secs(10);
        crate::traffic::tcp_transfer(&a1.pod_ns, &b1.pod_ns, b1.pod_ip, 20 << 20, t).unwrap();
        for g in [&a1, &b1] {
            crate::ns::exec(
                &g.ns,
                "nft",
                &["delete", "chain", "ip", "routeagent", "mss"],
            )
            .unwrap();
        }
        let t = std::time::Duration::from_secs(3);
        let e = crate::traffic::tcp_transfer(&a1.pod_ns, &b1.pod_ns, b1.pod_ip, 20 << 20, t);
        assert!(e.is_err(), "completed without clamping: {e:?}");
        eprintln!("{}", e.unwrap_err());
    }

    #[test]
    #[ignore = "needs root and network namespaces"]
    fn three_hand_programmed_clusters_connect_pairwise() {
        let mut lab = hand_programmed("raman3", 3, 2);
        let d = three_clusters::run(&mut lab).unwrap();
        eprintln!("{d}");
    }

    #[test]
    #[ignore = "needs root and network namespaces"]
    fn masquerade_breaks_source_without_the_exemption() {
        // Proves the CNI-like table really masquerades: with the hand-made
        // agent table removed, the remote pod sees the wrong source.
        let mut lab = hand_programmed("raman2", 2, 2);
        for (_, n) in lab.plan.nodes() {
            crate::ns::exec(&n.ns, "nft", &["delete", "table", "ip", "routeagent"]).unwrap();
        }
        let e = source_address::run(&mut lab).unwrap_err().to_string();
        assert!(e.contains("masqueraded"), "{e}");
    }

    #[test]
    #[ignore = "needs root and network namespaces"]
    fn kube_proxy_like_masquerade_needs_the_ingress_exemption() {
        // The physics of the ingress-source check: the hand-made table
        // keeps only egress sources, so remote-to-local traffic is caught;
        // an ingress `snat to ip saddr` (before srcnat) fixes it.
        let mut lab = hand_programmed("raman4", 2, 2);
        let e = crate::checks::ingress_source::run(&mut lab).unwrap_err();
        assert!(e.to_string().contains("kube-proxy-like"), "{e}");
        let nodes: Vec<_> = lab
            .plan
            .nodes()
            .map(|(c, n)| (c.clone(), n.clone()))
            .collect();
        for (c, n) in nodes {
            let rule = format!(
                "add rule ip routeagent post ip saddr != {p} ip daddr {p} snat ip to ip saddr",
                p = c.pod_cidr
            );
            crate::ns::nft(&n.ns, &rule).unwrap();
        }
        let d = crate::checks::ingress_source::run(&mut lab).unwrap();
        eprintln!("{d}");
    }
}

#[cfg(test)]
mod engine_tests {
    use crate::ns::{ip_batch, nft};
    use crate::traffic::{ping, tcp_transfer};
    use crate::{engine, Cable, Lab, LabConfig};
    use std::time::Duration;

    /// Routes every cluster's remote pod CIDRs into the WireGuard link on
    /// its active gateway by hand (what routeagent does with an external
    /// cable) and keeps pod sources.
    fn route_into_wireguard(lab: &Lab, clusters: &[usize]) {
        for &c in clusters {
            let gw = lab.gateway(c).clone();
            let mut cmds = vec!["rule add pref 150 lookup 150".to_string()];
            for r in (0..lab.plan.clusters.len()).filter(|r| *r != c) {
                let cidr = &lab.plan.clusters[r].pod_cidr;
                cmds.push(format!(
                    "route add {cidr} dev submariner table 150 src {}",
                    gw.cni_ip
                ));
            }
            ip_batch(&gw.ns, &cmds).unwrap();
            let pod = &lab.plan.clusters[c].pod_cidr;
            nft(
                &gw.ns,
                &format!(
                    "table ip hand {{\n chain p {{\n type nat hook postrouting priority srcnat - 10;\n \
                     ip saddr {pod} ip daddr != {pod} snat ip to ip saddr\n }}\n}}\n"
                ),
            ).unwrap();
        }
    }

    #[test]
    #[ignore = "needs root and network namespaces"]
    fn the_lab_s_wireguard_engine_carries_pods_and_follows_a_gateway_move() {
        netns::require_root();
        let mut c = LabConfig::new("ramwg");
        c.nodes = 2;
        c.cable = Cable::Wireguard;
        let mut lab = Lab::up_network(c).unwrap();
        engine::start(&mut lab).unwrap();
        route_into_wireguard(&lab, &[0, 1]);
        let (a1, b1) = (lab.gateway(0).clone(), lab.gateway(1).clone());
        ping(&a1.pod_ns, b1.pod_ip).unwrap();
        let t = tcp_transfer(
            &b1.pod_ns,
            &a1.pod_ns,
            a1.pod_ip,
            1 << 20,
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(t.peer.ip(), std::net::IpAddr::V4(b1.pod_ip));
        // The gateway of cluster a moves to a2: fresh link there, b1's peer follows.
        lab.set_gateway(0, 1).unwrap();
        ip_batch(&a1.ns, &["rule del pref 150 lookup 150".into()]).unwrap();
        let a2 = lab.gateway(0).clone();
        route_into_wireguard(&lab, &[0]);
        ping(&a2.pod_ns, b1.pod_ip).unwrap();
        engine::cleanup(&mut lab).unwrap();
        for n in [&a1, &a2, &b1] {
            let links = crate::ns::exec(&n.ns, "ip", &["link"]).unwrap();
            assert!(!links.contains("submariner"), "{links}");
        }
    }
}

#[cfg(test)]
mod snapshot_tests {
    use crate::snapshot::{diff, take};
    use crate::{Lab, LabConfig};

    #[test]
    #[ignore = "needs root and network namespaces"]
    fn snapshots_are_stable_and_see_changes() {
        netns::require_root();
        let mut c = LabConfig::new("rasnap");
        c.nodes = 2;
        let lab = Lab::up_network(c).unwrap();
        let a2 = lab.plan.node("a2").unwrap().ns.clone();
        let before = take(&a2).unwrap();
        // IPv6 DAD and link state settle in the meantime.
        std::thread::sleep(std::time::Duration::from_millis(2500));
        let again = take(&a2).unwrap();
        assert_eq!(diff(&before, &again), Vec::<String>::new());
        crate::ns::sh(
            &a2,
            "ip link add vx-t type vxlan id 7 dstport 4789 dev eth0 && ip link set vx-t up && \
             ip route add 10.99.0.0/16 dev vx-t table 150 && ip rule add pref 150 lookup 150 && \
             bridge fdb append 00:00:00:00:00:00 dev vx-t dst 10.1.0.1 && \
             sysctl -qw net.ipv4.conf.pod0.rp_filter=1 && nft add table ip routeagent",
        )
        .unwrap();
        let changed = diff(&before, &take(&a2).unwrap()).join("\n");
        for section in [
            "links: +",
            "routes: +",
            "rules: +",
            "fdb: +",
            "sysctls: -",
            "nftables: +",
        ] {
            assert!(
                changed.contains(section),
                "{section} missing in:\n{changed}"
            );
        }
        crate::ns::sh(
            &a2,
            "ip link del vx-t && ip rule del pref 150 && sysctl -qw net.ipv4.conf.pod0.rp_filter=2 && \
             nft delete table ip routeagent",
        )
        .unwrap();
        assert_eq!(diff(&before, &take(&a2).unwrap()), Vec::<String>::new());
    }
}
