//! The fake backend behaves like the kernel: validation first, all or
//! nothing, apply twice == apply once, remove leaves foreign tables alone.
use packetfilter::{Backend, Fake, Object, Owned};
use proptest::prelude::*;
use ruleset::*;

fn ruleset(prefixes: &[(u32, u8)], comment: bool) -> RuleSet {
    let set = Set::aggregated(
        "remote",
        IpVersion::V4,
        prefixes
            .iter()
            .map(|(a, l)| ipnet::IpNet::V4(ipnet::Ipv4Net::new((*a).into(), *l).unwrap().trunc())),
    );
    let mut rule = Rule::matching([Match::daddr_in(IpVersion::V4, "remote")])
        .counted()
        .then(Action::Accept);
    if comment {
        rule = rule.comment("to remote clusters");
    }
    RuleSet::new(vec![Table::new(Family::Inet, "routeagent")
        .with_set(set)
        .with_chain(
            Chain::base("ra-fwd", ChainType::Filter, Hook::Forward, Priority::FILTER)
                .with_rule(rule),
        )])
}

fn foreign() -> Table {
    Table::new(Family::Ip, "kube-proxy").with_chain(
        Chain::base("post", ChainType::Nat, Hook::Postrouting, Priority::SRCNAT).with_rule(
            Rule::matching([Match::saddr("10.0.0.0/8".parse().unwrap())]).then(Action::Masquerade),
        ),
    )
}

proptest! {
    #[test]
    fn apply_twice_equals_apply_once(p in prop::collection::vec((any::<u32>(), 8u8..=32), 0..30), c in any::<bool>()) {
        let rs = ruleset(&p, c);
        let once = Fake::new();
        once.apply(&rs).unwrap();
        let twice = Fake::new();
        twice.apply(&rs).unwrap();
        twice.apply(&rs).unwrap();
        prop_assert_eq!(once.dump(), twice.dump());
        prop_assert!(twice.verify(&rs).is_ok());
    }

    #[test]
    fn set_updates_reach_the_same_state_as_a_whole_apply(a in prop::collection::vec((any::<u32>(), 8u8..=32), 0..30), b in prop::collection::vec((any::<u32>(), 8u8..=32), 0..30)) {
        let (ra, rb) = (ruleset(&a, true), ruleset(&b, true));
        let f = Fake::new();
        f.apply(&ra).unwrap();
        f.update_sets(&ra.set_delta(&rb).unwrap()).unwrap();
        prop_assert!(f.verify(&rb).is_ok());
    }
}

#[test]
fn a_refused_transaction_changes_nothing() {
    let f = Fake::new();
    f.add_foreign(foreign());
    f.apply(&ruleset(&[(0x0a00_0000, 8)], true)).unwrap();
    let before = (f.dump(), f.generation());
    f.refuse(|o| matches!(o, Object::Rule { index: 0, .. }).then_some(95));
    let err = f.apply(&ruleset(&[(0x0b00_0000, 8)], true)).unwrap_err();
    assert!(err.to_string().contains("rule #1 of chain ra-fwd"), "{err}");
    assert!(err.to_string().contains("EOPNOTSUPP"), "{err}");
    assert_eq!((f.dump(), f.generation()), before);
    // Invalid input is refused before anything happens, with the object named.
    let bad = RuleSet::new(vec![Table::new(Family::Inet, "routeagent").with_chain(
        Chain::base("m", ChainType::Route, Hook::Postrouting, Priority::MANGLE),
    )]);
    assert!(f
        .check(&bad)
        .unwrap_err()
        .to_string()
        .contains("route chains take only the output hook"));
    assert_eq!((f.dump(), f.generation()), before);
}

#[test]
fn remove_leaves_foreign_tables_byte_identical() {
    let f = Fake::new();
    f.add_foreign(foreign());
    let foreign_text = f.dump();
    f.apply(&ruleset(&[(0x0a00_0000, 8)], false)).unwrap();
    assert_ne!(f.dump(), foreign_text);
    f.remove(&Owned {
        table_names: vec!["routeagent".into()],
    })
    .unwrap();
    assert_eq!(f.dump(), foreign_text);
    f.remove(&Owned {
        table_names: vec!["routeagent".into()],
    })
    .unwrap();
    assert_eq!(f.dump(), foreign_text, "removing what is gone is success");
}

#[test]
fn drift_is_detected() {
    let f = Fake::new();
    let rs = ruleset(&[(0x0a00_0000, 8)], false);
    f.apply(&rs).unwrap();
    f.tamper(|t| t[0].chains[0].rules.clear());
    assert!(matches!(f.verify(&rs), Err(packetfilter::Error::Drift(_))));
}
