//! What a converge or removal did: counts per object kind and the errors of
//! the objects that failed (the rest was still applied).

use crate::error::Error;
use serde::Serialize;
use std::fmt;

/// What one ensure/remove step did to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Already as desired: nothing sent to the kernel.
    Unchanged,
    /// Did not exist; created.
    Created,
    /// Existed but differed; changed (or deleted and re-created).
    Updated,
    /// Existed but is not desired; deleted.
    Deleted,
}

/// Counts of changes made to one kind of object.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Changes {
    /// Objects created.
    pub created: u32,
    /// Objects changed in place or re-created.
    pub updated: u32,
    /// Objects deleted.
    pub deleted: u32,
}

impl Changes {
    /// Counts one outcome.
    pub fn record(&mut self, o: Outcome) {
        match o {
            Outcome::Unchanged => {}
            Outcome::Created => self.created += 1,
            Outcome::Updated => self.updated += 1,
            Outcome::Deleted => self.deleted += 1,
        }
    }

    /// Created + updated + deleted.
    pub fn total(&self) -> u32 {
        self.created + self.updated + self.deleted
    }
}

impl fmt::Display for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "+{} ~{} -{}", self.created, self.updated, self.deleted)
    }
}

/// The result of [`crate::Host::converge`] or [`crate::Host::remove_all`].
#[derive(Debug, Default)]
pub struct ConvergeReport {
    /// VXLAN links.
    pub links: Changes,
    /// Addresses on owned links.
    pub addresses: Changes,
    /// FDB entries on owned VXLAN links.
    pub fdb: Changes,
    /// proto-166 routes.
    pub routes: Changes,
    /// Owned policy rules.
    pub rules: Changes,
    /// Sysctls written (or restored).
    pub sysctls: Changes,
    /// One error per object that could not be brought to its desired state;
    /// every other object was still handled.
    pub errors: Vec<Error>,
    /// Things left as they are because the agent may not change them here
    /// (a global sysctl where /proc/sys is read-only), each with its fix.
    /// Not errors: the rest of the plan works without them.
    pub notices: Vec<String>,
}

impl ConvergeReport {
    /// Total number of changes made to the kernel.
    pub fn changes(&self) -> u32 {
        [
            self.links,
            self.addresses,
            self.fdb,
            self.routes,
            self.rules,
            self.sysctls,
        ]
        .iter()
        .map(Changes::total)
        .sum()
    }

    /// True when nothing was changed and nothing failed: the host already
    /// matched the plan.
    pub fn is_noop(&self) -> bool {
        self.changes() == 0 && self.errors.is_empty()
    }

    /// The errors as sentences (for a status field or a log line).
    pub fn error_messages(&self) -> Vec<String> {
        self.errors
            .iter()
            .map(|e| errchain::Chain(e).to_string())
            .collect()
    }

    /// Records the result of one object's step: counts an outcome or keeps
    /// the error.
    pub(crate) fn note(
        &mut self,
        kind: fn(&mut ConvergeReport) -> &mut Changes,
        r: Result<Outcome, Error>,
    ) {
        match r {
            Ok(o) => kind(self).record(o),
            Err(e) => self.errors.push(e),
        }
    }
}

impl fmt::Display for ConvergeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "links {}, addresses {}, fdb {}, routes {}, rules {}, sysctls {}",
            self.links, self.addresses, self.fdb, self.routes, self.rules, self.sysctls
        )?;
        if !self.errors.is_empty() {
            write!(f, "; {} error(s):", self.errors.len())?;
            for e in &self.errors {
                write!(f, "\n  {}", errchain::Chain(e))?;
            }
        }
        for n in &self.notices {
            write!(f, "\n  notice: {n}")?;
        }
        Ok(())
    }
}
