//! [`Iptables`]: the [`Backend`] over iptables-restore and ipset.

use crate::names;
use crate::render::{translate, XtPlan};
use crate::save::{self, SavedTable};
use crate::script;
use crate::{ipset, tool};
use capabilities::IptablesVariant;
use packetfilter::{Applied, Backend, Error, Object, Owned, Result};
use ruleset::model::SetDelta;
use ruleset::{validate, IpVersion, RuleSet};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

/// The iptables backend. Our nftables tables become `RA-` chains in the
/// `mangle`, `nat` and `filter` tables, jumped to from the built-in chains;
/// sets become `hash:net` ipsets (or one rule per prefix without ipset).
#[derive(Debug)]
pub struct Iptables {
    variant: IptablesVariant,
    ipset: bool,
    name: &'static str,
    /// The last ruleset applied: set updates without ipset re-apply it.
    last: Mutex<Option<RuleSet>>,
}

const VERSIONS: [IpVersion; 2] = [IpVersion::V4, IpVersion::V6];

impl Iptables {
    /// A backend using `iptables-VARIANT-restore` / `ip6tables-VARIANT-restore`,
    /// and ipset for sets when `ipset` is true.
    pub fn new(variant: IptablesVariant, ipset: bool) -> Self {
        let name = match variant {
            IptablesVariant::Nft => "iptables-nft",
            IptablesVariant::Legacy => "iptables-legacy",
        };
        Iptables {
            variant,
            ipset,
            name,
            last: Mutex::new(None),
        }
    }

    /// The variant.
    pub fn variant(&self) -> IptablesVariant {
        self.variant
    }

    /// `iptables-save` / `ip6tables-save` parsed (read-only).
    pub fn saved(&self, v: IpVersion) -> Result<BTreeMap<String, SavedTable>> {
        Ok(save::parse(&tool::save(self.variant, v)?))
    }

    fn translate(&self, rs: &RuleSet, ipset: bool) -> Result<XtPlan> {
        validate(rs)?;
        translate(rs, ipset, self.name)
    }

