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
        "proc_sys",
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

#[test]
fn read_only_proc_sys_is_reported_with_ip_forward_and_the_fix() {
    let mut c = Capabilities::full();
    c.sysctls.insert("net.ipv4.ip_forward".into(), "0".into());
    c.proc_sys_writable = Some(false);
    let r = report(&c, Req::Auto);
    let conflicts = r.conflicts();
    let ids: Vec<&str> = conflicts.iter().map(|x| x.id).collect();
    assert_eq!(
        ids,
        ["accept-not-final", "ip-forward-off", "proc-sys-read-only"]
    );
    assert!(
        conflicts[1]
            .message
            .contains("set it on the node (`sysctl -w net.ipv4.ip_forward=1`"),
        "{}",
        conflicts[1].message
    );
    assert!(
        conflicts[2].message.contains("net.ipv4.ip_forward = 0")
            && conflicts[2].message.contains("rtnetlink"),
        "{}",
        conflicts[2].message
    );
    let j = r.to_json();
    assert_eq!(j["proc_sys"]["writable"], false);
    assert_eq!(j["sysctls"]["net.ipv4.ip_forward"], "0");
    assert!(r.to_string().contains("/proc/sys: read-only"), "{r}");
    assert_eq!(r.exit_code(), 0, "information, not a degradation");
    c.proc_sys_writable = Some(true);
    let r = report(&c, Req::Auto);
    assert!(r.conflicts().iter().all(|x| x.id != "proc-sys-read-only"));
    assert!(r.to_string().contains("/proc/sys: writable"));
}

#[test]
fn mount_table_decides_whether_proc_sys_is_writable() {
    let host = "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda rw\n\
                23 22 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n";
    assert_eq!(probe::host::writable_in(host, "/proc/sys/net"), Some(true));
    // A container runtime's readonlyPaths: /proc/sys bind-mounted read-only.
    let pod =
        format!("{host}40 23 0:22 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc rw\n");
    assert_eq!(probe::host::writable_in(&pod, "/proc/sys/net"), Some(false));
    // /proc/sysrq-trigger is not under /proc/sys.
    let other = format!("{host}41 23 0:22 /sysrq-trigger /proc/sysrq-trigger ro - proc proc rw\n");
    assert_eq!(
        probe::host::writable_in(&other, "/proc/sys/net"),
        Some(true)
    );
    assert_eq!(probe::host::writable_in("", "/proc/sys/net"), None);
}
