//! A gratuitous ARP resolves a peer's INCOMPLETE neighbour entry at once,
//! instead of at the peer's next ARP retry (1 s later). Needs root.

use netns::NetNs;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

fn neigh(ns: &NetNs) -> String {
    ns.sh("ip neigh show 10.9.0.1 dev vb").unwrap()
}

#[test]
#[ignore = "needs root and network namespaces"]
fn announcement_resolves_a_waiting_peer_before_its_retry() {
    netns::require_root();
    let a = NetNs::new("ra-hn-garp-a").unwrap();
    let b = NetNs::new("ra-hn-garp-b").unwrap();
    b.sh(&format!(
        "ip link add vb type veth peer name va netns {} && ip addr add 10.9.0.2/24 dev vb && ip link set vb up",
        a.name()
    ))
    .unwrap();
    // `arp off`: a does not answer, so b's request is lost, as a request to
    // a gateway whose tunnel does not exist yet.
    a.sh("ip addr add 10.9.0.1/24 dev va && ip link set va arp off && ip link set va up")
        .unwrap();
    let mut ping = b.cmd("ping");
    ping.args(["-c", "1", "-W", "2", "-q", "10.9.0.1"]);
    let mut child = ping.spawn().unwrap();
    let asked = Instant::now();
    std::thread::sleep(Duration::from_millis(200));
    assert!(neigh(&b).contains("INCOMPLETE"), "{}", neigh(&b));
    a.sh("ip link set va arp on").unwrap();
    a.run(|| hostnet::announce::announce("va", Ipv4Addr::new(10, 9, 0, 1)))
        .unwrap_or_else(|e| panic!("announce: {e}"));
    let mac = a.sh("cat /sys/class/net/va/address").unwrap_or_default();
    let mut resolved = String::new();
    while asked.elapsed() < Duration::from_millis(800) {
        resolved = neigh(&b);
        if resolved.contains("lladdr") {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let took = asked.elapsed();
    let _ = child.wait();
    // b's next probe would leave 1 s after the first: earlier means the
    // announcement did it.
    assert!(
        resolved.contains("lladdr") && took < Duration::from_millis(800),
        "not resolved {took:?} after the request: {resolved}"
    );
    let mac = mac.trim();
    if !mac.is_empty() {
        assert!(resolved.contains(mac), "{resolved} (va is {mac})");
    }
    let err = a
        .run(|| hostnet::announce::announce("nosuchdev", Ipv4Addr::new(10, 9, 0, 1)))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("gratuitous ARP 10.9.0.1 dev nosuchdev"),
        "{err}"
    );
}
