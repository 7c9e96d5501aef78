//! The packet-filter ruleset, shaped by the chosen [`capabilities::Constructs`].
//!
//! Layout `Inet`: one `table inet routeagent`. Layout `Split`: `table ip
//! routeagent`, plus `table ip6 routeagent` when there are IPv6 CIDRs and
//! IPv6 is supported. Each table holds:
//! - sets `local-vN` (cluster + service CIDRs) and `remote-vN` (all remote
//!   subnets), aggregated; without interval sets the rules are expanded per
//!   prefix pair instead. Rules keep referring to the sets when they are
//!   empty, so a change of remote subnets is a set-only update.
//! - `ra-input` (filter input, priority filter): the tunnels' UDP ports.
//! - `ra-forward` (filter forward, priority filter - 10): tunnel traffic;
//!   on the OVN datapath's gateway, traffic between `ovn-k8s-mp0` and the
//!   cable interface to or from remote subnets (SYNs clamped first, then
//!   accepted; nothing else on those interfaces is accepted here).
//! - `ra-postrouting` (nat postrouting, priority srcnat - 10, before the
//!   CNI's and kube-proxy's masquerade): host traffic into vx-submariner
//!   takes the CNI address; local->remote and remote->local keep their
//!   sources (`snat to ip saddr` binds NAT so no later masquerade applies;
//!   an `accept` is not final across tables, so it is only the degraded
//!   form). Under Globalnet (`cluster.globalCIDR`) the active gateway has
//!   no local->remote rule: Globalnet's SNAT must decide those flows, and
//!   anything here would run first (other nodes keep it). On the OVN
//!   datapath in shared gateway mode (`cluster.nodes[i].ovn.gatewayMode`)
//!   local->remote is a plain `accept`: nothing masquerades it there; in
//!   local or unknown mode the self-SNAT protects it from
//!   `ovn-kube-local-gw-masq`. No rule uses packet marks (Globalnet
//!   owns 0xC0000).
//! - `ra-mss` (filter postrouting, priority mangle; never a route chain,
//!   which only the output hook takes): TCP SYNs jump to `ra-mss-syn`,
//!   where those between local and remote get their MSS clamped to the
//!   route MTU, or to a fixed value (tunables.mss; under Globalnet, as
//!   Submariner forces it, default-route MTU - 120, - 50 on a VXLAN cable). Every packet the host forwards or sends
//!   passes `ra-mss`, so it holds the one test that lets all but SYNs
//!   leave at once.

use crate::input::Ctx;
use crate::links::VX_SUBMARINER;
use crate::tunnel;
use capabilities::TableLayout;
use ipnet::IpNet;
use ruleset::{
    Action, Chain, ChainType, Family, Hook, IpVersion, Match, Priority, Rule, RuleSet, Set, Table,
};
use std::net::IpAddr;

/// The agent's table name (every family).
pub const TABLE: &str = "routeagent";
/// Input chain.
pub const CHAIN_INPUT: &str = "ra-input";
/// Forward chain.
pub const CHAIN_FORWARD: &str = "ra-forward";
/// NAT postrouting chain.
pub const CHAIN_POSTROUTING: &str = "ra-postrouting";
/// MSS clamp chain (base).
pub const CHAIN_MSS: &str = "ra-mss";
/// MSS clamp rules, reached by SYNs only.
pub const CHAIN_MSS_SYN: &str = "ra-mss-syn";
/// `priority filter - 10`.
pub const FORWARD_PRIORITY: Priority = Priority(-10);
/// `priority srcnat - 10`: before other tables' srcnat chains.
pub const NAT_PRIORITY: Priority = Priority(90);

/// The set of local (`"local"`) or remote (`"remote"`) CIDRs of version `v`.
pub fn set_name(side: &str, v: IpVersion) -> String {
    match v {
        IpVersion::V4 => format!("{side}-v4"),
        IpVersion::V6 => format!("{side}-v6"),
    }
}

fn has(cidrs: &[IpNet], v: IpVersion) -> bool {
    cidrs.iter().any(|c| IpVersion::of(&c.addr()) == v)
}

