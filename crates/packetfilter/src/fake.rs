//! An in-memory backend with the kernel's all-or-nothing semantics, for the
//! unit tests of higher layers (like knftables' fake).
//!
//! A transaction works on a copy of the state and is committed only if every
//! step succeeds. Refusals can be injected to rehearse kernel errors.

use crate::backend::{Applied, Backend, Owned};
use crate::error::{Error, Object, Result};
use ruleset::model::SetDelta;
use ruleset::render::RuleText;
use ruleset::{validate, RuleSet, Table};
use std::sync::Mutex;
use std::time::Instant;

type Refusal = Box<dyn Fn(&Object) -> Option<i32> + Send + Sync>;

/// The in-memory backend. State is shared behind a mutex, so one `Fake` can
/// be handed to the code under test and inspected by the test.
#[derive(Default)]
pub struct Fake {
    state: Mutex<State>,
    refuse: Mutex<Option<Refusal>>,
}

#[derive(Default, Clone)]
struct State {
    tables: Vec<Table>,
    generation: u64,
    applies: u64,
}

impl Fake {
    /// An empty fake "kernel".
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every later transaction fail with `errno` on each object for
    /// which `f` returns `Some(errno)`, as if the kernel refused it.
    pub fn refuse(&self, f: impl Fn(&Object) -> Option<i32> + Send + Sync + 'static) {
        *self.refuse.lock().unwrap() = Some(Box::new(f));
    }

    /// Stops refusing.
    pub fn accept_all(&self) {
        *self.refuse.lock().unwrap() = None;
    }

    /// Adds a table the agent does not own (kube-proxy, a CNI), as another
    /// program would.
    pub fn add_foreign(&self, t: Table) {
        let mut s = self.state.lock().unwrap();
        s.tables
            .retain(|x| !(x.family == t.family && x.name == t.name));
        s.tables.push(t);
        s.generation += 1;
    }

    /// Changes the state behind the agent's back (an operator's `nft delete`).
    pub fn tamper(&self, f: impl FnOnce(&mut Vec<Table>)) {
        let mut s = self.state.lock().unwrap();
        f(&mut s.tables);
        s.generation += 1;
    }

    /// Canonical nft text of every table, sorted by family and name
    /// (`nft list ruleset`).
    pub fn dump(&self) -> String {
        let s = self.state.lock().unwrap();
        let mut t = s.tables.clone();
        t.sort_by(|a, b| (a.family, &a.name).cmp(&(b.family, &b.name)));
        RuleSet::new(t).to_string()
    }

    /// The table with this family and name (`nft list table`).
    pub fn table(&self, family: ruleset::Family, name: &str) -> Option<Table> {
        self.state
            .lock()
            .unwrap()
            .tables
            .iter()
            .find(|t| t.family == family && t.name == name)
            .cloned()
    }

    /// How many transactions have been committed (the nf_tables generation).
    pub fn generation(&self) -> u64 {
        self.state.lock().unwrap().generation
    }

    /// How many times `apply` committed.
    pub fn applies(&self) -> u64 {
        self.state.lock().unwrap().applies
    }

    fn refused(&self, desired: &RuleSet) -> Result<()> {
        let guard = self.refuse.lock().unwrap();
        let Some(f) = guard.as_ref() else {
            return Ok(());
        };
        for t in &desired.tables {
            let (family, table) = (t.family, t.name.clone());
            let mut objects = vec![Object::Table {
                family,
                name: table.clone(),
            }];
            for s in &t.sets {
                objects.push(Object::Set {
                    family,
                    table: table.clone(),
                    name: s.name.clone(),
                });
            }
            for c in &t.chains {
                objects.push(Object::Chain {
                    family,
                    table: table.clone(),
                    name: c.name.clone(),
                });
                for (index, r) in c.rules.iter().enumerate() {
                    let text = RuleText { family, rule: r }.to_string();
                    objects.push(Object::Rule {
                        family,
                        table: table.clone(),
                        chain: c.name.clone(),
                        index,
                        text,
                    });
                }
            }
            for object in objects {
                if let Some(errno) = f(&object) {
                    return Err(Error::Kernel {
                        object,
                        errno,
                        message: None,
                    });
                }
            }
        }
        Ok(())
    }
}

