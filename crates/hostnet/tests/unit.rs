//! Checks that need no namespace: runtime requirement, report counting,
//! snapshot diff, journal serialisation.

use hostnet::snapshot::{AddrSnap, LinkSnap};
use hostnet::{Changes, ConvergeReport, Error, Host, HostSnapshot, Outcome, SysctlJournal};

#[test]
fn host_needs_a_tokio_runtime() {
    assert!(matches!(Host::new(), Err(Error::NoRuntime)));
}

#[test]
fn report_counts_changes() {
    let mut r = ConvergeReport::default();
    assert!(r.is_noop());
    r.routes.record(Outcome::Created);
    r.routes.record(Outcome::Unchanged);
    r.links.record(Outcome::Updated);
    r.fdb.record(Outcome::Deleted);
    assert_eq!(r.changes(), 3);
    assert_eq!(
        r.routes,
        Changes {
            created: 1,
            updated: 0,
            deleted: 0
        }
    );
    assert!(!r.is_noop());
    assert!(r.to_string().contains("routes +1 ~0 -0"), "{r}");
}

#[test]
fn snapshot_diff_is_readable() {
    let link = |mtu| LinkSnap {
        name: "vx-submariner".into(),
        kind: Some("vxlan".into()),
        mtu,
        up: true,
        master: None,
        vxlan: Some("id 100 dstport 4800 nolearning".into()),
    };
    let mut a = HostSnapshot::default();
    a.links.push(link(1350));
    a.sysctls
        .insert("net.ipv4.conf.cni0.rp_filter".into(), Some("0".into()));
    let mut b = a.clone();
    b.links[0] = link(1300);
    b.addresses.push(AddrSnap {
        dev: "vx-submariner".into(),
        addr: "240.1.0.2/8".parse().unwrap(),
        scope: 0,
    });
    b.sysctls
        .insert("net.ipv4.conf.cni0.rp_filter".into(), Some("2".into()));
    assert_eq!(
        hostnet::diff(&a, &b),
        "- link vx-submariner mtu 1350 up type vxlan id 100 dstport 4800 nolearning\n\
         + link vx-submariner mtu 1300 up type vxlan id 100 dstport 4800 nolearning\n\
         + addr 240.1.0.2/8 dev vx-submariner scope 0\n\
         ~ sysctl net.ipv4.conf.cni0.rp_filter: 0 -> 2"
    );
    assert!(a.diff(&a).is_empty());
    let back: HostSnapshot = serde_json::from_str(&serde_json::to_string(&b).unwrap()).unwrap();
    assert_eq!(back, b);
}

#[test]
fn journal_round_trips() {
    let mut j = SysctlJournal::default();
    j.originals
        .insert("net.ipv4.conf.cni0.rp_filter".into(), "1".into());
    let back: SysctlJournal = serde_json::from_str(&serde_json::to_string(&j).unwrap()).unwrap();
    assert_eq!(back, j);
}

#[test]
fn sysctl_paths_keep_dots_in_interface_names() {
    use hostnet::sysctl::sysctl_path;
    assert_eq!(
        sysctl_path("net.ipv4.conf.flannel.1.rp_filter"),
        std::path::Path::new("/proc/sys/net/ipv4/conf/flannel.1/rp_filter")
    );
    assert_eq!(
        sysctl_path("net.ipv4.ip_forward"),
        std::path::Path::new("/proc/sys/net/ipv4/ip_forward")
    );
}

#[test]
fn per_interface_ipv4_keys_go_over_rtnetlink_and_the_rest_through_proc_sys() {
    use hostnet::sysctl::devconf::DevKey;
    let k = DevKey::parse("net.ipv4.conf.flannel.1.rp_filter").unwrap();
    assert_eq!((k.dev, k.id), ("flannel.1", 8));
    let k = DevKey::parse("net.ipv4.conf.vx-submariner.forwarding").unwrap();
    assert_eq!((k.dev, k.id), ("vx-submariner", 1));
    assert_eq!(
        DevKey::parse("net.ipv4.conf.eth0.src_valid_mark").map(|k| k.id),
        Some(24)
    );
    for global in [
        "net.ipv4.ip_forward",
        "net.ipv4.conf.all.rp_filter",
        "net.ipv4.conf.default.forwarding",
        "net.ipv6.conf.eth0.forwarding",
        "net.ipv4.conf.eth0.mc_forwarding",
        "net.ipv4.conf.eth0.no_such_key",
        "net.ipv4.conf..rp_filter",
    ] {
        assert_eq!(DevKey::parse(global), None, "{global}");
    }
}
