//! One netfilter batch as one buffer: `BATCH_BEGIN`, nf_tables messages,
//! and `BATCH_END` unless it is a dry run. Every message gets its own
//! sequence number, and the batch remembers which [`Object`] each number
//! stands for, so an `NLMSG_ERROR` can be pinned on the table, chain, set,
//! element chunk or rule that caused it.

use netlink_packet_core::{Emitable, NetlinkMessage, NLM_F_ACK, NLM_F_REQUEST};
use netlink_packet_netfilter::nftables::NfTablesMessage;
use netlink_packet_netfilter::none::ControlMessage;
use netlink_packet_netfilter::{
    NetfilterHeader, NetfilterMessage, NetfilterMessageInner, NetfilterProtoFamily,
};
use packetfilter::Object;
use ruleset::Family;

/// `NFNL_SUBSYS_NFTABLES`: the subsystem a batch is addressed to.
const NFNL_SUBSYS_NFTABLES: u16 = 10;

/// The netfilter protocol family of a table family (`NFPROTO_*`).
pub(crate) fn nfproto(f: Family) -> NetfilterProtoFamily {
    match f {
        Family::Ip => NetfilterProtoFamily::IPv4,
        Family::Ip6 => NetfilterProtoFamily::IPv6,
        Family::Inet => NetfilterProtoFamily::Inet,
    }
}

/// A batch being built. Messages are emitted straight into one buffer.
pub(crate) struct Batch {
    buf: Vec<u8>,
    first_seq: u32,
    next_seq: u32,
    objects: Vec<Object>,
}

impl Batch {
    /// A batch whose `BATCH_BEGIN` carries sequence number `first_seq`.
    pub(crate) fn new(first_seq: u32) -> Self {
        let mut b = Batch {
            buf: Vec::with_capacity(64 * 1024),
            first_seq,
            next_seq: first_seq,
            objects: Vec::new(),
        };
        b.emit(
            NetfilterProtoFamily::Unspec,
            ControlMessage::BatchBegin,
            NLM_F_REQUEST,
            NFNL_SUBSYS_NFTABLES,
        );
        b
    }

    /// Appends one nf_tables message (with `NLM_F_REQUEST | NLM_F_ACK` and
    /// `flags`), attributed to `object`.
    pub(crate) fn add(&mut self, family: Family, msg: NfTablesMessage, flags: u16, object: Object) {
        self.emit(nfproto(family), msg, NLM_F_REQUEST | NLM_F_ACK | flags, 0);
        self.objects.push(object);
    }

    /// Appends `BATCH_END`: the kernel commits. Without it the batch is a
    /// dry run (validated, then aborted).
    pub(crate) fn end(&mut self) {
        self.emit(
            NetfilterProtoFamily::Unspec,
            ControlMessage::BatchEnd,
            NLM_F_REQUEST,
            NFNL_SUBSYS_NFTABLES,
        );
    }

    fn emit<T: Into<NetfilterMessageInner>>(
        &mut self,
        family: NetfilterProtoFamily,
        m: T,
        flags: u16,
        res_id: u16,
    ) {
        let mut msg = NetlinkMessage::from(NetfilterMessage::new(
            NetfilterHeader::new(family, 0, res_id),
            m,
        ));
        msg.header.flags = flags;
        msg.header.sequence_number = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        msg.finalize();
        let start = self.buf.len();
        self.buf.resize(start + msg.buffer_len(), 0);
        msg.emit(&mut self.buf[start..]);
    }

    /// The wire bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Number of nf_tables messages (each answered by one ACK or error).
    pub(crate) fn messages(&self) -> usize {
        self.objects.len()
    }

    /// Sequence number of `BATCH_BEGIN` (commit errors are reported on it).
    pub(crate) fn begin_seq(&self) -> u32 {
        self.first_seq
    }

    /// The first sequence number after this batch.
    pub(crate) fn end_seq(&self) -> u32 {
        self.next_seq
    }

    /// Whether `seq` belongs to this batch.
    pub(crate) fn contains(&self, seq: u32) -> bool {
        seq.wrapping_sub(self.first_seq) < self.next_seq.wrapping_sub(self.first_seq)
    }

    /// Whether `seq` is an nf_tables message of this batch (one that is ACKed).
    pub(crate) fn is_message(&self, seq: u32) -> bool {
        let i = seq.wrapping_sub(self.first_seq) as usize;
        i >= 1 && i <= self.objects.len()
    }

    /// The object message `seq` stands for; the transaction as a whole for
    /// `BATCH_BEGIN`/`BATCH_END` (commit errors).
    pub(crate) fn object(&self, seq: u32) -> Object {
        let i = seq.wrapping_sub(self.first_seq) as usize;
        if i >= 1 && i <= self.objects.len() {
            self.objects[i - 1].clone()
        } else {
            Object::Transaction
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_netfilter::nftables::{TableAttribute, TableMessage};

    #[test]
    fn sequence_numbers_map_back_to_objects() {
        let mut b = Batch::new(u32::MAX - 1);
        let t = Object::Table {
            family: Family::Ip,
            name: "t".into(),
        };
        b.add(
            Family::Ip,
            NfTablesMessage::NewTable(TableMessage {
                attributes: vec![TableAttribute::Name("t".into())],
            }),
            0,
            t.clone(),
        );
        b.end();
        assert_eq!(b.messages(), 1);
        assert_eq!(b.object(u32::MAX), t);
        assert!(b.is_message(u32::MAX));
        assert!(!b.is_message(u32::MAX - 1));
        assert_eq!(b.object(u32::MAX - 1), Object::Transaction);
        assert!(b.contains(0) && !b.contains(1));
        assert_eq!(b.end_seq(), 1);
        // BATCH_BEGIN is 20 bytes, addressed to NFNL_SUBSYS_NFTABLES (big endian res_id)
        assert_eq!(&b.bytes()[4..6], &0x10u16.to_ne_bytes());
        assert_eq!(&b.bytes()[18..20], &[0, 10]);
    }
}
