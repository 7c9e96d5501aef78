//! Families, chain types, hooks and priorities, and the chain type x hook
//! matrix the kernel enforces (`nf_tables_api.c`, `nft_chain_nat.c`,
//! `nft_chain_route.c`).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An nftables table family. `inet` covers IPv4 and IPv6 in one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// `ip`: IPv4 only.
    Ip,
    /// `ip6`: IPv6 only.
    Ip6,
    /// `inet`: both; nat chains in it need kernel 5.2.
    Inet,
}

impl Family {
    /// All families, in a stable order.
    pub const ALL: [Family; 3] = [Family::Ip, Family::Ip6, Family::Inet];
    /// The keyword nft uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Ip => "ip",
            Family::Ip6 => "ip6",
            Family::Inet => "inet",
        }
    }
    /// Whether packets of this IP version pass through a table of this family.
    pub fn carries(self, v: IpVersion) -> bool {
        matches!(
            (self, v),
            (Family::Inet, _) | (Family::Ip, IpVersion::V4) | (Family::Ip6, IpVersion::V6)
        )
    }
}

/// IP version of an address, prefix or set key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum IpVersion {
    /// IPv4 (`ip`, `ipv4_addr`).
    V4,
    /// IPv6 (`ip6`, `ipv6_addr`).
    V6,
}

impl IpVersion {
    /// The payload keyword: `ip` or `ip6`.
    pub fn keyword(self) -> &'static str {
        match self {
            IpVersion::V4 => "ip",
            IpVersion::V6 => "ip6",
        }
    }
    /// The set key type: `ipv4_addr` or `ipv6_addr`.
    pub fn key_type(self) -> &'static str {
        match self {
            IpVersion::V4 => "ipv4_addr",
            IpVersion::V6 => "ipv6_addr",
        }
    }
    /// The version of an address.
    pub fn of(addr: &std::net::IpAddr) -> Self {
        if addr.is_ipv4() {
            IpVersion::V4
        } else {
            IpVersion::V6
        }
    }
}

/// Base chain type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainType {
    /// `filter`: every hook.
    Filter,
    /// `nat`: prerouting, input, output, postrouting; priority > -200.
    Nat,
    /// `route`: output only (re-routes locally generated packets after a mark change).
    Route,
}

impl ChainType {
    /// All chain types, in a stable order.
    pub const ALL: [ChainType; 3] = [ChainType::Filter, ChainType::Nat, ChainType::Route];
    /// The keyword nft uses.
    pub fn as_str(self) -> &'static str {
        match self {
            ChainType::Filter => "filter",
            ChainType::Nat => "nat",
            ChainType::Route => "route",
        }
    }
}

/// A netfilter hook (the IPv4/IPv6/inet ones the agent uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Hook {
    /// `prerouting` (NF_INET_PRE_ROUTING = 0).
    Prerouting,
    /// `input` (1).
    Input,
    /// `forward` (2).
    Forward,
    /// `output` (3).
    Output,
    /// `postrouting` (4).
    Postrouting,
}

impl Hook {
    /// All hooks, in kernel order.
    pub const ALL: [Hook; 5] = [
        Hook::Prerouting,
        Hook::Input,
        Hook::Forward,
        Hook::Output,
        Hook::Postrouting,
    ];
    /// The keyword nft uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::Prerouting => "prerouting",
            Hook::Input => "input",
            Hook::Forward => "forward",
            Hook::Output => "output",
            Hook::Postrouting => "postrouting",
        }
    }
    /// The kernel's hook number (`NF_INET_*`).
    pub fn number(self) -> u32 {
        self as u32
    }
    /// The iptables built-in chain this hook corresponds to.
    pub fn iptables_chain(self) -> &'static str {
        match self {
            Hook::Prerouting => "PREROUTING",
            Hook::Input => "INPUT",
            Hook::Forward => "FORWARD",
            Hook::Output => "OUTPUT",
            Hook::Postrouting => "POSTROUTING",
        }
    }
}

macro_rules! str_enum {
    ($t:ty, $what:literal, $($v:expr),+) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
        impl FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                [$($v),+].into_iter().find(|v| v.as_str() == s).ok_or_else(|| {
                    let valid: Vec<&str> = [$($v),+].iter().map(|v| v.as_str()).collect();
                    format!("unknown {} {s:?}; valid: {}", $what, valid.join(", "))
                })
            }
        }
    };
}
str_enum!(Family, "family", Family::Ip, Family::Ip6, Family::Inet);
str_enum!(
    ChainType,
    "chain type",
    ChainType::Filter,
    ChainType::Nat,
    ChainType::Route
);
str_enum!(
    Hook,
    "hook",
    Hook::Prerouting,
    Hook::Input,
    Hook::Forward,
    Hook::Output,
    Hook::Postrouting
);

