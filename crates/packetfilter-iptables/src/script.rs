//! Restore files: what `iptables-restore --noflush` gets, computed from the
//! translated plan and what `iptables-save` shows now.
//!
//! # Keeping each jump exactly once
//! `--noflush` leaves the built-in chains alone, so a restore file cannot
//! simply re-create them, and `-I` alone would add a second jump on every
//! apply. So the backend first reads `iptables-save` (read-only) and, per
//! built-in chain, counts the lines that are exactly our jump
//! (`-A POSTROUTING -j RA-POSTROUTING`):
//! - none: `-I POSTROUTING 1 -j RA-POSTROUTING` (first, so it runs before
//!   kube-proxy's and the CNI's rules);
//! - one: left where it is (apply twice == apply once, byte-identical);
//! - more: every copy is deleted with `-D` by its text and one is inserted
//!   again at the top (deleting "the extras" by text would delete the first
//!   copy, moving the survivor behind foreign rules; deleting by number
//!   could hit a foreign rule if another program changed the chain since
//!   the read).
//!
//! Any other rule of a built-in chain that jumps to an `RA-` chain (an older
//! agent's jump with matches, a chain no longer wanted) is deleted with `-D`
//! and the saved rule's own text. Our chains are declared with `:RA-X - [0:0]`,
//! which under `--noflush` creates or flushes them, then filled with `-A`.
//! Stale `RA-` chains are flushed and deleted. All of it is one restore
//! invocation per IP version, atomic per table (iptables-legacy) or as a
//! whole (iptables-nft). The read and the restore are not one atomic step:
//! a program inserting the very same jump in between would leave two, which
//! the next apply repairs.

use crate::names::{XtTable, PREFIX};
use crate::render::XtTablePlan;
use crate::save::SavedTable;
use packetfilter::Object;
use std::collections::{BTreeMap, BTreeSet};

/// A restore file and, for each of its lines, the object it writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    /// The lines.
    pub lines: Vec<String>,
    /// `objects[i]` is the object line `i + 1` writes, if any.
    pub objects: Vec<Option<Object>>,
}

impl Script {
    fn push(&mut self, line: String, o: Option<Object>) {
        self.lines.push(line);
        self.objects.push(o);
    }
    /// The file text.
    pub fn text(&self) -> String {
        let mut s = self.lines.join("\n");
        s.push('\n');
        s
    }
    /// The object written by 1-based line `n`.
    pub fn object_at(&self, n: usize) -> Option<&Object> {
        self.objects.get(n.checked_sub(1)?).and_then(|o| o.as_ref())
    }
    /// Whether the file changes nothing.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// The restore file that makes the kernel hold `want` (for one IP version),
/// given `saved` (`iptables-save` parsed). Tables absent from `want` lose
/// our chains and jumps.
pub fn apply_script(
    want: &BTreeMap<XtTable, XtTablePlan>,
    saved: &BTreeMap<String, SavedTable>,
) -> Script {
    let mut s = Script::default();
    let empty = XtTablePlan::default();
    let none = SavedTable::default();
    for table in XtTable::ALL {
        let w = want.get(&table).unwrap_or(&empty);
        let have = saved.get(table.as_str()).unwrap_or(&none);
        if w.chains.is_empty()
            && have.our_chains().next().is_none()
            && have.jumps_to_ours().next().is_none()
        {
            continue;
        }
        s.push(format!("*{}", table.as_str()), None);
        for (c, _) in &w.chains {
            s.push(format!(":{c} - [0:0]"), None);
        }
        // Jumps: an exact jump present once stays; otherwise every copy is
        // deleted (by its text, which cannot hit a foreign rule) and the
        // jumps are inserted again at the top; everything else that jumps
        // to RA- is deleted.
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, line) in have.jumps_to_ours() {
            *count.entry(line.as_str()).or_default() += 1;
        }
        let text = |j: &crate::render::Jump| format!("-A {} -j {}", j.from, j.to);
        // A built-in chain whose jumps are not all present exactly once gets
        // all of ours re-inserted, so that they keep their priority order.
        let redo: BTreeSet<&str> = w
            .jumps
            .iter()
            .filter(|j| count.get(text(j).as_str()) != Some(&1))
            .map(|j| j.from)
            .collect();
        let keep = |line: &str| {
            count[line] == 1
                && w.jumps
                    .iter()
                    .any(|j| line == text(j) && !redo.contains(j.from))
        };
        for (_, line) in have.jumps_to_ours() {
            if !keep(line) {
                s.push(format!("-D {}", &line[3..]), None);
            }
        }
        let mut missing: Vec<_> = w.jumps.iter().filter(|j| redo.contains(j.from)).collect();
        // Inserting at 1 in descending priority leaves them in ascending order.
        missing.sort_by_key(|j| std::cmp::Reverse(j.priority));
        for j in missing {
            s.push(format!("-I {} 1 -j {}", j.from, j.to), None);
        }
        let stale: Vec<&String> = have
            .our_chains()
            .filter(|c| !w.chains.iter().any(|(n, _)| n == *c))
            .collect();
        for c in &stale {
            s.push(format!("-F {c}"), None);
        }
        for c in &stale {
            s.push(format!("-X {c}"), None);
        }
        for (c, rules) in &w.chains {
            for r in rules {
                s.push(format!("-A {c} {}", r.args), Some(r.object.clone()));
            }
        }
        s.push("COMMIT".into(), None);
    }
    s
}

