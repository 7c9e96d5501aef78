//! `Host::converge_changes`: after a full converge, a plan that differs only
//! in routes is reached by sending just those routes; the kernel ends up
//! exactly as a full converge would leave it, and a planned route that
//! collides with another protocol's route falls back to the full converge,
//! which reports the conflict and leaves the foreign route alone.

mod common;
use common::*;
use hostnet::Host;

#[test]
#[ignore = "needs root and network namespaces"]
fn route_changes_only_equal_a_full_converge() {
    let ns = node("ra-hn-delta", "10.1.0.2", "10.244.1.1");
    let plan = gateway_plan();
    let mut changed = plan.clone();
    // One removed, one changed (other next hop), one added, one IPv6 removed;
    // one FDB entry removed.
    changed.fdb.retain(|e| e.dst != ip("10.1.0.4"));
    changed
        .routes
        .retain(|r| r.dst != net("10.246.0.0/16") && r.dst != net("fd01::/64"));
    changed.routes[0].src = None;
    changed.routes.push(route(
        "10.247.0.0/16",
        Some("10.1.0.253"),
        "eth0",
        None,
        150,
    ));
    let (first, delta, again) = block(&ns, || async {
        let mut h = Host::new().unwrap();
        let first = h.converge(&plan).await.unwrap();
        let delta = h.converge_changes(&changed).await.unwrap();
        let again = h.converge(&changed).await.unwrap();
        (first, delta, again)
    });
    assert!(first.errors.is_empty(), "{first}");
    assert!(delta.errors.is_empty(), "{delta}");
    assert_eq!(
        (
            delta.routes.created,
            delta.routes.updated,
            delta.routes.deleted,
            delta.fdb.deleted,
            delta.links.total() + delta.rules.total() + delta.sysctls.total()
        ),
        (1, 1, 2, 1, 0),
        "only the changed routes were sent: {delta}"
    );
    assert!(
        again.is_noop(),
        "a full converge finds nothing left: {again}"
    );
    assert_matches_plan(&ns, &changed);
}

#[test]
#[ignore = "needs root and network namespaces"]
fn a_new_route_over_a_foreign_one_falls_back_to_the_full_converge() {
    let ns = node("ra-hn-delta-foreign", "10.1.0.2", "10.244.1.1");
    let plan = gateway_plan();
    let mut changed = plan.clone();
    changed.routes.push(route(
        "10.249.0.0/16",
        Some("10.1.0.253"),
        "eth0",
        None,
        150,
    ));
    let report = block(&ns, || async {
        let mut h = Host::new().unwrap();
        let first = h.converge(&plan).await.unwrap();
        assert!(first.errors.is_empty(), "{first}");
        // Someone else (e.g. Submariner's Go agent) holds that destination.
        std::process::Command::new("ip")
            .args([
                "route",
                "add",
                "10.249.0.0/16",
                "via",
                "10.1.0.254",
                "table",
                "150",
                "proto",
                "static",
            ])
            .status()
            .unwrap();
        h.converge_changes(&changed).await.unwrap()
    });
    let errors: Vec<String> = report.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(errors.len(), 1, "{report}");
    assert!(errors[0].contains("10.249.0.0/16"), "{errors:?}");
    let foreign = json(&ns, "ip -j route show table 150 10.249.0.0/16");
    assert_eq!(foreign.len(), 1, "{foreign:?}");
    assert_eq!(
        s(&foreign[0], "protocol"),
        "static",
        "the foreign route stays"
    );
    assert_eq!(s(&foreign[0], "gateway"), "10.1.0.254");
}
