//! The agent binary in a network namespace, against the real kernel: the host
//! matches the plan, follows topology changes, repairs external deletions,
//! survives kill -9, leaves foreign tables alone and uninstalls cleanly.
mod support;
use std::time::Duration;
use support::*;

#[test]
#[ignore = "needs root and network namespaces"]
fn gateway_lifecycle_against_the_kernel() {
    let ns = node_ns("ra-agent-gw");
    ns.sh(&format!("nft -f - <<'EOF'\n{KUBE_PROXY}EOF"))
        .unwrap();
    let foreign = nft(&ns, "list table ip kube-proxy-like");
    let before = snapshot(&ns);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("topology.yaml");
    let state = dir.path().join("state");
    std::fs::write(
        &cfg,
        topology(&[("cluster-b", &["10.245.0.0/16", "10.97.0.0/16"])], "a1"),
    )
    .unwrap();
    let mut agent = start(&ns, &cfg, "a1", &state, &[]);
    let s = wait_converged(&ns, &cfg, &mut agent);
    assert_eq!(s["role"], "gateway");
    assert_eq!(s["backend"], "nftables");

    // The kernel holds exactly the plan: compare with `routeagent plan --json`.
    let plan: serde_json::Value = serde_json::from_str(
        &ns.sh(&format!(
            "{BIN} plan --config {} --node a1 --json",
            cfg.display()
        ))
        .unwrap(),
    )
    .unwrap();
    let routes: Vec<serde_json::Value> =
        serde_json::from_str(&ns.sh("ip -j route show table all proto 166").unwrap()).unwrap();
    assert_eq!(
        routes.len(),
        plan["routes"].as_array().unwrap().len(),
        "routes: {routes:#?}\nplan: {:#?}",
        plan["routes"]
    );
    for r in plan["routes"].as_array().unwrap() {
        let dst = r["dst"].as_str().unwrap();
        assert!(
            routes
                .iter()
                .any(|k| k["dst"] == dst && k["dev"] == r["dev"]),
            "route {dst} missing: {routes:#?}"
        );
    }
    let rules = ns.sh("ip rule show").unwrap();
    assert!(
        rules.contains("150:\tfrom all lookup 150 proto 166"),
        "{rules}"
    );
    for l in plan["links"].as_array().unwrap() {
        let name = l["name"].as_str().unwrap();
        let link: serde_json::Value =
            serde_json::from_str(&ns.sh(&format!("ip -d -j link show {name}")).unwrap()).unwrap();
        assert_eq!(link[0]["mtu"], l["mtu"], "{name}");
        assert_eq!(link[0]["linkinfo"]["info_kind"], "vxlan");
        assert_eq!(
            link[0]["linkinfo"]["info_data"]["id"],
            l["kind"]["vxlan"]["vni"]
        );
    }
    let fdb = ns.sh("bridge fdb show dev vx-submariner").unwrap();
    assert!(
        fdb.contains("dst 10.1.0.2")
            && fdb.contains("dst 10.1.0.3")
            && !fdb.contains("dst 10.1.0.1 "),
        "{fdb}"
    );
    let table =
        nft(&ns, "list table inet routeagent").replace(" counter packets 0 bytes 0", " counter");
    let planned = planned_table(&ns, &cfg);
    assert_eq!(table, planned, "nft list table differs from the plan");
    assert_eq!(nft(&ns, "list table ip kube-proxy-like"), foreign);

    // Topology changes: a subnet change (Submariner ignores those) and a new cluster.
    std::fs::write(
        &cfg,
        topology(
            &[
                ("cluster-b", &["10.245.0.0/16", "10.98.0.0/16"]),
                ("cluster-c", &["10.246.0.0/16"]),
            ],
            "a1",
        ),
    )
    .unwrap();
    wait_converged(&ns, &cfg, &mut agent);
    let routes = ns.sh("ip route show table 150").unwrap();
    assert!(
        routes.contains("10.98.0.0/16")
            && routes.contains("10.246.0.0/16")
            && !routes.contains("10.97.0.0/16"),
        "{routes}"
    );
    let set = nft(&ns, "list set inet routeagent remote-v4");
    assert!(
        set.contains("10.98.0.0/16") && !set.contains("10.97.0.0/16"),
        "{set}"
    );

    // External deletions are repaired within a second.
    let took = {
        ns.sh("nft delete table inet routeagent").unwrap();
        until("table repaired", Duration::from_secs(3), || {
            ns.sh("nft list tables").unwrap().contains("routeagent")
        })
    };
    assert!(
        took < Duration::from_secs(1),
        "table repaired after {took:?}"
    );
    let took = {
        ns.sh("ip route del 10.246.0.0/16 table 150").unwrap();
        until("route repaired", Duration::from_secs(3), || {
            ns.sh("ip route show table 150")
                .unwrap()
                .contains("10.246.0.0/16")
        })
    };
    assert!(
        took < Duration::from_secs(1),
        "route repaired after {took:?}"
    );
    let took = {
        ns.sh("ip link del vx-submariner").unwrap();
        until("link repaired", Duration::from_secs(3), || {
            ns.sh("ip route show table all")
                .unwrap()
                .contains("vx-submariner")
                || ns.sh("ip link show vx-submariner").is_ok()
        })
    };
    assert!(
        took < Duration::from_secs(1),
        "link repaired after {took:?}"
    );
    wait_converged(&ns, &cfg, &mut agent);

    // An invalid reload keeps the last good state.
    let good = snapshot(&ns);
    std::fs::write(
        &cfg,
        "cluster: {id: cluster-a, clusterCIDRs: [10.244.0.0/33]}\n",
    )
    .unwrap();
    let bad = digest(&std::fs::read(&cfg).unwrap());
    until("refusal reported", Duration::from_secs(3), || {
        status(&ns).is_some_and(|s| {
            s["config_digest"] == bad.as_str() && !s["errors"].as_array().unwrap().is_empty()
        })
    });
    let s = status(&ns).unwrap();
    assert!(
        s["errors"][0].as_str().unwrap().contains("clusterCIDRs"),
        "{s:#}"
    );
    assert_eq!(snapshot(&ns), good, "a refused reload changed the host");

    // kill -9 right after a change, restart: converges, no duplicates.
    std::fs::write(
        &cfg,
        topology(
            &[
                ("cluster-b", &["10.245.0.0/16"]),
                ("cluster-c", &["10.246.0.0/16"]),
            ],
            "a1",
        ),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(3));
    let _ = agent.child.kill();
    let _ = agent.child.wait();
    let mut agent = start(&ns, &cfg, "a1", &state, &[]);
    wait_converged(&ns, &cfg, &mut agent);
    let routes = ns.sh("ip route show table all proto 166").unwrap();
    let mut lines: Vec<&str> = routes.lines().collect();
    let n = lines.len();
    lines.dedup();
    assert_eq!(lines.len(), n, "duplicate routes: {routes}");
    assert_eq!(
        ns.sh("nft list tables")
            .unwrap()
            .matches("routeagent")
            .count(),
        1
    );
    assert_eq!(
        ns.sh("ip rule show").unwrap().matches("lookup 150").count(),
        1
    );
    assert_eq!(nft(&ns, "list table ip kube-proxy-like"), foreign);

    // Uninstall leaves the namespace exactly as before.
    drop(agent);
    let out = ns
        .cmd(BIN)
        .args(["uninstall", "--state-dir", state.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = snapshot(&ns);
    assert_eq!(after, before, "uninstall left traces");
    assert_eq!(nft(&ns, "list table ip kube-proxy-like"), foreign);
}

#[test]
#[ignore = "needs root and network namespaces"]
fn non_gateway_routes_via_the_gateway_and_follows_a_gateway_move() {
    let ns = node_ns("ra-agent-ng");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("topology.yaml");
    let state = dir.path().join("state");
    std::fs::write(&cfg, topology(&[("cluster-b", &["10.245.0.0/16"])], "a2")).unwrap();
    let mut agent = start(&ns, &cfg, "a1", &state, &[]);
    let s = wait_converged(&ns, &cfg, &mut agent);
    assert_eq!(s["role"], "non-gateway");
    let link: serde_json::Value =
        serde_json::from_str(&ns.sh("ip -d -j link show vx-submariner").unwrap()).unwrap();
    assert_eq!(link[0]["linkinfo"]["info_data"]["remote"], "10.1.0.2");
    let routes = ns.sh("ip route show proto 166").unwrap();
    assert!(
        routes.contains("10.245.0.0/16 via 240.1.0.2 dev vx-submariner"),
        "{routes}"
    );
    assert!(!ns.sh("ip rule show").unwrap().contains("lookup 150"));
    // This node becomes the gateway: the old role's state goes, the new one's comes.
    std::fs::write(&cfg, topology(&[("cluster-b", &["10.245.0.0/16"])], "a1")).unwrap();
    let s = wait_converged(&ns, &cfg, &mut agent);
    assert_eq!(s["role"], "gateway");
    let routes = ns.sh("ip route show proto 166").unwrap();
    assert!(
        !routes.contains("via 240.1.0.2"),
        "stale non-gateway route: {routes}"
    );
    assert!(ns.sh("ip rule show").unwrap().contains("lookup 150"));
    assert!(ns.sh("ip link show vxlan-tunnel").is_ok());
    // And back.
    std::fs::write(&cfg, topology(&[("cluster-b", &["10.245.0.0/16"])], "a2")).unwrap();
    wait_converged(&ns, &cfg, &mut agent);
    assert!(
        ns.sh("ip link show vxlan-tunnel").is_err(),
        "cable left behind"
    );
    assert!(!ns.sh("ip rule show").unwrap().contains("lookup 150"));
}
