//! The batches behind [`packetfilter::Backend`]: replace (apply / check),
//! remove, and set-element updates.

use crate::batch::Batch;
use crate::elements::{self, Target};
use crate::objects;
use crate::rule::RuleContext;
use ipnet::IpNet;
use ruleset::model::SetDelta;
use ruleset::{Family, RuleSet};
use std::collections::HashMap;

/// The batch that replaces every table of `desired` (`nft -f` of
/// `ruleset::render::replace_script`): per table `add table`, `delete
/// table`, then the definition: table, sets, elements, chains, rules in
/// order. Without [`Batch::end`] it is a dry run.
pub(crate) fn replace(first_seq: u32, desired: &RuleSet) -> Batch {
    let mut b = Batch::new(first_seq);
    let mut next_id = 1u32;
    for t in &desired.tables {
        objects::ensure_table(&mut b, t.family, &t.name);
        objects::delete_table(&mut b, t.family, &t.name);
        objects::new_table(&mut b, t.family, &t.name);
        let mut ids = HashMap::with_capacity(t.sets.len());
        for s in &t.sets {
            objects::new_set(&mut b, t.family, &t.name, s, next_id);
            ids.insert(s.name.clone(), next_id);
            next_id += 1;
        }
        for s in &t.sets {
            let prefixes: Vec<IpNet> = s.elements.iter().copied().collect();
            let target = Target {
                family: t.family,
                table: &t.name,
                set: &s.name,
                set_id: ids.get(&s.name).copied(),
            };
            elements::add_messages(&mut b, &target, &prefixes, false);
        }
        for c in &t.chains {
            objects::new_chain(&mut b, t.family, &t.name, c);
        }
        let ctx = RuleContext {
            family: t.family,
            set_ids: &ids,
        };
        for c in &t.chains {
            for (i, r) in c.rules.iter().enumerate() {
                objects::new_rule(&mut b, &ctx, &t.name, &c.name, i, r);
            }
        }
    }
    b
}

/// The batch that deletes every table named `names` in every family
/// (`nft add table F N; nft delete table F N` for each): removing what is
/// gone is success on every kernel, and no other table is touched.
pub(crate) fn remove(first_seq: u32, names: &[String]) -> Batch {
    let mut b = Batch::new(first_seq);
    for family in Family::ALL {
        for name in names {
            objects::ensure_table(&mut b, family, name);
            objects::delete_table(&mut b, family, name);
        }
    }
    b.end();
    b
}

/// The batch of element changes only (`nft delete element` / `nft add
/// element`): removals first, so a prefix replaced by a wider one is freed
/// before the wider one is inserted.
pub(crate) fn update_sets(first_seq: u32, deltas: &[SetDelta]) -> Batch {
    let mut b = Batch::new(first_seq);
    for d in deltas {
        let target = Target {
            family: d.family,
            table: &d.table,
            set: &d.set,
            set_id: None,
        };
        let mut remove = d.remove.clone();
        remove.sort();
        elements::add_messages(&mut b, &target, &remove, true);
    }
    for d in deltas {
        let target = Target {
            family: d.family,
            table: &d.table,
            set: &d.set,
            set_id: None,
        };
        let mut add = d.add.clone();
        add.sort();
        elements::add_messages(&mut b, &target, &add, false);
    }
    b.end();
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruleset::{Chain, ChainType, Hook, IpVersion, Match, Priority, Rule, Set, Table};

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    /// nf_tables message types (low byte of nlmsg_type) in batch order.
    fn types(b: &Batch) -> Vec<u8> {
        let bytes = b.bytes();
        let mut out = vec![];
        let mut off = 0;
        while off + 16 <= bytes.len() {
            let len = u32::from_ne_bytes(bytes[off..off + 4].try_into().unwrap()) as usize;
            out.push(bytes[off + 4]);
            off += (len + 3) & !3;
        }
        out
    }

    #[test]
    fn replace_is_add_delete_define_in_one_batch() {
        let prefixes = (0..2500u32).map(|i| {
            IpNet::new(std::net::Ipv4Addr::from((20 << 24) + (i << 9)).into(), 24).unwrap()
        });
        let t = Table::new(Family::Ip, "ra")
            .with_set(Set::aggregated("s", IpVersion::V4, prefixes))
            .with_chain(
                Chain::base(
                    "forward",
                    ChainType::Filter,
                    Hook::Forward,
                    Priority::FILTER,
                )
                .with_rule(Rule::matching([Match::daddr_in(IpVersion::V4, "s")]))
                .with_rule(Rule::matching([Match::saddr(net("10.0.0.0/8"))])),
            );
        let mut b = replace(1, &RuleSet::new(vec![t]));
        b.end();
        // BATCH_BEGIN(0x10), NEWTABLE(0), DELTABLE(2), NEWTABLE(0), NEWSET(9),
        // 3 x NEWSETELEM(12) (1000 prefixes each), NEWCHAIN(3), 2 x NEWRULE(6), BATCH_END(0x11)
        assert_eq!(types(&b), vec![0x10, 0, 2, 0, 9, 12, 12, 12, 3, 6, 6, 0x11]);
        assert_eq!(b.messages(), 10);
    }

    #[test]
    fn one_prefix_update_sends_element_messages_only() {
        let d = SetDelta {
            family: Family::Ip,
            table: "ra".into(),
            set: "s".into(),
            add: vec![net("30.0.7.0/24")],
            remove: vec![net("20.0.0.0/24")],
        };
        let b = update_sets(1, &[d]);
        assert_eq!(types(&b), vec![0x10, 14, 12, 0x11]); // DELSETELEM, NEWSETELEM
        assert!(b.bytes().len() < 400, "{} bytes", b.bytes().len());
    }

    #[test]
    fn remove_touches_every_family_and_only_owned_names() {
        let b = remove(1, &["ra".to_string(), "old-ra".to_string()]);
        assert_eq!(b.messages(), 3 * 2 * 2);
        let text = String::from_utf8_lossy(b.bytes());
        assert!(text.contains("old-ra") && !text.contains("kube"));
    }
}