/// What the datapath adds to or takes from the ruleset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Datapath {
    /// The kube-proxy path: host traffic into `vx-submariner` takes the
    /// CNI address.
    KubeProxy,
    /// The OVN-Kubernetes path: no `vx-submariner`; on the gateway,
    /// `forward` names the two interfaces remote traffic is forwarded
    /// between.
    Ovn {
        /// (`ovn-k8s-mp0`, the cable interface), on the gateway only.
        forward: Option<(String, String)>,
        /// The forward clamp's fixed MSS when the cable encrypts on a plain
        /// interface (IPsec: the route MTU does not count ESP), else `None`
        /// (the route MTU).
        xfrm_mss: Option<u16>,
    },
}

/// Builds the ruleset for `datapath`; see the module doc.
pub(crate) fn ruleset(
    ctx: &Ctx<'_>,
    tunnel_ifaces: &[String],
    udp_ports: &[u16],
    datapath: &Datapath,
    warnings: &mut Vec<String>,
) -> RuleSet {
    let c = ctx.constructs;
    let any_v6 = has(&ctx.local_cidrs, IpVersion::V6) || has(&ctx.remote_cidrs, IpVersion::V6);
    let v6 = any_v6 && c.ipv6;
    if any_v6 && !c.ipv6 {
        warnings.push("IPv6 CIDRs are in the topology but the host's packet filter has no IPv6 support: no IPv6 rules".into());
    }
    let b = Builder {
        ctx,
        tunnel_ifaces,
        udp_ports,
        datapath,
    };
    let tables = match c.layout {
        TableLayout::Inet => {
            let mut vs = vec![IpVersion::V4];
            if v6 {
                vs.push(IpVersion::V6);
            }
            vec![b.table(Family::Inet, &vs, warnings)]
        }
        TableLayout::Split => {
            let mut t = vec![b.table(Family::Ip, &[IpVersion::V4], warnings)];
            if v6 {
                t.push(b.table(Family::Ip6, &[IpVersion::V6], warnings));
            }
            t
        }
    };
    RuleSet::new(tables)
}

struct Builder<'a, 'b> {
    ctx: &'a Ctx<'b>,
    tunnel_ifaces: &'a [String],
    udp_ports: &'a [u16],
    datapath: &'a Datapath,
}

impl Builder<'_, '_> {
    fn comment(&self, r: Rule, text: &str) -> Rule {
        if self.ctx.constructs.comments {
            r.comment(text)
        } else {
            r
        }
    }

    fn table(&self, family: Family, versions: &[IpVersion], warnings: &mut Vec<String>) -> Table {
        let c = self.ctx.constructs;
        let mut t = Table::new(family, TABLE);
        if c.interval_sets {
            for &v in versions {
                t.sets.push(Set::aggregated(
                    set_name("local", v),
                    v,
                    self.ctx.local_cidrs.iter().copied(),
                ));
                t.sets.push(Set::aggregated(
                    set_name("remote", v),
                    v,
                    self.ctx.remote_cidrs.iter().copied(),
                ));
            }
        }
        if family.carries(IpVersion::V4) {
            t.chains.push(self.input());
        }
        let mut forward = self.forward();
        if let Datapath::Ovn {
            forward: Some((mp0, cable)),
            ..
        } = self.datapath
        {
            if family.carries(IpVersion::V4) {
                forward.rules.extend(self.ovn_forward(mp0, cable));
            }
        }
        t.chains.push(forward);
        t.chains.push(self.postrouting(versions, warnings));
        if c.mss_clamp {
            t.chains.extend(self.mss(versions));
        }
        t
    }

    /// `udp dport P accept` per tunnel port.
    fn input(&self) -> Chain {
        let mut ports = self.udp_ports.to_vec();
        ports.sort_unstable();
        ports.dedup();
        Chain::base(
            CHAIN_INPUT,
            ChainType::Filter,
            Hook::Input,
            Priority::FILTER,
        )
        .with_rules(ports.into_iter().map(|port| {
            let r = Rule::matching([Match::Dport {
                proto: ruleset::L4Proto::Udp,
                port,
            }])
            .then(Action::Accept);
            self.comment(r, "tunnel encapsulation")
        }))
    }

