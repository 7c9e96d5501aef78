//! Taking a node over from another route agent (Submariner's Go route
//! agent) make-before-break, behind a trait so the loop stays testable: the
//! binary implements it (crate `takeover`). A pass calls
//! [`Takeover::prepare`] before converging the host and
//! [`Takeover::finish`] once the packet filter is in place, until one
//! takeover completed without errors.

use crate::host::BoxFuture;
use plan::HostPlan;
use serde::Serialize;

/// What a takeover found and did, one line per object (`/status`, logs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TakeoverReport {
    /// The other agent's objects seen before anything was changed.
    pub found: Vec<String>,
    /// Objects kept and taken over because they match the plan.
    pub adopted: Vec<String>,
    /// Objects removed.
    pub removed: Vec<String>,
    /// Objects of others sharing a name or table with the other agent's,
    /// left as they are.
    pub kept: Vec<String>,
    /// Leftovers left in place because takeover is disabled, and what they
    /// conflict with.
    pub conflicts: Vec<String>,
    /// What could not be done, each naming its object.
    pub errors: Vec<String>,
}

impl TakeoverReport {
    /// Appends `other`'s lines to this report's.
    pub fn extend(&mut self, other: TakeoverReport) {
        self.found.extend(other.found);
        self.adopted.extend(other.adopted);
        self.removed.extend(other.removed);
        self.kept.extend(other.kept);
        self.conflicts.extend(other.conflicts);
        self.errors.extend(other.errors);
    }

    /// The report after this one's pass is followed by one that reported
    /// `next`: `next` alone, unless this pass's takeover failed and `next`
    /// is its retry; then what the earlier passes found and did stays, and
    /// the conflicts and errors are the retry's.
    pub fn followed_by(mut self, next: TakeoverReport) -> TakeoverReport {
        if self.errors.is_empty() {
            return next;
        }
        self.errors.clear();
        self.conflicts.clear();
        self.extend(next);
        self
    }
}

/// The takeover steps a pass runs.
pub trait Takeover: Send + Sync {
    /// Before the host converges to `plan`: records what the other agent
    /// left and re-owns, in place, its objects the plan also has (so the
    /// converge updates them instead of refusing them).
    fn prepare<'a>(&'a self, plan: &'a HostPlan) -> BoxFuture<'a, TakeoverReport>;
    /// After the agent's packet filter is in place: removes the other
    /// agent's rules, chains, jumps, sets and tables, then its stale routes
    /// and rules.
    fn finish<'a>(&'a self, plan: &'a HostPlan) -> BoxFuture<'a, TakeoverReport>;
}

#[cfg(test)]
mod tests {
    use super::TakeoverReport;

    fn report(removed: &[&str], errors: &[&str]) -> TakeoverReport {
        TakeoverReport {
            found: removed.iter().map(|s| s.to_string()).collect(),
            removed: removed.iter().map(|s| s.to_string()).collect(),
            errors: errors.iter().map(|s| s.to_string()).collect(),
            ..TakeoverReport::default()
        }
    }

    #[test]
    fn a_retry_keeps_what_the_failed_pass_did_and_only_its_own_errors() {
        let failed = report(&["chain SUBMARINER-INPUT"], &["ipset busy"]);
        let retry = report(&["ipset SUBMARINER-LOCALCIDRS"], &[]);
        let r = failed.followed_by(retry);
        assert_eq!(
            r.removed,
            ["chain SUBMARINER-INPUT", "ipset SUBMARINER-LOCALCIDRS"]
        );
        assert!(r.errors.is_empty());
        // After a complete takeover a new report replaces it.
        let next = report(&[], &[]);
        assert_eq!(r.followed_by(next.clone()), next);
    }
}
