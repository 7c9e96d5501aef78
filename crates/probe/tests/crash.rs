//! The crash that started it all (Submariner #3355): a route chain on the
//! postrouting hook. It is refused by validation before any I/O, with the
//! explanation and the valid alternative.

use ruleset::{Chain, ChainType, Family, Hook, Priority, RuleSet, Table};

#[test]
fn route_chain_on_postrouting_is_refused_before_any_io() {
    let rs = RuleSet::new(vec![Table::new(Family::Ip, "submariner").with_chain(
        Chain::base(
            "SUBMARINER-POSTROUTING",
            ChainType::Route,
            Hook::Postrouting,
            Priority::MANGLE,
        ),
    )]);
    let e = ruleset::validate(&rs).unwrap_err().to_string();
    assert!(e.contains("type route hook postrouting"), "{e}");
    assert!(
        e.contains("type filter hook postrouting priority mangle"),
        "{e}"
    );
    assert!(e.contains("output"), "{e}");
    // and a backend refuses it the same way, without touching anything
    let fake = packetfilter::Fake::new();
    use packetfilter::Backend;
    assert!(matches!(
        fake.apply(&rs),
        Err(packetfilter::Error::Invalid(_))
    ));
    assert_eq!(fake.generation(), 0);
}
