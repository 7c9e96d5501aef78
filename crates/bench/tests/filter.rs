//! The filter benchmark runs end to end at a small size and cleans up.

#[test]
#[ignore = "needs root and network namespaces"]
fn small_filter_benchmark_runs_and_removes_its_namespace() {
    netns::require_root();
    let before = netns::list()
        .into_iter()
        .filter(|n| n.starts_with("ra-bench"))
        .count();
    let r = bench::filter::run(100, 1).unwrap();
    eprintln!("{r}");
    assert_eq!((r.cidrs, r.runs), (100, 1));
    for v in [
        r.routeagent_apply_ms,
        r.nft_file_ms,
        r.nft_per_entry_ms,
        r.iptables_restore_ms,
        r.routeagent_add_one_ms,
        r.routeagent_del_one_ms,
    ] {
        assert!(v.is_finite() && v > 0.0, "{r:?}");
    }
    let json = serde_json::to_value(&r).unwrap();
    for k in [
        "cidrs",
        "runs",
        "routeagent_apply_ms",
        "nft_file_ms",
        "nft_per_entry_ms",
        "iptables_restore_ms",
        "routeagent_add_one_ms",
        "routeagent_del_one_ms",
    ] {
        assert!(json.get(k).is_some(), "missing {k} in {json}");
    }
    let after = netns::list()
        .into_iter()
        .filter(|n| n.starts_with("ra-bench"))
        .count();
    assert_eq!(before, after, "the benchmark left its namespace behind");
    assert!(bench::filter::run(0, 1).is_err());
}
