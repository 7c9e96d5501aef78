//! The iptables backend against the kernel, inside throwaway namespaces,
//! for both variants (iptables-nft and iptables-legacy) and both set modes
//! (ipset and expanded). Compared with `iptables-save` and `ipset list`.

mod common;

use capabilities::IptablesVariant::{self, Legacy, Nft};
use common::{add_foreign, require_tools, sample, save};
use netns::NetNs;
use packetfilter::{Backend, Error, Object, Owned};
use packetfilter_iptables::render::XtRule;
use packetfilter_iptables::script::Script;
use packetfilter_iptables::{tool, Iptables};
use ruleset::model::SetDelta;
use ruleset::{Family, IpVersion};

fn owned() -> Owned {
    Owned {
        table_names: vec!["routeagent".into()],
    }
}

fn count(text: &str, line: &str) -> usize {
    text.lines().filter(|l| *l == line).count()
}

fn apply_twice_check_verify_remove(variant: IptablesVariant, ipset: bool) {
    require_tools(variant);
    let ns = NetNs::new("ra-ipt").unwrap();
    let b = Iptables::new(variant, ipset);
    let rs = sample();
    ns.run(|| b.check(&rs)).unwrap();
    assert!(!save(&ns, variant).contains("RA-"), "check changed nothing");
    let applied = ns.run(|| b.apply(&rs)).unwrap();
    assert!(applied.rules > 0);
    let first = save(&ns, variant);
    ns.run(|| b.apply(&rs)).unwrap();
    let second = save(&ns, variant);
    assert_eq!(first, second, "apply twice == apply once");
    for j in [
        "-A POSTROUTING -j RA-POSTROUTING",
        "-A POSTROUTING -j RA-POSTROUTING-MSS",
        "-A INPUT -j RA-INPUT",
        "-A FORWARD -j RA-FORWARD",
        "-A OUTPUT -j RA-OUTPUT",
    ] {
        // once in iptables-save, once in ip6tables-save
        assert_eq!(count(&second, j), 2, "{j} in\n{second}");
    }
    // self-SNAT as identity NETMAP, MSS in mangle, marks, comments
    assert!(second.contains("-A RA-POSTROUTING -s 10.1.0.0/16 -d 10.2.0.0/16 -m comment --comment \"keep pod source\" -j NETMAP --to 10.1.0.0/16")
        || second.contains("-A RA-POSTROUTING -s 10.1.0.0/16 -m set --match-set RA-REMOTE-V4 dst -m comment --comment \"keep pod source\" -j NETMAP --to 10.1.0.0/16"), "{second}");
    assert!(second.contains("-j NETMAP --to fd00:1::/64"), "{second}");
    assert!(
        second.contains("-A RA-POSTROUTING-MSS") && second.contains("TCPMSS --clamp-mss-to-pmtu"),
        "{second}"
    );
    assert!(second.contains("--set-mss 1300"), "{second}");
    assert!(
        second.contains("-j MARK --set-xmark 0x80000/0xf0000"),
        "{second}"
    );
    let mangle = second
        .split("*mangle")
        .nth(1)
        .unwrap()
        .split("COMMIT")
        .next()
        .unwrap();
    assert!(
        mangle.contains(":RA-POSTROUTING-MSS") && mangle.contains(":RA-OUTPUT"),
        "{mangle}"
    );
    if ipset {
        let sets = ns.sh("ipset list -n").unwrap();
        for s in [
            "RA-LOCAL-V4",
            "RA-REMOTE-V4",
            "RA6-LOCAL-V6",
            "RA6-REMOTE-V6",
        ] {
            assert!(sets.lines().any(|l| l == s), "{s} in {sets}");
        }
        assert!(second.contains("--match-set RA-REMOTE-V4 dst"), "{second}");
    } else {
        assert!(!second.contains("match-set"), "{second}");
        // one rule per (local, remote) prefix pair
        assert!(second.contains("-d 10.4.0.0/16") && second.contains("-d 10.2.0.0/16"));
    }
    ns.run(|| b.verify(&rs)).unwrap();
    // drift: a duplicated jump, and a chain an older agent left behind
    let var = if variant == Nft { "nft" } else { "legacy" };
    ns.sh(&format!(
        "printf '*nat\\n:RA-OLD - [0:0]\\n-A POSTROUTING -j RA-POSTROUTING\\n-A POSTROUTING -s 10.0.0.0/8 -j RA-OLD\\n-A RA-OLD -j ACCEPT\\nCOMMIT\\n' | iptables-{var}-restore --noflush"
    ))
    .unwrap();
    assert!(
        ns.run(|| b.verify(&rs)).is_err(),
        "verify sees the duplicated jump"
    );
    ns.run(|| b.apply(&rs)).unwrap();
    assert_eq!(
        save(&ns, variant),
        second,
        "apply repairs duplicates and removes stale chains"
    );
    ns.run(|| b.check(&rs)).unwrap();
    assert_eq!(
        save(&ns, variant),
        second,
        "check after apply changes nothing"
    );
    ns.run(|| b.remove(&owned())).unwrap();
    let after = save(&ns, variant);
    assert!(!after.contains("RA-"), "remove leaves nothing:\n{after}");
    assert!(
        !ns.sh("ipset list -n").unwrap().contains("RA"),
        "ipsets removed"
    );
    ns.run(|| b.remove(&owned())).unwrap();
}

