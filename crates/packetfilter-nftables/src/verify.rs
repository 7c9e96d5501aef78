//! Reading back what the kernel holds (GETTABLE, GETCHAIN / GETRULE /
//! GETSETELEM dumps) and comparing counts with the desired state: chains
//! present, rules per chain, and the exact elements of every set.

use crate::errors;
use crate::socket::Conn;
use netlink_packet_core::NLA_TYPE_MASK;
use netlink_packet_netfilter::nftables::{
    ChainMessage, NfTablesMessage, RuleAttribute, RuleMessage, SetElementList, SetElementMessage,
    TableAttribute, TableMessage,
};
use packetfilter::{Error, Object, Result};
use ruleset::{RuleSet, Set, Table};
use std::collections::BTreeMap;

const ENOENT: i32 = 2;

/// Top-level attributes `(type, value)` of one message.
pub(crate) fn attrs(buf: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    let mut off = 0;
    while off + 4 <= buf.len() {
        let len = u16::from_ne_bytes([buf[off], buf[off + 1]]) as usize;
        let kind = u16::from_ne_bytes([buf[off + 2], buf[off + 3]]) & NLA_TYPE_MASK;
        if len < 4 || off + len > buf.len() {
            break;
        }
        out.push((kind, &buf[off + 4..off + len]));
        off += (len + 3) & !3;
    }
    out
}

pub(crate) fn string(v: &[u8]) -> String {
    String::from_utf8_lossy(v.split(|b| *b == 0).next().unwrap_or_default()).into_owned()
}

pub(crate) fn attr_str(a: &[(u16, &[u8])], kind: u16) -> Option<String> {
    a.iter().find(|(k, _)| *k == kind).map(|(_, v)| string(v))
}

fn drift(t: &Table, what: String) -> Error {
    Error::Drift(format!("table {} {}: {what}", t.family, t.name))
}

/// The elements `(key, is_end)` in GETSETELEM answers, without the leading
/// zero end element nft adds.
fn dumped_elements(answers: &[Vec<u8>]) -> Vec<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    for msg in answers {
        for (k, list) in attrs(msg) {
            if k != 3 {
                continue; // NFTA_SET_ELEM_LIST_ELEMENTS
            }
            for (_, elem) in attrs(list) {
                let a = attrs(elem);
                let flags = a
                    .iter()
                    .find(|(k, _)| *k == 3) // NFTA_SET_ELEM_FLAGS
                    .and_then(|(_, v)| v.get(..4))
                    .map(|v| u32::from_be_bytes([v[0], v[1], v[2], v[3]]))
                    .unwrap_or(0);
                let key = a
                    .iter()
                    .find(|(k, _)| *k == 1) // NFTA_SET_ELEM_KEY { NFTA_DATA_VALUE }
                    .and_then(|(_, v)| attrs(v).first().map(|(_, d)| d.to_vec()))
                    .unwrap_or_default();
                let end = flags & 1 != 0;
                if !(end && key.iter().all(|b| *b == 0)) {
                    out.push((key, end));
                }
            }
        }
    }
    out
}

/// Compares a set's dumped elements with the desired prefixes.
fn compare_set(t: &Table, s: &Set, answers: &[Vec<u8>]) -> Result<()> {
    let mut have = dumped_elements(answers);
    let mut want = crate::elements::expected(s.elements.iter());
    have.sort();
    want.sort();
    if have == want {
        return Ok(());
    }
    let prefixes = have.iter().filter(|(_, end)| !end).count();
    let diff = want
        .iter()
        .find(|e| have.binary_search(e).is_err())
        .map(|(k, _)| ("missing", k))
        .or_else(|| {
            have.iter()
                .find(|e| want.binary_search(e).is_err())
                .map(|(k, _)| ("unexpected", k))
        });
    let detail = match diff {
        Some((what, key)) => format!("; {what} boundary {}", key_text(key)),
        None => String::new(),
    };
    Err(drift(
        t,
        format!(
            "set {} holds {prefixes} prefixes, {} expected{detail}",
            s.name,
            s.elements.len()
        ),
    ))
}

fn key_text(k: &[u8]) -> String {
    match k.len() {
        4 => std::net::Ipv4Addr::new(k[0], k[1], k[2], k[3]).to_string(),
        16 => {
            let mut b = [0u8; 16];
            b.copy_from_slice(k);
            std::net::Ipv6Addr::from(b).to_string()
        }
        _ => format!("{k:02x?}"),
    }
}

/// Compares one table's chains, rule counts and set sizes with `t`.
fn verify_table(conn: &mut Conn, t: &Table) -> Result<()> {
    let fam = Some(t.family);
    let tobj = || Object::Table {
        family: t.family,
        name: t.name.clone(),
    };
    let get = NfTablesMessage::GetTable(TableMessage {
        attributes: vec![TableAttribute::Name(t.name.clone())],
    });
    match conn.request(fam, get, false)? {
        Err(ENOENT) => return Err(drift(t, "the table is missing".into())),
        Err(e) => return Err(errors::request(tobj(), e)),
        Ok(_) => {}
    }
    let chains = conn
        .request(
            fam,
            NfTablesMessage::GetChain(ChainMessage { attributes: vec![] }),
            true,
        )?
        .map_err(|e| errors::request(tobj(), e))?;
    let mut have: BTreeMap<String, usize> = BTreeMap::new();
    for c in &chains {
        let a = attrs(c);
        if attr_str(&a, 1).as_deref() == Some(t.name.as_str()) {
            if let Some(name) = attr_str(&a, 3) {
                have.insert(name, 0);
            }
        }
    }
    let rules = NfTablesMessage::GetRule(RuleMessage {
        attributes: vec![RuleAttribute::Table(t.name.clone())],
    });
    for r in conn
        .request(fam, rules, true)?
        .map_err(|e| errors::request(tobj(), e))?
    {
        let a = attrs(&r);
        if attr_str(&a, 1).as_deref() != Some(t.name.as_str()) {
            continue;
        }
        if let Some(chain) = attr_str(&a, 2) {
            *have.entry(chain).or_default() += 1;
        }
    }
    for c in &t.chains {
        match have.remove(&c.name) {
            None => return Err(drift(t, format!("chain {} is missing", c.name))),
            Some(n) if n != c.rules.len() => {
                return Err(drift(
                    t,
                    format!(
                        "chain {} holds {n} rules, {} expected",
                        c.name,
                        c.rules.len()
                    ),
                ))
            }
            _ => {}
        }
    }
    if let Some(extra) = have.keys().next() {
        return Err(drift(t, format!("unexpected chain {extra}")));
    }
    for s in &t.sets {
        let m = SetElementMessage {
            attributes: vec![
                SetElementList::Table(t.name.clone()),
                SetElementList::Set(s.name.clone()),
            ],
        };
        let answers = match conn.request(fam, NfTablesMessage::GetSetElement(m), true)? {
            Err(ENOENT) => return Err(drift(t, format!("set {} is missing", s.name))),
            Err(e) => {
                let o = Object::Set {
                    family: t.family,
                    table: t.name.clone(),
                    name: s.name.clone(),
                };
                return Err(errors::request(o, e));
            }
            Ok(a) => a,
        };
        compare_set(t, s, &answers)?;
    }
    Ok(())
}

/// [`packetfilter::Backend::verify`]: the first difference, as
/// [`Error::Drift`].
pub(crate) fn verify(conn: &mut Conn, desired: &RuleSet) -> Result<()> {
    for t in &desired.tables {
        verify_table(conn, t)?;
    }
    Ok(())
}
