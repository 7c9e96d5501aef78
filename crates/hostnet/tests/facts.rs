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