#[test]
#[ignore = "needs root and network namespaces"]
fn nft_ipset() {
    apply_twice_check_verify_remove(Nft, true);
}
#[test]
#[ignore = "needs root and network namespaces"]
fn nft_expanded() {
    apply_twice_check_verify_remove(Nft, false);
}
#[test]
#[ignore = "needs root and network namespaces"]
fn legacy_ipset() {
    apply_twice_check_verify_remove(Legacy, true);
}
#[test]
#[ignore = "needs root and network namespaces"]
fn legacy_expanded() {
    apply_twice_check_verify_remove(Legacy, false);
}

fn foreign_chains_stay_byte_identical(variant: IptablesVariant) {
    require_tools(variant);
    let ns = NetNs::new("ra-iptf").unwrap();
    add_foreign(&ns, variant);
    let before = save(&ns, variant);
    let b = Iptables::new(variant, true);
    ns.run(|| b.apply(&sample())).unwrap();
    let during = save(&ns, variant);
    // a duplicate of our jump appended after kube-proxy's: repaired to one, first
    let var = if variant == Nft { "nft" } else { "legacy" };
    ns.sh(&format!(
        "iptables-{var} -t nat -A POSTROUTING -j RA-POSTROUTING"
    ))
    .unwrap();
    ns.run(|| b.apply(&sample())).unwrap();
    assert_eq!(
        save(&ns, variant),
        during,
        "duplicate removed, our jump still first"
    );
    let foreign: String = during
        .lines()
        .filter(|l| !l.contains("RA-"))
        .map(|l| format!("{l}\n"))
        .collect();
    // the tables we added (mangle) appear as empty built-in chains in
    // legacy; compare only the tables the foreign setup had
    for table in ["*nat", "*filter"] {
        let pick = |s: &str| {
            s.split(table)
                .nth(1)
                .map(|x| x.split("COMMIT").next().unwrap().to_string())
        };
        assert_eq!(
            pick(&before),
            pick(&foreign),
            "{table} foreign part changed:\n{during}"
        );
    }
    // our jump runs first, before kube-proxy's
    let nat = during.split("*nat").nth(1).unwrap();
    let nat_post: Vec<&str> = nat
        .lines()
        .filter(|l| l.starts_with("-A POSTROUTING"))
        .collect();
    assert_eq!(nat_post[0], "-A POSTROUTING -j RA-POSTROUTING", "{nat}");
    ns.run(|| b.remove(&owned())).unwrap();
    let after = save(&ns, variant);
    for table in ["*nat", "*filter"] {
        let pick = |s: &str| {
            s.split(table)
                .nth(1)
                .map(|x| x.split("COMMIT").next().unwrap().to_string())
        };
        assert_eq!(pick(&before), pick(&after), "{table} differs after remove");
    }
    assert!(!after.contains("RA-"));
}

#[test]
#[ignore = "needs root and network namespaces"]
fn nft_foreign_chains_untouched() {
    foreign_chains_stay_byte_identical(Nft);
}
#[test]
#[ignore = "needs root and network namespaces"]
fn legacy_foreign_chains_untouched() {
    foreign_chains_stay_byte_identical(Legacy);
}

fn sets_update(variant: IptablesVariant, ipset: bool) {
    require_tools(variant);
    let ns = NetNs::new("ra-ipts").unwrap();
    let b = Iptables::new(variant, ipset);
    let rs = sample();
    ns.run(|| b.apply(&rs)).unwrap();
    let d = SetDelta {
        family: Family::Inet,
        table: "routeagent".into(),
        set: "remote-v4".into(),
        add: vec!["10.9.0.0/16".parse().unwrap()],
        remove: vec!["10.4.0.0/16".parse().unwrap()],
    };
    ns.run(|| b.update_sets(std::slice::from_ref(&d))).unwrap();
    let text = save(&ns, variant);
    if ipset {
        let m = ns.sh("ipset list RA-REMOTE-V4").unwrap();
        assert!(
            m.contains("10.9.0.0/16") && !m.contains("10.4.0.0/16"),
            "{m}"
        );
    } else {
        assert!(
            text.contains("-d 10.9.0.0/16") && !text.contains("-d 10.4.0.0/16"),
            "{text}"
        );
    }
    let mut want = rs.clone();
    let s = want
        .table_mut(Family::Inet, "routeagent")
        .unwrap()
        .sets
        .iter_mut()
        .find(|s| s.name == "remote-v4")
        .unwrap();
    s.elements.remove(&"10.4.0.0/16".parse().unwrap());
    s.elements.insert("10.9.0.0/16".parse().unwrap());
    ns.run(|| b.verify(&want)).unwrap();
    ns.run(|| b.remove(&owned())).unwrap();
}

