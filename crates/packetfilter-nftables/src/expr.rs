//! nf_tables expressions, encoded as `nft` encodes them (see
//! `nft --debug=netlink`). The ones netlink-packet-netfilter models are
//! built from its types; counter, nat, masq, rt, byteorder and exthdr are
//! raw attributes (`Expressions::Other`). Everything loads into register 1
//! (`NFT_REG_1`), as nft does.

use netlink_packet_core::DefaultNla;
use netlink_packet_netfilter::nftables::{
    Bitwise, Cmp, DataAttribute, ExpressionAttribute, Expressions, Immediate, ListAttribute,
    Lookup, Meta, MetaKey, Operator, Payload, Register, Verdict, VerdictAttribute,
};

/// One expression of a rule.
pub(crate) type Expr = ListAttribute<ExpressionAttribute>;

/// `NFT_PAYLOAD_NETWORK_HEADER`.
pub(crate) const NETWORK_HEADER: u32 = 1;
/// `NFT_PAYLOAD_TRANSPORT_HEADER`.
pub(crate) const TRANSPORT_HEADER: u32 = 2;
/// `NFPROTO_IPV4` / `NFPROTO_IPV6`.
pub(crate) const NFPROTO_IPV4: u8 = 2;
pub(crate) const NFPROTO_IPV6: u8 = 10;

fn be32(v: u32) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

fn nla(kind: u16, v: Vec<u8>) -> DefaultNla {
    DefaultNla::new(kind, v)
}

fn raw(name: &str, attributes: Vec<DefaultNla>) -> Expr {
    Expressions::Other {
        expression_type: name.into(),
        attributes,
    }
    .into()
}

/// `[ payload load LENb @ BASE header + OFFSET => reg 1 ]`.
pub(crate) fn payload(base: u32, offset: u32, len: u32) -> Expr {
    Expressions::Payload(vec![
        Payload::DestinationRegister(Register::Reg1),
        Payload::Base(base),
        Payload::Offset(offset),
        Payload::Len(len),
    ])
    .into()
}

/// `[ cmp eq|neq reg 1 DATA ]`.
pub(crate) fn cmp(negate: bool, data: Vec<u8>) -> Expr {
    let op = if negate {
        Operator::NotEqual
    } else {
        Operator::Equal
    };
    Expressions::Cmp(vec![
        Cmp::SourceRegister(Register::Reg1),
        Cmp::Op(op),
        Cmp::Data(DataAttribute::Value(data)),
    ])
    .into()
}

/// `[ bitwise reg 1 = ( reg 1 & MASK ) ^ XOR ]`.
pub(crate) fn bitwise(mask: Vec<u8>, xor: Vec<u8>) -> Expr {
    Expressions::Bitwise(vec![
        Bitwise::SourceRegister(Register::Reg1),
        Bitwise::DestinationRegister(Register::Reg1),
        Bitwise::Op(0), // NFT_BITWISE_BOOL (nft sends it; older kernels default to it)
        Bitwise::Length(mask.len() as u32),
        Bitwise::Mask(DataAttribute::Value(mask)),
        Bitwise::Xor(DataAttribute::Value(xor)),
    ])
    .into()
}

/// `[ meta load KEY => reg 1 ]`.
pub(crate) fn meta_load(key: MetaKey) -> Expr {
    Expressions::Meta(vec![
        Meta::Key(key),
        Meta::DestinationRegister(Register::Reg1),
    ])
    .into()
}

/// `[ meta set mark with reg 1 ]`.
pub(crate) fn meta_set_mark() -> Expr {
    Expressions::Meta(vec![
        Meta::Key(MetaKey::Mark),
        Meta::SourceRegister(Register::Reg1),
    ])
    .into()
}

/// `[ lookup reg 1 set NAME (0x1 = inverted) ]`.
pub(crate) fn lookup(set: &str, set_id: Option<u32>, negate: bool) -> Expr {
    let mut a = vec![
        Lookup::SourceRegister(Register::Reg1),
        Lookup::Set(set.into()),
    ];
    if let Some(id) = set_id {
        a.push(Lookup::SetId(id));
    }
    if negate {
        a.push(Lookup::Flags(1)); // NFT_LOOKUP_F_INV
    }
    Expressions::Lookup(a).into()
}

/// `[ immediate reg 1 DATA ]`.
pub(crate) fn immediate_data(data: Vec<u8>) -> Expr {
    Expressions::Immediate(vec![
        Immediate::DestinationRegister(Register::Reg1),
        Immediate::Data(DataAttribute::Value(data)),
    ])
    .into()
}

/// `[ immediate reg 0 VERDICT ]`; `chain` for jump.
pub(crate) fn verdict(code: Verdict, chain: Option<&str>) -> Expr {
    let mut v = vec![VerdictAttribute::Code(code)];
    if let Some(c) = chain {
        v.push(VerdictAttribute::Chain(c.into()));
    }
    Expressions::Immediate(vec![
        Immediate::DestinationRegister(Register::Verdict),
        Immediate::Data(DataAttribute::Verdict(v)),
    ])
    .into()
}

/// `NF_ACCEPT` / `NF_DROP` as verdict codes.
pub(crate) const ACCEPT: Verdict = Verdict::Other(1);
pub(crate) const DROP: Verdict = Verdict::Other(0);

/// `[ counter pkts 0 bytes 0 ]`.
pub(crate) fn counter() -> Expr {
    raw("counter", vec![])
}

/// `[ nat snat ip|ip6 addr_min reg 1 ]`.
pub(crate) fn snat_from_reg1(nfproto: u8) -> Expr {
    raw(
        "nat",
        vec![
            nla(1, be32(0)),              // NFTA_NAT_TYPE = NFT_NAT_SNAT
            nla(2, be32(nfproto as u32)), // NFTA_NAT_FAMILY
            nla(3, be32(1)),              // NFTA_NAT_REG_ADDR_MIN = reg 1
        ],
    )
}

/// `[ masq ]`.
pub(crate) fn masq() -> Expr {
    raw("masq", vec![])
}

/// `[ rt load tcpmss => reg 1 ]`.
pub(crate) fn rt_tcpmss() -> Expr {
    raw("rt", vec![nla(2, be32(3)), nla(1, be32(1))]) // KEY = NFT_RT_TCPMSS, DREG = 1
}

/// `[ byteorder reg 1 = hton(reg 1, 2, 2) ]`.
pub(crate) fn hton16() -> Expr {
    raw(
        "byteorder",
        vec![
            nla(1, be32(1)), // SREG
            nla(2, be32(1)), // DREG
            nla(3, be32(1)), // OP = NFT_BYTEORDER_HTON
            nla(4, be32(2)), // LEN
            nla(5, be32(2)), // SIZE
        ],
    )
}

/// `[ exthdr write tcpopt reg 1 => 2b @ 2 + 2 ]`: the MSS option's value.
pub(crate) fn write_tcp_mss() -> Expr {
    raw(
        "exthdr",
        vec![
            nla(7, be32(1)), // SREG
            nla(2, vec![2]), // TYPE = TCPOPT_MAXSEG
            nla(3, be32(2)), // OFFSET
            nla(4, be32(2)), // LEN
            nla(6, be32(1)), // OP = NFT_EXTHDR_OP_TCPOPT
        ],
    )
}
