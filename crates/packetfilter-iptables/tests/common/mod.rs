//! Shared fixtures for the namespace tests.
#![allow(dead_code)]

use capabilities::IptablesVariant;
use netns::NetNs;
use ruleset::{
    Action, Chain, ChainType, Family, Hook, IpVersion, L4Proto, Match, Priority, Rule, RuleSet,
    Set, Table,
};

/// Fails loudly when a tool is missing.
pub fn require_tools(variant: IptablesVariant) {
    netns::require_root();
    let var = if variant == IptablesVariant::Nft {
        "nft"
    } else {
        "legacy"
    };
    for t in [
        format!("iptables-{var}-restore"),
        format!("ip6tables-{var}-restore"),
        format!("iptables-{var}-save"),
        format!("ip6tables-{var}-save"),
        "ipset".into(),
    ] {
        let ok = std::process::Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(ok, "{t} is missing: install it (`apt-get install iptables ipset`) to run the iptables backend tests");
    }
}

/// `iptables-save` + `ip6tables-save` of the variant inside `ns`, without
/// the comment lines that carry dates.
pub fn save(ns: &NetNs, variant: IptablesVariant) -> String {
    let var = if variant == IptablesVariant::Nft {
        "nft"
    } else {
        "legacy"
    };
    ns.sh(&format!(
        "iptables-{var}-save; echo ---; ip6tables-{var}-save"
    ))
    .unwrap()
    .lines()
    .filter(|l| !l.starts_with('#'))
    .map(|l| format!("{l}\n"))
    .collect()
}

/// A routeagent-like inet ruleset: sets, filter/nat/route/MSS chains, a
/// regular chain, self-SNAT, marks, comments, v4 and v6.
pub fn sample() -> RuleSet {
    let local = Set::aggregated("local-v4", IpVersion::V4, ["10.1.0.0/16".parse().unwrap()]);
    let remote = Set::aggregated(
        "remote-v4",
        IpVersion::V4,
        [
            "10.2.0.0/16".parse().unwrap(),
            "10.4.0.0/16".parse().unwrap(),
        ],
    );
    let local6 = Set::aggregated("local-v6", IpVersion::V6, ["fd00:1::/64".parse().unwrap()]);
    let remote6 = Set::aggregated("remote-v6", IpVersion::V6, ["fd00:2::/64".parse().unwrap()]);
    let v4 = |r: Rule| {
        r.and(Match::saddr_in(IpVersion::V4, "local-v4"))
            .and(Match::daddr_in(IpVersion::V4, "remote-v4"))
    };
    let t = Table::new(Family::Inet, "routeagent")
        .with_set(local)
        .with_set(remote)
        .with_set(local6)
        .with_set(remote6)
        .with_chain(
            Chain::base("input", ChainType::Filter, Hook::Input, Priority::FILTER).with_rule(
                Rule::matching([Match::Dport {
                    proto: L4Proto::Udp,
                    port: 4800,
                }])
                .counted()
                .then(Action::Accept)
                .comment("vxlan from other nodes"),
            ),
        )
        .with_chain(
            Chain::base("forward", ChainType::Filter, Hook::Forward, Priority(-10)).with_rules([
                Rule::matching([Match::oif("vx-submariner")]).then(Action::Accept),
                Rule::matching([Match::iif("vx-submariner")]).then(Action::Jump("marks".into())),
            ]),
        )
        .with_chain(
            Chain::regular("marks").with_rules([
                Rule::matching([Match::Mark {
                    mask: 0xf0000,
                    value: 0x80000,
                    negate: false,
                }])
                .then(Action::Return),
                Rule::default().then(Action::SetMark {
                    mask: 0xf0000,
                    value: 0x80000,
                }),
            ]),
        )
        .with_chain(
            Chain::base(
                "postrouting",
                ChainType::Nat,
                Hook::Postrouting,
                Priority(-110),
            )
            .with_rules([
                v4(Rule::default())
                    .then(Action::SnatToSource(IpVersion::V4))
                    .comment("keep pod source"),
                Rule::matching([
                    Match::saddr("240.0.0.0/8".parse().unwrap()),
                    Match::oif("vx-submariner"),
                ])
                .then(Action::Snat("10.1.0.1".parse().unwrap())),
                Rule::matching([
                    Match::saddr_in(IpVersion::V6, "local-v6"),
                    Match::daddr_in(IpVersion::V6, "remote-v6"),
                ])
                .then(Action::SnatToSource(IpVersion::V6)),
                Rule::matching([Match::oif("eth9")]).then(Action::Masquerade),
            ]),
        )
        .with_chain(
            Chain::base(
                "postrouting-mss",
                ChainType::Filter,
                Hook::Postrouting,
                Priority::MANGLE,
            )
            .with_rules([
                v4(Rule::matching([Match::TcpSyn])).then(Action::ClampMssToPmtu),
                Rule::matching([Match::TcpSyn, Match::daddr_in(IpVersion::V6, "remote-v6")])
                    .then(Action::ClampMss(1300)),
            ]),
        )
        .with_chain(
            Chain::base("output", ChainType::Route, Hook::Output, Priority::MANGLE).with_rule(
                Rule::matching([Match::daddr_in(IpVersion::V4, "remote-v4").negated()]).then(
                    Action::SetMark {
                        mask: 0x1,
                        value: 0x1,
                    },
                ),
            ),
        );
    let rs = RuleSet::new(vec![t]);
    ruleset::validate(&rs).unwrap();
    rs
}

/// A kube-proxy-like foreign setup: KUBE-POSTROUTING with MASQUERADE,
/// jumped to from nat POSTROUTING, and a filter FORWARD rule.
pub fn add_foreign(ns: &NetNs, variant: IptablesVariant) {
    let var = if variant == IptablesVariant::Nft {
        "nft"
    } else {
        "legacy"
    };
    ns.sh(&format!(
        "printf '*nat\\n:KUBE-POSTROUTING - [0:0]\\n-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\\n\
         -A KUBE-POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE\\nCOMMIT\\n*filter\\n:KUBE-FORWARD - [0:0]\\n-A FORWARD -j KUBE-FORWARD\\n\
         -A KUBE-FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT\\nCOMMIT\\n' | iptables-{var}-restore --noflush"
    ))
    .unwrap();
}