#[test]
#[ignore = "needs root and network namespaces"]
fn nft_sets_update_ipset() {
    sets_update(Nft, true);
}
#[test]
#[ignore = "needs root and network namespaces"]
fn nft_sets_update_expanded() {
    sets_update(Nft, false);
}
#[test]
#[ignore = "needs root and network namespaces"]
fn legacy_sets_update_ipset() {
    sets_update(Legacy, true);
}
#[test]
#[ignore = "needs root and network namespaces"]
fn legacy_sets_update_expanded() {
    sets_update(Legacy, false);
}

#[test]
#[ignore = "needs root and network namespaces"]
fn a_failed_line_is_mapped_back_to_the_model_rule() {
    for variant in [Nft, Legacy] {
        require_tools(variant);
        let ns = NetNs::new("ra-ipte").unwrap();
        let object = Object::Rule {
            family: Family::Ip,
            table: "t".into(),
            chain: "c".into(),
            index: 0,
            text: "bogus".into(),
        };
        let r = XtRule {
            args: "-m nosuchmatch --foo -j ACCEPT".into(),
            object: object.clone(),
        };
        let s = Script {
            lines: vec![
                "*filter".into(),
                ":RA-T - [0:0]".into(),
                format!("-A RA-T {}", r.args),
                "COMMIT".into(),
            ],
            objects: vec![None, None, Some(object.clone()), None],
        };
        let e = ns
            .run(|| tool::restore(variant, IpVersion::V4, &s, false))
            .unwrap_err();
        match &e {
            Error::Tool {
                object: o, detail, ..
            } => {
                assert_eq!(o, &object, "{variant:?}: {e}");
                assert!(detail.contains("nosuchmatch"), "{detail}");
            }
            _ => panic!("{e}"),
        }
        assert!(!save(&ns, variant).contains("RA-T"), "nothing committed");
    }
}

#[test]
fn negated_sets_without_ipset_become_a_helper_chain() {
    use packetfilter_iptables::names::XtTable;
    use packetfilter_iptables::render::translate;
    let rs = sample();
    let plan = translate(&rs, false, "iptables-nft").unwrap();
    let mangle = &plan.tables[&IpVersion::V4][&XtTable::Mangle];
    let chain = |n: &str| {
        &mangle
            .chains
            .iter()
            .find(|(c, _)| c == n)
            .unwrap_or_else(|| panic!("{n}: {mangle:?}"))
            .1
    };
    let args = |n: &str| chain(n).iter().map(|r| r.args.clone()).collect::<Vec<_>>();
    assert_eq!(args("RA-OUTPUT"), ["-j RA-OUTPUT-N0"]);
    assert_eq!(
        args("RA-OUTPUT-N0"),
        [
            "-d 10.2.0.0/16 -j RETURN",
            "-d 10.4.0.0/16 -j RETURN",
            "-j MARK --set-xmark 0x1/0x1"
        ]
    );
    assert_eq!(
        translate(&rs, true, "iptables-nft").unwrap().tables[&IpVersion::V4][&XtTable::Mangle]
            .chains
            .iter()
            .filter(|(c, _)| c.ends_with("-N0"))
            .count(),
        0
    );
    // `return` cannot be expressed through a helper chain
    let mut rs = sample();
    let t = rs.table_mut(Family::Inet, "routeagent").unwrap();
    t.chain_mut("output").unwrap().rules[0].action = Some(ruleset::Action::Return);
    let e = translate(&rs, false, "iptables-nft").unwrap_err();
    assert!(
        matches!(&e, Error::Unsupported { object: Object::Rule { chain, .. }, .. } if chain == "output"),
        "{e}"
    );
    assert!(e.to_string().contains("needs ipset"), "{e}");
    assert!(translate(&rs, true, "iptables-nft").is_ok());
}

#[test]
#[ignore = "needs root and network namespaces"]
fn a_jump_to_a_missing_chain_is_blamed_on_the_rule() {
    for variant in [Nft, Legacy] {
        require_tools(variant);
        let ns = NetNs::new("ra-ipte").unwrap();
        let object = Object::Rule {
            family: Family::Ip,
            table: "t".into(),
            chain: "c".into(),
            index: 2,
            text: "jump nowhere".into(),
        };
        let s = Script {
            lines: vec![
                "*filter".into(),
                ":RA-T - [0:0]".into(),
                "-A RA-T -j RA-NOWHERE".into(),
                "COMMIT".into(),
            ],
            objects: vec![None, None, Some(object.clone()), None],
        };
        let e = ns
            .run(|| tool::restore(variant, IpVersion::V4, &s, false))
            .unwrap_err();
        match &e {
            Error::Tool { object: o, .. } => assert_eq!(o, &object, "{variant:?}: {e}"),
            _ => panic!("{e}"),
        }
    }
}
