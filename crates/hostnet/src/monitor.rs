//! `ip monitor link route rule neigh address`, filtered to the agent's
//! objects: an [`Event`] whenever something the agent owns changes or
//! disappears, so the agent can repair external changes at once; and
//! whenever OVN-Kubernetes' management port `ovn-k8s-mp0` gains or loses
//! an address (the kernel drops the agent's routes through it without a
//! notification when the address goes; ovnkube-node re-adds it).

use crate::addresses::AddrState;
use crate::error::{Error, Result};
use crate::fdb::FdbState;
use crate::links::{list_links, LinkState};
use crate::routes::{list_owned_routes, RouteState, PROTO};
use crate::rules::RuleState;
use futures::{Stream, StreamExt};
use ipnet::IpNet;
use netlink_packet_core::{NetlinkMessage, NetlinkPayload, NLM_F_REPLACE};
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::neighbour::NeighbourMessage;
use netlink_packet_route::RouteNetlinkMessage;
use plan::ovn::MP0;
use rtnetlink::MulticastGroup;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// Something of the agent's changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An owned link was deleted (`ip link del NAME`).
    LinkDeleted {
        /// Its name.
        name: String,
    },
    /// An owned link went down or changed its MTU (`ip link set NAME down`,
    /// `ip link set NAME mtu M`).
    LinkChanged {
        /// Its name.
        name: String,
        /// Administratively up now.
        up: bool,
        /// MTU now.
        mtu: u32,
    },
    /// An address was removed from an owned link (`ip addr del`).
    AddressDeleted {
        /// The link.
        dev: String,
        /// The address.
        addr: IpNet,
    },
    /// A proto-166 route was deleted (`ip route del`).
    RouteDeleted {
        /// Destination.
        dst: IpNet,
        /// Table.
        table: u32,
    },
    /// A proto-166 route was replaced by a route of another protocol
    /// (`ip route replace ... proto static`).
    RouteReplaced {
        /// Destination.
        dst: IpNet,
        /// Table.
        table: u32,
        /// The new route's protocol.
        protocol: u8,
    },
    /// An owned rule was deleted (`ip rule del`).
    RuleDeleted {
        /// Priority.
        pref: Option<u32>,
        /// Table.
        table: u32,
    },
    /// An FDB entry on an owned link was added or deleted (`bridge fdb`).
    FdbChanged {
        /// The link.
        dev: String,
        /// The entry's remote VTEP.
        dst: Option<IpAddr>,
        /// True for a deletion.
        deleted: bool,
    },
    /// An IPv4/IPv6 address (not link-local) was added to or removed from
    /// OVN-Kubernetes' management port (`ip addr add|del ... dev
    /// ovn-k8s-mp0`).
    ManagementPortAddress {
        /// The port's name.
        dev: String,
        /// The address.
        addr: IpNet,
        /// True for a removal.
        deleted: bool,
    },
    /// A main-table route with a gateway through OVN-Kubernetes' management
    /// port was added or removed (`ip route add|del CIDR via G dev
    /// ovn-k8s-mp0`): the cluster-CIDR route the OVN datapath's tables
    /// 149/150 follow. OVN-Kubernetes re-adds it after the port's address,
    /// so a pass between the two would otherwise miss it.
    ManagementPortRoute {
        /// Destination.
        dst: IpNet,
        /// The gateway.
        via: IpAddr,
        /// True for a removal.
        deleted: bool,
    },
    /// The kernel dropped notifications (socket buffer overrun): the state
    /// must be re-read in full.
    Resync,
}

