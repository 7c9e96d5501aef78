//! A [`ruleset::Rule`] as nf_tables expressions, with the implicit
//! dependencies nft adds (and hides again when listing):
//! `meta nfproto ipv4|ipv6` before an address load in an `inet` table, and
//! `meta l4proto tcp|udp` before a port or TCP-flags load. Each dependency
//! is emitted once per rule, as nft does.

use crate::expr::{self, Expr};
use ipnet::IpNet;
use netlink_packet_netfilter::nftables::{MetaKey, Verdict};
use ruleset::{Action, AddrField, AddrTarget, Family, IfaceDir, IpVersion, L4Proto, Match, Rule};
use std::collections::HashMap;
use std::net::IpAddr;

/// `NFTNL_UDATA_RULE_COMMENT`.
const UDATA_RULE_COMMENT: u8 = 0;
/// `IFNAMSIZ`: nft compares interface names as 16-byte strings.
const IFNAMSIZ: usize = 16;

/// What a rule's expressions refer to: the table family and the batch-local
/// ids of sets created in the same batch.
pub(crate) struct RuleContext<'a> {
    /// The table family.
    pub family: Family,
    /// `NFTA_SET_ID` of each set created in this batch, by name.
    pub set_ids: &'a HashMap<String, u32>,
}

/// Dependencies already established in the rule being encoded.
#[derive(Default)]
struct Deps {
    nfproto: Option<IpVersion>,
    l4: Option<L4Proto>,
}

impl Deps {
    fn nfproto(&mut self, family: Family, v: IpVersion, out: &mut Vec<Expr>) {
        if family == Family::Inet && self.nfproto != Some(v) {
            out.push(expr::meta_load(MetaKey::Nfproto));
            out.push(expr::cmp(false, vec![nfproto(v)]));
            self.nfproto = Some(v);
        }
    }
    fn l4(&mut self, p: L4Proto, out: &mut Vec<Expr>) {
        if self.l4 != Some(p) {
            out.push(expr::meta_load(MetaKey::L4Proto));
            out.push(expr::cmp(false, vec![p.number()]));
            self.l4 = Some(p);
        }
    }
}

fn nfproto(v: IpVersion) -> u8 {
    match v {
        IpVersion::V4 => expr::NFPROTO_IPV4,
        IpVersion::V6 => expr::NFPROTO_IPV6,
    }
}

