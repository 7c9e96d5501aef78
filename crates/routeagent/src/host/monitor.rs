//! `hostnet`'s netlink monitor (`ip monitor`, filtered to the agent's
//! objects) as the loop's typed [`Drift`] events.

use agent::host::{Drift, HostObject};
use hostnet::Event;
use tokio::sync::mpsc;

/// Starts the monitor in the current namespace; events arrive on the
/// receiver. Without a monitor the agent relies on its periodic resync.
pub fn start() -> mpsc::Receiver<Drift> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut m = match hostnet::watch().await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %errchain::Chain(&e), "no netlink monitor; relying on the periodic resync");
                return;
            }
        };
        while let Some(ev) = m.recv().await {
            let Some(d) = drift(ev) else { continue };
            if tx.send(d).await.is_err() {
                return;
            }
        }
    });
    rx
}

/// The drift an event means, described as `ip monitor` would; `None` for
/// a flood entry added to an owned link, which is what the agent's own
/// converge does (`bridge fdb append`): counting it would make every pass
/// that adds a remote VTEP trigger a second, full pass. A foreign addition
/// is removed by the periodic full resync.
pub fn drift(ev: Event) -> Option<Drift> {
    let host = |object, detail: String| Some(Drift::Host { object, detail });
    match ev {
        Event::LinkDeleted { name } => host(HostObject::Link, format!("Deleted {name}")),
        Event::LinkChanged { name, up, mtu } => host(
            HostObject::Link,
            format!("{name} {} mtu {mtu}", if up { "UP" } else { "DOWN" }),
        ),
        Event::AddressDeleted { dev, addr } => {
            host(HostObject::Address, format!("Deleted {addr} dev {dev}"))
        }
        Event::RouteDeleted { dst, table } => {
            host(HostObject::Route, format!("Deleted {dst} table {table}"))
        }
        Event::RouteReplaced {
            dst,
            table,
            protocol,
        } => host(
            HostObject::Route,
            format!("{dst} table {table} replaced by proto {protocol}"),
        ),
        Event::RuleDeleted { pref, table } => host(
            HostObject::Rule,
            match pref {
                Some(p) => format!("Deleted pref {p} lookup {table}"),
                None => format!("Deleted lookup {table}"),
            },
        ),
        Event::FdbChanged { deleted: false, .. } => None,
        Event::FdbChanged { dev, dst, .. } => host(
            HostObject::Fdb,
            format!(
                "Deleted 00:00:00:00:00:00 dev {dev}{}",
                dst.map(|d| format!(" dst {d}")).unwrap_or_default()
            ),
        ),
        // The kernel drops routes through the port with its address and
        // says nothing about them: re-apply everything.
        Event::ManagementPortAddress { dev, addr, deleted } => host(
            HostObject::Address,
            format!("{}{addr} dev {dev}", if deleted { "Deleted " } else { "" }),
        ),
        Event::ManagementPortRoute { dst, via, deleted } => host(
            HostObject::Route,
            format!(
                "{}{dst} via {via} dev ovn-k8s-mp0",
                if deleted { "Deleted " } else { "" }
            ),
        ),
        Event::Resync => Some(Drift::HostResync),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_become_typed_drift() {
        assert_eq!(
            drift(Event::RuleDeleted {
                pref: Some(150),
                table: 150
            }),
            Some(Drift::Host {
                object: HostObject::Rule,
                detail: "Deleted pref 150 lookup 150".into()
            })
        );
        assert_eq!(drift(Event::Resync), Some(Drift::HostResync));
        assert_eq!(
            drift(Event::ManagementPortAddress {
                dev: "ovn-k8s-mp0".into(),
                addr: "10.244.1.2/24".parse().unwrap(),
                deleted: false
            }),
            Some(Drift::Host {
                object: HostObject::Address,
                detail: "10.244.1.2/24 dev ovn-k8s-mp0".into()
            })
        );
        let fdb = |deleted| Event::FdbChanged {
            dev: "vx-submariner".into(),
            dst: Some("10.1.0.3".parse().unwrap()),
            deleted,
        };
        assert_eq!(drift(fdb(false)), None, "the agent's own appends");
        assert_eq!(
            drift(fdb(true)),
            Some(Drift::Host {
                object: HostObject::Fdb,
                detail: "Deleted 00:00:00:00:00:00 dev vx-submariner dst 10.1.0.3".into()
            })
        );
    }
}