/// A running watch: a stream of [`Event`]s. Dropping it stops the watch.
#[derive(Debug)]
pub struct Monitor {
    rx: mpsc::UnboundedReceiver<Event>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Monitor {
    /// The next event; `None` when the netlink socket closed.
    pub async fn recv(&mut self) -> Option<Event> {
        self.rx.recv().await
    }
}

impl Stream for Monitor {
    type Item = Event;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.rx.poll_recv(cx)
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Subscribes to RTNLGRP_LINK, IPV4/IPV6_IFADDR, IPV4/IPV6_ROUTE,
/// IPV4/IPV6_RULE and NEIGH in the calling thread's namespace (inside a
/// tokio runtime) and returns the events that concern the agent's objects.
/// Equals `ip monitor link address route rule neigh` plus a filter.
pub async fn watch() -> Result<Monitor> {
    tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
    let groups = [
        MulticastGroup::Link,
        MulticastGroup::Ipv4Ifaddr,
        MulticastGroup::Ipv6Ifaddr,
        MulticastGroup::Ipv4Route,
        MulticastGroup::Ipv6Route,
        MulticastGroup::Ipv4Rule,
        MulticastGroup::Ipv6Rule,
        MulticastGroup::Neigh,
    ];
    let (conn, handle, mut messages) =
        rtnetlink::new_multicast_connection(&groups).map_err(|cause| Error::Socket { cause })?;
    let conn_task = tokio::spawn(conn);
    // Subscribed first, then read the state: nothing falls in between.
    let mut state = State::default();
    for l in list_links(&handle)
        .await?
        .by_name
        .into_values()
        .filter(LinkState::is_owned)
    {
        state.links.insert(l.index, l);
    }
    state.mp0 = list_links(&handle).await?.index(MP0);
    for r in list_owned_routes(&handle).await? {
        state.routes.insert((r.table, r.dst));
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let filter_task = tokio::spawn(async move {
        while let Some((msg, _)) = messages.next().await {
            for ev in state.events(msg) {
                if tx.send(ev).is_err() {
                    return;
                }
            }
        }
    });
    Ok(Monitor {
        rx,
        tasks: vec![filter_task, conn_task],
    })
}

/// What the filter remembers: owned links by ifindex (FDB and address
/// messages carry only the ifindex), the keys of proto-166 routes, and the
/// management port's ifindex.
#[derive(Default)]
struct State {
    links: BTreeMap<u32, LinkState>,
    routes: BTreeSet<(u32, IpNet)>,
    mp0: Option<u32>,
}

impl State {
    fn owned_name(&self, index: u32) -> Option<String> {
        self.links.get(&index).map(|l| l.name.clone())
    }

    /// An address change on the management port.
    fn mp0_event(&self, m: &AddressMessage, deleted: bool) -> Option<Event> {
        if Some(m.header.index) != self.mp0 {
            return None;
        }
        let a = AddrState::from_message(m).filter(|a| !a.is_ipv6_link_local())?;
        Some(Event::ManagementPortAddress {
            dev: MP0.to_string(),
            addr: a.addr,
            deleted,
        })
    }

    /// A main-table route with a gateway through the management port.
    fn mp0_route_event(&self, r: &RouteState, deleted: bool) -> Option<Event> {
        if self.mp0.is_none() || r.oif != self.mp0 || r.table != plan::routes::MAIN_TABLE {
            return None;
        }
        Some(Event::ManagementPortRoute {
            dst: r.dst,
            via: r.via?,
            deleted,
        })
    }

    fn fdb_event(&self, m: &NeighbourMessage, deleted: bool) -> Option<Event> {
        let f = FdbState::from_message(m)?;
        let dev = self.owned_name(f.index)?;
        Some(Event::FdbChanged {
            dev,
            dst: f.dst,
            deleted,
        })
    }

    fn events(&mut self, msg: NetlinkMessage<RouteNetlinkMessage>) -> Vec<Event> {
        let replace = msg.header.flags & NLM_F_REPLACE != 0;
        let inner = match msg.payload {
            NetlinkPayload::Overrun(_) => return vec![Event::Resync],
            NetlinkPayload::InnerMessage(m) => m,
            _ => return vec![],
        };
        let mut out = Vec::new();
        match inner {
            RouteNetlinkMessage::NewLink(m) => {
                if let Some(l) = LinkState::from_message(&m).filter(|l| l.name == MP0) {
                    self.mp0 = Some(l.index);
                }
                if let Some(l) = LinkState::from_message(&m).filter(LinkState::is_owned) {
                    let prev = self.links.insert(l.index, l.clone());
                    if prev.is_some_and(|p| (p.up && !l.up) || p.mtu != l.mtu) {
                        out.push(Event::LinkChanged {
                            name: l.name,
                            up: l.up,
                            mtu: l.mtu,
                        });
                    }
                }
            }
            RouteNetlinkMessage::DelLink(m) => {
                if self.mp0 == Some(m.header.index) {
                    self.mp0 = None;
                }
                if let Some(l) = self.links.remove(&m.header.index) {
                    out.push(Event::LinkDeleted { name: l.name });
                }
            }
            RouteNetlinkMessage::NewAddress(m) => out.extend(self.mp0_event(&m, false)),
            RouteNetlinkMessage::DelAddress(m) => {
                out.extend(self.mp0_event(&m, true));
                if let (Some(a), Some(dev)) =
                    (AddrState::from_message(&m), self.owned_name(m.header.index))
                {
                    if !a.is_ipv6_link_local() {
                        out.push(Event::AddressDeleted { dev, addr: a.addr });
                    }
                }
            }
            RouteNetlinkMessage::NewRoute(m) => {
                if let Some(r) = RouteState::from_message(&m) {
                    out.extend(self.mp0_route_event(&r, false));
                    if r.protocol == PROTO {
                        self.routes.insert(r.key());
                    } else if replace && self.routes.remove(&r.key()) {
                        out.push(Event::RouteReplaced {
                            dst: r.dst,
                            table: r.table,
                            protocol: r.protocol,
                        });
                    }
                }
            }
            RouteNetlinkMessage::DelRoute(m) => {
                if let Some(r) = RouteState::from_message(&m) {
                    out.extend(self.mp0_route_event(&r, true));
                }
                if let Some(r) = RouteState::from_message(&m).filter(|r| r.protocol == PROTO) {
                    self.routes.remove(&r.key());
                    out.push(Event::RouteDeleted {
                        dst: r.dst,
                        table: r.table,
                    });
                }
            }
            RouteNetlinkMessage::DelRule(m) => {
                if let Some(r) = RuleState::from_message(&m).filter(RuleState::is_owned) {
                    out.push(Event::RuleDeleted {
                        pref: r.pref,
                        table: r.table,
                    });
                }
            }
            RouteNetlinkMessage::NewNeighbour(m) => out.extend(self.fdb_event(&m, false)),
            RouteNetlinkMessage::DelNeighbour(m) => out.extend(self.fdb_event(&m, true)),
            _ => {}
        }
        out
    }
}
