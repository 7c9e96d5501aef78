//! Rules: matches, an optional counter, an action.

use crate::hook::IpVersion;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// A rule: all matches must hold; then the counter, then the action.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Rule {
    /// Conditions, all of which must hold.
    pub matches: Vec<Match>,
    /// Whether the rule counts packets and bytes (`counter`).
    pub counter: bool,
    /// What to do with a matching packet; `None` only counts.
    pub action: Option<Action>,
    /// Comment (<= 128 bytes).
    pub comment: Option<String>,
}

impl Rule {
    /// A rule with these matches and no action.
    pub fn matching(matches: impl IntoIterator<Item = Match>) -> Self {
        Rule {
            matches: matches.into_iter().collect(),
            ..Default::default()
        }
    }
    /// Builder: adds a match.
    pub fn and(mut self, m: Match) -> Self {
        self.matches.push(m);
        self
    }
    /// Builder: counts.
    pub fn counted(mut self) -> Self {
        self.counter = true;
        self
    }
    /// Builder: sets the action.
    pub fn then(mut self, a: Action) -> Self {
        self.action = Some(a);
        self
    }
    /// Builder: sets the comment.
    pub fn comment(mut self, c: impl Into<String>) -> Self {
        self.comment = Some(c.into());
        self
    }
}

/// Which address of the packet an [`Match::Addr`] looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AddrField {
    /// Source (`saddr`).
    Saddr,
    /// Destination (`daddr`).
    Daddr,
}

/// What an address is compared against.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AddrTarget {
    /// A prefix; a host address is a /32 or /128.
    Prefix(IpNet),
    /// A named set of the same table (`@name`).
    Set(String),
}

/// Which interface an [`Match::Iface`] looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IfaceDir {
    /// `iifname`.
    In,
    /// `oifname`.
    Out,
}

/// Layer-4 protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum L4Proto {
    /// TCP (6).
    Tcp,
    /// UDP (17).
    Udp,
}

impl L4Proto {
    /// The IANA protocol number.
    pub fn number(self) -> u8 {
        match self {
            L4Proto::Tcp => 6,
            L4Proto::Udp => 17,
        }
    }
    /// The keyword nft uses.
    pub fn as_str(self) -> &'static str {
        match self {
            L4Proto::Tcp => "tcp",
            L4Proto::Udp => "udp",
        }
    }
}

/// One condition of a rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Match {
    /// `ip saddr 10.0.0.0/8`, `ip6 daddr != @remote`.
    Addr {
        /// Which header: `ip` or `ip6`.
        version: IpVersion,
        /// Source or destination.
        field: AddrField,
        /// `!=` instead of `==`.
        negate: bool,
        /// Prefix or set.
        target: AddrTarget,
    },
    /// `iifname "eth0"`, `oifname != "vx-submariner"`.
    Iface {
        /// Input or output interface.
        dir: IfaceDir,
        /// `!=` instead of `==`.
        negate: bool,
        /// Interface name (at most 15 bytes).
        name: String,
    },
    /// `meta l4proto tcp`.
    L4Proto(L4Proto),
    /// `udp dport 4800` (implies the protocol).
    Dport {
        /// Protocol.
        proto: L4Proto,
        /// Destination port.
        port: u16,
    },
    /// `meta mark & 0x000f0000 == 0x00080000`.
    Mark {
        /// Bits compared.
        mask: u32,
        /// Expected value of those bits.
        value: u32,
        /// `!=` instead of `==`.
        negate: bool,
    },
    /// `tcp flags syn / syn,rst`: a TCP SYN without RST (implies TCP).
    TcpSyn,
}

impl Match {
    /// `ip[6] saddr <prefix>`.
    pub fn saddr(p: IpNet) -> Self {
        Match::Addr {
            version: IpVersion::of(&p.addr()),
            field: AddrField::Saddr,
            negate: false,
            target: AddrTarget::Prefix(p),
        }
    }
    /// `ip[6] daddr <prefix>`.
    pub fn daddr(p: IpNet) -> Self {
        Match::Addr {
            version: IpVersion::of(&p.addr()),
            field: AddrField::Daddr,
            negate: false,
            target: AddrTarget::Prefix(p),
        }
    }
    /// `ip[6] saddr @set`.
    pub fn saddr_in(v: IpVersion, set: impl Into<String>) -> Self {
        Match::Addr {
            version: v,
            field: AddrField::Saddr,
            negate: false,
            target: AddrTarget::Set(set.into()),
        }
    }
    /// `ip[6] daddr @set`.
    pub fn daddr_in(v: IpVersion, set: impl Into<String>) -> Self {
        Match::Addr {
            version: v,
            field: AddrField::Daddr,
            negate: false,
            target: AddrTarget::Set(set.into()),
        }
    }
    /// `iifname "<name>"`.
    pub fn iif(name: impl Into<String>) -> Self {
        Match::Iface {
            dir: IfaceDir::In,
            negate: false,
            name: name.into(),
        }
    }
    /// `oifname "<name>"`.
    pub fn oif(name: impl Into<String>) -> Self {
        Match::Iface {
            dir: IfaceDir::Out,
            negate: false,
            name: name.into(),
        }
    }
    /// The same match, negated (for address, interface and mark matches).
    pub fn negated(self) -> Self {
        match self {
            Match::Addr {
                version,
                field,
                negate,
                target,
            } => Match::Addr {
                version,
                field,
                negate: !negate,
                target,
            },
            Match::Iface { dir, negate, name } => Match::Iface {
                dir,
                negate: !negate,
                name,
            },
            Match::Mark {
                mask,
                value,
                negate,
            } => Match::Mark {
                mask,
                value,
                negate: !negate,
            },
            m => m,
        }
    }
    /// The IP version this match restricts the packet to, if any.
    pub fn ip_version(&self) -> Option<IpVersion> {
        match self {
            Match::Addr { version, .. } => Some(*version),
            _ => None,
        }
    }
}

/// What a rule does with a matching packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// `accept`: final for this base chain only, not across tables.
    Accept,
    /// `drop`.
    Drop,
    /// `return`.
    Return,
    /// `jump <chain>`.
    Jump(String),
    /// `snat to <addr>` (nat chains, postrouting/input).
    Snat(IpAddr),
    /// `snat to ip saddr`: bind NAT to the packet's own source so no later
    /// masquerade of another table rewrites it (source preservation).
    SnatToSource(IpVersion),
    /// `masquerade` (nat chains, postrouting).
    Masquerade,
    /// `meta mark set meta mark & ~mask | value`: sets the bits of `mask` to `value`.
    SetMark {
        /// Bits written.
        mask: u32,
        /// Their new value.
        value: u32,
    },
    /// `tcp option maxseg size set rt mtu` (forward, output, postrouting).
    ClampMssToPmtu,
    /// `tcp option maxseg size set <mss>`.
    ClampMss(u16),
}

impl Action {
    /// Whether the action is a NAT statement (needs a nat chain).
    pub fn is_nat(&self) -> bool {
        matches!(
            self,
            Action::Snat(_) | Action::SnatToSource(_) | Action::Masquerade
        )
    }
    /// Whether the action rewrites the TCP MSS option (needs a TCP SYN match).
    pub fn is_mss(&self) -> bool {
        matches!(self, Action::ClampMssToPmtu | Action::ClampMss(_))
    }
}
