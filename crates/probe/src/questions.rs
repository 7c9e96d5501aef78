//! The dry-run questions the probe asks nf_tables: every chain type x hook
//! x family, and one rule per expression the agent uses. Each question is a
//! small table, sent in a batch that is never committed.

use ruleset::{
    Action, Chain, ChainType, Family, Hook, IpVersion, L4Proto, Match, Priority, Rule, Set, Table,
};

/// An expression question: what it checks, and the table that asks it.
#[derive(Debug, Clone)]
pub struct Question {
    /// Stable id (`mss-pmtu`).
    pub id: &'static str,
    /// What is asked, for reasons (`tcp option maxseg size set rt mtu`).
    pub what: &'static str,
    /// The table: one base chain `c`, maybe sets, at most one rule.
    pub table: Table,
}

/// The priority a matrix question uses for `ty`.
pub fn matrix_priority(ty: ChainType) -> Priority {
    match ty {
        // A value the renderer prints as a plain number: nft 1.0.6 refuses
        // `srcnat` (and `srcnat + 10`) on the input hook in userspace, which
        // would hide the kernel's answer.
        ChainType::Nat => Priority(80),
        ChainType::Route => Priority::MANGLE,
        ChainType::Filter => Priority::FILTER,
    }
}

/// The chain matrix questions, in `Family::ALL x ChainType::ALL x Hook::ALL` order.
pub fn matrix() -> Vec<(Family, ChainType, Hook, Table)> {
    let mut out = Vec::new();
    for fam in Family::ALL {
        for ty in ChainType::ALL {
            for hook in Hook::ALL {
                let t = Table::new(fam, "ra-probe").with_chain(Chain::base(
                    "c",
                    ty,
                    hook,
                    matrix_priority(ty),
                ));
                out.push((fam, ty, hook, t));
            }
        }
    }
    out
}

#[allow(clippy::too_many_arguments)] // one row of the question table
fn q(
    id: &'static str,
    what: &'static str,
    fam: Family,
    ty: ChainType,
    hook: Hook,
    prio: Priority,
    sets: Vec<Set>,
    rule: Rule,
) -> Question {
    let mut t =
        Table::new(fam, "ra-probe").with_chain(Chain::base("c", ty, hook, prio).with_rule(rule));
    t.sets = sets;
    Question { id, what, table: t }
}

fn p(s: &str) -> ipnet::IpNet {
    s.parse()
        .unwrap_or_else(|_| unreachable!("constant prefix"))
}

/// One question per expression the agent uses.
pub fn expressions() -> Vec<Question> {
    use ChainType::{Filter, Nat};
    use Family::{Inet, Ip, Ip6};
    use Hook::{Forward, Postrouting};
    let v4 = |n| Set::aggregated(n, IpVersion::V4, [p("10.2.0.0/16")]);
    let v6 = |n| Set::aggregated(n, IpVersion::V6, [p("fd00:2::/64")]);
    let syn = || Rule::matching([Match::TcpSyn]);
    vec![
        q(
            "payload",
            "payload/cmp matches, counter and accept",
            Ip,
            Filter,
            Forward,
            Priority::FILTER,
            vec![],
            Rule::matching([
                Match::saddr(p("10.0.0.0/8")),
                Match::daddr(p("10.1.0.0/16")),
                Match::oif("ra0"),
                Match::Dport {
                    proto: L4Proto::Udp,
                    port: 4800,
                },
            ])
            .counted()
            .then(Action::Accept),
        ),
        q(
            "set-v4",
            "an IPv4 interval-set lookup",
            Ip,
            Filter,
            Forward,
            Priority::FILTER,
            vec![v4("s")],
            Rule::matching([Match::daddr_in(IpVersion::V4, "s")]).then(Action::Accept),
        ),
        q(
            "set-v6",
            "an IPv6 interval-set lookup",
            Ip6,
            Filter,
            Forward,
            Priority::FILTER,
            vec![v6("s")],
            Rule::matching([Match::daddr_in(IpVersion::V6, "s")]).then(Action::Accept),
        ),
        q(
            "ip6",
            "ip6 payload matches",
            Ip6,
            Filter,
            Forward,
            Priority::FILTER,
            vec![],
            Rule::matching([Match::saddr(p("fd00::/8"))])
                .counted()
                .then(Action::Accept),
        ),
        q(
            "mark",
            "meta mark match and meta mark set",
            Ip,
            Filter,
            Forward,
            Priority::FILTER,
            vec![],
            Rule::matching([Match::Mark {
                mask: 0xf0000,
                value: 0x80000,
                negate: true,
            }])
            .then(Action::SetMark {
                mask: 0xf0000,
                value: 0x80000,
            }),
        ),
        q(
            "masquerade",
            "masquerade",
            Ip,
            Nat,
            Postrouting,
            Priority::SRCNAT,
            vec![],
            Rule::matching([Match::oif("ra0")]).then(Action::Masquerade),
        ),
        q(
            "snat",
            "snat to an address",
            Ip,
            Nat,
            Postrouting,
            Priority::SRCNAT,
            vec![],
            Rule::matching([Match::saddr(p("240.0.0.0/8"))]).then(Action::Snat(
                "10.1.0.1".parse().unwrap_or_else(|_| unreachable!()),
            )),
        ),
        q(
            "self-snat",
            "snat to ip saddr",
            Ip,
            Nat,
            Postrouting,
            Priority(-110),
            vec![v4("l")],
            Rule::matching([Match::saddr_in(IpVersion::V4, "l")])
                .then(Action::SnatToSource(IpVersion::V4)),
        ),
        q(
            "mss-pmtu",
            "tcp option maxseg size set rt mtu",
            Ip,
            Filter,
            Postrouting,
            Priority::MANGLE,
            vec![],
            syn().then(Action::ClampMssToPmtu),
        ),
        q(
            "mss-fixed",
            "tcp option maxseg size set 1360",
            Ip,
            Filter,
            Postrouting,
            Priority::MANGLE,
            vec![],
            syn().then(Action::ClampMss(1360)),
        ),
        q(
            "comment",
            "a rule comment",
            Ip,
            Filter,
            Forward,
            Priority::FILTER,
            vec![],
            Rule::default()
                .then(Action::Accept)
                .comment("routeagent probe"),
        ),
        q(
            "inet-nat",
            "snat to ip saddr in an inet nat chain",
            Inet,
            Nat,
            Postrouting,
            Priority::SRCNAT,
            vec![v4("l")],
            Rule::matching([Match::saddr_in(IpVersion::V4, "l")])
                .then(Action::SnatToSource(IpVersion::V4)),
        ),
        q(
            "ip6-nat",
            "snat to ip6 saddr",
            Ip6,
            Nat,
            Postrouting,
            Priority::SRCNAT,
            vec![],
            Rule::matching([Match::saddr(p("fd00:1::/64"))])
                .then(Action::SnatToSource(IpVersion::V6)),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expression_questions_are_valid_rulesets() {
        for q in expressions() {
            ruleset::validate(&ruleset::RuleSet::new(vec![q.table.clone()]))
                .unwrap_or_else(|e| panic!("{}: {e}", q.id));
        }
        assert_eq!(matrix().len(), 45);
    }
}

#[cfg(test)]
mod dump {
    #[test]
    #[ignore = "debug aid: prints the questions as nft text"]
    fn dump_questions() {
        for q in super::expressions() {
            println!("{}", q.table);
        }
    }
}
