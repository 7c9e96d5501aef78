//! Per-interface IPv4 settings (`net.ipv4.conf.<dev>.<name>`) over
//! rtnetlink: read from the `IFLA_AF_SPEC` / `AF_INET` / `IFLA_INET_CONF`
//! array of an `RTM_GETLINK` answer, written with `RTM_SETLINK` carrying the
//! same nest. This needs only CAP_NET_ADMIN in the namespace, so it works in
//! an unprivileged container, where /proc/sys is read-only. The values are
//! the ones /proc/sys shows: `sysctl -n net.ipv4.conf.eth0.rp_filter` reads
//! what [`set`] wrote.

use crate::error::{Error, Result};
use crate::netlink::{ack, NlError};
use futures::TryStreamExt;
use netlink_packet_core::{DefaultNla, Emitable, NLA_F_NESTED};
use netlink_packet_route::link::{AfSpecInet, AfSpecUnspec, LinkAttribute, LinkMessage};
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::Handle;

/// `IFLA_INET_CONF`: the devconf array inside `AF_INET` of `IFLA_AF_SPEC`.
const IFLA_INET_CONF: u16 = 1;

/// The kernel's `IPV4_DEVCONF_*` ids (linux/ip.h) by their /proc/sys name:
/// every writable per-interface IPv4 key (`mc_forwarding` is read-only).
const NAMES: [(&str, u16); 32] = [
    ("forwarding", 1),
    ("proxy_arp", 3),
    ("accept_redirects", 4),
    ("secure_redirects", 5),
    ("send_redirects", 6),
    ("shared_media", 7),
    ("rp_filter", 8),
    ("accept_source_route", 9),
    ("bootp_relay", 10),
    ("log_martians", 11),
    ("tag", 12),
    ("arp_filter", 13),
    ("medium_id", 14),
    ("disable_xfrm", 15),
    ("disable_policy", 16),
    ("force_igmp_version", 17),
    ("arp_announce", 18),
    ("arp_ignore", 19),
    ("promote_secondaries", 20),
    ("arp_accept", 21),
    ("arp_notify", 22),
    ("accept_local", 23),
    ("src_valid_mark", 24),
    ("proxy_arp_pvlan", 25),
    ("route_localnet", 26),
    ("igmpv2_unsolicited_report_interval", 27),
    ("igmpv3_unsolicited_report_interval", 28),
    ("ignore_routes_with_linkdown", 29),
    ("drop_unicast_in_l2_multicast", 30),
    ("drop_gratuitous_arp", 31),
    ("bc_forwarding", 32),
    ("arp_evict_nocarrier", 33),
];

/// A per-interface IPv4 key, split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DevKey<'a> {
    /// The whole dotted key.
    pub key: &'a str,
    /// The interface (may contain dots, as in `eth0.100`).
    pub dev: &'a str,
    /// The `IPV4_DEVCONF_*` id.
    pub id: u16,
}

impl<'a> DevKey<'a> {
    /// Splits `net.ipv4.conf.<dev>.<name>` when `<dev>` is an interface (not
    /// `all` or `default`, which are not links) and `<name>` a per-interface
    /// setting rtnetlink carries; `None` for every other key (those go
    /// through /proc/sys).
    pub fn parse(key: &'a str) -> Option<DevKey<'a>> {
        let rest = key.strip_prefix("net.ipv4.conf.")?;
        let (dev, name) = rest.rsplit_once('.')?;
        if dev.is_empty() || dev == "all" || dev == "default" {
            return None;
        }
        let id = NAMES.iter().find(|(n, _)| *n == name)?.1;
        Some(DevKey { key, dev, id })
    }

    fn object(&self) -> String {
        format!("sysctl {} (rtnetlink, link {})", self.key, self.dev)
    }
}

/// The link's index and its devconf array (value of id N at N-1), from
/// `RTM_GETLINK` by name (`ip -d link show DEV`).
async fn devconf(handle: &Handle, k: &DevKey<'_>) -> Result<(u32, Vec<i32>)> {
    let msg = handle
        .link()
        .get()
        .match_name(k.dev.to_string())
        .execute()
        .try_next()
        .await
        .map_err(|e| NlError::from(e).on(k.object(), "read"))?
        .ok_or_else(|| Error::Invalid {
            object: k.object(),
            reason: "the kernel answered RTM_GETLINK with no link".into(),
        })?;
    for a in &msg.attributes {
        let LinkAttribute::AfSpecUnspec(specs) = a else {
            continue;
        };
        for s in specs {
            let AfSpecUnspec::Inet(inet) = s else {
                continue;
            };
            for i in inet {
                if let AfSpecInet::DevConf(c) = i {
                    let mut raw = vec![0u8; c.buffer_len()];
                    c.emit(&mut raw);
                    let values = raw
                        .chunks_exact(4)
                        .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                        .collect();
                    return Ok((msg.header.index, values));
                }
            }
        }
    }
    Err(Error::Invalid {
        object: k.object(),
        reason: "the kernel reported no IPv4 settings for this link (is IPv4 disabled on it?)"
            .into(),
    })
}

/// Reads one per-interface value. Equals `sysctl -n net.ipv4.conf.DEV.NAME`.
pub async fn get(handle: &Handle, k: &DevKey<'_>) -> Result<i32> {
    let (_, values) = devconf(handle, k).await?;
    values
        .get(usize::from(k.id) - 1)
        .copied()
        .ok_or_else(|| Error::Invalid {
            object: k.object(),
            reason: format!(
                "the kernel's IPv4 settings stop before id {}: this kernel has no such key",
                k.id
            ),
        })
}

/// Sets one per-interface value. Equals `sysctl -w
/// net.ipv4.conf.DEV.NAME=VALUE`, sent as `RTM_SETLINK` on DEV with
/// `IFLA_AF_SPEC { AF_INET { IFLA_INET_CONF { ID: VALUE } } }`.
pub async fn set(handle: &Handle, k: &DevKey<'_>, value: &str) -> Result<()> {
    let v: i32 = value.trim().parse().map_err(|_| Error::Invalid {
        object: k.object(),
        reason: format!(
            "value {value:?} is not an integer, which every per-interface IPv4 setting is"
        ),
    })?;
    let (index, _) = devconf(handle, k).await?;
    // Built by hand: the crate's typed request leaves out zero values, and
    // restoring an original is often writing 0.
    let entry = DefaultNla::new(k.id, v.to_ne_bytes().to_vec());
    let mut nested = vec![0u8; entry.buffer_len()];
    entry.emit(&mut nested);
    let conf = DefaultNla::new(IFLA_INET_CONF | NLA_F_NESTED, nested);
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    msg.attributes
        .push(LinkAttribute::AfSpecUnspec(vec![AfSpecUnspec::Inet(vec![
            AfSpecInet::Other(conf),
        ])]));
    ack(handle, RouteNetlinkMessage::SetLink(msg), 0)
        .await
        .map_err(|e| e.on(k.object(), "write"))
}
