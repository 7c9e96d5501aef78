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
