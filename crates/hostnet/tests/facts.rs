//! Facts discovery on a namespace with a veth uplink (mtu 1400), a CNI
//! bridge and a second veth holding the public IP, checked against `ip -j`.

mod common;
use common::*;
use hostnet::{Error, Host};
use plan::{FactsQuery, Iface, Role};

/// The query `Host::discover` answers, as `FactsQuery::new` builds it from a topology.
fn query(
    node_ip: &str,
    cidrs: &[ipnet::IpNet],
    cni: Option<&str>,
    public: Option<&str>,
) -> FactsQuery {
    FactsQuery {
        node: "n".into(),
        role: Role::Gateway,
        node_ip: ip(node_ip),
        cluster_cidrs: cidrs.to_vec(),
        cni_interface: cni.map(str::to_string),
        public_ip: public.map(ip),
        next_hop_for: vec![],
    }
}

#[test]
#[ignore = "needs root and network namespaces"]
fn uplink_cni_and_public_interfaces_are_found() {
    let ns = node("ra-hn-facts", "10.1.0.2", "10.244.1.1");
    ns.sh("set -e
         ip link add pub0 mtu 1450 type veth peer name pubpeer
         ip addr add 172.16.0.2/24 dev pub0
         ip link set pub0 up")
        .unwrap();
    let cidrs = [net("10.244.0.0/16")];
    let (f, same, overridden, missing) = block(&ns, || async {
        let h = Host::new().unwrap();
        let f = Host::new()
            .unwrap()
            .discover(&query("10.1.0.2", &cidrs, None, Some("172.16.0.2")))
            .await
            .unwrap();
        let same = h
            .discover(&query("10.1.0.2", &cidrs, None, Some("10.1.0.2")))
            .await
            .unwrap();
        let overridden = h
            .discover(&query("10.1.0.2", &[], Some("pub0"), None))
            .await
            .unwrap();
        let missing = h.discover(&query("10.9.9.9", &cidrs, None, None)).await;
        (f, same, overridden, missing)
    });
    // Independent truth from `ip -j link` / `ip -j addr`.
    let mtu = |dev: &str| {
        json(&ns, &format!("ip -j link show {dev}"))[0]["mtu"]
            .as_u64()
            .unwrap() as u32
    };
    assert_eq!(mtu("eth0"), 1400);
    assert_eq!(
        f.uplink,
        Iface {
            name: "eth0".into(),
            mtu: 1400,
            addr: ip("10.1.0.2")
        }
    );
    assert_eq!(
        f.cni,
        Some(Iface {
            name: "cni0".into(),
            mtu: mtu("cni0"),
            addr: ip("10.244.1.1")
        })
    );
    assert_eq!(
        f.public,
        Some(Iface {
            name: "pub0".into(),
            mtu: 1450,
            addr: ip("172.16.0.2")
        })
    );
    assert_eq!(
        same.public, None,
        "public IP on the uplink: no separate public interface"
    );
    assert_eq!(
        overridden.cni,
        Some(Iface {
            name: "pub0".into(),
            mtu: 1450,
            addr: ip("172.16.0.2")
        })
    );
    match missing {
        Err(e @ Error::Facts { .. }) => assert!(e.to_string().contains("10.9.9.9"), "{e}"),
        other => panic!("expected a facts error, got {other:?}"),
    }
}

/// The default-route interface and the next hops towards remote gateways
/// (Submariner issue #1106), from the main table.
#[test]
#[ignore = "needs root and network namespaces"]
fn default_route_and_next_hops_are_found() {
    let ns = node("ra-hn-nexthop", "10.1.0.2", "10.244.1.1");
    ns.sh("set -e
         ip link add pub0 mtu 1450 type veth peer name pubpeer
         ip addr add 172.16.0.2/24 dev pub0
         ip link set pub0 up
         ip route add default via 172.16.0.1 dev pub0
         ip route add 10.2.0.0/16 via 172.16.0.254 dev pub0
         ip route add 10.2.0.0/16 via 172.16.0.253 dev pub0 table 150")
        .unwrap();
    let mut q = query("10.1.0.2", &[net("10.244.0.0/16")], None, None);
    q.next_hop_for = vec![ip("10.2.0.1"), ip("172.16.0.9")];
    let f = block(&ns, || async {
        Host::new().unwrap().discover(&q).await.unwrap()
    });
    assert_eq!(
        f.default_route,
        Some(Iface {
            name: "pub0".into(),
            mtu: 1450,
            addr: ip("172.16.0.2")
        })
    );
    let hops: Vec<_> = f.next_hops.into_iter().collect();
    assert_eq!(
        hops,
        [
            (ip("10.2.0.1"), ip("172.16.0.254")),
            (ip("172.16.0.9"), ip("172.16.0.9"))
        ],
        "main table only; an on-link gateway is its own next hop"
    );
}

/// The facts' route dump (main table, IPv4 unicast) with 4000 routes in
/// table 150: on a `Host`'s connection (strict checking) the kernel sends
/// exactly the main table's IPv4 unicast routes, the same ones the whole
/// unfiltered dump holds for it (and `ip -4 -j route show table main`
/// lists); on a connection without strict checking (what a kernel older
/// than 4.20 gives) the kernel sends everything and the same answer comes
/// from filtering in user space. The protocol filter of the owned-routes
/// dump is checked the same way.
#[test]
#[ignore = "needs root and network namespaces"]
fn filtered_route_dumps_equal_the_unfiltered_dump_filtered() {
    use hostnet::routes::{
        dump_routes, list_owned_routes, list_routes, list_routes_where, RouteFilter, RouteState,
    };
    let ns = node("ra-hn-dump", "10.1.0.2", "10.244.1.1");
    ns.sh("set -e
         ip route add default via 10.1.0.254 dev eth0 metric 100
         ip route add default via 10.1.0.253 dev eth0 metric 50 proto static
         ip route add 10.50.0.0/16 via 10.1.0.3 dev eth0 proto 166
         ip route add 10.51.0.0/16 dev eth0 src 10.1.0.2 proto dhcp
         ip route add blackhole 10.60.0.0/16
         ip route add fd01::/64 via fd00::9 dev eth0
         i=0; while [ $i -lt 4000 ]; do
           echo \"route add 10.$((100 + i / 250)).$((i % 250)).0/24 dev eth0 src 10.244.1.1 table 150 proto 166\"
           i=$((i + 1))
         done | ip -batch -")
        .unwrap();
    let f = RouteFilter::MAIN_V4_UNICAST;
    let sorted = |mut v: Vec<RouteState>| {
        v.sort_by_key(|r| format!("{r:?}"));
        v
    };
    let (all, strict_kernel, strict, plain_kernel, plain, owned, plain_owned) =
        block(&ns, || async {
            let h = Host::new().unwrap();
            let (conn, plain, _) = rtnetlink::new_connection().unwrap();
            tokio::spawn(conn);
            (
                list_routes(h.handle()).await.unwrap(),
                dump_routes(h.handle(), &f).await.unwrap(),
                list_routes_where(h.handle(), &f).await.unwrap(),
                dump_routes(&plain, &f).await.unwrap(),
                list_routes_where(&plain, &f).await.unwrap(),
                list_owned_routes(h.handle()).await.unwrap(),
                list_owned_routes(&plain).await.unwrap(),
            )
        });
    let want = sorted(all.iter().filter(|r| f.matches(r)).cloned().collect());
    let mut dsts: Vec<String> = want.iter().map(|r| r.dst.to_string()).collect();
    dsts.dedup();
    // Independent truth: `ip -j` omits `type` for unicast routes.
    let ip_dsts: Vec<String> = json(&ns, "ip -4 -j route show table main")
        .iter()
        .filter(|r| r.get("type").is_none())
        .map(|r| match s(r, "dst").as_str() {
            "default" => "0.0.0.0/0".to_string(),
            d if d.contains('/') => d.to_string(),
            d => format!("{d}/32"),
        })
        .collect();
    let mut ip_sorted = ip_dsts.clone();
    ip_sorted.sort();
    ip_sorted.dedup();
    let mut dsts_sorted = dsts.clone();
    dsts_sorted.sort();
    assert_eq!(
        dsts_sorted, ip_sorted,
        "against ip -j route show table main"
    );
    assert!(
        dsts.contains(&"0.0.0.0/0".to_string()) && dsts.contains(&"10.51.0.0/16".to_string()),
        "{dsts:?}"
    );
    assert_eq!(want.iter().filter(|r| r.dst.prefix_len() == 0).count(), 2);
    assert_eq!(
        sorted(strict_kernel),
        want,
        "the kernel filtered the strict dump"
    );
    assert_eq!(sorted(strict), want);
    assert!(
        plain_kernel.len() > 4000,
        "without strict checking the kernel ignores the filters ({} routes)",
        plain_kernel.len()
    );
    assert_eq!(sorted(plain), want, "user-space fallback");
    let want_owned = sorted(all.iter().filter(|r| r.protocol == 166).cloned().collect());
    assert_eq!(want_owned.len(), 4001);
    assert_eq!(sorted(owned), want_owned);
    assert_eq!(sorted(plain_owned), want_owned);
}
