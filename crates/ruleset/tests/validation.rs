//! Validation: every combination the kernel refuses is refused first, with an
//! error naming the object and what would be valid.
use ruleset::sample::*;
use ruleset::*;

fn table_with(c: Chain) -> RuleSet {
    RuleSet::new(vec![Table::new(Family::Inet, "ra").with_chain(c)])
}

#[test]
fn the_chain_type_hook_matrix_matches_the_kernel() {
    for ty in ChainType::ALL {
        for hook in Hook::ALL {
            let prio = if ty == ChainType::Nat {
                Priority::SRCNAT
            } else {
                Priority::FILTER
            };
            let res = validate(&table_with(Chain::base("c", ty, hook, prio)));
            let kernel_accepts = matches!(
                (ty, hook),
                (ChainType::Filter, _) | (ChainType::Route, Hook::Output)
            ) || (ty == ChainType::Nat && hook != Hook::Forward);
            assert_eq!(res.is_ok(), kernel_accepts, "{ty} {hook}: {res:?}");
        }
    }
}

#[test]
fn route_postrouting_is_refused_with_the_valid_alternative() {
    let err = validate(&table_with(Chain::base(
        "mss",
        ChainType::Route,
        Hook::Postrouting,
        Priority::MANGLE,
    )))
    .unwrap_err()
    .to_string();
    assert!(err.contains("chain mss"), "{err}");
    assert!(
        err.contains("route chains take only the output hook"),
        "{err}"
    );
    assert!(
        err.contains("type filter hook postrouting priority mangle"),
        "{err}"
    );
}

#[test]
fn nat_chains_need_a_priority_after_conntrack() {
    let err = validate(&table_with(Chain::base(
        "n",
        ChainType::Nat,
        Hook::Prerouting,
        Priority(-200),
    )))
    .unwrap_err()
    .to_string();
    assert!(err.contains("above -200"), "{err}");
    assert!(validate(&table_with(Chain::base(
        "n",
        ChainType::Nat,
        Hook::Prerouting,
        Priority(-199)
    )))
    .is_ok());
}

#[test]
fn nat_statements_only_in_nat_chains_on_the_right_hooks() {
    let fwd = Chain::base("f", ChainType::Filter, Hook::Forward, Priority::FILTER)
        .with_rule(Rule::default().then(Action::Masquerade));
    let e = validate(&table_with(fwd)).unwrap_err().to_string();
    assert!(e.contains("masquerade") && e.contains("type nat"), "{e}");
    let pre = Chain::base("p", ChainType::Nat, Hook::Prerouting, Priority::DSTNAT)
        .with_rule(Rule::default().then(Action::Snat("10.0.0.1".parse().unwrap())));
    let e = validate(&table_with(pre)).unwrap_err().to_string();
    assert!(e.contains("postrouting or input"), "{e}");
    // Reached through a jump from a filter chain: still refused.
    let t = Table::new(Family::Ip, "ra")
        .with_chain(
            Chain::base("f", ChainType::Filter, Hook::Postrouting, Priority::FILTER)
                .with_rule(Rule::default().then(Action::Jump("sub".into()))),
        )
        .with_chain(
            Chain::regular("sub")
                .with_rule(Rule::default().then(Action::SnatToSource(IpVersion::V4))),
        );
    let e = validate(&RuleSet::new(vec![t])).unwrap_err().to_string();
    assert!(e.contains("chain sub rule #1"), "{e}");
}

#[test]
fn mss_to_route_mtu_needs_forward_output_or_postrouting_and_a_syn_match() {
    let input = Chain::base("i", ChainType::Filter, Hook::Input, Priority::FILTER)
        .with_rule(Rule::matching([Match::TcpSyn]).then(Action::ClampMssToPmtu));
    assert!(validate(&table_with(input))
        .unwrap_err()
        .to_string()
        .contains("rt mtu"));
    let nosyn = Chain::base("p", ChainType::Filter, Hook::Postrouting, Priority::MANGLE)
        .with_rule(Rule::default().then(Action::ClampMss(1360)));
    assert!(validate(&table_with(nosyn))
        .unwrap_err()
        .to_string()
        .contains("tcp flags syn"));
}

#[test]
fn sets_must_exist_and_match_the_address_family() {
    let t = Table::new(Family::Inet, "ra")
        .with_set(Set::new("v6", IpVersion::V6))
        .with_chain(
            Chain::base("f", ChainType::Filter, Hook::Forward, Priority::FILTER)
                .with_rule(Rule::matching([Match::saddr_in(IpVersion::V4, "v6")])),
        );
    let e = validate(&RuleSet::new(vec![t])).unwrap_err().to_string();
    assert!(e.contains("ipv6_addr") && e.contains("ipv4_addr"), "{e}");
    let t = Table::new(Family::Inet, "ra").with_chain(
        Chain::base("f", ChainType::Filter, Hook::Forward, Priority::FILTER)
            .with_rule(Rule::matching([Match::daddr_in(IpVersion::V4, "nope")])),
    );
    assert!(validate(&RuleSet::new(vec![t]))
        .unwrap_err()
        .to_string()
        .contains("@nope does not exist"));
    let t = Table::new(Family::Ip6, "ra").with_set(Set::new("v4", IpVersion::V4));
    assert!(validate(&RuleSet::new(vec![t])).is_err());
}

