//! Issue 3's matrix test: the agent's packet-filter plan (two-clusters-a,
//! nodes a1 = gateway and a2) applied in a fresh namespace under every
//! single `--assume-missing` feature, under all of them together, and with
//! nftables unavailable (iptables fallback): no panic, the expected
//! degradations, and what is still supported really programmed in the
//! kernel (checked with `nft -j list ruleset` / `iptables-save`).

use capabilities::{choose, BackendKind, Capabilities, Constructs, Feature, PacketFilterRequest};
use netns::NetNs;
use packetfilter::{Backend, Owned};
use packetfilter_iptables::Iptables;
use packetfilter_nftables::Nftables;
use plan::{HostFacts, Iface, PlanInput};
use probe::{probe, ProbeOptions};
use ruleset::{ChainType, Hook, RuleSet};

fn topology() -> topology::Topology {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/two-clusters-a.yaml"
    );
    topology::Topology::load(path).unwrap()
}

fn facts(node: &str) -> HostFacts {
    let i = if node == "a1" { 1 } else { 2 };
    HostFacts {
        uplink: Iface {
            name: "eth0".into(),
            mtu: 1500,
            addr: format!("10.1.0.{i}").parse().unwrap(),
        },
        cni: Some(Iface {
            name: "pod0".into(),
            mtu: 1450,
            addr: format!("10.244.{i}.1").parse().unwrap(),
        }),
        public: (node == "a1").then(|| Iface {
            name: "eth1".into(),
            mtu: 1500,
            addr: "192.168.50.1".parse().unwrap(),
        }),
        default_route: None,
        next_hops: Default::default(),
    }
}

/// Features whose absence changes what the nftables backend programs.
const RELEVANT: [Feature; 9] = Feature::DEGRADABLE;

/// What the kernel holds, as text to search: `nft list ruleset` for
/// nftables, `iptables-save` + `ip6tables-save` for iptables.
fn kernel_text(ns: &NetNs, backend: BackendKind) -> String {
    let cmd = match backend {
        BackendKind::Nftables => "nft list ruleset".to_string(),
        BackendKind::IptablesNft => "iptables-nft-save; ip6tables-nft-save".to_string(),
        BackendKind::IptablesLegacy => "iptables-legacy-save; ip6tables-legacy-save".to_string(),
    };
    ns.sh(&cmd).unwrap()
}

fn apply_in_fresh_namespace(k: &Constructs, rs: &RuleSet, label: &str) -> String {
    let ns = NetNs::new("ra-matrix").unwrap();
    let backend: Box<dyn Backend> = match k.backend {
        BackendKind::Nftables => Box::new(ns.run(Nftables::new).unwrap()),
        BackendKind::IptablesNft => {
            Box::new(Iptables::new(capabilities::IptablesVariant::Nft, k.ipset))
        }
        BackendKind::IptablesLegacy => Box::new(Iptables::new(
            capabilities::IptablesVariant::Legacy,
            k.ipset,
        )),
    };
    ns.run(|| backend.apply(rs))
        .unwrap_or_else(|e| panic!("{label}: apply on {}: {e}\n{rs}", k.backend));
    ns.run(|| backend.verify(rs))
        .unwrap_or_else(|e| panic!("{label}: verify: {e}"));
    let text = kernel_text(&ns, k.backend);
    ns.run(|| {
        backend.remove(&Owned {
            table_names: vec![plan::filter::TABLE.into()],
        })
    })
    .unwrap();
    let after = kernel_text(&ns, k.backend);
    assert!(
        !after.contains("routeagent") && !after.contains("RA-"),
        "{label}: remove left:\n{after}"
    );
    text
}

fn scenarios(real: &Capabilities) -> Vec<(String, Capabilities)> {
    let mut out = vec![("nothing missing".to_string(), real.clone())];
    for f in Feature::ALL {
        let mut c = real.clone();
        c.assume_missing(f);
        out.push((format!("--assume-missing {f}"), c));
    }
    let mut all = real.clone();
    Feature::ALL.into_iter().for_each(|f| all.assume_missing(f));
    out.push(("all missing".into(), all));
    let mut no_nft = real.clone();
    no_nft.assume_missing(Feature::Nftables);
    no_nft.assume_missing(Feature::Ipset);
    out.push(("no nftables, no ipset".into(), no_nft));
    out
}