    /// `oifname T accept`, `iifname T accept` per tunnel interface.
    fn forward(&self) -> Chain {
        let mut ch = Chain::base(
            CHAIN_FORWARD,
            ChainType::Filter,
            Hook::Forward,
            FORWARD_PRIORITY,
        );
        for i in self.tunnel_ifaces {
            ch.rules.push(self.comment(
                Rule::matching([Match::oif(i.clone())]).then(Action::Accept),
                "into a tunnel",
            ));
            ch.rules.push(self.comment(
                Rule::matching([Match::iif(i.clone())]).then(Action::Accept),
                "out of a tunnel",
            ));
        }
        ch
    }

    /// The OVN gateway's forward rules, IPv4 only (as the OVN datapath):
    /// `iifname MP0 oifname CABLE ip daddr @remote-v4` and `iifname CABLE
    /// oifname MP0 ip saddr @remote-v4`, each a SYN clamp (when MSS
    /// clamping is available: as `ra-mss-syn` clamps, but on an IPsec cable
    /// without a fixed MSS to the cable interface's MTU - 102, upstream's
    /// 1398 on a 1500 link) then `accept`. Scoped to the
    /// interface pair and the remote subnets: a broad `iifname` accept
    /// would open the node's uplink to everything.
    fn ovn_forward(&self, mp0: &str, cable: &str) -> Vec<Rule> {
        let v = IpVersion::V4;
        // The remote side as destination (outbound) or source (inbound).
        let remote = |outbound: bool| -> Vec<Match> {
            if self.ctx.constructs.interval_sets {
                let set = set_name("remote", v);
                return vec![if outbound {
                    Match::daddr_in(v, set)
                } else {
                    Match::saddr_in(v, set)
                }];
            }
            Set::aggregated("x", v, self.ctx.remote_cidrs.iter().copied())
                .elements
                .into_iter()
                .map(|p| {
                    if outbound {
                        Match::daddr(p)
                    } else {
                        Match::saddr(p)
                    }
                })
                .collect()
        };
        let mut out = Vec::new();
        for (iif, oif, outbound, text) in [
            (mp0, cable, true, "from OVN into the cable"),
            (cable, mp0, false, "from the cable into OVN"),
        ] {
            for m in remote(outbound) {
                let base = [Match::iif(iif), Match::oif(oif), m];
                if self.ctx.constructs.mss_clamp {
                    let action = match (self.ctx.fixed_mss(), self.datapath) {
                        (
                            None,
                            Datapath::Ovn {
                                xfrm_mss: Some(m), ..
                            },
                        ) => Action::ClampMss(*m),
                        _ => self.mss_action(),
                    };
                    let r = Rule::matching(std::iter::once(Match::TcpSyn).chain(base.clone()))
                        .then(action);
                    out.push(self.comment(r, "clamp TCP MSS between OVN and the cable"));
                }
                out.push(self.comment(Rule::matching(base).then(Action::Accept), text));
            }
        }
        out
    }

    /// The MSS clamp: a fixed value when one is set, else the route MTU.
    fn mss_action(&self) -> Action {
        match self.ctx.fixed_mss() {
            Some(v) => Action::ClampMss(v),
            None => Action::ClampMssToPmtu,
        }
    }

    /// Address matches from side `src` to side `dst`: one set pair, or one
    /// prefix pair per aggregated prefix without interval sets.
    fn pairs(&self, v: IpVersion, src: &str, dst: &str) -> Vec<Vec<Match>> {
        if self.ctx.constructs.interval_sets {
            return vec![vec![
                Match::saddr_in(v, set_name(src, v)),
                Match::daddr_in(v, set_name(dst, v)),
            ]];
        }
        let side = |s: &str| {
            let list = if s == "local" {
                &self.ctx.local_cidrs
            } else {
                &self.ctx.remote_cidrs
            };
            Set::aggregated("x", v, list.iter().copied()).elements
        };
        let (ss, ds) = (side(src), side(dst));
        ss.iter()
            .flat_map(|s| {
                ds.iter()
                    .map(move |d| vec![Match::saddr(*s), Match::daddr(*d)])
            })
            .collect()
    }

