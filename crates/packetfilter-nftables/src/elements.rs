//! Interval-set elements as nft encodes them: a leading `0.0.0.0` (or `::`)
//! element flagged `INTERVAL_END` unless the first prefix starts at zero,
//! then per prefix a start element and an end element (the first address
//! after the prefix) flagged `INTERVAL_END`; a prefix reaching the top of
//! the address space has no end element. Messages are chunked so that each
//! element list stays well below the 64 KiB netlink attribute limit.

use crate::batch::Batch;
use ipnet::IpNet;
use netlink_packet_core::{DefaultNla, NLA_F_NESTED, NLM_F_CREATE};
use netlink_packet_netfilter::nftables::{NfTablesMessage, SetElementList, SetElementMessage};
use packetfilter::Object;
use ruleset::Family;

/// Bytes one element list may use (an NLA length is 16 bits).
const LIST_BUDGET: usize = 60_000;
/// At most this many elements per message.
const MAX_ELEMENTS: usize = 2_000;

/// Where the elements go.
pub(crate) struct Target<'a> {
    /// Table family.
    pub family: Family,
    /// Table name.
    pub table: &'a str,
    /// Set name.
    pub set: &'a str,
    /// `NFTA_SET_ELEM_LIST_SET_ID` when the set is created in this batch.
    pub set_id: Option<u32>,
}

/// `NFTA_LIST_ELEM`, `NFTA_SET_ELEM_KEY`, `NFTA_DATA_VALUE`,
/// `NFTA_SET_ELEM_FLAGS`, `NFTA_SET_ELEM_LIST_ELEMENTS`.
const LIST_ELEM: u16 = 1;
const ELEM_KEY: u16 = 1;
const DATA_VALUE: u16 = 1;
const ELEM_FLAGS: u16 = 3;
const LIST_ELEMENTS: u16 = 3;
const ELEM_USERDATA: u16 = 6;
/// `NFT_SET_ELEM_INTERVAL_END`.
const INTERVAL_END: u32 = 1;
/// Element userdata nft attaches to a start element whose interval runs to
/// the top of the address space: `NFTNL_UDATA_SET_ELEM_FLAGS` (1), length 4,
/// `NFTNL_SET_ELEM_F_INTERVAL_OPEN` (1) in host byte order.
const OPEN_INTERVAL_UDATA: [u8; 6] = [1, 4, 1, 0, 0, 0];