#[test]
#[ignore = "needs root and network namespaces"]
fn the_agents_plan_under_every_assumed_missing_feature() {
    netns::require_root();
    let probe_ns = NetNs::new("ra-matrix").unwrap();
    let real = probe_ns.run(|| probe(&ProbeOptions::default()));
    drop(probe_ns);
    assert!(
        Feature::ALL.iter().all(|f| real.has(*f)),
        "this machine supports everything: {:?}",
        real.features
    );
    let topo = topology();
    let mut applied = 0;
    for (label, caps) in scenarios(&real) {
        let k = match choose(&caps, PacketFilterRequest::Auto) {
            Ok(k) => k,
            Err(e) => {
                assert_eq!(label, "all missing", "{label}: not ready: {e}");
                assert!(e.reason.contains("no packet filter"), "{e}");
                continue;
            }
        };
        // the expected degradations, each with reason and fix
        let missing: Vec<Feature> = caps.assumed_missing.iter().copied().collect();
        for f in &missing {
            let expected = RELEVANT.contains(f)
                || *f == Feature::Nftables
                || (*f == Feature::Ipset && k.backend != BackendKind::Nftables);
            let d = k.degradations.iter().find(|d| d.feature == *f);
            assert_eq!(
                d.is_some(),
                expected,
                "{label}: degradation of {f}: {:?}",
                k.degradations
            );
            if let Some(d) = d {
                assert!(!d.reason.is_empty() && !d.fix.is_empty());
            }
        }
        for node in ["a1", "a2"] {
            let label = format!("{label}, node {node}");
            let facts = facts(node);
            let p = plan::plan(&PlanInput {
                topology: &topo,
                node,
                facts: &facts,
                constructs: &k,
            })
            .unwrap_or_else(|e| panic!("{label}: plan: {e}"));
            let rs = &p.ruleset;
            ruleset::validate(rs).unwrap_or_else(|e| panic!("{label}: {e}"));
            for t in &rs.tables {
                for c in &t.chains {
                    if let Some(b) = c.base {
                        assert!(
                            !(b.ty == ChainType::Route && b.hook == Hook::Postrouting),
                            "{label}: route chain on postrouting"
                        );
                    }
                }
            }
            let text = apply_in_fresh_namespace(&k, rs, &label);
            applied += 1;
            let nft = k.backend == BackendKind::Nftables;
            let has = |s: &str| text.contains(s);
            // what is still supported is programmed; what is off is not
            assert_eq!(
                has("maxseg") || has("TCPMSS"),
                k.mss_clamp,
                "{label}: mss clamp\n{text}"
            );
            assert_eq!(
                has("snat ip to ip saddr") || has("snat to ip saddr") || has("NETMAP"),
                k.self_snat,
                "{label}: self-snat\n{text}"
            );
            if k.comments != (has("comment")) {
                // no comments at all is fine when the plan writes none
                assert!(!has("comment"), "{label}: comments off but present\n{text}");
            }
            if nft {
                assert_eq!(
                    has("table inet routeagent"),
                    k.layout == capabilities::TableLayout::Inet,
                    "{label}: layout\n{text}"
                );
                assert_eq!(
                    has("flags interval"),
                    k.interval_sets,
                    "{label}: interval sets\n{text}"
                );
                assert!(
                    has("type filter hook postrouting priority mangle") == k.mss_clamp,
                    "{label}: MSS chain\n{text}"
                );
            } else {
                assert!(
                    has("-A INPUT -j RA-") && has("-A POSTROUTING -j RA-"),
                    "{label}: jumps\n{text}"
                );
                assert_eq!(has("match-set"), k.ipset, "{label}: ipset\n{text}");
                if k.mss_clamp {
                    let mangle = text.split("*mangle").nth(1).unwrap_or("");
                    assert!(mangle.contains("TCPMSS"), "{label}: MSS in mangle\n{text}");
                }
            }
        }
    }
    // 13 single features + nothing + no-nftables, on two nodes ("all missing" is not ready)
    assert_eq!(applied, 30);
    assert!(netns::list().iter().all(|n| !n.starts_with("ra-matrix")));
}