#[test]
fn overlapping_set_elements_are_refused_and_aggregation_fixes_them() {
    let mut s = Set::new("s", IpVersion::V4);
    s.elements.insert(net("10.0.0.0/8"));
    s.elements.insert(net("10.1.0.0/16"));
    let t = Table::new(Family::Ip, "ra").with_set(s);
    let e = validate(&RuleSet::new(vec![t])).unwrap_err().to_string();
    assert!(
        e.contains("overlaps 10.0.0.0/8") && e.contains("EEXIST"),
        "{e}"
    );
    let s = Set::aggregated(
        "s",
        IpVersion::V4,
        [net("10.0.0.0/8"), net("10.1.0.0/16"), net("11.0.0.0/8")],
    );
    assert_eq!(
        s.elements.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
        ["10.0.0.0/7"],
        "adjacent halves merge: {s:?}"
    );
}

#[test]
fn jumps_must_target_existing_regular_chains_without_loops_or_deep_nesting() {
    let t = Table::new(Family::Ip, "ra").with_chain(
        Chain::base("f", ChainType::Filter, Hook::Forward, Priority::FILTER)
            .with_rule(Rule::default().then(Action::Jump("x".into()))),
    );
    assert!(validate(&RuleSet::new(vec![t]))
        .unwrap_err()
        .to_string()
        .contains("no such chain"));
    let t = Table::new(Family::Ip, "ra")
        .with_chain(Chain::regular("a").with_rule(Rule::default().then(Action::Jump("b".into()))))
        .with_chain(Chain::regular("b").with_rule(Rule::default().then(Action::Jump("a".into()))));
    assert!(validate(&RuleSet::new(vec![t]))
        .unwrap_err()
        .to_string()
        .contains("jump loop a -> b -> a"));
    let mut t = Table::new(Family::Ip, "ra").with_chain(
        Chain::base("f", ChainType::Filter, Hook::Forward, Priority::FILTER)
            .with_rule(Rule::default().then(Action::Jump("c0".into()))),
    );
    // 15 nested jumps are fine; 16 are refused.
    let chain_of = |n: usize| {
        let mut t = Table::new(Family::Ip, "ra").with_chain(
            Chain::base("f", ChainType::Filter, Hook::Forward, Priority::FILTER)
                .with_rule(Rule::default().then(Action::Jump("c1".into()))),
        );
        for i in 1..n {
            t = t.with_chain(
                Chain::regular(format!("c{i}"))
                    .with_rule(Rule::default().then(Action::Jump(format!("c{}", i + 1)))),
            );
        }
        RuleSet::new(vec![t.with_chain(Chain::regular(format!("c{n}")))])
    };
    assert!(validate(&chain_of(15)).is_ok());
    assert!(validate(&chain_of(16)).is_err());
    for i in 0..17 {
        t = t.with_chain(
            Chain::regular(format!("c{i}"))
                .with_rule(Rule::default().then(Action::Jump(format!("c{}", i + 1)))),
        );
    }
    t = t.with_chain(Chain::regular("c17"));
    let e = validate(&RuleSet::new(vec![t])).unwrap_err().to_string();
    assert!(e.contains("16 levels"), "{e}");
}

#[test]
fn names_and_comments_are_checked() {
    let long = "x".repeat(129);
    let c = Chain::base("f", ChainType::Filter, Hook::Forward, Priority::FILTER)
        .with_rule(Rule::default().then(Action::Accept).comment(long));
    assert!(validate(&table_with(c))
        .unwrap_err()
        .to_string()
        .contains("128 bytes"));
    let ok = Chain::base("f", ChainType::Filter, Hook::Forward, Priority::FILTER).with_rule(
        Rule::default()
            .then(Action::Accept)
            .comment("x".repeat(128)),
    );
    assert!(validate(&table_with(ok)).is_ok());
    assert!(validate(&table_with(Chain::regular("mark")))
        .unwrap_err()
        .to_string()
        .contains("nft keyword"));
    let c = Chain::base("f", ChainType::Filter, Hook::Forward, Priority::FILTER)
        .with_rule(Rule::matching([Match::oif("a-very-long-interface")]));
    assert!(validate(&table_with(c))
        .unwrap_err()
        .to_string()
        .contains("1 to 15 bytes"));
}

#[test]
fn the_sample_ruleset_is_valid_in_every_family_that_carries_it() {
    validate(&agent_like(Family::Ip)).unwrap();
    validate(&agent_like(Family::Inet)).unwrap();
    assert!(
        validate(&agent_like(Family::Ip6)).is_err(),
        "IPv4 sets in an ip6 table"
    );
}
