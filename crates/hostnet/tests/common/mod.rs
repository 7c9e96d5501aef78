//! Shared helpers for the namespace tests: a node namespace with an uplink
//! veth and a CNI bridge, hand-built gateway and worker plans, a way to run
//! async code inside the namespace, and `ip -j` readers.
#![allow(dead_code)]

use ipnet::IpNet;
use netns::NetNs;
use plan::{Address, FdbEntry, HostPlan, Link, LinkKind, Route, RoutingRule, Sysctl, Vxlan};
use ruleset::IpVersion;
use serde_json::Value;
use std::future::Future;
use std::net::IpAddr;

/// Runs `f` inside `ns` on a current-thread tokio runtime.
pub fn block<R: Send, Fut: Future<Output = R>>(ns: &NetNs, f: impl FnOnce() -> Fut + Send) -> R {
    ns.run(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
            .block_on(f())
    })
}

/// A node namespace: `eth0` (veth, peer `peer0`, mtu 1400) holding
/// `node_ip`/24 and fd00::N/64, a bridge `cni0` with `cni_ip`/24.
pub fn node(prefix: &str, node_ip: &str, cni_ip: &str) -> NetNs {
    netns::require_root();
    let ns = NetNs::new(prefix).expect("netns");
    let last = node_ip.rsplit('.').next().unwrap();
    ns.sh(&format!(
        "set -e
         ip link add eth0 mtu 1400 type veth peer name peer0 mtu 1400
         ip addr add {node_ip}/24 dev eth0
         ip addr add fd00::{last}/64 dev eth0 nodad
         ip link set eth0 up
         ip link set peer0 up
         ip link add cni0 type bridge
         ip addr add {cni_ip}/24 dev cni0
         ip link set cni0 up"
    ))
    .expect("node setup");
    ns
}

pub fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub const VX: &str = "vx-submariner";

pub fn vxlan(local: &str, remote: Option<&str>, mtu: u32) -> Link {
    Link {
        name: VX.into(),
        mtu: Some(mtu),
        kind: LinkKind::Vxlan(Vxlan {
            vni: 100,
            port: 4800,
            local: Some(ip(local)),
            remote: remote.map(ip),
            underlay: Some("eth0".into()),
        }),
    }
}

pub fn route(dst: &str, via: Option<&str>, dev: &str, src: Option<&str>, table: u32) -> Route {
    Route {
        dst: net(dst),
        via: via.map(ip),
        dev: dev.into(),
        src: src.map(ip),
        table,
        onlink: false,
    }
}

pub fn sysctl(key: &str, value: &str) -> Sysctl {
    Sysctl {
        key: key.into(),
        value: value.into(),
    }
}

/// A gateway at 10.1.0.2 (CNI 10.244.1.1): VXLAN without remote, FDB to two
/// workers, table-150 routes (IPv4 and IPv6, one `onlink`) and pref-150
/// rules.
pub fn gateway_plan() -> HostPlan {
    HostPlan {
        links: vec![vxlan("10.1.0.2", None, 1350)],
        addresses: vec![Address {
            dev: VX.into(),
            addr: net("240.1.0.2/8"),
        }],
        fdb: vec![
            FdbEntry {
                dev: VX.into(),
                dst: ip("10.1.0.3"),
            },
            FdbEntry {
                dev: VX.into(),
                dst: ip("10.1.0.4"),
            },
        ],
        routes: vec![
            route("10.245.0.0/16", None, "eth0", Some("10.244.1.1"), 150),
            route("10.246.0.0/16", Some("10.1.0.254"), "eth0", None, 150),
            route("fd01::/64", Some("fd00::254"), "eth0", None, 150),
            Route {
                onlink: true,
                ..route("10.248.0.0/16", Some("192.168.99.1"), "eth0", None, 150)
            },
        ],
        rules: vec![
            RoutingRule {
                pref: 150,
                table: 150,
                version: IpVersion::V4,
                from: None,
                to: None,
            },
            RoutingRule {
                pref: 150,
                table: 150,
                version: IpVersion::V6,
                from: None,
                to: None,
            },
        ],
        sysctls: vec![
            sysctl("net.ipv4.conf.cni0.rp_filter", "2"),
            sysctl("net.ipv4.conf.vx-submariner.rp_filter", "2"),
            sysctl("net.ipv4.conf.vx-submariner.forwarding", "1"),
        ],
        ..HostPlan::default()
    }
}

