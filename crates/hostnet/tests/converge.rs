//! Converging hand-built gateway and worker plans in a namespace, checked
//! with `ip -j`, `bridge -j` and `sysctl`; idempotence; following plan
//! changes without touching anything else.

mod common;
use common::*;
use hostnet::{Host, HostSnapshot};

#[test]
#[ignore = "needs root and network namespaces"]
fn gateway_plan_is_programmed_exactly() {
    let ns = node("ra-hn-gw", "10.1.0.2", "10.244.1.1");
    let plan = gateway_plan();
    let report = block(&ns, || async {
        Host::new().unwrap().converge(&plan).await.unwrap()
    });
    assert!(report.errors.is_empty(), "{report}");
    assert_eq!(
        (
            report.links.created,
            report.addresses.created,
            report.fdb.created,
            report.routes.created,
            report.rules.created
        ),
        (1, 1, 2, 4, 2),
        "{report}"
    );
    assert_matches_plan(&ns, &plan);
}

#[test]
#[ignore = "needs root and network namespaces"]
fn worker_plan_is_programmed_exactly() {
    let ns = node("ra-hn-wk", "10.1.0.3", "10.244.2.1");
    let plan = worker_plan();
    let report = block(&ns, || async {
        Host::new().unwrap().converge(&plan).await.unwrap()
    });
    assert!(report.errors.is_empty(), "{report}");
    assert_matches_plan(&ns, &plan);
}

#[test]
#[ignore = "needs root and network namespaces"]
fn second_converge_changes_nothing_and_plan_changes_are_followed() {
    let ns = node("ra-hn-follow", "10.1.0.2", "10.244.1.1");
    let plan = gateway_plan();
    let mut changed = plan.clone();
    changed.routes.retain(|r| r.dst != net("10.246.0.0/16"));
    changed.links[0].mtu = Some(1300);
    changed.fdb.retain(|e| e.dst != ip("10.1.0.4"));
    let keys = keys(&plan);
    let (first, second, before, after, third, fourth) = block(&ns, || async {
        let mut h = Host::new().unwrap();
        let first = h.converge(&plan).await.unwrap();
        let second = h.converge(&plan).await.unwrap();
        let before = h.snapshot(&keys).await.unwrap();
        let third = h.converge(&changed).await.unwrap();
        let after = h.snapshot(&keys).await.unwrap();
        let fourth = h.converge(&changed).await.unwrap();
        (first, second, before, after, third, fourth)
    });
    assert!(first.errors.is_empty(), "{first}");
    assert!(
        second.is_noop(),
        "second converge must change nothing: {second}"
    );
    assert_eq!(second.changes(), 0);
    assert!(third.errors.is_empty(), "{third}");
    assert_eq!(
        (third.links.updated, third.routes.deleted, third.fdb.deleted),
        (1, 1, 1),
        "{third}"
    );
    assert_eq!(third.changes(), 3, "{third}");
    assert!(fourth.is_noop(), "{fourth}");
    assert_matches_plan(&ns, &changed);
    let d = before.diff(&after);
    assert_eq!(
        d.len(),
        4,
        "exactly MTU (-/+), one route, one FDB entry changed:\n{}",
        d.join("\n")
    );
    assert!(
        d.iter()
            .any(|l| l.starts_with("- link vx-submariner mtu 1350")),
        "{d:?}"
    );
    assert!(
        d.iter()
            .any(|l| l.starts_with("+ link vx-submariner mtu 1300")),
        "{d:?}"
    );
    assert!(
        d.iter()
            .any(|l| l.starts_with("- route type 1 10.246.0.0/16")),
        "{d:?}"
    );
    assert!(
        d.iter()
            .any(|l| l.starts_with("- fdb 00:00:00:00:00:00 dev vx-submariner dst 10.1.0.4")),
        "{d:?}"
    );
}

#[test]
#[ignore = "needs root and network namespaces"]
fn changed_vxlan_remote_recreates_the_link_and_nothing_else_changes() {
    let ns = node("ra-hn-remote", "10.1.0.3", "10.244.2.1");
    let plan = worker_plan();
    let mut moved = plan.clone();
    let plan::LinkKind::Vxlan(v) = &mut moved.links[0].kind;
    v.remote = Some(ip("10.1.0.9"));
    let keys = keys(&plan);
    let (before, after, report, again): (HostSnapshot, HostSnapshot, _, _) = block(&ns, || async {
        let mut h = Host::new().unwrap();
        h.converge(&plan).await.unwrap();
        let before = h.snapshot(&keys).await.unwrap();
        let report = h.converge(&moved).await.unwrap();
        let after = h.snapshot(&keys).await.unwrap();
        let again = h.converge(&moved).await.unwrap();
        (before, after, report, again)
    });
    assert!(report.errors.is_empty(), "{report}");
    assert_eq!(report.links.updated, 1, "{report}");
    // The re-created link lost its address and routes: put back.
    assert_eq!(
        (report.addresses.created, report.routes.created),
        (1, 2),
        "{report}"
    );
    assert!(again.is_noop(), "{again}");
    assert_matches_plan(&ns, &moved);
    let d = before.diff(&after);
    assert!(!d.is_empty());
    for line in &d {
        assert!(
            line.contains("vx-submariner"),
            "only the VXLAN link and its objects may change: {line}"
        );
    }
    assert!(d.iter().any(|l| l.contains("remote 10.1.0.9")), "{d:?}");
}