/// Base chain priority. Lower runs first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Priority(pub i32);

impl Priority {
    /// `raw` (-300).
    pub const RAW: Priority = Priority(-300);
    /// `mangle` (-150): iptables' mangle table.
    pub const MANGLE: Priority = Priority(-150);
    /// `dstnat` (-100).
    pub const DSTNAT: Priority = Priority(-100);
    /// `filter` (0).
    pub const FILTER: Priority = Priority(0);
    /// `security` (50).
    pub const SECURITY: Priority = Priority(50);
    /// `srcnat` (100).
    pub const SRCNAT: Priority = Priority(100);
    /// Conntrack's priority; nat chains must run after it (> -200).
    pub const CONNTRACK: i32 = -200;

    /// The standard names nft knows, with their values.
    pub const NAMES: [(&'static str, i32); 6] = [
        ("raw", -300),
        ("mangle", -150),
        ("dstnat", -100),
        ("filter", 0),
        ("security", 50),
        ("srcnat", 100),
    ];

    /// The standard name nft would list for this value at this hook, if any.
    /// nft 1.0.6 accepts `dstnat` only on prerouting and `srcnat` only on
    /// postrouting (it refuses both on input, checked in a namespace).
    pub fn name_for(self, hook: Hook) -> Option<&'static str> {
        let (name, _) = Self::NAMES.iter().find(|(_, v)| *v == self.0)?;
        match *name {
            "dstnat" if hook != Hook::Prerouting => None,
            "srcnat" if hook != Hook::Postrouting => None,
            n => Some(n),
        }
    }
}

impl FromStr for Priority {
    type Err = String;
    /// Parses `-110`, `mangle`, `srcnat - 10`, `filter+5`.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Ok(n) = s.parse::<i32>() {
            return Ok(Priority(n));
        }
        let (name, rest) = match s.find(['+', '-']) {
            Some(i) => (s[..i].trim(), Some((&s[i..i + 1], s[i + 1..].trim()))),
            None => (s, None),
        };
        let base = Self::NAMES.iter().find(|(n, _)| *n == name).map(|(_, v)| *v).ok_or_else(|| {
            format!("unknown priority {s:?}; use a number or one of raw, mangle, dstnat, filter, security, srcnat (optionally +/- N)")
        })?;
        let off = match rest {
            None => 0,
            Some((sign, n)) => {
                let n: i32 = n
                    .parse()
                    .map_err(|_| format!("bad priority offset in {s:?}"))?;
                if sign == "-" {
                    -n
                } else {
                    n
                }
            }
        };
        Ok(Priority(base + off))
    }
}

/// Base chain policy.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// `accept` (NF_ACCEPT = 1).
    #[default]
    Accept,
    /// `drop` (NF_DROP = 0).
    Drop,
}

impl Policy {
    /// The keyword nft uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Accept => "accept",
            Policy::Drop => "drop",
        }
    }
}

/// Why the kernel refuses this chain type on this hook, or `None` if it
/// accepts it. Independent of kernel version: these are the kernel's rules,
/// not features. (Version-dependent support, such as inet nat before 5.2, is
/// the capability probe's business.)
pub fn chain_allowed(ty: ChainType, hook: Hook, priority: Priority) -> Option<&'static str> {
    match (ty, hook) {
        (ChainType::Route, Hook::Output) => None,
        (ChainType::Route, _) => Some(
            "route chains take only the output hook (they re-route locally generated packets after a mark change); \
             for iptables' mangle POSTROUTING behaviour use `type filter hook postrouting priority mangle`",
        ),
        (ChainType::Nat, Hook::Forward) => Some(
            "nat chains cannot hook forward; use prerouting (dnat) or postrouting (snat, masquerade), \
             or a filter chain on forward",
        ),
        (ChainType::Nat, _) if priority.0 <= Priority::CONNTRACK => {
            Some("nat chains must run after conntrack: priority must be above -200 (e.g. dstnat -100 or srcnat 100)")
        }
        _ => None,
    }
}