    fn our_sets(&self) -> Vec<String> {
        // No ipset binary means no ipsets can be ours.
        tool::ipset(&["list", "-n"])
            .map(|t| {
                ipset::parse_names(&t)
                    .into_iter()
                    .filter(|n| names::is_our_set(n))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn destroy_sets(&self, keep: &[String]) -> Result<()> {
        let stale: Vec<String> = self
            .our_sets()
            .into_iter()
            .filter(|n| !keep.contains(n))
            .collect();
        tool::ipset_restore(&ipset::destroy_script(&stale), Object::Transaction)
    }
}

fn set_object(rs: &RuleSet, ipset_name: &str) -> Object {
    for t in &rs.tables {
        for s in &t.sets {
            if names::ipset(&s.name, s.key) == ipset_name {
                return Object::Set {
                    family: t.family,
                    table: t.name.clone(),
                    name: s.name.clone(),
                };
            }
        }
    }
    Object::Transaction
}

impl Backend for Iptables {
    fn name(&self) -> &str {
        self.name
    }

    /// ipsets first (`ipset restore`: create, fill a temporary set, swap),
    /// then one `iptables-restore --noflush` per IP version (see
    /// [`crate::script`] for how jumps stay exactly once), then stale ipsets
    /// are destroyed.
    fn apply(&self, desired: &RuleSet) -> Result<Applied> {
        let start = Instant::now();
        let plan = self.translate(desired, self.ipset)?;
        for p in &plan.ipsets {
            tool::ipset_restore(
                &ipset::apply_script(std::slice::from_ref(p)),
                set_object(desired, &p.name),
            )?;
        }
        let mut lines = 0;
        let empty = BTreeMap::new();
        for v in VERSIONS {
            let saved = self.saved(v)?;
            let s = script::apply_script(plan.tables.get(&v).unwrap_or(&empty), &saved);
            lines += s.lines.len();
            tool::restore(self.variant, v, &s, false)?;
        }
        let keep: Vec<String> = plan.ipsets.iter().map(|p| p.name.clone()).collect();
        self.destroy_sets(&keep)?;
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(desired.clone());
        let chains = plan
            .tables
            .values()
            .flat_map(|t| t.values())
            .map(|t| t.chains.len())
            .sum();
        Ok(Applied {
            tables: desired.tables.len(),
            chains,
            rules: plan.rule_count(),
            elements: plan.ipsets.iter().map(|p| p.elements.len()).sum(),
            messages: lines,
            duration: start.elapsed(),
        })
    }

    /// `iptables-restore --noflush --test` of the file `apply` would send.
    /// When the ipsets do not exist yet, the check uses expanded sets
    /// (`--test` resolves `-m set` names in the kernel).
    fn check(&self, desired: &RuleSet) -> Result<()> {
        let mut plan = self.translate(desired, self.ipset)?;
        if self.ipset {
            let have = self.our_sets();
            if plan.ipsets.iter().any(|p| !have.contains(&p.name)) {
                plan = self.translate(desired, false)?;
            }
        }
        let empty = BTreeMap::new();
        for v in VERSIONS {
            let saved = self.saved(v)?;
            let s = script::apply_script(plan.tables.get(&v).unwrap_or(&empty), &saved);
            tool::restore(self.variant, v, &s, true)?;
        }
        Ok(())
    }

    /// Deletes every jump to an `RA-` chain, every `RA-` chain (whichever
    /// version created them) and every `RA-`/`RA6-` ipset. `owned` is not
    /// needed: the prefix is what the agent owns on iptables.
    fn remove(&self, _owned: &Owned) -> Result<()> {
        for v in VERSIONS {
            let saved = self.saved(v)?;
            tool::restore(self.variant, v, &script::remove_script(&saved), false)?;
        }
        self.destroy_sets(&[])?;
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(())
    }

    /// With ipset: `ipset restore` of `add`/`del -exist` lines. Without:
    /// the deltas are applied to the last ruleset, which is re-applied.
    fn update_sets(&self, deltas: &[SetDelta]) -> Result<()> {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for d in deltas {
            let object = Object::Set {
                family: d.family,
                table: d.table.clone(),
                name: d.set.clone(),
            };
            let set = last
                .as_mut()
                .and_then(|rs| rs.table_mut(d.family, &d.table))
                .and_then(|t| t.sets.iter_mut().find(|s| s.name == d.set));
            let Some(set) = set else {
                return Err(Error::NotFound {
                    object,
                    why: "no such set in the last applied ruleset; apply the whole ruleset first"
                        .into(),
                });
            };
            d.remove.iter().for_each(|e| {
                set.elements.remove(e);
            });
            set.elements.extend(d.add.iter().copied());
            if self.ipset {
                let name = names::ipset(&d.set, set.key);
                tool::ipset_restore(&ipset::update_script(&name, &d.add, &d.remove), object)?;
            }
        }
        let Some(next) = last else { return Ok(()) };
        if self.ipset {
            *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(next);
            Ok(())
        } else {
            self.apply(&next).map(|_| ())
        }
    }

    /// Reads `iptables-save` back: every chain present with its rule count,
    /// every jump exactly once, every ipset with its members.
    fn verify(&self, desired: &RuleSet) -> Result<()> {
        let plan = self.translate(desired, self.ipset)?;
        for (v, tables) in &plan.tables {
            let saved = self.saved(*v)?;
            for (t, want) in tables {
                let have = saved.get(t.as_str()).cloned().unwrap_or_default();
                for (c, rules) in &want.chains {
                    if !have.chains.contains(c) {
                        return Err(Error::Drift(format!(
                            "{v:?} {} chain {c} is missing",
                            t.as_str()
                        )));
                    }
                    let n = have.rules_of(c).count();
                    if n != rules.len() {
                        return Err(Error::Drift(format!(
                            "{v:?} {} chain {c} has {n} rules, want {}",
                            t.as_str(),
                            rules.len()
                        )));
                    }
                }
                for j in &want.jumps {
                    let line = format!("-A {} -j {}", j.from, j.to);
                    let n = have.rules.iter().filter(|(_, l)| *l == line).count();
                    if n != 1 {
                        return Err(Error::Drift(format!(
                            "{v:?} {}: `{line}` appears {n} times, want once",
                            t.as_str()
                        )));
                    }
                }
            }
        }
        for p in &plan.ipsets {
            let have = tool::ipset(&["list", &p.name])
                .map(|t| ipset::parse_members(&t))
                .unwrap_or_default();
            if have.len() != p.elements.len() {
                return Err(Error::Drift(format!(
                    "ipset {} has {} members, want {}",
                    p.name,
                    have.len(),
                    p.elements.len()
                )));
            }
        }
        Ok(())
    }
}
