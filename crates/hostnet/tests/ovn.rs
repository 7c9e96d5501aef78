//! The OVN datapath's host objects in a namespace: rules with `to`/`from`
//! selectors and default routes into a stand-in `ovn-k8s-mp0`; facts
//! discovery; idempotence; a changed remote subnet; the management port's
//! address removed and re-added (as ovnkube-node does) repaired by the next
//! converge; uninstall leaves nothing.

mod common;
use common::*;
use hostnet::Host;
use plan::{HostPlan, RoutingRule};
use ruleset::IpVersion;

/// A node with `ovn-k8s-mp0` (a veth) holding 10.244.1.2/24 and
/// `10.244.0.0/16 via 10.244.1.1 dev ovn-k8s-mp0`, as OVN-Kubernetes sets it.
fn ovn_node(prefix: &str) -> netns::NetNs {
    let ns = node(prefix, "10.1.0.2", "10.250.0.1");
    ns.sh("set -e
           ip link add ovn-k8s-mp0 type veth peer name mp0-peer
           ip link set mp0-peer up
           ip addr add 10.244.1.2/24 dev ovn-k8s-mp0
           ip link set ovn-k8s-mp0 up
           ip route add 10.244.0.0/16 via 10.244.1.1 dev ovn-k8s-mp0")
        .expect("mp0 setup");
    ns
}

fn rule(pref: u32, from: Option<&str>, to: &str) -> RoutingRule {
    RoutingRule {
        pref,
        table: pref,
        version: IpVersion::V4,
        from: from.map(net),
        to: Some(net(to)),
    }
}

/// A gateway's OVN rules and routes (no cable: the rules are the subject).
fn ovn_plan(remotes: &[&str]) -> HostPlan {
    let mut p = HostPlan {
        routes: vec![route(
            "0.0.0.0/0",
            Some("10.244.1.1"),
            "ovn-k8s-mp0",
            None,
            149,
        )],
        ..HostPlan::default()
    };
    for r in remotes {
        p.rules.push(rule(150, None, r));
        p.rules.push(rule(149, Some(r), "10.244.0.0/16"));
    }
    p.rules.sort();
    p
}

fn rules(ns: &netns::NetNs) -> Vec<String> {
    let mut v: Vec<String> = ns
        .sh("ip -4 rule show")
        .unwrap()
        .lines()
        .filter(|l| l.contains("proto 166"))
        .map(|l| l.trim_end().to_string())
        .collect();
    v.sort();
    v
}

#[test]
#[ignore = "needs root and network namespaces"]
fn selector_rules_and_mp0_routes_converge_and_are_repaired() {
    let ns = ovn_node("ra-hn-ovn");
    let p1 = ovn_plan(&["10.245.0.0/16", "10.97.0.0/16"]);
    let p2 = ovn_plan(&["10.245.0.0/16", "10.98.0.0/16"]);
    let (facts, first, second, third) = block(&ns, || async {
        let mut h = Host::new().unwrap();
        let facts = hostnet::ovn::ovn_facts(h.handle(), &[net("10.244.0.0/16")])
            .await
            .unwrap();
        let first = h.converge(&p1).await.unwrap();
        let second = h.converge(&p1).await.unwrap();
        let third = h.converge(&p2).await.unwrap();
        (facts, first, second, third)
    });
    assert_eq!(facts.mp0_addr, Some("10.244.1.2".parse().unwrap()));
    assert_eq!(facts.router, Some("10.244.1.1".parse().unwrap()));
    assert!(first.errors.is_empty(), "{first}");
    assert_eq!(
        (first.rules.created, first.routes.created),
        (4, 1),
        "{first}"
    );
    assert!(second.is_noop(), "{second}");
    assert_eq!(
        (third.rules.created, third.rules.deleted),
        (2, 2),
        "{third}"
    );
    assert_eq!(
        rules(&ns),
        [
            "149:\tfrom 10.245.0.0/16 to 10.244.0.0/16 lookup 149 proto 166",
            "149:\tfrom 10.98.0.0/16 to 10.244.0.0/16 lookup 149 proto 166",
            "150:\tfrom all to 10.245.0.0/16 lookup 150 proto 166",
            "150:\tfrom all to 10.98.0.0/16 lookup 150 proto 166",
        ]
    );
    assert_eq!(
        ns.sh("ip route show table all proto 166")
            .unwrap()
            .trim_end(),
        "default via 10.244.1.1 dev ovn-k8s-mp0 table 149"
    );

    // ovnkube-node re-adds the port's address: the kernel drops the route via it.
    ns.sh("ip addr flush dev ovn-k8s-mp0; ip addr add 10.244.1.2/24 dev ovn-k8s-mp0; ip route add 10.244.0.0/16 via 10.244.1.1 dev ovn-k8s-mp0")
        .unwrap();
    assert_eq!(
        ns.sh("ip route show table 149").unwrap(),
        "",
        "the route went with the address"
    );
    let (repair, removed) = block(&ns, || async {
        let mut h = Host::new().unwrap();
        let repair = h.converge(&p2).await.unwrap();
        let removed = h.remove_all().await.unwrap();
        (repair, removed)
    });
    assert_eq!(repair.routes.created, 1, "{repair}");
    assert!(removed.errors.is_empty(), "{removed}");
    assert_eq!(rules(&ns), Vec::<String>::new());
    assert_eq!(ns.sh("ip route show table all proto 166").unwrap(), "");
}

/// Waits (10 s at most: the machine may be loaded) for a management-port
/// address event with `deleted`.
async fn mp0_event(m: &mut hostnet::Monitor, deleted: bool) -> hostnet::Event {
    let what = format!("an ovn-k8s-mp0 address event (deleted: {deleted})");
    let (e, _) = next_event(
        m,
        &what,
        std::time::Duration::from_secs(10),
        |e| matches!(e, hostnet::Event::ManagementPortAddress { deleted: d, .. } if *d == deleted),
    )
    .await;
    e
}

/// The monitor reports `ovn-k8s-mp0` losing and regaining its address
/// (ovnkube-node re-adding it), also when the port appears after the
/// monitor started, and the cluster-CIDR route re-added through it; other
/// links' addresses are not reported.
#[test]
#[ignore = "needs root and network namespaces"]
fn monitor_reports_the_management_port_address() {
    let ns = node("ra-hn-ovnmon", "10.1.0.2", "10.250.0.1");
    let nsr = &ns;
    block(&ns, || async move {
        let mut m = hostnet::watch().await.unwrap();
        nsr.sh("ip link add br9 type bridge; ip addr add 10.9.9.9/24 dev br9")
            .unwrap();
        nsr.sh("set -e
                ip link add ovn-k8s-mp0 type veth peer name mp0-peer
                ip link set ovn-k8s-mp0 up
                ip addr add 10.244.1.2/24 dev ovn-k8s-mp0")
            .unwrap();
        let e = mp0_event(&mut m, false).await;
        assert_eq!(
            e,
            hostnet::Event::ManagementPortAddress {
                dev: "ovn-k8s-mp0".into(),
                addr: net("10.244.1.2/24"),
                deleted: false
            }
        );
        nsr.sh("ip addr flush dev ovn-k8s-mp0").unwrap();
        mp0_event(&mut m, true).await;
        nsr.sh("ip addr add 10.244.1.2/24 dev ovn-k8s-mp0").unwrap();
        mp0_event(&mut m, false).await;
        // The cluster-CIDR route ovnkube-node adds after the address.
        nsr.sh("ip route add 10.244.0.0/16 via 10.244.1.1 dev ovn-k8s-mp0")
            .unwrap();
        let want = hostnet::Event::ManagementPortRoute {
            dst: net("10.244.0.0/16"),
            via: "10.244.1.1".parse().unwrap(),
            deleted: false,
        };
        next_event(
            &mut m,
            "the cluster-CIDR route event on ovn-k8s-mp0",
            std::time::Duration::from_secs(10),
            |e| *e == want,
        )
        .await;
    });
}
