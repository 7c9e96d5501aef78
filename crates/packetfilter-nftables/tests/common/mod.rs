//! Shared by the kernel tests: rulesets using every construct, and helpers
//! that ask the real `nft` (inside the test namespace) as an independent
//! decoder.
#![allow(missing_docs, dead_code)]

use netns::NetNs;
use ruleset::*;

pub fn net(s: &str) -> ipnet::IpNet {
    s.parse().unwrap()
}

/// The agent-like sample (IPv4 rules, for ip and inet tables).
pub use ruleset::sample::agent_like;

/// Rules of one IP version using every match and action of the model.
fn every_construct(v: IpVersion, tag: &str) -> (Vec<Set>, Vec<Chain>) {
    let (pfx, host, odd, odd2, other, snat): (&[&str], &str, &str, &str, &str, &str) = match v {
        IpVersion::V4 => (
            &[
                "10.0.1.0/24",
                "10.0.2.0/24",
                "172.16.0.0/12",
                "192.168.7.7/32",
                "255.255.255.0/24",
            ],
            "192.0.2.7/32",
            "10.128.0.0/9",
            "10.1.2.0/23",
            "100.64.0.0/10",
            "240.0.0.1",
        ),
        IpVersion::V6 => (
            &[
                "fd00::/64",
                "fd00:0:0:1::/64",
                "fd01:2::/48",
                "fd02::1/128",
                "ffff::/16",
            ],
            "2001:db8::7/128",
            "fd80::/9",
            "fd00:1:2::/63",
            "2001:db8:100::/40",
            "fd00::240",
        ),
    };
    let set = Set {
        comment: Some(format!("remote cidrs {tag}")),
        ..Set::aggregated(format!("remote-{tag}"), v, pfx.iter().map(|p| net(p)))
    };
    let empty = Set::new(format!("empty-{tag}"), v);
    let s = set.name.clone();
    let kw = v.keyword();
    let nat = Chain::base(
        format!("post-{tag}"),
        ChainType::Nat,
        Hook::Postrouting,
        Priority::SRCNAT,
    )
    .with_rule(
        Rule::matching([Match::daddr_in(v, &s).negated()]).then(Action::Jump(format!("nat-{tag}"))),
    )
    .with_rule(
        Rule::matching([Match::saddr(net(odd)), Match::oif("vx-submariner")])
            .counted()
            .then(Action::Masquerade),
    )
    .with_rule(
        Rule::matching([Match::saddr_in(v, &s), Match::daddr(net(odd2)).negated()])
            .then(Action::SnatToSource(v)),
    )
    .with_rule(
        Rule::default()
            .then(Action::Snat(snat.parse().unwrap()))
            .comment(format!("{kw} fallback")),
    );
    let jumped = Chain::regular(format!("nat-{tag}"))
        .with_rule(Rule::matching([Match::saddr(net(host))]).then(Action::Return))
        .with_rule(
            Rule::matching([Match::daddr(net(other))])
                .counted()
                .then(Action::Accept),
        );
    let filter = Chain::base(
        format!("fwd-{tag}"),
        ChainType::Filter,
        Hook::Forward,
        Priority(-5),
    )
    .with_rule(
        Rule::matching([Match::iif("eth0").negated(), Match::oif("abcdefghijklmno")])
            .then(Action::Drop),
    )
    .with_rule(Rule::matching([Match::L4Proto(L4Proto::Udp)]).counted())
    .with_rule(
        Rule::matching([
            Match::Dport {
                proto: L4Proto::Tcp,
                port: 443,
            },
            Match::TcpSyn,
        ])
        .then(Action::ClampMss(1200)),
    )
    .with_rule(Rule::matching([Match::daddr_in(v, &s), Match::TcpSyn]).then(Action::ClampMssToPmtu))
    .with_rule(
        Rule::matching([Match::Mark {
            mask: u32::MAX,
            value: 7,
            negate: false,
        }])
        .then(Action::Accept),
    )
    .with_rule(
        Rule::matching([
            Match::Mark {
                mask: u32::MAX,
                value: 8,
                negate: true,
            },
            Match::saddr(net(pfx[0])),
        ])
        .then(Action::Return),
    )
    .with_rule(
        Rule::matching([Match::Mark {
            mask: 0xff00,
            value: 0x1200,
            negate: false,
        }])
        .then(Action::SetMark {
            mask: 0xff,
            value: 0x42,
        }),
    )
    .with_rule(Rule::matching([Match::saddr_in(v, format!("empty-{tag}"))]).then(Action::Drop));
    let route = Chain::base(
        format!("out-{tag}"),
        ChainType::Route,
        Hook::Output,
        Priority(-151),
    )
    .with_rule(
        Rule::matching([Match::daddr_in(v, &s)]).then(Action::SetMark {
            mask: 0x000f_0000,
            value: 0x0008_0000,
        }),
    );
    (vec![set, empty], vec![nat, jumped, filter, route])
}

/// A table of `family` using every Match and Action variant: IPv4 for ip,
/// IPv6 for ip6, both for inet.
pub fn rich(family: Family) -> RuleSet {
    let mut t = Table::new(family, "routeagent");
    let versions: &[(IpVersion, &str)] = match family {
        Family::Ip => &[(IpVersion::V4, "v4")],
        Family::Ip6 => &[(IpVersion::V6, "v6")],
        Family::Inet => &[(IpVersion::V4, "v4"), (IpVersion::V6, "v6")],
    };
    for (v, tag) in versions {
        let (sets, chains) = every_construct(*v, tag);
        t.sets.extend(sets);
        t.chains.extend(chains);
    }
    RuleSet::new(vec![t])
}

/// `nft list table FAMILY NAME` in `ns`, with `counter packets 0 bytes 0`
/// written `counter` as the model renders it, and set elements that nft
/// wraps over several lines joined into one line, as the model renders them.
pub fn listing(ns: &NetNs, family: Family, name: &str) -> String {
    ns.sh(&format!("nft list table {family} {name}"))
        .unwrap()
        .replace("counter packets 0 bytes 0", "counter")
        .replace(",\n\t\t\t     ", ", ")
}

/// `nft --debug=netlink list table FAMILY NAME`: the expressions and set
/// elements exactly as the kernel holds them, with rule handles removed.
pub fn kernel_view(ns: &NetNs, family: Family, name: &str) -> String {
    let out = ns
        .sh(&format!("nft --debug=netlink list table {family} {name}"))
        .unwrap();
    out.lines()
        .take_while(|l| !l.starts_with("table "))
        .map(|l| {
            if l.starts_with(family.as_str()) && !l.contains('@') {
                // `inet routeagent input 7 6`: drop handle and position
                l.split(' ').take(3).collect::<Vec<_>>().join(" ")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `nft -j list table FAMILY NAME` with every `handle` removed.
pub fn json(ns: &NetNs, family: Family, name: &str) -> serde_json::Value {
    let text = ns
        .sh(&format!("nft -j list table {family} {name}"))
        .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    strip_handles(&mut v);
    v
}

fn strip_handles(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            m.remove("handle");
            m.values_mut().for_each(strip_handles);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip_handles),
        _ => {}
    }
}

/// Writes `text` to a file and runs `nft ARGS -f FILE` in `ns`.
pub fn nft_file(ns: &NetNs, args: &str, text: &str) -> std::io::Result<String> {
    let dir = std::env::temp_dir().join(format!("ra-nft-{}-{}", std::process::id(), ns.name()));
    std::fs::write(&dir, text)?;
    let r = ns.sh(&format!("nft {args} -f {}", dir.display()));
    let _ = std::fs::remove_file(&dir);
    r
}
