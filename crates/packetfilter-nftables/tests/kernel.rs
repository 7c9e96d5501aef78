//! Kernel tests: each runs in its own network namespace, uses the real
//! `nft` there as an independent decoder, and leaves nothing behind.

mod common;

use common::*;
use netns::NetNs;
use packetfilter::{Backend, Error, Object, Owned};
use packetfilter_nftables::Nftables;
use ruleset::model::SetDelta;
use ruleset::*;

fn setup(prefix: &str) -> (NetNs, Nftables) {
    netns::require_root();
    let ns = NetNs::new(prefix).unwrap();
    let nft = ns.run(Nftables::new).unwrap();
    (ns, nft)
}

fn owned() -> Owned {
    Owned {
        table_names: vec!["routeagent".into()],
    }
}

/// Applies `rs` through netlink in one namespace and `nft -f` of its text in
/// another, and compares both listings with the model and with each other.
fn round_trip(ns: &NetNs, nft: &Nftables, rs: &RuleSet) {
    let t = &rs.tables[0];
    let text = rs.to_string();
    // nft itself accepts the rendered replace script (dry run)
    nft_file(ns, "-c", &render::replace_script(rs)).expect("nft -c -f refused the rendered script");
    nft.apply(rs).unwrap();
    assert_eq!(
        listing(ns, t.family, &t.name),
        text,
        "nft decodes the netlink-applied {} table differently",
        t.family
    );
    nft.verify(rs).unwrap();
    let other = NetNs::new("ra-nfttext").unwrap();
    nft_file(&other, "", &render::replace_script(rs)).unwrap();
    assert_eq!(
        listing(&other, t.family, &t.name),
        text,
        "nft -f of the rendered text lists differently"
    );
    assert_eq!(
        kernel_view(ns, t.family, &t.name),
        kernel_view(&other, t.family, &t.name),
        "the kernel holds different expressions or elements for the {} table",
        t.family
    );
    assert_eq!(
        json(ns, t.family, &t.name),
        json(&other, t.family, &t.name),
        "nft -j listings of netlink-applied and nft-applied {} tables differ",
        t.family
    );
}

#[test]
#[ignore = "needs root and network namespaces"]
fn listings_equal_the_model_and_nft_f_for_every_family() {
    let (ns, nft) = setup("ra-nftlist");
    for family in Family::ALL {
        round_trip(&ns, &nft, &rich(family));
        if family != Family::Ip6 {
            round_trip(&ns, &nft, &agent_like(family));
        }
    }
    nft.remove(&owned()).unwrap();
    assert_eq!(ns.sh("nft list ruleset").unwrap(), "");
}

#[test]
#[ignore = "needs root and network namespaces"]
fn apply_twice_changes_nothing_and_check_commits_nothing() {
    let (ns, nft) = setup("ra-nfttwice");
    let rs = rich(Family::Inet);
    nft.apply(&rs).unwrap();
    let first = listing(&ns, Family::Inet, "routeagent");
    let g1 = nft.generation().unwrap();
    let applied = nft.apply(&rs).unwrap();
    assert_eq!(listing(&ns, Family::Inet, "routeagent"), first);
    assert!(
        nft.generation().unwrap() > g1,
        "a committed apply bumps the generation"
    );
    assert_eq!(applied.tables, 1);
    assert_eq!(
        applied.rules,
        rs.tables[0]
            .chains
            .iter()
            .map(|c| c.rules.len())
            .sum::<usize>()
    );
    let g2 = nft.generation().unwrap();
    let mut changed = rs.clone();
    changed.tables[0].chains.retain(|c| c.base.is_some());
    changed.tables[0]
        .chains
        .iter_mut()
        .for_each(|c| c.rules.clear());
    nft.check(&changed).unwrap();
    nft.check(&rs).unwrap();
    assert_eq!(nft.generation().unwrap(), g2, "check must not commit");
    assert_eq!(listing(&ns, Family::Inet, "routeagent"), first);
    // an invalid ruleset is refused before anything is sent
    let mut bad = rs.clone();
    bad.tables[0].chains[0].rules[0].action = Some(Action::Jump("nowhere".into()));
    assert!(matches!(nft.apply(&bad), Err(Error::Invalid(_))));
    assert_eq!(nft.generation().unwrap(), g2);
}

