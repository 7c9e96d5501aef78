//! Links (`ip link`): the agent's VXLAN links and a read-only view of every
//! other link (for ifindex <-> name and for facts/snapshots).
//!
//! - [`list`]: `ip -d link show` as [`LinkState`]s.
//! - [`add`]: `ip link add NAME type vxlan ...`.
//! - [`set`]: `ip link set NAME mtu M up`.
//! - [`del`]: `ip link del NAME`.
//! - [`ensure`]: create, fix or re-create one planned VXLAN link.

pub mod add;
pub mod del;
pub mod ensure;
pub mod list;
pub mod set;

use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVxlan, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use std::collections::BTreeMap;
use std::net::IpAddr;

pub use add::add_vxlan;
pub use del::remove_link;
pub use ensure::ensure_vxlan;
pub use list::{list_links, list_owned_links};
pub use set::{set_mtu_up, set_owner_alias};

/// One link as the kernel reports it (`ip -d link show`), with what the
/// agent compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkState {
    /// ifindex.
    pub index: u32,
    /// Name.
    pub name: String,
    /// `IFLA_INFO_KIND` (`vxlan`, `veth`, `bridge`...), `None` for
    /// loopback and physical devices.
    pub kind: Option<String>,
    /// MTU.
    pub mtu: u32,
    /// Administratively up (`IFF_UP`).
    pub up: bool,
    /// Carrier/lower layer up (`IFF_LOWER_UP`).
    pub lower_up: bool,
    /// ifindex of the master (bridge), if enslaved.
    pub master: Option<u32>,
    /// ifindex of the parent link (`veth0@if3`, vlan parent), if any.
    pub parent: Option<u32>,
    /// VXLAN parameters, for kind `vxlan`.
    pub vxlan: Option<VxlanState>,
    /// `alias TEXT` (`IFLA_IFALIAS`), if set.
    pub alias: Option<String>,
}

/// The VXLAN parameters the agent sets (`ip -d link show` details).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VxlanState {
    /// `id VNI`.
    pub vni: u32,
    /// `dstport PORT`.
    pub port: u16,
    /// `local L`.
    pub local: Option<IpAddr>,
    /// `remote R` (or `group G`).
    pub remote: Option<IpAddr>,
    /// `dev D` as an ifindex.
    pub underlay: Option<u32>,
    /// `learning` / `nolearning`.
    pub learning: bool,
}

impl LinkState {
    /// Parses a `RTM_NEWLINK` message; `None` when it carries no name.
    pub fn from_message(m: &LinkMessage) -> Option<LinkState> {
        let mut name = None;
        let mut s = LinkState {
            index: m.header.index,
            name: String::new(),
            kind: None,
            mtu: 0,
            up: m.header.flags.contains(LinkFlags::Up),
            lower_up: m.header.flags.contains(LinkFlags::LowerUp),
            master: None,
            parent: None,
            vxlan: None,
            alias: None,
        };
        for a in &m.attributes {
            match a {
                LinkAttribute::IfName(n) => name = Some(n.clone()),
                LinkAttribute::Mtu(v) => s.mtu = *v,
                LinkAttribute::IfAlias(a) if !a.is_empty() => s.alias = Some(a.clone()),
                LinkAttribute::Controller(v) if *v != 0 => s.master = Some(*v),
                LinkAttribute::Link(v) if *v != 0 && *v != m.header.index => s.parent = Some(*v),
                LinkAttribute::LinkInfo(infos) => parse_info(infos, &mut s),
                _ => {}
            }
        }
        s.name = name?;
        Some(s)
    }
}

fn parse_info(infos: &[LinkInfo], s: &mut LinkState) {
    for i in infos {
        match i {
            LinkInfo::Kind(k) => s.kind = Some(k.to_string()),
            LinkInfo::Data(InfoData::Vxlan(attrs)) => {
                let mut v = VxlanState::default();
                for a in attrs {
                    match a {
                        InfoVxlan::Id(x) => v.vni = *x,
                        InfoVxlan::Port(x) => v.port = *x,
                        InfoVxlan::Local(x) => v.local = Some(IpAddr::V4(*x)),
                        InfoVxlan::Local6(x) => v.local = Some(IpAddr::V6(*x)),
                        InfoVxlan::Group(x) => v.remote = Some(IpAddr::V4(*x)),
                        InfoVxlan::Group6(x) => v.remote = Some(IpAddr::V6(*x)),
                        InfoVxlan::Link(x) if *x != 0 => v.underlay = Some(*x),
                        InfoVxlan::Learning(x) => v.learning = *x,
                        _ => {}
                    }
                }
                s.vxlan = Some(v);
            }
            _ => {}
        }
    }
    if s.kind.as_deref() == Some(&InfoKind::Vxlan.to_string()) && s.vxlan.is_none() {
        s.vxlan = Some(VxlanState::default());
    }
}

/// Every link of the namespace, by name, with an index -> name lookup.
#[derive(Debug, Clone, Default)]
pub struct LinkTable {
    /// Links by name.
    pub by_name: BTreeMap<String, LinkState>,
    by_index: BTreeMap<u32, String>,
}

impl LinkTable {
    /// Builds the table from a list.
    pub fn new(links: Vec<LinkState>) -> LinkTable {
        LinkTable {
            by_index: links.iter().map(|l| (l.index, l.name.clone())).collect(),
            by_name: links.into_iter().map(|l| (l.name.clone(), l)).collect(),
        }
    }

    /// The link named `name`.
    pub fn get(&self, name: &str) -> Option<&LinkState> {
        self.by_name.get(name)
    }

    /// ifindex of `name`.
    pub fn index(&self, name: &str) -> Option<u32> {
        self.get(name).map(|l| l.index)
    }

    /// Name of ifindex `index`.
    pub fn name(&self, index: u32) -> Option<&str> {
        self.by_index.get(&index).map(String::as_str)
    }
}

/// True for the link names the agent may plan (`plan::host::ownership::LINKS`);
/// whether an existing link of that name is the agent's is
/// [`LinkState::is_owned`].
pub fn is_owned_name(name: &str) -> bool {
    plan::host::ownership::LINKS.contains(&name)
}

impl LinkState {
    /// True for links the agent owns: a name of
    /// `plan::host::ownership::LINKS`, and for the names shared with
    /// Submariner's cable (`ALIASED_LINKS`: `vxlan-tunnel`) the alias
    /// `routeagent` the agent sets on creation. A `vxlan-tunnel` made by
    /// Submariner's VXLAN cable driver is thus never changed or deleted.
    pub fn is_owned(&self) -> bool {
        use plan::host::ownership::{ALIASED_LINKS, LINK_ALIAS};
        is_owned_name(&self.name)
            && (!ALIASED_LINKS.contains(&self.name.as_str())
                || self.alias.as_deref() == Some(LINK_ALIAS))
    }
}
