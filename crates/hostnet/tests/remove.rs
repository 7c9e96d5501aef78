//! remove_all returns the namespace to exactly its state before the first
//! converge (sysctls restored from the journal), also from a new Host
//! resumed from the persisted journal, and is idempotent.

mod common;
use common::*;
use hostnet::{Host, SysctlJournal};

#[test]
#[ignore = "needs root and network namespaces"]
fn remove_all_restores_the_snapshot_taken_before_converge() {
    for (name, plan, node_ip, cni_ip) in [
        ("ra-hn-rm-gw", gateway_plan(), "10.1.0.2", "10.244.1.1"),
        ("ra-hn-rm-wk", worker_plan(), "10.1.0.3", "10.244.2.1"),
    ] {
        let ns = node(name, node_ip, cni_ip);
        // A non-default original value, to prove it is restored, not reset.
        ns.sh("sysctl -qw net.ipv4.conf.cni0.rp_filter=1").unwrap();
        let keys = keys(&plan);
        let (before, after, first, second) = block(&ns, || async {
            let mut h = Host::new().unwrap();
            let before = h.snapshot(&keys).await.unwrap();
            let r = h.converge(&plan).await.unwrap();
            assert!(r.errors.is_empty(), "{r}");
            let first = h.remove_all().await.unwrap();
            let second = h.remove_all().await.unwrap();
            let after = h.snapshot(&keys).await.unwrap();
            (before, after, first, second)
        });
        assert_eq!(
            before.diff(&after),
            Vec::<String>::new(),
            "{name}: namespace differs after remove_all"
        );
        assert_eq!(before, after);
        assert!(first.errors.is_empty(), "{first}");
        assert_eq!(first.links.deleted, 1, "{first}");
        assert_eq!(first.sysctls.updated, 1, "cni0 rp_filter put back: {first}");
        assert!(
            second.is_noop(),
            "second remove_all changes nothing: {second}"
        );
        // Independent checks.
        assert_eq!(sysctl_value(&ns, "net.ipv4.conf.cni0.rp_filter"), "1");
        assert!(ns.sh("ip link show vx-submariner").is_err());
        assert_eq!(ns.sh("ip route show table all proto 166").unwrap(), "");
        assert!(!ns.sh("ip rule; ip -6 rule").unwrap().contains("proto 166"));
    }
}

#[test]
#[ignore = "needs root and network namespaces"]
fn uninstall_from_a_new_host_with_the_persisted_journal() {
    let ns = node("ra-hn-journal", "10.1.0.2", "10.244.1.1");
    let plan = gateway_plan();
    let keys = keys(&plan);
    let (before, saved) = block(&ns, || async {
        let mut h = Host::new().unwrap();
        let before = h.snapshot(&keys).await.unwrap();
        h.converge(&plan).await.unwrap();
        (before, serde_json::to_string(h.journal()).unwrap())
    });
    let journal: SysctlJournal = serde_json::from_str(&saved).unwrap();
    assert_eq!(journal.originals.len(), 3, "{saved}");
    assert_eq!(sysctl_value(&ns, "net.ipv4.conf.cni0.rp_filter"), "2");
    let after = block(&ns, || async {
        let mut h = Host::with_journal(journal).unwrap();
        let r = h.remove_all().await.unwrap();
        assert!(r.errors.is_empty(), "{r}");
        assert!(h.journal().is_empty(), "journal drained: {:?}", h.journal());
        h.snapshot(&keys).await.unwrap()
    });
    assert_eq!(before.diff(&after), Vec::<String>::new());
}