/// 20 regular chains jumping into each other: valid for the model (no loop),
/// but deeper than the kernel's jump stack (16), which the kernel refuses
/// with EMLINK at commit (a dry run does not see it).
fn too_deep(family: Family) -> RuleSet {
    let mut rs = agent_like(family);
    let t = &mut rs.tables[0];
    t.chains.push(
        Chain::base("deep", ChainType::Filter, Hook::Forward, Priority::FILTER)
            .with_rule(Rule::default().then(Action::Jump("c1".into()))),
    );
    for i in 1..=20 {
        t.chains.push(
            Chain::regular(format!("c{i}"))
                .with_rule(Rule::default().then(Action::Jump(format!("c{}", i + 1)))),
        );
    }
    t.chains
        .push(Chain::regular("c21").with_rule(Rule::default().then(Action::Accept)));
    rs
}

#[test]
#[ignore = "needs root and network namespaces"]
fn a_kernel_refusal_keeps_the_previous_ruleset_and_names_the_rule() {
    let (ns, nft) = setup("ra-nftrefuse");
    let good = agent_like(Family::Ip);
    nft.apply(&good).unwrap();
    let before = listing(&ns, Family::Ip, "routeagent");
    let g = nft.generation().unwrap();
    let bad = too_deep(Family::Ip);
    let refused = validate(&bad).expect_err("validation refuses jumps nested too deep");
    assert!(refused.to_string().contains("16 levels"), "{refused}");
    // Past validation, the kernel refuses it too; the error names the rule.
    let err = nft.apply_unvalidated(&bad).unwrap_err();
    eprintln!("refusal: {err}");
    match &err {
        Error::Kernel {
            object: Object::Rule {
                chain, index, text, ..
            },
            errno,
            ..
        } => {
            assert_eq!(*errno, 31, "EMLINK expected: {err}");
            assert_eq!(
                (chain.as_str(), *index, text.as_str()),
                ("c15", 0, "jump c16"),
                "{err}"
            );
        }
        other => panic!("expected a kernel error naming a rule, got {other:?}"),
    }
    assert_eq!(
        listing(&ns, Family::Ip, "routeagent"),
        before,
        "the failed batch changed the ruleset"
    );
    assert_eq!(nft.generation().unwrap(), g);
    nft.verify(&good).unwrap();
    nft.remove(&owned()).unwrap();
}

const KUBE_PROXY: &str = "table ip kube-proxy {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 10.0.0.0/8 masquerade
	}
}
";

#[test]
#[ignore = "needs root and network namespaces"]
fn foreign_tables_survive_apply_and_remove() {
    let (ns, nft) = setup("ra-nftforeign");
    nft_file(&ns, "", KUBE_PROXY).unwrap();
    let foreign = ns.sh("nft list table ip kube-proxy").unwrap();
    assert_eq!(foreign, KUBE_PROXY);
    // remove before anything exists is fine
    nft.remove(&owned()).unwrap();
    for family in Family::ALL {
        nft.apply(&rich(family)).unwrap();
    }
    assert_eq!(ns.sh("nft list table ip kube-proxy").unwrap(), foreign);
    assert_eq!(ns.sh("nft list tables").unwrap().lines().count(), 4);
    // nothing leaked into the test's own (root) namespace
    let root = std::process::Command::new("nft")
        .args(["list", "table", "inet", "routeagent"])
        .output()
        .unwrap();
    assert!(
        !root.status.success(),
        "a routeagent table exists outside the test namespace"
    );
    nft.remove(&owned()).unwrap();
    assert_eq!(
        ns.sh("nft list ruleset").unwrap(),
        foreign,
        "remove must leave only the foreign table"
    );
    nft.remove(&owned()).unwrap();
    assert_eq!(ns.sh("nft list ruleset").unwrap(), foreign);
}