fn counts(rs: &RuleSet) -> Applied {
    let chains = rs.tables.iter().map(|t| t.chains.len()).sum();
    let rules = rs
        .tables
        .iter()
        .flat_map(|t| &t.chains)
        .map(|c| c.rules.len())
        .sum();
    Applied {
        tables: rs.tables.len(),
        chains,
        rules,
        elements: rs.element_count(),
        messages: 0,
        duration: Default::default(),
    }
}

impl Backend for Fake {
    fn name(&self) -> &str {
        "fake"
    }

    fn apply(&self, desired: &RuleSet) -> Result<Applied> {
        let start = Instant::now();
        validate(desired)?;
        self.refused(desired)?;
        let mut s = self.state.lock().unwrap();
        for t in &desired.tables {
            match s
                .tables
                .iter_mut()
                .find(|x| x.family == t.family && x.name == t.name)
            {
                Some(x) => *x = t.clone(),
                None => s.tables.push(t.clone()),
            }
        }
        s.generation += 1;
        s.applies += 1;
        Ok(Applied {
            duration: start.elapsed(),
            ..counts(desired)
        })
    }

    fn check(&self, desired: &RuleSet) -> Result<()> {
        validate(desired)?;
        self.refused(desired)
    }

    fn remove(&self, owned: &Owned) -> Result<()> {
        let mut s = self.state.lock().unwrap();
        let before = s.tables.len();
        s.tables.retain(|t| !owned.table_names.contains(&t.name));
        if s.tables.len() != before {
            s.generation += 1;
        }
        Ok(())
    }

    fn update_sets(&self, deltas: &[SetDelta]) -> Result<()> {
        let mut s = self.state.lock().unwrap();
        let mut next = s.clone();
        for d in deltas {
            let object = Object::Set {
                family: d.family,
                table: d.table.clone(),
                name: d.set.clone(),
            };
            let set = next
                .tables
                .iter_mut()
                .find(|t| t.family == d.family && t.name == d.table)
                .and_then(|t| t.sets.iter_mut().find(|x| x.name == d.set))
                .ok_or_else(|| Error::NotFound {
                    object: object.clone(),
                    why: "no such set; apply the whole ruleset first".into(),
                })?;
            for e in &d.remove {
                if !set.elements.remove(e) {
                    let object = Object::Elements {
                        family: d.family,
                        table: d.table.clone(),
                        set: d.set.clone(),
                        first: e.to_string(),
                        count: 1,
                    };
                    return Err(Error::Kernel {
                        object,
                        errno: 2,
                        message: None,
                    });
                }
            }
            for e in &d.add {
                if set.elements.iter().any(|x| x.contains(e) || e.contains(x)) {
                    let object = Object::Elements {
                        family: d.family,
                        table: d.table.clone(),
                        set: d.set.clone(),
                        first: e.to_string(),
                        count: 1,
                    };
                    return Err(Error::Kernel {
                        object,
                        errno: 17,
                        message: None,
                    });
                }
                set.elements.insert(*e);
            }
        }
        next.generation += 1;
        *s = next;
        Ok(())
    }

    fn verify(&self, desired: &RuleSet) -> Result<()> {
        let s = self.state.lock().unwrap();
        for t in &desired.tables {
            match s
                .tables
                .iter()
                .find(|x| x.family == t.family && x.name == t.name)
            {
                None => {
                    return Err(Error::Drift(format!(
                        "table {} {} is missing",
                        t.family, t.name
                    )))
                }
                Some(x) if x != t => {
                    return Err(Error::Drift(format!(
                        "table {} {} differs from the desired state",
                        t.family, t.name
                    )))
                }
                _ => {}
            }
        }
        Ok(())
    }
}