    fn postrouting(&self, versions: &[IpVersion], warnings: &mut Vec<String>) -> Chain {
        let c = self.ctx.constructs;
        let mut ch = Chain::base(
            CHAIN_POSTROUTING,
            ChainType::Nat,
            Hook::Postrouting,
            NAT_PRIORITY,
        );
        if *self.datapath == Datapath::KubeProxy && versions.contains(&IpVersion::V4) {
            let m = [
                Match::saddr(tunnel::network(tunnel::VX_OCTET)),
                Match::oif(VX_SUBMARINER),
            ];
            let action = match self.ctx.cni_ip {
                Some(ip) => Some(Action::Snat(IpAddr::V4(ip))),
                None if c.masquerade => {
                    warnings.push("no CNI interface address known: host-network traffic into vx-submariner is masqueraded instead of taking the CNI address".into());
                    Some(Action::Masquerade)
                }
                None => {
                    warnings.push("no CNI interface address known and no masquerade support: host-network traffic into vx-submariner keeps its 240.x source and replies cannot return; set tunables.cniInterface".into());
                    None
                }
            };
            if let Some(a) = action {
                ch.rules.push(self.comment(
                    Rule::matching(m).then(a),
                    "host traffic takes the CNI address",
                ));
            }
        }
        // Under Globalnet no local-to-remote rule on the active gateway: a
        // self-SNAT here (srcnat - 10) would bind before Globalnet's SNAT
        // (iptables nat, priority 100) and an iptables ACCEPT ahead of its
        // jump would skip it; Globalnet decides those flows. Globalnet runs
        // on the gateway only: other nodes keep the rule, so that the CNI's
        // masquerade does not hide the pod source before the gateway.
        let globalnet = self.ctx.topo.globalnet() && self.ctx.is_gateway;
        // OVN-Kubernetes in shared gateway mode masquerades nothing that
        // leaves by the cable, so egress keeps its source without a NAT
        // binding; local mode (`ovn-kube-local-gw-masq`) and an unknown
        // mode get the egress self-SNAT (upstream's, PR #4189).
        let ovn_shared = matches!(self.datapath, Datapath::Ovn { .. })
            && self.ctx.node.ovn.as_ref().and_then(|o| o.gateway_mode)
                == Some(topology::GatewayMode::Shared);
        for &v in versions {
            let (egress, text) = if ovn_shared {
                (
                    Action::Accept,
                    "local to remote: no NAT (OVN-Kubernetes shared gateway mode)",
                )
            } else if c.self_snat {
                (
                    Action::SnatToSource(v),
                    "local to remote: keep the pod source (self-SNAT)",
                )
            } else {
                (Action::Accept, "local to remote: no NAT in this table")
            };
            let (ingress, in_text) = if c.self_snat {
                (
                    Action::SnatToSource(v),
                    "remote to local: keep the remote source (self-SNAT)",
                )
            } else {
                (Action::Accept, "remote to local: no NAT in this table")
            };
            if !globalnet {
                for m in self.pairs(v, "local", "remote") {
                    ch.rules
                        .push(self.comment(Rule::matching(m).then(egress.clone()), text));
                }
            }
            for m in self.pairs(v, "remote", "local") {
                ch.rules
                    .push(self.comment(Rule::matching(m).then(ingress.clone()), in_text));
            }
        }
        ch
    }

    /// `ra-mss`: `tcp flags syn / syn,rst jump ra-mss-syn`; `ra-mss-syn`:
    /// the clamp per direction. The jump is the only rule every forwarded
    /// or sent packet evaluates (one compare, instead of one per clamp
    /// rule); the clamp rules repeat the SYN test because a clamp without
    /// it is refused by validation.
    fn mss(&self, versions: &[IpVersion]) -> [Chain; 2] {
        let action = self.mss_action();
        let mut base = Chain::base(
            CHAIN_MSS,
            ChainType::Filter,
            Hook::Postrouting,
            Priority::MANGLE,
        );
        base.rules.push(self.comment(
            Rule::matching([Match::TcpSyn]).then(Action::Jump(CHAIN_MSS_SYN.into())),
            "only SYNs carry the MSS option",
        ));
        let mut syn = Chain::regular(CHAIN_MSS_SYN);
        for &v in versions {
            for (src, dst) in [("local", "remote"), ("remote", "local")] {
                for m in self.pairs(v, src, dst) {
                    let r = Rule::matching(std::iter::once(Match::TcpSyn).chain(m))
                        .then(action.clone());
                    syn.rules
                        .push(self.comment(r, "clamp TCP MSS across the tunnels"));
                }
            }
        }
        [base, syn]
    }
}
