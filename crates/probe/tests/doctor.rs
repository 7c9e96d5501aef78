//! The doctor report from made-up capabilities: exit codes, JSON shape,
//! conflicts.

use capabilities::{choose, Capabilities, Feature, IptablesVariant, PacketFilterRequest as Req};
use probe::doctor::Report;

fn report(c: &Capabilities, req: Req) -> Report {
    let k = choose(c, req);
    Report::new(c, k.as_ref())
}

#[test]
fn exit_codes_follow_support_degradation_and_core_job() {
    let full = Capabilities::full();
    assert_eq!(report(&full, Req::Auto).exit_code(), 0);
    let mut c = full.clone();
    c.assume_missing(Feature::MssClamp);
    assert_eq!(report(&c, Req::Auto).exit_code(), 1);
    let mut c = full.clone();
    c.assume_missing(Feature::Vxlan);
    assert_eq!(
        report(&c, Req::Auto).exit_code(),
        2,
        "no vxlan: core job impossible"
    );
    let mut c = full.clone();
    c.assume_missing(Feature::Nftables);
    assert_eq!(
        report(&c, Req::Nftables).exit_code(),
        2,
        "explicit request unmet: no backend"
    );
    assert_eq!(
        report(&c, Req::Auto).exit_code(),
        1,
        "fallback to iptables is a degradation"
    );
}

#[test]
fn json_has_the_documented_keys() {
    let mut c = Capabilities::full();
    c.assume_missing(Feature::SelfSnat);
    let j = report(&c, Req::Auto).to_json();
    for k in [
        "kernel",
        "backend",
        "chains",
        "features",
        "constructs",
        "degradations",
        "conflicts",
        "sysctls",
        "iptables",
        "assumed_missing",
        "probe_ms",
        "exit_code",
    ] {
        assert!(j.get(k).is_some(), "missing {k}: {j:#}");
    }
    assert_eq!(j["chains"]["ip"]["route"]["postrouting"], false);
    assert_eq!(j["chains"]["inet"]["route"]["output"], true);
    assert_eq!(j["features"]["self-snat"]["enabled"], false);
    assert!(j["features"]["self-snat"]["fix"]
        .as_str()
        .unwrap()
        .contains("--assume-missing self-snat"));
    assert_eq!(
        j["features"]["mss-clamp"],
        serde_json::json!({"enabled": true, "reason": null, "fix": null})
    );
    assert_eq!(j["degradations"][0]["feature"], "self-snat");
    assert_eq!(j["backend"]["chosen"], "nftables");
    let e = report(
        &{
            let mut c = Capabilities::full();
            c.assume_missing(Feature::Nftables);
            c
        },
        Req::Nftables,
    )
    .to_json();
    assert!(
        e["backend"]["chosen"].is_null() && e["backend"]["not_ready"]["reason"].is_string(),
        "{e:#}"
    );
}

#[test]
fn conflicts_name_legacy_hosts_strict_rp_filter_and_forwarding() {
    let mut c = Capabilities::full();
    c.iptables.host_uses = Some(IptablesVariant::Legacy);
    c.iptables.evidence = vec!["iptables-legacy: 40 rules, chains KUBE-SERVICES".into()];
    c.sysctls
        .insert("net.ipv4.conf.all.rp_filter".into(), "1".into());
    c.sysctls.insert("net.ipv4.ip_forward".into(), "0".into());
    let r = report(&c, Req::Auto);
    let ids: Vec<&str> = r.conflicts().iter().map(|x| x.id).collect();
    assert_eq!(
        ids,
        [
            "iptables-legacy-in-use",
            "accept-not-final",
            "rp-filter-strict",
            "ip-forward-off"
        ]
    );
    let text = r.to_string();
    assert!(
        text.contains("KUBE-SERVICES") && text.contains("self-SNAT"),
        "{text}"
    );
    c.assume_missing(Feature::SelfSnat);
    let r = report(&c, Req::Auto);
    assert!(r.conflicts()[1]
        .message
        .contains("self-SNAT is unavailable"));
    // conflicts are information, not degradations
    let mut ok = Capabilities::full();
    ok.sysctls.insert("net.ipv4.ip_forward".into(), "0".into());
    assert_eq!(report(&ok, Req::Auto).exit_code(), 0);
}
