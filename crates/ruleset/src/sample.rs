//! A ruleset shaped like the agent's, using every construct of the model:
//! the shared fixture of the golden, validation and kernel tests, and an
//! example of building a ruleset.

use crate::*;

/// Parses a prefix literal (panics on a bad one: fixtures only).
pub fn net(s: &str) -> ipnet::IpNet {
    s.parse().expect("a valid prefix literal")
}

/// Table, three base chains, an interval set, rules using every construct.
pub fn agent_like(family: Family) -> RuleSet {
    let v4 = IpVersion::V4;
    let local = Set::aggregated("local-v4", v4, [net("10.244.0.0/16"), net("10.96.0.0/12")]);
    let remote = Set::aggregated(
        "remote-v4",
        v4,
        [net("10.245.0.0/16"), net("10.112.0.0/12")],
    );
    let t = Table::new(family, "routeagent")
        .with_set(local)
        .with_set(remote)
        .with_chain(
            Chain::base("input", ChainType::Filter, Hook::Input, Priority::FILTER).with_rule(
                Rule::matching([Match::Dport {
                    proto: L4Proto::Udp,
                    port: 4800,
                }])
                .counted()
                .then(Action::Accept)
                .comment("vxlan from cluster nodes"),
            ),
        )
        .with_chain(
            Chain::base("forward", ChainType::Filter, Hook::Forward, Priority(-10))
                .with_rule(Rule::matching([Match::oif("vx-submariner")]).then(Action::Accept))
                .with_rule(Rule::matching([Match::iif("vx-submariner")]).then(Action::Accept)),
        )
        .with_chain(
            Chain::base(
                "postrouting",
                ChainType::Nat,
                Hook::Postrouting,
                Priority(90),
            )
            .with_rule(Rule::default().then(Action::Jump("no-masq".into()))),
        )
        .with_chain(
            Chain::regular("no-masq")
                .with_rule(
                    Rule::matching([
                        Match::saddr(net("240.0.0.0/8")),
                        Match::oif("vx-submariner"),
                    ])
                    .then(Action::Snat("10.244.1.1".parse().unwrap())),
                )
                .with_rule(
                    Rule::matching([
                        Match::saddr_in(v4, "local-v4"),
                        Match::daddr_in(v4, "remote-v4"),
                    ])
                    .counted()
                    .then(Action::SnatToSource(v4)),
                )
                .with_rule(
                    Rule::matching([
                        Match::saddr_in(v4, "remote-v4"),
                        Match::daddr_in(v4, "local-v4"),
                    ])
                    .then(Action::Accept),
                )
                .with_rule(
                    Rule::matching([Match::daddr(net("192.0.2.7/32")).negated()])
                        .then(Action::Return),
                ),
        )
        .with_chain(
            Chain::base(
                "mss",
                ChainType::Filter,
                Hook::Postrouting,
                Priority::MANGLE,
            )
            .with_rule(
                Rule::matching([
                    Match::saddr_in(v4, "local-v4"),
                    Match::daddr_in(v4, "remote-v4"),
                    Match::TcpSyn,
                ])
                .then(Action::ClampMssToPmtu),
            )
            .with_rule(
                Rule::matching([
                    Match::saddr_in(v4, "remote-v4"),
                    Match::daddr_in(v4, "local-v4"),
                    Match::TcpSyn,
                ])
                .then(Action::ClampMss(1360)),
            ),
        )
        .with_chain(
            Chain::base("set-mark", ChainType::Route, Hook::Output, Priority::MANGLE).with_rule(
                Rule::matching([Match::Mark {
                    mask: 0x000f_0000,
                    value: 0x0008_0000,
                    negate: true,
                }])
                .then(Action::SetMark {
                    mask: 0x000f_0000,
                    value: 0x0008_0000,
                }),
            ),
        );
    RuleSet::new(vec![t])
}