/// A worker at 10.1.0.3 (CNI 10.244.2.1): VXLAN with remote = the gateway,
/// main-table routes via the gateway's VXLAN address.
pub fn worker_plan() -> HostPlan {
    HostPlan {
        links: vec![vxlan("10.1.0.3", Some("10.1.0.2"), 1350)],
        addresses: vec![Address {
            dev: VX.into(),
            addr: net("240.1.0.3/8"),
        }],
        routes: vec![
            route("10.245.0.0/16", Some("240.1.0.2"), VX, None, 254),
            route("10.96.0.0/12", Some("240.1.0.2"), VX, None, 254),
        ],
        sysctls: vec![sysctl("net.ipv4.conf.cni0.rp_filter", "2")],
        ..HostPlan::default()
    }
}

/// Every sysctl key a plan sets, for snapshots.
pub fn keys(p: &HostPlan) -> Vec<&str> {
    p.sysctls.iter().map(|s| s.key.as_str()).collect()
}

/// `ip -j ARGS` (or `bridge -j ARGS`) inside `ns`, parsed.
pub fn json(ns: &NetNs, cmd: &str) -> Vec<Value> {
    let out = ns.sh(cmd).unwrap_or_else(|e| panic!("{cmd}: {e}"));
    if out.trim().is_empty() {
        return vec![];
    }
    match serde_json::from_str(&out).unwrap_or_else(|e| panic!("{cmd}: {e}: {out}")) {
        Value::Array(a) => a,
        v => vec![v],
    }
}

/// `sysctl -n KEY` inside `ns`.
pub fn sysctl_value(ns: &NetNs, key: &str) -> String {
    ns.sh(&format!("sysctl -n {key}"))
        .unwrap()
        .trim()
        .to_string()
}

/// Value of a JSON field as a string ("" when absent).
pub fn s(v: &Value, k: &str) -> String {
    match &v[k] {
        Value::Null => String::new(),
        Value::String(x) => x.clone(),
        other => other.to_string(),
    }
}

/// `ip route` JSON names main/local/default tables; numbers otherwise.
fn table_name(t: u32) -> String {
    match t {
        254 => "main".into(),
        255 => "local".into(),
        253 => "default".into(),
        t => t.to_string(),
    }
}