fn addr_bytes(a: &IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// (offset, length) of the source or destination address in the IP header.
fn addr_field(v: IpVersion, f: AddrField) -> (u32, u32) {
    match (v, f) {
        (IpVersion::V4, AddrField::Saddr) => (12, 4),
        (IpVersion::V4, AddrField::Daddr) => (16, 4),
        (IpVersion::V6, AddrField::Saddr) => (8, 16),
        (IpVersion::V6, AddrField::Daddr) => (24, 16),
    }
}

/// `ip saddr 10.0.0.0/8` as nft encodes it: a byte-aligned prefix loads and
/// compares only its bytes; any other prefix loads the whole address, masks
/// it and compares.
fn prefix_match(p: &IpNet, v: IpVersion, f: AddrField, negate: bool, out: &mut Vec<Expr>) {
    let (off, len) = addr_field(v, f);
    let net = addr_bytes(&p.network());
    let plen = u32::from(p.prefix_len());
    if plen == len * 8 || (plen > 0 && plen % 8 == 0) {
        let n = plen / 8;
        out.push(expr::payload(expr::NETWORK_HEADER, off, n));
        out.push(expr::cmp(negate, net[..n as usize].to_vec()));
    } else {
        out.push(expr::payload(expr::NETWORK_HEADER, off, len));
        out.push(expr::bitwise(
            addr_bytes(&p.netmask()),
            vec![0; len as usize],
        ));
        out.push(expr::cmp(negate, net));
    }
}

fn ifname(name: &str) -> Vec<u8> {
    let mut v = name.as_bytes().to_vec();
    v.resize(IFNAMSIZ, 0);
    v
}

fn encode_match(m: &Match, ctx: &RuleContext<'_>, deps: &mut Deps, out: &mut Vec<Expr>) {
    match m {
        Match::Addr {
            version,
            field,
            negate,
            target,
        } => {
            deps.nfproto(ctx.family, *version, out);
            match target {
                AddrTarget::Prefix(p) => prefix_match(p, *version, *field, *negate, out),
                AddrTarget::Set(name) => {
                    let (off, len) = addr_field(*version, *field);
                    out.push(expr::payload(expr::NETWORK_HEADER, off, len));
                    out.push(expr::lookup(name, ctx.set_ids.get(name).copied(), *negate));
                }
            }
        }
        Match::Iface { dir, negate, name } => {
            let key = match dir {
                IfaceDir::In => MetaKey::Iifname,
                IfaceDir::Out => MetaKey::Oifname,
            };
            out.push(expr::meta_load(key));
            out.push(expr::cmp(*negate, ifname(name)));
        }
        Match::L4Proto(p) => {
            out.push(expr::meta_load(MetaKey::L4Proto));
            out.push(expr::cmp(false, vec![p.number()]));
            deps.l4 = Some(*p);
        }
        Match::Dport { proto, port } => {
            deps.l4(*proto, out);
            out.push(expr::payload(expr::TRANSPORT_HEADER, 2, 2));
            out.push(expr::cmp(false, port.to_be_bytes().to_vec()));
        }
        Match::Mark {
            mask,
            value,
            negate,
        } => {
            out.push(expr::meta_load(MetaKey::Mark));
            if *mask != u32::MAX {
                out.push(expr::bitwise(mask.to_ne_bytes().to_vec(), vec![0; 4]));
            }
            out.push(expr::cmp(*negate, value.to_ne_bytes().to_vec()));
        }
        Match::TcpSyn => {
            deps.l4(L4Proto::Tcp, out);
            out.push(expr::payload(expr::TRANSPORT_HEADER, 13, 1));
            out.push(expr::bitwise(vec![0x06], vec![0])); // syn | rst
            out.push(expr::cmp(false, vec![0x02])); // == syn
        }
    }
}

fn encode_action(a: &Action, ctx: &RuleContext<'_>, deps: &mut Deps, out: &mut Vec<Expr>) {
    match a {
        Action::Accept => out.push(expr::verdict(expr::ACCEPT, None)),
        Action::Drop => out.push(expr::verdict(expr::DROP, None)),
        Action::Return => out.push(expr::verdict(Verdict::Return, None)),
        Action::Jump(c) => out.push(expr::verdict(Verdict::Jump, Some(c))),
        Action::Snat(addr) => {
            out.push(expr::immediate_data(addr_bytes(addr)));
            out.push(expr::snat_from_reg1(nfproto(IpVersion::of(addr))));
        }
        Action::SnatToSource(v) => {
            deps.nfproto(ctx.family, *v, out);
            let (off, len) = addr_field(*v, AddrField::Saddr);
            out.push(expr::payload(expr::NETWORK_HEADER, off, len));
            out.push(expr::snat_from_reg1(nfproto(*v)));
        }
        Action::Masquerade => out.push(expr::masq()),
        Action::SetMark { mask, value } => {
            // meta mark set meta mark & ~mask | value (nft clears the OR bits from the AND mask)
            out.push(expr::meta_load(MetaKey::Mark));
            out.push(expr::bitwise(
                (!mask & !value).to_ne_bytes().to_vec(),
                value.to_ne_bytes().to_vec(),
            ));
            out.push(expr::meta_set_mark());
        }
        Action::ClampMssToPmtu => {
            out.push(expr::rt_tcpmss());
            out.push(expr::hton16());
            out.push(expr::write_tcp_mss());
        }
        Action::ClampMss(mss) => {
            out.push(expr::immediate_data(mss.to_be_bytes().to_vec()));
            out.push(expr::write_tcp_mss());
        }
    }
}

/// The expressions of `rule`: matches (with dependencies), counter, action.
pub(crate) fn expressions(rule: &Rule, ctx: &RuleContext<'_>) -> Vec<Expr> {
    let mut out = Vec::with_capacity(rule.matches.len() * 3 + 4);
    let mut deps = Deps::default();
    for m in &rule.matches {
        encode_match(m, ctx, &mut deps, &mut out);
    }
    if rule.counter {
        out.push(expr::counter());
    }
    if let Some(a) = &rule.action {
        encode_action(a, ctx, &mut deps, &mut out);
    }
    out
}

/// Rule userdata holding a comment: `NFTNL_UDATA_RULE_COMMENT`, length,
/// NUL-terminated text. `None` if the comment cannot be stored (over 254
/// bytes; validation allows at most 128).
pub(crate) fn comment_udata(c: &str) -> Option<Vec<u8>> {
    let len = u8::try_from(c.len() + 1).ok()?;
    let mut v = Vec::with_capacity(c.len() + 3);
    v.push(UDATA_RULE_COMMENT);
    v.push(len);
    v.extend_from_slice(c.as_bytes());
    v.push(0);
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::Emitable;

    fn encoded(family: Family, rule: &Rule) -> Vec<u8> {
        let ids = HashMap::new();
        let e = expressions(
            rule,
            &RuleContext {
                family,
                set_ids: &ids,
            },
        );
        let mut b = vec![0u8; e.as_slice().buffer_len()];
        e.as_slice().emit(&mut b);
        b
    }

    fn count(family: Family, rule: &Rule) -> usize {
        let ids = HashMap::new();
        expressions(
            rule,
            &RuleContext {
                family,
                set_ids: &ids,
            },
        )
        .len()
    }

    #[test]
    fn inet_address_matches_get_one_nfproto_dependency() {
        let r = Rule::matching([
            Match::saddr("10.0.0.0/8".parse().unwrap()),
            Match::daddr("10.1.0.0/16".parse().unwrap()),
        ])
        .then(Action::SnatToSource(IpVersion::V4));
        // nfproto load+cmp, 2 x (load+cmp), load saddr + nat
        assert_eq!(count(Family::Inet, &r), 2 + 4 + 2);
        assert_eq!(count(Family::Ip, &r), 4 + 2);
    }

    #[test]
    fn port_and_tcp_flags_share_the_l4proto_dependency() {
        let r = Rule::matching([
            Match::Dport {
                proto: L4Proto::Tcp,
                port: 80,
            },
            Match::TcpSyn,
        ]);
        assert_eq!(count(Family::Ip, &r), 2 + 2 + 3);
    }

    #[test]
    fn unaligned_prefix_is_masked() {
        let r = Rule::matching([Match::saddr("10.0.0.0/12".parse().unwrap())]);
        assert_eq!(count(Family::Ip, &r), 3);
        let b = encoded(Family::Ip, &r);
        // the mask 255.240.0.0 appears in the bitwise expression
        assert!(b.windows(4).any(|w| w == [255, 240, 0, 0]));
    }

    #[test]
    fn comment_is_nul_terminated_tlv() {
        assert_eq!(comment_udata("ab").unwrap(), vec![0, 3, b'a', b'b', 0]);
        assert!(comment_udata(&"x".repeat(300)).is_none());
    }
}
