//! End to end: two clusters of two nodes (gateway + worker) with a pod each,
//! built in throwaway network namespaces like the lab, programmed only from
//! the plans (`ip_commands` + the nft ruleset). Pods reach pods across the
//! clusters through vx-submariner and the cable, from a worker and from the
//! gateway, host-network traffic too, and self-SNAT keeps the pod source
//! address although a CNI-like table masquerades. Needs root.

mod common;

use common::*;
use netns::NetNs;
use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;
use topology::Topology;

struct Lab {
    ns: BTreeMap<String, NetNs>,
}

impl Lab {
    fn n(&self, k: &str) -> &NetNs {
        &self.ns[k]
    }
    fn sh(&self, k: &str, script: &str) -> String {
        self.n(k)
            .sh(script)
            .unwrap_or_else(|e| panic!("{k}: {script}: {e}"))
    }
    /// `ip -n A link add IF_A type veth peer name IF_B netns B`: both ends
    /// are created inside namespaces, never in the root one.
    fn veth(&self, a: &str, if_a: &str, b: &str, if_b: &str) {
        let out = std::process::Command::new("ip")
            .args([
                "-n",
                self.n(a).name(),
                "link",
                "add",
                if_a,
                "type",
                "veth",
                "peer",
                "name",
                if_b,
                "netns",
                self.n(b).name(),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "veth {a}/{if_a} {b}/{if_b}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The two-cluster example without node 3.
fn two_nodes(name: &str) -> Topology {
    let mut t = example(name);
    t.cluster.nodes.truncate(2);
    t.validate().unwrap();
    t
}

fn program(lab: &Lab, t: &Topology, node: &str, s: Switches) {
    let p = plan_for(t, node, s);
    for c in plan::ip_commands(&p) {
        lab.sh(node, &c);
    }
    load_ruleset(lab, t, node, s);
}

fn load_ruleset(lab: &Lab, t: &Topology, node: &str, s: Switches) {
    let p = plan_for(t, node, s);
    let script = ruleset::render::replace_script(&p.ruleset);
    lab.sh(node, &format!("nft -f - <<'EOF'\n{script}EOF"));
}

fn build() -> (Lab, Topology, Topology) {
    netns::require_root();
    let names = [
        "ul", "abr", "bbr", "a1", "a2", "b1", "b2", "a1p", "a2p", "b1p", "b2p",
    ];
    let ns = names
        .iter()
        .map(|k| (k.to_string(), NetNs::new(&format!("ra-dp-{k}")).unwrap()))
        .collect();
    let lab = Lab { ns };
    let (ta, tb) = (two_nodes("two-clusters-a"), two_nodes("two-clusters-b"));
    lab.sh("ul", "ip link add br0 type bridge && ip link set br0 up");
    for (c, cn, t) in [("a", 1u8, &ta), ("b", 2u8, &tb)] {
        let br = format!("{c}br");
        lab.sh(&br, "ip link add br0 type bridge && ip link set br0 up");
        for i in 1..=2u8 {
            let node = format!("{c}{i}");
            let pod = format!("{node}p");
            let pods = 243 + cn;
            lab.veth(&node, "eth0", &br, &format!("n{i}"));
            lab.sh(&br, &format!("ip link set n{i} master br0 up"));
            lab.sh(
                &node,
                &format!("ip addr add 10.{cn}.0.{i}/24 dev eth0 && ip link set eth0 up"),
            );
            lab.veth(&node, "pod0", &pod, "eth0");
            lab.sh(&pod, &format!("ip link set eth0 mtu 1400 && ip addr add 10.{pods}.{i}.2/24 dev eth0 && ip link set eth0 up && ip route add default via 10.{pods}.{i}.1"));
            lab.sh(
                &node,
                &format!("ip addr add 10.{pods}.{i}.1/24 dev pod0 && ip link set pod0 up"),
            );
            // the "CNI": host-gw routes to the other node's pods
            let j = 3 - i;
            lab.sh(
                &node,
                &format!("ip route add 10.{pods}.{j}.0/24 via 10.{cn}.0.{j} dev eth0"),
            );
            if i == 1 {
                lab.veth(&node, "eth1", "ul", &format!("g{c}"));
                lab.sh("ul", &format!("ip link set g{c} master br0 up"));
                lab.sh(
                    &node,
                    &format!("ip addr add 192.168.50.{cn}/24 dev eth1 && ip link set eth1 up"),
                );
            }
            program(&lab, t, &node, Switches::ALL_ON);
        }
    }
    (lab, ta, tb)
}

fn ping(lab: &Lab, from: &str, to: &str) {
    lab.n(from)
        .sh(&format!("ping -c 2 -i 0.2 -W 2 {to}"))
        .unwrap_or_else(|e| panic!("{from} cannot reach {to}: {e}"));
}

/// The source address `server_ns` sees for a TCP connection from `client_ns`,
/// or `None` if the connection fails.
fn peer_address(lab: &Lab, client_ns: &str, server_ns: &str, server_ip: &str) -> Option<String> {
    let mut server = lab
        .n(server_ns)
        .cmd("socat")
        .args([
            "-T",
            "5",
            "TCP-LISTEN:5000,reuseaddr",
            "SYSTEM:echo $SOCAT_PEERADDR",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let got = lab
        .n(client_ns)
        .sh(&format!(
            "socat -T 3 - TCP:{server_ip}:5000,connect-timeout=3 </dev/null"
        ))
        .ok();
    let _ = server.kill();
    let _ = server.wait();
    got.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

#[test]
#[ignore = "needs root and network namespaces"]
fn pods_reach_each_other_across_clusters() {
    let (lab, ta, _tb) = build();
    // worker pod -> remote worker pod, and back
    ping(&lab, "a2p", "10.245.2.2");
    ping(&lab, "b2p", "10.244.2.2");
    // gateway pods, both directions
    ping(&lab, "a1p", "10.245.2.2");
    ping(&lab, "b2p", "10.244.1.2");
    // host network of a worker (route src = CNI address) and of a gateway
    ping(&lab, "a2", "10.245.2.2");
    ping(&lab, "b1", "10.244.2.2");
    // the traffic really took the tunnels
    let rx = lab.sh(
        "a1",
        "cat /sys/class/net/vxlan-tunnel/statistics/rx_packets",
    );
    assert!(
        rx.trim().parse::<u64>().unwrap() > 0,
        "no packets on the cable"
    );

    // A CNI-like table on a2 masquerades everything leaving the pod network.
    lab.sh("a2", "nft -f - <<'EOF'\ntable ip cni {\n\tchain post {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n\t\tip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 masquerade\n\t}\n}\nEOF");
    // self-SNAT runs first (srcnat - 10) and binds NAT to the pod's own address
    assert_eq!(
        peer_address(&lab, "a2p", "b2p", "10.245.2.2").as_deref(),
        Some("10.244.2.2")
    );
    // the degraded form (accept) cannot stop the other table's masquerade
    load_ruleset(
        &lab,
        &ta,
        "a2",
        Switches {
            self_snat: false,
            ..Switches::ALL_ON
        },
    );
    let degraded = peer_address(&lab, "a2p", "b2p", "10.245.2.2");
    eprintln!("without self-SNAT the server sees {degraded:?}");
    assert_ne!(
        degraded.as_deref(),
        Some("10.244.2.2"),
        "source kept without self-SNAT?"
    );
}