/// Checks, with `ip -j`, `bridge -j` and `sysctl`, that the namespace holds
/// exactly the plan's links, addresses, FDB entries, proto-166 routes,
/// proto-166 rules and sysctl values.
pub fn assert_matches_plan(ns: &NetNs, p: &HostPlan) {
    use std::collections::BTreeSet;
    // Links: exactly the planned owned links, with their parameters.
    let names: BTreeSet<String> = json(ns, "ip -j link show")
        .iter()
        .map(|l| s(l, "ifname"))
        .collect();
    let owned: BTreeSet<String> = names
        .iter()
        .filter(|n| plan::host::ownership::LINKS.contains(&n.as_str()))
        .cloned()
        .collect();
    let planned: BTreeSet<String> = p.links.iter().map(|l| l.name.clone()).collect();
    assert_eq!(owned, planned, "owned links");
    for l in &p.links {
        let j = &json(ns, &format!("ip -j -d link show {}", l.name))[0];
        let LinkKind::Vxlan(v) = &l.kind;
        let d = &j["linkinfo"]["info_data"];
        assert_eq!(s(&j["linkinfo"], "info_kind"), "vxlan");
        assert_eq!(d["id"].as_u64(), Some(u64::from(v.vni)), "vni");
        assert_eq!(d["port"].as_u64(), Some(u64::from(v.port)), "port");
        // `ip -j` names IPv6 endpoints local6/remote6.
        let v6 = if v.local.is_some_and(|a| a.is_ipv6()) {
            "6"
        } else {
            ""
        };
        assert_eq!(
            s(d, &format!("local{v6}")),
            v.local.map(|a| a.to_string()).unwrap_or_default(),
            "local"
        );
        assert_eq!(
            s(d, &format!("remote{v6}")),
            v.remote.map(|a| a.to_string()).unwrap_or_default(),
            "remote"
        );
        assert_eq!(s(d, "link"), v.underlay.clone().unwrap_or_default(), "dev");
        assert_eq!(d["learning"].as_bool(), Some(false), "nolearning");
        if let Some(m) = l.mtu {
            assert_eq!(j["mtu"].as_u64(), Some(u64::from(m)), "mtu");
        }
        assert!(
            j["flags"].as_array().unwrap().iter().any(|f| f == "UP"),
            "{} is up",
            l.name
        );
    }
    // Addresses on owned links (IPv6 link-local ones are the kernel's).
    for name in &planned {
        let j = &json(ns, &format!("ip -j addr show dev {name}"))[0];
        let have: BTreeSet<String> = j["addr_info"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| s(a, "scope") != "link")
            .map(|a| format!("{}/{}", s(a, "local"), s(a, "prefixlen")))
            .collect();
        let want: BTreeSet<String> = p
            .addresses
            .iter()
            .filter(|a| &a.dev == name)
            .map(|a| a.addr.to_string())
            .collect();
        assert_eq!(have, want, "addresses on {name}");
    }
    // FDB: the planned flood entries plus the kernel's entry for `remote`.
    for l in &p.links {
        let LinkKind::Vxlan(v) = &l.kind;
        let have: BTreeSet<String> = json(ns, &format!("bridge -j fdb show dev {}", l.name))
            .iter()
            .filter(|e| s(e, "mac") == "00:00:00:00:00:00")
            .map(|e| s(e, "dst"))
            .collect();
        let mut want: BTreeSet<String> = p
            .fdb
            .iter()
            .filter(|e| e.dev == l.name)
            .map(|e| e.dst.to_string())
            .collect();
        want.extend(v.remote.map(|r| r.to_string()));
        assert_eq!(have, want, "fdb of {}", l.name);
    }
    // Routes with proto 166, every table, both families.
    let have: BTreeSet<String> = json(ns, "ip -j route show table all proto 166")
        .iter()
        .map(|r| {
            format!(
                "{} via {} dev {} src {} table {} onlink {}",
                s(r, "dst"),
                s(r, "gateway"),
                s(r, "dev"),
                s(r, "prefsrc"),
                if s(r, "table").is_empty() {
                    "main".into()
                } else {
                    s(r, "table")
                },
                r["flags"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|x| x == "onlink"))
            )
        })
        .collect();
    let want: BTreeSet<String> = p
        .routes
        .iter()
        .map(|r| {
            format!(
                "{} via {} dev {} src {} table {} onlink {}",
                r.dst,
                r.via.map(|a| a.to_string()).unwrap_or_default(),
                r.dev,
                r.src.map(|a| a.to_string()).unwrap_or_default(),
                table_name(r.table),
                r.onlink
            )
        })
        .collect();
    assert_eq!(have, want, "proto-166 routes");
    // Rules with proto 166, both families.
    let mut have = BTreeSet::new();
    for (fam, v) in [("-4", IpVersion::V4), ("-6", IpVersion::V6)] {
        for r in json(ns, &format!("ip {fam} -j rule show")) {
            if s(&r, "protocol") == "166" {
                have.insert(format!(
                    "{v:?} pref {} lookup {}",
                    s(&r, "priority"),
                    s(&r, "table")
                ));
            }
        }
    }
    let want: BTreeSet<String> = p
        .rules
        .iter()
        .map(|r| {
            format!(
                "{:?} pref {} lookup {}",
                r.version,
                r.pref,
                table_name(r.table)
            )
        })
        .collect();
    assert_eq!(have, want, "proto-166 rules");
    for k in &p.sysctls {
        assert_eq!(sysctl_value(ns, &k.key), k.value, "sysctl {}", k.key);
    }
}

/// Waits up to `within` for the first event of `m` matching `want` (others
/// are skipped); returns it and how long it took. Panics naming `what`
/// when the monitor closes or nothing matches in time.
pub async fn next_event(
    m: &mut hostnet::Monitor,
    what: &str,
    within: std::time::Duration,
    want: impl Fn(&hostnet::Event) -> bool,
) -> (hostnet::Event, std::time::Duration) {
    let start = std::time::Instant::now();
    loop {
        let left = within.saturating_sub(start.elapsed());
        match tokio::time::timeout(left, m.recv()).await {
            Ok(Some(e)) if want(&e) => return (e, start.elapsed()),
            Ok(Some(_)) => continue,
            Ok(None) => panic!("monitor closed while waiting for {what}"),
            Err(_) => panic!("no event for {what} within {within:?}"),
        }
    }
}
