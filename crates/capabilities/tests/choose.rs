//! `choose`: backend preference, fallback, explicit requests, degradations.

use capabilities::{
    choose, BackendKind, Capabilities, Feature, IptablesVariant, PacketFilterRequest as Req,
    TableLayout,
};

fn host(uses: Option<IptablesVariant>) -> Capabilities {
    let mut c = Capabilities::full();
    c.iptables.host_uses = uses;
    c
}

#[test]
fn auto_prefers_nftables_with_nothing_degraded() {
    let k = choose(&Capabilities::full(), Req::Auto).unwrap();
    assert_eq!(k.backend, BackendKind::Nftables);
    assert_eq!(k.layout, TableLayout::Inet);
    assert!(k.degradations.is_empty(), "{:?}", k.degradations);
    assert!(k.mss_clamp && k.self_snat && k.interval_sets && k.comments && k.ipv6);
}

#[test]
fn nftables_missing_falls_back_to_the_hosts_iptables_variant_with_the_reason() {
    for (uses, want) in [
        (Some(IptablesVariant::Legacy), BackendKind::IptablesLegacy),
        (Some(IptablesVariant::Nft), BackendKind::IptablesNft),
        (None, BackendKind::IptablesNft),
    ] {
        let mut c = host(uses);
        c.assume_missing(Feature::Nftables);
        let k = choose(&c, Req::Auto).unwrap();
        assert_eq!(k.backend, want, "host uses {uses:?}");
        assert!(k.why.contains("falling back to iptables"), "{}", k.why);
        assert!(k.why.contains("assumed missing"), "{}", k.why);
        let d = k
            .degradations
            .iter()
            .find(|d| d.feature == Feature::Nftables)
            .expect("nftables degradation");
        assert!(d.reason.contains(want.name()), "{}", d.reason);
        assert!(!d.fix.is_empty());
        assert_eq!(k.layout, TableLayout::Split);
        assert!(
            k.ipset,
            "ipset is used by the iptables backend when present"
        );
        assert!(k.interval_sets, "sets reach the iptables backend as ipsets");
    }
}

#[test]
fn legacy_host_without_legacy_tool_uses_iptables_nft() {
    let mut c = host(Some(IptablesVariant::Legacy));
    c.assume_missing(Feature::Nftables);
    c.assume_missing(Feature::IptablesLegacy);
    assert_eq!(
        choose(&c, Req::Auto).unwrap().backend,
        BackendKind::IptablesNft
    );
}

#[test]
fn explicit_requests_that_cannot_be_met_are_not_ready() {
    let mut c = Capabilities::full();
    c.assume_missing(Feature::Nftables);
    let e = choose(&c, Req::Nftables).unwrap_err();
    assert!(e.reason.contains("nftables was requested"), "{e}");
    assert!(e.fix.contains("--assume-missing nftables"), "{e}");

    let mut c = Capabilities::full();
    c.assume_missing(Feature::IptablesNft);
    c.assume_missing(Feature::IptablesLegacy);
    let e = choose(&c, Req::Iptables).unwrap_err();
    assert!(e.reason.contains("iptables was requested"), "{e}");
    // but auto still works on nftables
    assert_eq!(
        choose(&c, Req::Auto).unwrap().backend,
        BackendKind::Nftables
    );
}

#[test]
fn explicit_iptables_is_honoured_without_an_nftables_degradation() {
    let k = choose(&host(Some(IptablesVariant::Legacy)), Req::Iptables).unwrap();
    assert_eq!(k.backend, BackendKind::IptablesLegacy);
    assert!(k
        .degradations
        .iter()
        .all(|d| d.feature != Feature::Nftables));
}

#[test]
fn every_single_assumed_missing_feature_is_reported() {
    for f in Feature::ALL {
        let mut c = Capabilities::full();
        c.iptables.host_uses = Some(IptablesVariant::Nft);
        c.assume_missing(f);
        let k = choose(&c, Req::Auto).unwrap();
        let state = &k.features[&f];
        assert!(!state.enabled, "{f} still enabled");
        assert!(state.reason.as_deref().unwrap().contains("assumed missing"));
        let relevant = Feature::DEGRADABLE.contains(&f) || f == Feature::Nftables;
        let d = k.degradations.iter().find(|d| d.feature == f);
        if relevant {
            let d = d.unwrap_or_else(|| panic!("{f}: no degradation in {:?}", k.degradations));
            assert!(!d.reason.is_empty() && !d.fix.is_empty(), "{d:?}");
            assert!(d.fix.contains(&format!("--assume-missing {f}")), "{d:?}");
            assert_eq!(
                k.degradations.len(),
                1,
                "{f}: only its own: {:?}",
                k.degradations
            );
        } else {
            // iptables-nft, iptables-legacy, ipset: fallback tools only.
            assert!(d.is_none(), "{f}: {:?}", k.degradations);
            assert_eq!(k.backend, BackendKind::Nftables);
        }
        match f {
            Feature::InetNat => assert_eq!(k.layout, TableLayout::Split),
            Feature::MssClamp => assert!(!k.mss_clamp),
            Feature::SelfSnat => assert!(!k.self_snat),
            Feature::IntervalSets => assert!(!k.interval_sets),
            Feature::Ipv6 => assert!(!k.ipv6),
            Feature::Nftables => assert_eq!(k.backend, BackendKind::IptablesNft),
            _ => {}
        }
    }
}

#[test]
fn ipset_missing_on_the_iptables_backend_is_a_degradation() {
    let mut c = host(Some(IptablesVariant::Legacy));
    c.assume_missing(Feature::Nftables);
    c.assume_missing(Feature::Ipset);
    let k = choose(&c, Req::Auto).unwrap();
    assert!(!k.ipset);
    assert!(k.interval_sets, "the backend expands sets itself");
    assert!(k.degradations.iter().any(|d| d.feature == Feature::Ipset));
    assert!(k
        .degradations
        .iter()
        .all(|d| d.feature != Feature::IntervalSets));
}

#[test]
fn all_missing_is_not_ready() {
    let mut c = Capabilities::full();
    for f in Feature::ALL {
        c.assume_missing(f);
    }
    let e = choose(&c, Req::Auto).unwrap_err();
    assert!(e.reason.contains("no packet filter is usable"), "{e}");
    assert!(!e.fix.is_empty());
}
