//! Objects of other components on the gateway-capable nodes (nodes 1 and
//! 2), which routeagent must leave byte-identical (facts:
//! submariner-coexistence.md 1.5, 2.1, 4):
//! - libreswan-like XFRM policies (`out`, `in`, `fwd`) for subnets the lab
//!   does not route ([`DECOY_LOCAL`] <-> [`DECOY_REMOTE`]);
//! - Globalnet's skeleton as its iptables mode leaves it on every node it
//!   runs on: nat chains `SUBMARINER-GN-INGRESS` (PREROUTING, position 1),
//!   `SUBMARINER-GN-EGRESS` (POSTROUTING, position 1), `SUBMARINER-GN-MARK`,
//!   `SM-GN-EGRESS-CLUSTER`, `SM-GN-EGRESS-NS` with a rule on ipset
//!   `SM-GN-DECOY`; with `--globalnet` the engine ([`crate::engine`]) fills
//!   the egress chains on the active gateway;
//! - where the cluster's cable is not routeagent's: a table-100 route and
//!   the `pref 100 lookup 100` rule a VXLAN cable driver leaves behind
//!   (with `--cable wireguard`; with `mixed` the lab's VXLAN cable has its
//!   own).
//!
//! [`listing`] prints all of it, plus the lab-made cables (`submariner`'s
//! configuration, `vxlan-tunnel`, its FDB), so the lab can compare it at
//! every stage.

use crate::ns::sh;
use crate::plan::{ClusterPlan, NodePlan};
use crate::{Lab, Result};

/// Local side of the decoy XFRM policies and Globalnet rules.
pub const DECOY_LOCAL: &str = "10.250.0.0/16";
/// Remote side of the decoy XFRM policies and the decoy table-100 route.
pub const DECOY_REMOTE: &str = "10.251.0.0/16";

/// Plants the decoys on `n` (a node with an underlay link) of cluster `c`;
/// `foreign_table100`: whether to plant the table-100 route and rule.
pub fn plant(c: &ClusterPlan, n: &NodePlan, foreign_table100: bool) -> Result<()> {
    let public = n.public_ip.unwrap_or(n.ip);
    let peer = format!("192.168.50.{}", 200 + c.index);
    let tmpl = |a: &str, b: &str| format!("tmpl src {a} dst {b} proto esp reqid 1 mode tunnel");
    let mut s = vec![
        format!(
            "ip xfrm policy add src {DECOY_LOCAL} dst {DECOY_REMOTE} dir out {}",
            tmpl(&public.to_string(), &peer)
        ),
        format!(
            "ip xfrm policy add src {DECOY_REMOTE} dst {DECOY_LOCAL} dir in {}",
            tmpl(&peer, &public.to_string())
        ),
        format!(
            "ip xfrm policy add src {DECOY_REMOTE} dst {DECOY_LOCAL} dir fwd {}",
            tmpl(&peer, &public.to_string())
        ),
        "ipset create SM-GN-DECOY hash:net".into(),
        format!("ipset add SM-GN-DECOY {DECOY_LOCAL}"),
    ];
    for chain in [
        "SUBMARINER-GN-INGRESS",
        "SUBMARINER-GN-EGRESS",
        "SUBMARINER-GN-MARK",
        "SM-GN-EGRESS-CLUSTER",
        "SM-GN-EGRESS-NS",
    ] {
        s.push(format!("iptables-nft -t nat -N {chain}"));
    }
    s.extend([
        "iptables-nft -t nat -I PREROUTING 1 -j SUBMARINER-GN-INGRESS".to_string(),
        "iptables-nft -t nat -I POSTROUTING 1 -j SUBMARINER-GN-EGRESS".to_string(),
        "iptables-nft -t nat -A SUBMARINER-GN-INGRESS -d 242.250.0.2 -j DNAT --to-destination 10.250.0.2".to_string(),
        "iptables-nft -t nat -A SM-GN-EGRESS-NS -m set --match-set SM-GN-DECOY src \
         -m mark --mark 0xC0000/0xC0000 -j SNAT --to-source 242.250.0.1"
            .to_string(),
    ]);
    if foreign_table100 {
        s.push(format!(
            "ip route add {DECOY_REMOTE} via 10.{}.0.254 dev eth0 metric 100 table 100",
            c.index
        ));
        s.push("ip rule add pref 100 lookup 100".into());
    }
    sh(&n.ns, &s.join(" && ")).map(drop)
}

/// What other components own on `ns`, as text: XFRM policies, rule `pref
/// 100`, table 100, Globalnet's nat chains (`iptables-nft -t nat -S`) and
/// ipsets, the WireGuard link's configuration and the VXLAN cable; with
/// `routeagent_cable` the cable objects are routeagent's and left out.
pub fn listing(ns: &str, routeagent_cable: bool) -> Result<String> {
    let mut s = String::from(
        "echo '# xfrm'; ip xfrm policy list; \
         echo '# nat'; iptables-nft -t nat -S; \
         echo '# ipset'; ipset save; \
         echo '# submariner'; ip -d link show submariner 2>/dev/null; ",
    );
    if !routeagent_cable {
        s.push_str(
            "echo '# table 100'; ip rule show pref 100; ip route show table 100; \
             echo '# vxlan-tunnel'; ip -d addr show vxlan-tunnel 2>/dev/null; \
             bridge fdb show dev vxlan-tunnel 2>/dev/null; ",
        );
    }
    s.push_str("true");
    sh(ns, &s)
}

impl Lab {
    /// The gateway-capable nodes: (namespace, node name, whether
    /// routeagent makes their cluster's cable).
    fn foreign_nodes(&self) -> Vec<(String, String, bool)> {
        self.plan
            .nodes()
            .filter(|(_, n)| n.public_ip.is_some())
            .map(|(c, n)| {
                let own = self.config.cable.routeagent_owns(c.index - 1);
                (n.ns.clone(), n.name.clone(), own)
            })
            .collect()
    }

    /// Records other components' objects as they are now (after the lab
    /// changed them).
    pub fn record_foreign(&mut self) -> Result<()> {
        for (ns, name, own) in self.foreign_nodes() {
            self.foreign.insert(name, listing(&ns, own)?);
        }
        Ok(())
    }

    /// Compares other components' objects with the recorded ones; records
    /// changes under `stage` and returns how many nodes changed.
    pub fn check_foreign(&mut self, stage: &str) -> usize {
        let mut changed = 0;
        for (ns, name, own) in self.foreign_nodes() {
            let now = listing(&ns, own).unwrap_or_else(|e| e.to_string());
            let was = self.foreign.get(&name).cloned().unwrap_or_default();
            if was != now {
                changed += 1;
                let lines = |t: &str| t.lines().map(str::to_string).collect::<Vec<_>>();
                let (w, n) = (lines(&was), lines(&now));
                let mut d: Vec<String> = w
                    .iter()
                    .filter(|l| !n.contains(l))
                    .map(|l| format!("- {l}"))
                    .collect();
                d.extend(
                    n.iter()
                        .filter(|l| !w.contains(l))
                        .map(|l| format!("+ {l}")),
                );
                self.foreign_changes
                    .push(format!("{stage}: {name}: {}", d.join("; ")));
            }
        }
        changed
    }
}
