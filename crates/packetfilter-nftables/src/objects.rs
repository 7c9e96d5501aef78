//! Tables, chains, sets and rules as nf_tables messages, with the
//! attributes nft sends for them (so that `nft list` shows the same text).

use crate::batch::Batch;
use crate::rule::{comment_udata, expressions, RuleContext};
use netlink_packet_core::{NLM_F_APPEND, NLM_F_CREATE};
use netlink_packet_netfilter::nftables::{
    ChainAttribute, ChainMessage, Hook as NlHook, InetHookNumber, NfTablesMessage, RuleAttribute,
    RuleMessage, SetAttribute, SetFlags, SetMessage, TableAttribute, TableFlags, TableMessage,
};
use packetfilter::Object;
use ruleset::render::RuleText;
use ruleset::{Chain, ChainType, Family, Hook, IpVersion, Policy, Priority, Rule, Set};

/// `NFTNL_UDATA_SET_KEYBYTEORDER`, `NFTNL_UDATA_SET_COMMENT`.
const UDATA_SET_KEYBYTEORDER: u8 = 0;
const UDATA_SET_COMMENT: u8 = 7;
/// `BYTEORDER_BIG_ENDIAN` in nft's datatype enum.
const BYTEORDER_BIG_ENDIAN: u32 = 2;

fn table_object(family: Family, name: &str) -> Object {
    Object::Table {
        family,
        name: name.into(),
    }
}

/// `nft add table FAMILY NAME`: creates the table if missing, changes
/// nothing if it exists (no flags are sent).
pub(crate) fn ensure_table(b: &mut Batch, family: Family, name: &str) {
    let m = TableMessage {
        attributes: vec![TableAttribute::Name(name.into())],
    };
    b.add(
        family,
        NfTablesMessage::NewTable(m),
        NLM_F_CREATE,
        table_object(family, name),
    );
}

/// `nft delete table FAMILY NAME`.
pub(crate) fn delete_table(b: &mut Batch, family: Family, name: &str) {
    let m = TableMessage {
        attributes: vec![TableAttribute::Name(name.into())],
    };
    b.add(
        family,
        NfTablesMessage::DeleteTable(m),
        0,
        table_object(family, name),
    );
}

/// `table FAMILY NAME { }` after a delete: a fresh table.
pub(crate) fn new_table(b: &mut Batch, family: Family, name: &str) {
    let m = TableMessage {
        attributes: vec![
            TableAttribute::Name(name.into()),
            TableAttribute::Flags(TableFlags::empty()),
        ],
    };
    b.add(
        family,
        NfTablesMessage::NewTable(m),
        NLM_F_CREATE,
        table_object(family, name),
    );
}

/// `set NAME { type ipv4_addr; flags interval; comment "..." }` with
/// batch-local id `id`.
pub(crate) fn new_set(b: &mut Batch, family: Family, table: &str, set: &Set, id: u32) {
    let (key_type, key_len) = match set.key {
        IpVersion::V4 => (7, 4),  // TYPE_IPADDR
        IpVersion::V6 => (8, 16), // TYPE_IP6ADDR
    };
    let mut udata = vec![UDATA_SET_KEYBYTEORDER, 4];
    udata.extend_from_slice(&BYTEORDER_BIG_ENDIAN.to_ne_bytes());
    if let Some(c) = &set.comment {
        if let Ok(len) = u8::try_from(c.len() + 1) {
            udata.push(UDATA_SET_COMMENT);
            udata.push(len);
            udata.extend_from_slice(c.as_bytes());
            udata.push(0);
        }
    }
    let m = SetMessage {
        attributes: vec![
            SetAttribute::Table(table.into()),
            SetAttribute::Name(set.name.clone()),
            SetAttribute::Flags(SetFlags::Interval),
            SetAttribute::KeyType(key_type),
            SetAttribute::KeyLen(key_len),
            SetAttribute::Id(id),
            SetAttribute::UserData(udata),
        ],
    };
    let object = Object::Set {
        family,
        table: table.into(),
        name: set.name.clone(),
    };
    b.add(family, NfTablesMessage::NewSet(m), NLM_F_CREATE, object);
}

/// The attributes of a base chain: type, policy and hook (number, priority).
pub(crate) fn base_attributes(
    ty: ChainType,
    hook: Hook,
    priority: Priority,
    policy: Policy,
) -> Vec<ChainAttribute> {
    let policy = match policy {
        Policy::Accept => 1, // NF_ACCEPT
        Policy::Drop => 0,   // NF_DROP
    };
    vec![
        ChainAttribute::Type(ty.as_str().into()),
        ChainAttribute::Policy(policy),
        ChainAttribute::Hook(vec![
            NlHook::Number(InetHookNumber::from(hook.number()).into()),
            NlHook::Priority(priority.0 as u32),
        ]),
    ]
}

/// `chain NAME { [type T hook H priority P; policy X;] }`.
pub(crate) fn new_chain(b: &mut Batch, family: Family, table: &str, chain: &Chain) {
    let mut attributes = vec![
        ChainAttribute::Table(table.into()),
        ChainAttribute::Name(chain.name.clone()),
    ];
    if let Some(base) = &chain.base {
        attributes.extend(base_attributes(
            base.ty,
            base.hook,
            base.priority,
            base.policy,
        ));
    }
    let object = Object::Chain {
        family,
        table: table.into(),
        name: chain.name.clone(),
    };
    b.add(
        family,
        NfTablesMessage::NewChain(ChainMessage { attributes }),
        NLM_F_CREATE,
        object,
    );
}

/// `nft add rule FAMILY TABLE CHAIN ...` (appended), rule `index` of the chain.
pub(crate) fn new_rule(
    b: &mut Batch,
    ctx: &RuleContext<'_>,
    table: &str,
    chain: &str,
    index: usize,
    rule: &Rule,
) {
    let mut attributes = vec![
        RuleAttribute::Table(table.into()),
        RuleAttribute::Chain(chain.into()),
        RuleAttribute::Expressions(expressions(rule, ctx)),
    ];
    if let Some(udata) = rule.comment.as_deref().and_then(comment_udata) {
        attributes.push(RuleAttribute::UserData(udata));
    }
    let object = Object::Rule {
        family: ctx.family,
        table: table.into(),
        chain: chain.into(),
        index,
        text: RuleText {
            family: ctx.family,
            rule,
        }
        .to_string(),
    };
    b.add(
        ctx.family,
        NfTablesMessage::NewRule(RuleMessage { attributes }),
        NLM_F_CREATE | NLM_F_APPEND,
        object,
    );
}