/// The restore file that deletes every `RA-` chain and every jump to one.
pub fn remove_script(saved: &BTreeMap<String, SavedTable>) -> Script {
    apply_script(&BTreeMap::new(), saved)
}

/// Whether `saved` holds nothing of ours.
pub fn nothing_ours(saved: &BTreeMap<String, SavedTable>) -> bool {
    saved.values().all(|t| {
        t.our_chains().next().is_none()
            && !t
                .rules
                .iter()
                .any(|(_, l)| l.contains(&format!(" {PREFIX}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Jump;
    use crate::save::parse;

    fn want() -> BTreeMap<XtTable, XtTablePlan> {
        let jumps = vec![
            Jump {
                from: "POSTROUTING",
                to: "RA-NAT".into(),
                priority: 90,
            },
            Jump {
                from: "POSTROUTING",
                to: "RA-EARLY".into(),
                priority: -100,
            },
        ];
        let chains = vec![
            ("RA-NAT".to_string(), vec![]),
            ("RA-EARLY".to_string(), vec![]),
        ];
        [(XtTable::Nat, XtTablePlan { chains, jumps })]
            .into_iter()
            .collect()
    }

    fn lines(saved: &str) -> Vec<String> {
        apply_script(&want(), &parse(saved)).lines
    }

    #[test]
    fn jumps_are_inserted_in_priority_order_kept_once_and_repaired() {
        let l = lines("*nat\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n");
        assert_eq!(
            l,
            [
                "*nat",
                ":RA-NAT - [0:0]",
                ":RA-EARLY - [0:0]",
                "-I POSTROUTING 1 -j RA-NAT",
                "-I POSTROUTING 1 -j RA-EARLY",
                "COMMIT"
            ]
        );
        let once = "*nat\n:RA-NAT - [0:0]\n:RA-EARLY - [0:0]\n-A POSTROUTING -j RA-EARLY\n-A POSTROUTING -j RA-NAT\nCOMMIT\n";
        assert_eq!(
            lines(once),
            ["*nat", ":RA-NAT - [0:0]", ":RA-EARLY - [0:0]", "COMMIT"]
        );
        let twice = "*nat\n:RA-NAT - [0:0]\n:RA-EARLY - [0:0]\n-A POSTROUTING -j RA-EARLY\n-A POSTROUTING -j RA-NAT\n-A POSTROUTING -j KUBE-X\n-A POSTROUTING -j RA-NAT\n:RA-OLD - [0:0]\n-A POSTROUTING -m mark --mark 0x1 -j RA-OLD\nCOMMIT\n";
        assert_eq!(
            lines(twice),
            [
                "*nat",
                ":RA-NAT - [0:0]",
                ":RA-EARLY - [0:0]",
                "-D POSTROUTING -j RA-EARLY",
                "-D POSTROUTING -j RA-NAT",
                "-D POSTROUTING -j RA-NAT",
                "-D POSTROUTING -m mark --mark 0x1 -j RA-OLD",
                "-I POSTROUTING 1 -j RA-NAT",
                "-I POSTROUTING 1 -j RA-EARLY",
                "-F RA-OLD",
                "-X RA-OLD",
                "COMMIT"
            ]
        );
        assert!(remove_script(&parse(
            "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j KUBE\nCOMMIT\n"
        ))
        .is_empty());
    }
}
