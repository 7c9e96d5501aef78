//! The host primitives of a takeover against the kernel, in throwaway
//! namespaces: re-owning a Go-agent route in place keeps it (same route,
//! now proto 166) without a moment where the destination is unrouted, and
//! removing the Go agent's `pref 150 lookup 150` keeps the agent's own
//! rule of the same priority and table, whichever order they were added in.

use netns::NetNs;
use plan::{HostPlan, Route, RoutingRule};
use ruleset::IpVersion;

fn node() -> NetNs {
    netns::require_root();
    let ns = NetNs::new("ratkt").expect("namespace");
    ns.sh("ip link add eth0 type veth peer name eth0p && ip addr add 10.1.0.1/24 dev eth0 && ip link set eth0 up && ip link set eth0p up")
        .expect("uplink");
    ns
}

fn block<R: Send, F: std::future::Future<Output = R>>(
    ns: &NetNs,
    f: impl FnOnce() -> F + Send,
) -> R {
    ns.run(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f())
    })
}

fn gateway_plan() -> HostPlan {
    HostPlan {
        routes: vec![Route {
            dst: "10.245.0.0/16".parse().unwrap(),
            via: Some("10.1.0.254".parse().unwrap()),
            dev: "eth0".into(),
            src: None,
            table: 150,
            onlink: false,
        }],
        rules: vec![RoutingRule {
            pref: 150,
            table: 150,
            version: IpVersion::V4,
            from: None,
            to: None,
        }],
        ..Default::default()
    }
}

#[test]
#[ignore = "needs root and network namespaces"]
fn reown_turns_the_go_route_into_ours_in_place() {
    let ns = node();
    ns.sh("ip route add 10.245.0.0/16 dev eth0 table 150 proto static && ip route add 10.250.0.0/16 dev eth0 table 150 proto static")
        .unwrap();
    let plan = gateway_plan();
    let (adopted, errors) = block(&ns, || async {
        let h = hostnet::Host::new().unwrap();
        let found = takeover::host::discover(h.handle()).await.unwrap();
        assert_eq!(found.routes.len(), 2);
        takeover::host::reown(h.handle(), &plan, &found).await
    });
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(adopted.len(), 1, "{adopted:?}");
    assert_eq!(
        ns.sh("ip route show table 150").unwrap(),
        "10.245.0.0/16 dev eth0 proto 166 scope link \n10.250.0.0/16 dev eth0 proto static scope link \n"
    );
    let (removed, errors) = block(&ns, || async {
        let h = hostnet::Host::new().unwrap();
        takeover::host::remove_stale(h.handle(), &plan).await
    });
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert_eq!(
        ns.sh("ip route show table 150").unwrap(),
        "10.245.0.0/16 dev eth0 proto 166 scope link \n"
    );
}

#[test]
#[ignore = "needs root and network namespaces"]
fn the_go_rule_goes_and_ours_stays() {
    for order in [
        "ip rule add pref 150 lookup 150 && ip rule add pref 150 lookup 150 proto 166",
        "ip rule add pref 150 lookup 150 proto 166 && ip rule add pref 150 lookup 150",
    ] {
        let ns = node();
        ns.sh(order).unwrap();
        let (removed, errors) = block(&ns, || async {
            let h = hostnet::Host::new().unwrap();
            takeover::host::remove_stale(h.handle(), &gateway_plan()).await
        });
        assert!(errors.is_empty(), "{order}: {errors:?}");
        assert_eq!(removed.len(), 1, "{order}: {removed:?}");
        assert_eq!(
            ns.sh("ip rule show pref 150").unwrap(),
            "150:\tfrom all lookup 150 proto 166\n",
            "{order}"
        );
    }
}