fn big(n: u32) -> RuleSet {
    let cidrs = (0..n).map(|i| {
        ipnet::IpNet::new(
            std::net::Ipv4Addr::from((20u32 << 24) + ((i * 2) << 8)).into(),
            24,
        )
        .unwrap()
    });
    let mut rs = agent_like(Family::Ip);
    let t = &mut rs.tables[0];
    t.sets[1] = Set::aggregated("remote-v4", IpVersion::V4, cidrs);
    rs
}

fn nft_count(ns: &NetNs, set: &str) -> usize {
    let text = ns
        .sh(&format!("nft -j list set ip routeagent {set}"))
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["nftables"][1]["set"]["elem"]
        .as_array()
        .map_or(0, |a| a.len())
}

#[test]
#[ignore = "needs root and network namespaces"]
fn ten_thousand_prefixes_round_trip_and_update_one_at_a_time() {
    let (ns, nft) = setup("ra-nftbig");
    let rs = big(10_000);
    let applied = nft.apply(&rs).unwrap();
    eprintln!(
        "apply of 10,000 prefixes: {:?} in {} messages",
        applied.duration, applied.messages
    );
    assert_eq!(applied.elements, 10_002);
    assert_eq!(nft_count(&ns, "remote-v4"), 10_000);
    nft.verify(&rs).unwrap();
    let g = nft.generation().unwrap();

    // add one prefix and delete another: element messages only
    let mut next = rs.clone();
    let set = &mut next.tables[0].sets[1].elements;
    set.insert(net("30.0.7.0/24"));
    set.remove(&net("20.0.0.0/24"));
    let deltas = rs.set_delta(&next).unwrap();
    assert_eq!(deltas.len(), 1);
    nft.update_sets(&deltas).unwrap();
    assert_eq!(nft.generation().unwrap(), g + 1);
    assert_eq!(nft_count(&ns, "remote-v4"), 10_000);
    let listed = ns.sh("nft list set ip routeagent remote-v4").unwrap();
    assert!(
        listed.contains("30.0.7.0/24") && !listed.contains("20.0.0.0/24,"),
        "{}",
        &listed[..300]
    );
    nft.verify(&next).unwrap();
    assert!(matches!(nft.verify(&rs), Err(Error::Drift(_))));

    // a prefix replaced by a wider one that covers it (aggregation)
    let mut wider = next.clone();
    let set = &mut wider.tables[0].sets[1].elements;
    set.remove(&net("30.0.7.0/24"));
    set.insert(net("30.0.0.0/16"));
    nft.update_sets(&next.set_delta(&wider).unwrap()).unwrap();
    nft.verify(&wider).unwrap();
    // deleting a prefix that is not there is refused and names the set
    let gone = SetDelta {
        family: Family::Ip,
        table: "routeagent".into(),
        set: "remote-v4".into(),
        add: vec![],
        remove: vec![net("99.0.0.0/24")],
    };
    match nft.update_sets(&[gone]) {
        Err(Error::Kernel {
            object: Object::Elements {
                set, first, count, ..
            },
            errno: 2,
            ..
        }) => {
            assert_eq!(
                (set.as_str(), first.as_str(), count),
                ("remote-v4", "99.0.0.0/24", 1)
            );
        }
        other => panic!("expected ENOENT on the elements, got {other:?}"),
    }
    nft.verify(&wider).unwrap();

    // drift: a rule deleted behind the agent's back
    let handle = ns
        .sh("nft -a list chain ip routeagent no-masq | grep 'return' | sed 's/.*# handle //'")
        .unwrap();
    ns.sh(&format!(
        "nft delete rule ip routeagent no-masq handle {}",
        handle.trim()
    ))
    .unwrap();
    match nft.verify(&wider) {
        Err(Error::Drift(why)) => assert!(why.contains("no-masq"), "{why}"),
        other => panic!("expected drift, got {other:?}"),
    }
    nft.remove(&owned()).unwrap();
    assert!(matches!(nft.verify(&wider), Err(Error::Drift(_))));
}

