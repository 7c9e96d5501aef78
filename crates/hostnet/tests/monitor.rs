//! External changes to the agent's objects produce a monitor event within
//! 1 s, and the next converge repairs them; changes to foreign objects
//! produce none; a route taken over by another protocol is reported and
//! left to its new owner.

mod common;
use common::*;
use hostnet::{watch, Event, Host, Monitor};
use std::time::Duration;

/// A command, what it does, and the event it must produce.
type Case = (&'static str, &'static str, fn(&Event) -> bool);

/// Drains events already queued (our own converge's).
async fn drain(m: &mut Monitor) {
    while tokio::time::timeout(Duration::from_millis(100), m.recv())
        .await
        .is_ok()
    {}
}

/// Waits up to 1 s for an event matching `want`; returns it and the delay.
async fn expect(m: &mut Monitor, what: &str, want: impl Fn(&Event) -> bool) -> (Event, Duration) {
    next_event(m, what, Duration::from_secs(1), want).await
}

#[test]
#[ignore = "needs root and network namespaces"]
fn external_changes_are_reported_within_a_second_and_repaired() {
    let ns = node("ra-hn-mon", "10.1.0.2", "10.244.1.1");
    let plan = gateway_plan();
    let nsr = &ns;
    let delays = block(&ns, || async move {
        let mut h = Host::new().unwrap();
        let mut m = watch().await.unwrap();
        assert!(h.converge(&plan).await.unwrap().errors.is_empty());
        drain(&mut m).await;
        let mut delays = Vec::new();

        // Foreign changes: no event.
        nsr.sh("ip route add 10.251.0.0/16 via 10.1.0.254 dev eth0 table 150 proto static; ip route del 10.251.0.0/16 table 150; ip rule add pref 300 lookup 300; ip rule del pref 300").unwrap();
        let quiet = tokio::time::timeout(Duration::from_millis(300), m.recv()).await;
        assert!(
            quiet.is_err(),
            "foreign changes must not produce events: {quiet:?}"
        );

        let cases: [Case; 5] = [
            (
                "ip link del vx-submariner",
                "link deleted",
                |e| matches!(e, Event::LinkDeleted { name } if name == VX),
            ),
            (
                "ip route del 10.245.0.0/16 table 150",
                "route deleted",
                |e| matches!(e, Event::RouteDeleted { dst, table: 150 } if dst.to_string() == "10.245.0.0/16"),
            ),
            ("ip rule del pref 150 lookup 150", "rule deleted", |e| {
                matches!(
                    e,
                    Event::RuleDeleted {
                        pref: Some(150),
                        table: 150
                    }
                )
            }),
            (
                "bridge fdb del 00:00:00:00:00:00 dev vx-submariner dst 10.1.0.3",
                "fdb deleted",
                |e| matches!(e, Event::FdbChanged { deleted: true, .. }),
            ),
            ("ip link set vx-submariner down", "link down", |e| {
                matches!(e, Event::LinkChanged { up: false, .. })
            }),
        ];
        for (cmd, what, want) in cases {
            nsr.sh(cmd).unwrap();
            let (ev, d) = expect(&mut m, what, want).await;
            delays.push(format!("{what}: {ev:?} after {d:?}"));
            let r = h.converge(&plan).await.unwrap();
            assert!(r.errors.is_empty(), "{r}");
            assert!(r.changes() > 0, "converge repaired {what}: {r}");
            let again = h.converge(&plan).await.unwrap();
            assert!(again.is_noop(), "{again}");
            drain(&mut m).await;
        }

        // Someone takes our route over with another protocol: reported, and
        // converge refuses to take it back (it is not ours any more).
        nsr.sh("ip route replace 10.245.0.0/16 dev eth0 table 150 proto static")
            .unwrap();
        let (ev, d) = expect(&mut m, "route replaced", |e| {
            matches!(
                e,
                Event::RouteReplaced {
                    table: 150,
                    protocol: 4,
                    ..
                }
            )
        })
        .await;
        delays.push(format!("route replaced: {ev:?} after {d:?}"));
        let r = h.converge(&plan).await.unwrap();
        assert_eq!(r.errors.len(), 1, "{r}");
        assert!(r.errors[0].to_string().contains("with proto 4"), "{r}");
        delays
    });
    for d in &delays {
        eprintln!("{d}");
    }
    let t150 = ns.sh("ip route show table 150 10.245.0.0/16").unwrap();
    assert!(t150.contains("proto static"), "{t150}");
}