#[test]
#[ignore = "needs root and network namespaces"]
fn errors_name_the_object_and_do_not_stop_the_rest() {
    let ns = node("ra-hn-err", "10.1.0.2", "10.244.1.1");
    let mut plan = gateway_plan();
    // No interface eth9: this route cannot be installed; the rest can.
    plan.routes
        .push(route("10.247.0.0/16", None, "eth9", None, 150));
    let report = block(&ns, || async {
        Host::new().unwrap().converge(&plan).await.unwrap()
    });
    assert_eq!(report.errors.len(), 1, "{report}");
    let msg = report.errors[0].to_string();
    assert!(
        msg.starts_with("route 10.247.0.0/16 dev eth9 table 150: "),
        "{msg}"
    );
    assert!(msg.contains("eth9 does not exist"), "{msg}");
    plan.routes.pop();
    assert_matches_plan(&ns, &plan);
}

#[test]
#[ignore = "needs root and network namespaces"]
fn a_link_set_down_is_brought_up_and_its_routes_restored() {
    let ns = node("ra-hn-down", "10.1.0.3", "10.244.2.1");
    let plan = worker_plan();
    let report = block(&ns, || async {
        let mut h = Host::new().unwrap();
        assert!(h.converge(&plan).await.unwrap().errors.is_empty());
        // The kernel flushes IPv4 routes through a link that goes down.
        ns.sh("ip link set vx-submariner down").unwrap();
        assert_eq!(ns.sh("ip route show proto 166").unwrap(), "");
        h.converge(&plan).await.unwrap()
    });
    assert!(report.errors.is_empty(), "{report}");
    assert_eq!(
        (report.links.updated, report.routes.created),
        (1, 2),
        "{report}"
    );
    assert_matches_plan(&ns, &plan);
}

#[test]
#[ignore = "needs root and network namespaces"]
fn duplicate_planned_routes_are_reported_not_flapped() {
    let ns = node("ra-hn-dup", "10.1.0.2", "10.244.1.1");
    let mut plan = gateway_plan();
    plan.routes.push(route(
        "10.245.0.0/16",
        Some("10.1.0.254"),
        "eth0",
        None,
        150,
    ));
    let (first, second) = block(&ns, || async {
        let mut h = Host::new().unwrap();
        (
            h.converge(&plan).await.unwrap(),
            h.converge(&plan).await.unwrap(),
        )
    });
    assert_eq!(first.errors.len(), 1, "{first}");
    assert!(
        first.errors[0]
            .to_string()
            .contains("one route per table and destination"),
        "{first}"
    );
    assert_eq!(second.changes(), 0, "{second}");
    plan.routes.pop();
    assert_matches_plan(&ns, &plan);
}

#[test]
#[ignore = "needs root and network namespaces"]
fn ipv6_underlay_vxlan_and_missing_underlay() {
    let ns = node("ra-hn-v6", "10.1.0.3", "10.244.2.1");
    let mut plan = worker_plan();
    // eth0 has MTU 1400; VXLAN over IPv6 costs 70 bytes: 1330 at most.
    plan.links[0] = vxlan("fd00::3", Some("fd00::2"), 1350);
    let too_big = plan.clone();
    plan.links[0].mtu = Some(1330);
    let (clamped, report) = block(&ns, || async {
        let mut h = Host::new().unwrap();
        let clamped = h.converge(&too_big).await.unwrap();
        let r = h.converge(&plan).await.unwrap();
        let again = h.converge(&plan).await.unwrap();
        assert!(again.is_noop(), "{again}");
        (clamped, r)
    });
    assert_eq!(clamped.errors.len(), 1, "{clamped}");
    let msg = clamped.errors[0].to_string();
    assert!(
        msg.contains("link vx-submariner: created, but the kernel clamped MTU 1350 to 1330"),
        "{msg}"
    );
    assert!(report.errors.is_empty(), "{report}");
    assert_matches_plan(&ns, &plan);

    let plan::LinkKind::Vxlan(v) = &mut plan.links[0].kind;
    v.underlay = Some("eth7".into());
    let report = block(&ns, || async {
        Host::new().unwrap().converge(&plan).await.unwrap()
    });
    let first = report
        .errors
        .first()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        first.starts_with("link vx-submariner: underlay device eth7 does not exist"),
        "{report}"
    );
}

#[test]
#[ignore = "needs root and network namespaces"]
fn a_changed_address_in_the_same_subnet_converges_in_one_pass() {
    let ns = node("ra-hn-addr", "10.1.0.2", "10.244.1.1");
    let plan = gateway_plan();
    let mut moved = plan.clone();
    moved.addresses[0].addr = net("240.1.0.7/8");
    let (report, again) = block(&ns, || async {
        let mut h = Host::new().unwrap();
        h.converge(&plan).await.unwrap();
        let report = h.converge(&moved).await.unwrap();
        (report, h.converge(&moved).await.unwrap())
    });
    assert!(report.errors.is_empty(), "{report}");
    assert_eq!(
        report.addresses,
        hostnet::Changes {
            created: 1,
            updated: 0,
            deleted: 1
        },
        "{report}"
    );
    assert!(again.is_noop(), "{again}");
    assert_matches_plan(&ns, &moved);
}