#[test]
#[ignore = "needs root and network namespaces"]
fn probes_answer_without_committing() {
    let (ns, nft) = setup("ra-nftprobe");
    let g = nft.generation().unwrap();
    for family in Family::ALL {
        assert_eq!(
            nft.probe_chain(family, ChainType::Route, Hook::Output, Priority::MANGLE),
            Ok(())
        );
        assert_eq!(
            nft.probe_chain(
                family,
                ChainType::Route,
                Hook::Postrouting,
                Priority::MANGLE
            ),
            Err(95)
        );
        assert_eq!(
            nft.probe_chain(family, ChainType::Nat, Hook::Forward, Priority::SRCNAT),
            Err(95)
        );
        assert_eq!(
            nft.probe_chain(family, ChainType::Nat, Hook::Postrouting, Priority::SRCNAT),
            Ok(())
        );
        assert_eq!(
            nft.probe_chain(family, ChainType::Nat, Hook::Postrouting, Priority(-300)),
            Err(95)
        );
    }
    let rs = rich(Family::Inet);
    let t = &rs.tables[0];
    for c in &t.chains {
        let Some(base) = c.base else { continue };
        for r in &c.rules {
            if !matches!(r.action, Some(Action::Jump(_))) {
                assert_eq!(
                    nft.probe_rule(t.family, base.ty, base.hook, r, &t.sets),
                    Ok(()),
                    "{r:?}"
                );
            }
        }
    }
    // a dry run catches references (ENOENT for a missing set) ...
    let unknown = Rule::matching([Match::saddr_in(IpVersion::V4, "nosuchset")]).then(Action::Drop);
    assert_eq!(
        nft.probe_rule(Family::Ip, ChainType::Filter, Hook::Input, &unknown, &[]),
        Err(2)
    );
    // ... but not the hook checks the kernel makes only at commit: `rt mtu`
    // on input passes a dry run (as `nft -c` does) and fails a commit.
    let mss = Rule::matching([Match::TcpSyn]).then(Action::ClampMssToPmtu);
    assert_eq!(
        nft.probe_rule(Family::Ip, ChainType::Filter, Hook::Input, &mss, &[]),
        Ok(())
    );
    let masq = Rule::default().then(Action::Masquerade);
    assert_eq!(
        nft.probe_rule(Family::Ip, ChainType::Nat, Hook::Postrouting, &masq, &[]),
        Ok(())
    );
    assert_eq!(nft.generation().unwrap(), g, "probes must not commit");
    assert_eq!(ns.sh("nft list ruleset").unwrap(), "");
}

#[test]
#[ignore = "needs root and network namespaces"]
fn ipv6_element_updates_equal_what_nft_holds_for_the_new_set() {
    let (ns, nft) = setup("ra-nftv6");
    let rs = rich(Family::Inet);
    nft.apply(&rs).unwrap();
    let mut next = rs.clone();
    let set = &mut next.tables[0].sets[2].elements; // remote-v6
    assert!(set.remove(&net("fd02::1/128")));
    set.insert(net("fd10::/64"));
    set.insert(net("fd00:0:0:2::/64")); // adjacent to fd00::/63
    nft.update_sets(&rs.set_delta(&next).unwrap()).unwrap();
    nft.verify(&next).unwrap();
    assert_eq!(listing(&ns, Family::Inet, "routeagent"), next.to_string());
    let other = NetNs::new("ra-nfttext").unwrap();
    nft_file(&other, "", &render::replace_script(&next)).unwrap();
    assert_eq!(
        json(&ns, Family::Inet, "routeagent"),
        json(&other, Family::Inet, "routeagent")
    );
    nft.remove(&owned()).unwrap();
}
