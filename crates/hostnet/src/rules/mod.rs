//! Policy-routing rules (`ip rule`) the agent owns: protocol 166, and only
//! those. A rule's shape never makes it the agent's: `pref 100 lookup 100`
//! is also Submariner's VXLAN cable driver's, `pref 150 lookup 150` its
//! route agent's.
//!
//! - [`list`]: `ip -j rule show` (IPv4 and IPv6) as [`RuleState`]s.
//! - [`add`]: `ip rule add pref P lookup T proto 166`.
//! - [`del`]: `ip rule del pref P lookup T [proto 166]`.
//! - [`ensure`]: exactly the planned rules.

pub mod add;
pub mod del;
pub mod ensure;
pub mod list;

use ipnet::IpNet;
use netlink_packet_route::rule::{RuleAttribute, RuleMessage};
use netlink_packet_route::AddressFamily;
use ruleset::IpVersion;
use serde::{Deserialize, Serialize};
use std::fmt;

pub use add::add_rule;
pub use del::delete_rule;
pub use ensure::ensure_rules;
pub use list::{list_owned_rules, list_rules};

/// One rule as the kernel reports it; also the rule of a
/// [`crate::HostSnapshot`] (shown as `-4 pref P SELECTORS lookup T action A
/// proto N`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RuleState {
    /// `ip -4 rule` or `ip -6 rule`.
    pub version: IpVersion,
    /// Priority (`pref`); `None` only for malformed dumps.
    pub pref: Option<u32>,
    /// Table looked up (`lookup T`).
    pub table: u32,
    /// Action (1 = to table, 2 goto, 6 blackhole...).
    pub action: u8,
    /// `proto` number (0 when the kernel or tool did not set one).
    pub protocol: u8,
    /// Selectors, in `ip rule` words (`from 10.0.0.0/8`, `iif eth0`,
    /// `fwmark 0x1`); empty for a rule that matches everything.
    pub selectors: Vec<String>,
    /// The `from` prefix, if any (also in `selectors`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<IpNet>,
    /// The `to` prefix, if any (also in `selectors`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<IpNet>,
}

impl RuleState {
    /// Parses an `RTM_NEWRULE` message.
    pub fn from_message(m: &RuleMessage) -> Option<RuleState> {
        let version = match m.header.family {
            AddressFamily::Inet => IpVersion::V4,
            AddressFamily::Inet6 => IpVersion::V6,
            _ => return None,
        };
        let mut r = RuleState {
            version,
            pref: None,
            table: u32::from(m.header.table),
            action: u8::from(m.header.action),
            protocol: 0,
            selectors: Vec::new(),
            from: None,
            to: None,
        };
        if m.header.tos != 0 {
            r.selectors.push(format!("tos {:#x}", m.header.tos));
        }
        for a in &m.attributes {
            match a {
                RuleAttribute::Priority(p) => r.pref = Some(*p),
                RuleAttribute::Table(t) => r.table = *t,
                RuleAttribute::Protocol(p) => r.protocol = u8::from(*p),
                RuleAttribute::Source(s) => {
                    r.selectors.push(format!("from {s}/{}", m.header.src_len));
                    r.from = IpNet::new(*s, m.header.src_len).ok();
                }
                RuleAttribute::Destination(d) => {
                    r.selectors.push(format!("to {d}/{}", m.header.dst_len));
                    r.to = IpNet::new(*d, m.header.dst_len).ok();
                }
                RuleAttribute::Iifname(n) => r.selectors.push(format!("iif {n}")),
                RuleAttribute::Oifname(n) => r.selectors.push(format!("oif {n}")),
                RuleAttribute::FwMark(v) => r.selectors.push(format!("fwmark {v:#x}")),
                RuleAttribute::FwMask(v) => r.selectors.push(format!("fwmask {v:#x}")),
                RuleAttribute::Goto(v) => r.selectors.push(format!("goto {v}")),
                RuleAttribute::SuppressPrefixLen(v) if *v != u32::MAX => {
                    r.selectors.push(format!("suppress_prefixlength {v}"))
                }
                RuleAttribute::SuppressIfGroup(v) if *v != u32::MAX => {
                    r.selectors.push(format!("suppress_ifgroup {v}"))
                }
                RuleAttribute::IpProtocol(p) => r.selectors.push(format!("ipproto {p:?}")),
                RuleAttribute::SourcePortRange(p) => r.selectors.push(format!("sport {p:?}")),
                RuleAttribute::DestinationPortRange(p) => r.selectors.push(format!("dport {p:?}")),
                RuleAttribute::UidRange(u) => r.selectors.push(format!("uidrange {u:?}")),
                RuleAttribute::L3MDev(true) => r.selectors.push("l3mdev".into()),
                _ => {}
            }
        }
        Some(r)
    }

    /// True for rules the agent owns: protocol 166 (`ip rule ... proto
    /// 166`), whatever their priority and table.
    pub fn is_owned(&self) -> bool {
        self.protocol == plan::host::ROUTE_PROTOCOL
    }

    /// True when this is exactly the planned rule `r` as the agent adds it.
    pub fn is(&self, r: &plan::RoutingRule) -> bool {
        self.version == r.version
            && self.pref == Some(r.pref)
            && self.table == r.table
            && self.action == 1
            && self.protocol == plan::host::ROUTE_PROTOCOL
            && self.from == r.from
            && self.to == r.to
            && self.selectors.len() == usize::from(r.from.is_some()) + usize::from(r.to.is_some())
    }
}

impl fmt::Display for RuleState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = if self.version == IpVersion::V4 {
            "-4"
        } else {
            "-6"
        };
        write!(f, "{v}")?;
        if let Some(p) = self.pref {
            write!(f, " pref {p}")?;
        }
        for s in &self.selectors {
            write!(f, " {s}")?;
        }
        write!(
            f,
            " lookup {} action {} proto {}",
            self.table, self.action, self.protocol
        )
    }
}

/// How a rule is named in errors: `rule pref P lookup T (ipv4)`.
pub(crate) fn describe(version: IpVersion, pref: Option<u32>, table: u32) -> String {
    let v = match version {
        IpVersion::V4 => "ipv4",
        IpVersion::V6 => "ipv6",
    };
    match pref {
        Some(p) => format!("rule pref {p} lookup {table} ({v})"),
        None => format!("rule lookup {table} ({v})"),
    }
}

/// Adds `from`/`to` selectors (`FRA_SRC`/`FRA_DST` and their lengths).
pub(crate) fn push_selectors(m: &mut RuleMessage, from: Option<IpNet>, to: Option<IpNet>) {
    if let Some(f) = from {
        m.header.src_len = f.prefix_len();
        m.attributes.push(RuleAttribute::Source(f.addr()));
    }
    if let Some(t) = to {
        m.header.dst_len = t.prefix_len();
        m.attributes.push(RuleAttribute::Destination(t.addr()));
    }
}

pub(crate) fn family(v: IpVersion) -> AddressFamily {
    match v {
        IpVersion::V4 => AddressFamily::Inet,
        IpVersion::V6 => AddressFamily::Inet6,
    }
}
