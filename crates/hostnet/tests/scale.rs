//! Many routes and FDB entries: converge, a no-op second converge and
//! remove_all stay fast (timings printed, generous bounds asserted).

mod common;
use common::*;
use hostnet::Host;
use plan::FdbEntry;
use std::time::Instant;

#[test]
#[ignore = "needs root and network namespaces"]
fn two_thousand_routes_and_two_hundred_fdb_entries() {
    let ns = node("ra-hn-scale", "10.1.0.2", "10.244.1.1");
    let mut plan = gateway_plan();
    for i in 0..2000u32 {
        let dst = format!("10.{}.{}.0/24", 100 + i / 256, i % 256);
        plan.routes
            .push(route(&dst, Some("10.1.0.254"), "eth0", None, 150));
    }
    for i in 0..200u32 {
        plan.fdb.push(FdbEntry {
            dev: VX.into(),
            dst: ip(&format!("10.2.{}.{}", i / 250, 1 + i % 250)),
        });
    }
    let (t, first, second, removed) = block(&ns, || async {
        let mut h = Host::new().unwrap();
        let t0 = Instant::now();
        let first = h.converge(&plan).await.unwrap();
        let t1 = Instant::now();
        let second = h.converge(&plan).await.unwrap();
        let t2 = Instant::now();
        let removed = h.remove_all().await.unwrap();
        let t3 = Instant::now();
        ((t1 - t0, t2 - t1, t3 - t2), first, second, removed)
    });
    eprintln!(
        "2004 routes + 202 fdb: converge {:?}, no-op converge {:?}, remove_all {:?}",
        t.0, t.1, t.2
    );
    assert!(first.errors.is_empty(), "{first}");
    assert_eq!(first.routes.created, 2004);
    assert_eq!(first.fdb.created, 202);
    assert!(second.is_noop(), "{second}");
    assert_eq!(removed.routes.deleted, 2004, "{removed}");
    assert!(t.1.as_secs() < 5, "no-op converge took {:?}", t.1);
    assert_eq!(ns.sh("ip route show table all proto 166").unwrap(), "");
}
