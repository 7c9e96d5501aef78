//! Forwarding-database entries (`bridge fdb`) of the agent's VXLAN links:
//! the all-zero-MAC "flood to" entries `00:00:00:00:00:00 dst X`.
//!
//! - [`list`]: `bridge -j fdb show` as [`FdbState`]s.
//! - [`append`]: `bridge fdb append 00:00:00:00:00:00 dev DEV dst X`.
//! - [`del`]: `bridge fdb del 00:00:00:00:00:00 dev DEV dst X`.
//! - [`ensure`]: exactly the planned entries on each owned VXLAN link.

pub mod append;
pub mod del;
pub mod delta;
pub mod ensure;
pub mod list;

use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::AddressFamily;
use std::net::IpAddr;

pub use append::append_fdb;
pub use del::delete_fdb;
pub use delta::apply_fdb_delta;
pub use ensure::ensure_fdb;
pub use list::list_fdb;

/// The all-zero MAC of default (flood) entries.
pub const ZERO_MAC: [u8; 6] = [0; 6];

/// One FDB entry as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FdbState {
    /// ifindex of the device.
    pub index: u32,
    /// MAC address.
    pub mac: Vec<u8>,
    /// Remote VTEP (`dst`), for VXLAN entries.
    pub dst: Option<IpAddr>,
    /// `NUD_*` state bits (`permanent` = 0x80).
    pub state: u16,
    /// `NTF_*` flags (`self` = 0x02, `master` = 0x04).
    pub flags: u8,
    /// ifindex of the master (bridge ports), if any.
    pub master: Option<u32>,
    /// VLAN, if any.
    pub vlan: Option<u16>,
}

impl FdbState {
    /// Parses an `RTM_NEWNEIGH` of family `AF_BRIDGE`.
    pub fn from_message(m: &NeighbourMessage) -> Option<FdbState> {
        if m.header.family != AddressFamily::Bridge {
            return None;
        }
        let mut s = FdbState {
            index: m.header.ifindex,
            mac: Vec::new(),
            dst: None,
            state: u16::from(m.header.state),
            flags: m.header.flags.bits(),
            master: None,
            vlan: None,
        };
        for a in &m.attributes {
            match a {
                NeighbourAttribute::LinkLayerAddress(mac) => s.mac = mac.clone(),
                NeighbourAttribute::Destination(d) => s.dst = dst_ip(d),
                NeighbourAttribute::Controller(i) => s.master = Some(*i),
                NeighbourAttribute::Vlan(v) => s.vlan = Some(*v),
                _ => {}
            }
        }
        Some(s)
    }

    /// True for an all-zero-MAC entry with a destination: the kind the agent
    /// manages.
    pub fn is_default_dst(&self) -> bool {
        self.mac == ZERO_MAC && self.dst.is_some()
    }
}

/// NDA_DST of an `AF_BRIDGE` message: the parser cannot know the IP
/// version from the family, so it hands raw bytes; 4 or 16 of them.
fn dst_ip(d: &NeighbourAddress) -> Option<IpAddr> {
    match d {
        NeighbourAddress::Inet(ip) => Some(IpAddr::V4(*ip)),
        NeighbourAddress::Inet6(ip) => Some(IpAddr::V6(*ip)),
        NeighbourAddress::Other(b) => match b.len() {
            4 => <[u8; 4]>::try_from(b.as_slice()).ok().map(IpAddr::from),
            16 => <[u8; 16]>::try_from(b.as_slice()).ok().map(IpAddr::from),
            _ => None,
        },
        _ => None,
    }
}

/// The `RTM_NEWNEIGH`/`RTM_DELNEIGH` message for `00:00:00:00:00:00 dst DST`
/// on `index`, as `bridge fdb` builds it (`self permanent`).
pub(crate) fn message(index: u32, dst: IpAddr) -> NeighbourMessage {
    let mut m = NeighbourMessage::default();
    m.header.family = AddressFamily::Bridge;
    m.header.ifindex = index;
    // NUD_NOARP | NUD_PERMANENT, what `bridge fdb append` sends.
    m.header.state = NeighbourState::Other(0x40 | 0x80);
    m.header.flags = NeighbourFlags::Own;
    m.attributes
        .push(NeighbourAttribute::LinkLayerAddress(ZERO_MAC.to_vec()));
    m.attributes
        .push(NeighbourAttribute::Destination(match dst {
            IpAddr::V4(a) => NeighbourAddress::Inet(a),
            IpAddr::V6(a) => NeighbourAddress::Inet6(a),
        }));
    m
}