fn put_nla_header(out: &mut Vec<u8>, len: usize, kind: u16) {
    out.extend_from_slice(&(len as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
}

/// One element `{ [FLAGS INTERVAL_END,] KEY { VALUE key } [, USERDATA
/// open-interval] }`, written straight into `out` (10,000s of them: no
/// allocation per element). Keys are 4 or 16 bytes, so no padding is needed
/// except after the 6-byte userdata.
fn put_element(out: &mut Vec<u8>, key: &[u8], end: bool, open: bool) {
    let value = 4 + key.len();
    let key_nest = 4 + value;
    let udata = if open {
        4 + OPEN_INTERVAL_UDATA.len()
    } else {
        0
    };
    let len = 4 + if end { 8 } else { 0 } + key_nest + ((udata + 3) & !3);
    put_nla_header(out, len, LIST_ELEM | NLA_F_NESTED);
    if end {
        put_nla_header(out, 8, ELEM_FLAGS);
        out.extend_from_slice(&INTERVAL_END.to_be_bytes());
    }
    put_nla_header(out, key_nest, ELEM_KEY | NLA_F_NESTED);
    put_nla_header(out, value, DATA_VALUE);
    out.extend_from_slice(key);
    if open {
        put_nla_header(out, udata, ELEM_USERDATA);
        out.extend_from_slice(&OPEN_INTERVAL_UDATA);
        out.extend_from_slice(&[0, 0]); // pad to 4 bytes
    }
}

pub(crate) fn bytes(a: std::net::IpAddr) -> Vec<u8> {
    match a {
        std::net::IpAddr::V4(a) => a.octets().to_vec(),
        std::net::IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// The address after the prefix, or `None` if the prefix ends the space.
pub(crate) fn after(p: &IpNet) -> Option<Vec<u8>> {
    match p {
        IpNet::V4(p) => u32::from(p.broadcast())
            .checked_add(1)
            .map(|n| n.to_be_bytes().to_vec()),
        IpNet::V6(p) => u128::from(p.broadcast())
            .checked_add(1)
            .map(|n| n.to_be_bytes().to_vec()),
    }
}

/// The kernel elements of one prefix: start, and end unless it overflows.
fn prefix_elements(p: &IpNet, out: &mut Vec<u8>) {
    match p {
        IpNet::V4(p) => {
            let end = u32::from(p.broadcast()).checked_add(1);
            put_element(out, &p.network().octets(), false, end.is_none());
            if let Some(end) = end {
                put_element(out, &end.to_be_bytes(), true, false);
            }
        }
        IpNet::V6(p) => {
            let end = u128::from(p.broadcast()).checked_add(1);
            put_element(out, &p.network().octets(), false, end.is_none());
            if let Some(end) = end {
                put_element(out, &end.to_be_bytes(), true, false);
            }
        }
    }
}

/// The kernel elements `(key, is_end)` of `prefixes`, without the leading
/// zero end element: what a dump of the set must hold.
pub(crate) fn expected<'a>(prefixes: impl Iterator<Item = &'a IpNet>) -> Vec<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    for p in prefixes {
        out.push((bytes(p.network()), false));
        if let Some(end) = after(p) {
            out.push((end, true));
        }
    }
    out
}

/// Appends NEWSETELEM (or, with `delete`, DELSETELEM) messages for
/// `prefixes` (sorted, non-overlapping) to `batch`. Adds carry the leading
/// zero end element, as `nft add element` does; it is harmless when present.
/// Returns the number of messages added.
pub(crate) fn add_messages(
    batch: &mut Batch,
    target: &Target<'_>,
    prefixes: &[IpNet],
    delete: bool,
) -> usize {
    let Some(first) = prefixes.first() else {
        return 0;
    };
    let elem_size = if first.addr().is_ipv4() { 24 } else { 36 };
    let per_msg = (LIST_BUDGET / elem_size).min(MAX_ELEMENTS) / 2; // prefixes per message
    let zero = !delete && bytes(first.network()).iter().any(|b| *b != 0);
    let mut messages = 0;
    for (i, chunk) in prefixes.chunks(per_msg.max(1)).enumerate() {
        let mut elems = Vec::with_capacity((chunk.len() * 2 + 1) * elem_size);
        if zero && i == 0 {
            let width = if first.addr().is_ipv4() { 4 } else { 16 };
            put_element(&mut elems, &[0; 16][..width], true, false);
        }
        for p in chunk {
            prefix_elements(p, &mut elems);
        }
        let mut attributes = vec![
            SetElementList::Table(target.table.into()),
            SetElementList::Set(target.set.into()),
        ];
        if let Some(id) = target.set_id {
            attributes.push(SetElementList::SetId(id));
        }
        attributes.push(SetElementList::Other(DefaultNla::new(
            LIST_ELEMENTS | NLA_F_NESTED,
            elems,
        )));
        let m = SetElementMessage { attributes };
        let object = Object::Elements {
            family: target.family,
            table: target.table.into(),
            set: target.set.into(),
            first: chunk[0].to_string(),
            count: chunk.len(),
        };
        if delete {
            batch.add(
                target.family,
                NfTablesMessage::DeleteSetElement(m),
                0,
                object,
            );
        } else {
            batch.add(
                target.family,
                NfTablesMessage::NewSetElement(m),
                NLM_F_CREATE,
                object,
            );
        }
        messages += 1;
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::*;

    use netlink_packet_core::Emitable;
    use netlink_packet_netfilter::nftables::{
        DataAttribute, ListAttribute, SetElementAttribute, SetElementFlags,
    };

    fn elems(prefixes: &[&str]) -> Vec<u8> {
        let mut out = vec![];
        for p in prefixes {
            prefix_elements(&p.parse().unwrap(), &mut out);
        }
        out
    }

    /// The same element through netlink-packet-netfilter's types.
    fn typed(key: Vec<u8>, end: bool) -> Vec<u8> {
        let mut a = vec![];
        if end {
            a.push(SetElementAttribute::Flags(SetElementFlags::IntervalEnd));
        }
        a.push(SetElementAttribute::Key(DataAttribute::Value(key)));
        let l = [ListAttribute::Element(a)];
        let mut b = vec![0u8; l.as_slice().buffer_len()];
        l.as_slice().emit(&mut b);
        b
    }

    #[test]
    fn raw_elements_equal_the_typed_encoding() {
        let mut want = typed(vec![10, 96, 0, 0], false);
        want.extend(typed(vec![10, 112, 0, 0], true));
        assert_eq!(elems(&["10.96.0.0/12"]), want);
        let v6: IpNet = "fd00::/64".parse().unwrap();
        let mut want = typed(bytes(v6.network()), false);
        want.extend(typed(after(&v6).unwrap(), true));
        assert_eq!(elems(&["fd00::/64"]), want);
    }

    #[test]
    fn prefix_at_top_of_space_has_no_end() {
        // a start element with the open-interval userdata, and no end element
        assert_eq!(elems(&["255.255.255.0/24"]).len(), 16 + 12);
        assert_eq!(elems(&["ffff::/16"]).len(), 28 + 12);
        assert_eq!(elems(&["fd00::/64"]).len(), 28 + 36);
    }

    #[test]
    fn chunks_stay_under_the_attribute_limit() {
        let v6: Vec<IpNet> = (0..5000u128)
            .map(|i| {
                IpNet::new(
                    std::net::Ipv6Addr::from((0xfd00u128 << 112) | (i << 64)).into(),
                    64,
                )
                .unwrap()
            })
            .collect();
        let mut b = Batch::new(1);
        let t = Target {
            family: Family::Ip6,
            table: "t",
            set: "s",
            set_id: None,
        };
        let n = add_messages(&mut b, &t, &v6, false);
        assert_eq!(n, 5000usize.div_ceil(833));
        assert_eq!(b.messages(), n);
    }
}
