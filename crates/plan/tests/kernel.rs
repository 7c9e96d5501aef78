//! The plan against the real kernel, inside throwaway network namespaces
//! (never the root namespace): nft loads every planned ruleset and lists it
//! back identically, and the ip commands build the links, routes, rules,
//! FDB entries and sysctls that `ip -j`, `bridge -j` and `sysctl` report.
//! Needs root; fails loudly without it.

mod common;

use common::*;
use netns::NetNs;
use serde_json::Value;
use topology::Topology;

fn ns(prefix: &str) -> NetNs {
    netns::require_root();
    NetNs::new(prefix).expect("create network namespace")
}

fn json(ns: &NetNs, cmd: &str) -> Value {
    let out = ns.sh(cmd).unwrap_or_else(|e| panic!("{cmd}: {e}"));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{cmd}: {e}: {out}"))
}

/// A topology with IPv6 CIDRs too, so split layouts get an ip6 table.
fn dual_stack() -> Topology {
    let mut t = example("two-clusters-a");
    t.cluster
        .cluster_cidrs
        .push("fd00:244::/48".parse().unwrap());
    t.remote_clusters[0]
        .subnets
        .push("fd00:245::/48".parse().unwrap());
    t
}

#[test]
#[ignore = "needs root and network namespaces"]
fn nft_loads_every_plan_and_lists_it_back() {
    let n = ns("ra-plan-nft");
    let dir = std::env::temp_dir().join(format!("ra-plan-nft-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("rules.nft");
    let cases = [
        (example("two-clusters-a"), "a1"),
        (example("two-clusters-a"), "a2"),
        (example("three-clusters-c"), "c1"),
        (dual_stack(), "a1"),
    ];
    let mut loaded = 0;
    for (t, node) in &cases {
        for s in Switches::every() {
            let p = plan_for(t, node, s);
            std::fs::write(&file, ruleset::render::replace_script(&p.ruleset)).unwrap();
            if let Err(e) = n.sh(&format!("nft -f {}", file.display())) {
                panic!("{node} {s:?}: nft refused the plan: {e}\n{}", p.ruleset);
            }
            for tb in &p.ruleset.tables {
                let listed = n
                    .sh(&format!("nft list table {} {}", tb.family, tb.name))
                    .unwrap();
                assert_eq!(
                    listed,
                    tb.to_string(),
                    "{node} {s:?}: nft lists table {} {} differently",
                    tb.family,
                    tb.name
                );
            }
            n.sh("nft flush ruleset").unwrap();
            loaded += 1;
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(loaded, 4 * 128);
}

/// The lab's interfaces for `node`: eth0 (node IP /24), pod0 (CNI IP /24),
/// eth1 (public IP /24) on a gateway; veth peers stay in the namespace.
fn lab_host(n: &NetNs, t: &Topology, node: &str) {
    let f = lab_facts(t, node);
    let mut script = String::from("set -e\n");
    let mut ifaces = vec![(f.uplink.name.clone(), f.uplink.addr)];
    ifaces.extend(f.cni.iter().map(|i| (i.name.clone(), i.addr)));
    ifaces.extend(f.public.iter().map(|i| (i.name.clone(), i.addr)));
    for (i, (name, addr)) in ifaces.iter().enumerate() {
        script.push_str(&format!(
            "ip link add {name} type veth peer name peer{i}\nip addr add {addr}/24 dev {name}\nip link set {name} up\nip link set peer{i} up\n"
        ));
    }
    n.sh(&script).unwrap();
}

fn build_host(t: &Topology, node: &str) -> (NetNs, plan::HostPlan) {
    let n = ns("ra-plan-ip");
    lab_host(&n, t, node);
    let p = plan_for(t, node, Switches::ALL_ON);
    for c in plan::ip_commands(&p) {
        n.sh(&c)
            .unwrap_or_else(|e| panic!("{node}: `{c}` failed: {e}"));
    }
    (n, p)
}

fn check_links(n: &NetNs, p: &plan::HostPlan) {
    for l in &p.links {
        let j = json(n, &format!("ip -j -d link show {}", l.name));
        let link = &j[0];
        assert_eq!(link["mtu"].as_u64(), l.mtu.map(u64::from), "{}", l.name);
        let plan::LinkKind::Vxlan(v) = &l.kind;
        let info = &link["linkinfo"]["info_data"];
        assert_eq!(link["linkinfo"]["info_kind"], "vxlan");
        assert_eq!(info["id"].as_u64(), Some(u64::from(v.vni)), "{}", l.name);
        assert_eq!(info["port"].as_u64(), Some(u64::from(v.port)), "{}", l.name);
        assert_eq!(
            info["local"].as_str(),
            v.local.map(|a| a.to_string()).as_deref(),
            "{}",
            l.name
        );
        assert_eq!(
            info["remote"].as_str(),
            v.remote.map(|a| a.to_string()).as_deref(),
            "{}",
            l.name
        );
        assert_eq!(info["learning"], false, "{}", l.name);
        assert_eq!(info["link"].as_str(), v.underlay.as_deref(), "{}", l.name);
        let addrs = json(n, &format!("ip -j -4 addr show dev {}", l.name));
        let have: Vec<String> = addrs[0]["addr_info"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| format!("{}/{}", a["local"].as_str().unwrap(), a["prefixlen"]))
            .collect();
        let want: Vec<String> = p
            .addresses
            .iter()
            .filter(|a| a.dev == l.name)
            .map(|a| a.addr.to_string())
            .collect();
        assert_eq!(have, want, "{}", l.name);
        let fdb = json(n, &format!("bridge -j fdb show dev {}", l.name));
        let mut have: Vec<String> = fdb
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["mac"] == "00:00:00:00:00:00")
            .map(|e| e["dst"].as_str().unwrap().to_string())
            .collect();
        have.sort();
        let mut want: Vec<String> = p
            .fdb
            .iter()
            .filter(|f| f.dev == l.name)
            .map(|f| f.dst.to_string())
            .collect();
        // the kernel makes the default entry of a unicast `remote` itself
        want.extend(v.remote.map(|r| r.to_string()));
        want.sort();
        assert_eq!(have, want, "fdb of {}", l.name);
    }
}

fn check_routes_rules_sysctls(n: &NetNs, p: &plan::HostPlan) {
    let mut tables = vec![254u32];
    tables.extend(p.routes.iter().map(|r| r.table).filter(|t| *t != 254));
    tables.dedup();
    if !tables.contains(&150) {
        // no table 150 routes planned: the kernel has none either
        let out = n.sh("ip route show table 150 2>/dev/null; true").unwrap();
        assert_eq!(out.trim(), "", "table 150: {out}");
    }
    for table in tables {
        let j = json(n, &format!("ip -j route show table {table} proto 166"));
        let mut have: Vec<String> = j
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let flags: Vec<&str> = r["flags"]
                    .as_array()
                    .map(|f| f.iter().filter_map(|x| x.as_str()).collect())
                    .unwrap_or_default();
                format!(
                    "{} via {} dev {} src {} onlink={}",
                    r["dst"].as_str().unwrap(),
                    r["gateway"].as_str().unwrap_or("-"),
                    r["dev"].as_str().unwrap(),
                    r["prefsrc"].as_str().unwrap_or("-"),
                    flags.contains(&"onlink")
                )
            })
            .collect();
        have.sort();
        let mut want: Vec<String> = p
            .routes
            .iter()
            .filter(|r| r.table == table)
            .map(|r| {
                format!(
                    "{} via {} dev {} src {} onlink={}",
                    r.dst,
                    r.via.map(|v| v.to_string()).unwrap_or("-".into()),
                    r.dev,
                    r.src.map(|v| v.to_string()).unwrap_or("-".into()),
                    r.onlink
                )
            })
            .collect();
        want.sort();
        assert_eq!(have, want, "table {table}");
    }
    let rules = json(n, "ip -j -4 rule show");
    let have: Vec<(u64, String)> = rules
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["protocol"] == "166" || r["protocol"].as_u64() == Some(166))
        .map(|r| {
            (
                r["priority"].as_u64().unwrap(),
                r["table"]
                    .as_str()
                    .map(String::from)
                    .unwrap_or_else(|| r["table"].to_string()),
            )
        })
        .collect();
    let want: Vec<(u64, String)> = p
        .rules
        .iter()
        .map(|r| (u64::from(r.pref), r.table.to_string()))
        .collect();
    assert_eq!(have, want, "rules: {rules}");
    for s in &p.sysctls {
        let v = n.sh(&format!("sysctl -n {}", s.key)).unwrap();
        assert_eq!(v.trim(), s.value, "{}", s.key);
        // HostPlan's /proc path names the same knob
        let via_path = n.sh(&format!("cat {}", s.path().display())).unwrap();
        assert_eq!(via_path.trim(), s.value, "{}", s.path().display());
    }
}

#[test]
#[ignore = "needs root and network namespaces"]
fn ip_commands_build_a_gateway() {
    let t = example("two-clusters-a");
    let (n, p) = build_host(&t, "a1");
    assert_eq!(p.links.len(), 2);
    check_links(&n, &p);
    check_routes_rules_sysctls(&n, &p);
}

#[test]
#[ignore = "needs root and network namespaces"]
fn ip_commands_build_a_non_gateway() {
    let t = example("two-clusters-a");
    let (n, p) = build_host(&t, "a2");
    assert_eq!(p.routes.len(), 2);
    check_links(&n, &p);
    check_routes_rules_sysctls(&n, &p);
    // the kernel's own lookup agrees: remote pods leave on vx-submariner via the gateway, from the CNI address
    let got = json(&n, "ip -j route get 10.245.3.2");
    assert_eq!(got[0]["dev"], "vx-submariner");
    assert_eq!(got[0]["gateway"], "240.1.0.1");
    assert_eq!(got[0]["prefsrc"], "10.244.2.1");
}
