//! Where in a ruleset a problem is, and what the problem is.

use crate::hook::{ChainType, Family, Hook};
use std::fmt;

/// Where in a ruleset something is: `table inet ra chain post rule #2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Table family.
    pub family: Family,
    /// Table name.
    pub table: String,
    /// Chain or set name, if the problem is inside one.
    pub object: Option<(&'static str, String)>,
    /// Rule index (0-based) inside the chain.
    pub rule: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "table {} {}", self.family, self.table)?;
        if let Some((kind, name)) = &self.object {
            write!(f, " {kind} {name}")?;
        }
        if let Some(i) = self.rule {
            write!(f, " rule #{}", i + 1)?;
        }
        Ok(())
    }
}

/// A ruleset the kernel would refuse, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// A name is empty, too long, or has characters nft cannot parse unquoted.
    #[error("{at}: {what} name {name:?} is invalid: {why}")]
    BadName {
        /// Where.
        at: Location,
        /// `table`, `chain`, `set` or `interface`.
        what: &'static str,
        /// The name.
        name: String,
        /// What is wrong and what is valid.
        why: String,
    },
    /// Two objects of one kind share a name.
    #[error("{at}: duplicate {what} {name:?}; names must be unique in their table")]
    Duplicate {
        /// Where.
        at: Location,
        /// `table`, `chain` or `set`.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// The kernel refuses this chain type on this hook (EOPNOTSUPP).
    #[error(
        "{at}: `type {ty} hook {hook} priority {priority}` is refused by every kernel: {reason}"
    )]
    ChainHook {
        /// Where.
        at: Location,
        /// Chain type.
        ty: ChainType,
        /// Hook.
        hook: Hook,
        /// Priority.
        priority: i32,
        /// Why, and the valid alternative.
        reason: &'static str,
    },
    /// An action is not allowed where the rule can run.
    #[error("{at}: `{action}` is not allowed in a {ty} chain on the {hook} hook: {reason}")]
    ActionPlacement {
        /// Where.
        at: Location,
        /// The action, as nft text.
        action: String,
        /// The base chain type it is reached from.
        ty: ChainType,
        /// The hook it is reached from.
        hook: Hook,
        /// Where it is valid.
        reason: &'static str,
    },
    /// A rule names a set the table does not have.
    #[error("{at}: set @{set} does not exist in this table; add it to the table's sets")]
    UnknownSet {
        /// Where.
        at: Location,
        /// The set name.
        set: String,
    },
    /// A rule compares an address of one IP version against a set of another.
    #[error("{at}: set @{set} holds {key} keys but is matched against `{used}` addresses; use an {want} set")]
    SetKey {
        /// Where.
        at: Location,
        /// The set.
        set: String,
        /// Its key type.
        key: &'static str,
        /// `ip` or `ip6`.
        used: &'static str,
        /// The key type that would fit.
        want: &'static str,
    },
    /// The table family cannot carry this IP version, or a rule mixes versions.
    #[error("{at}: {what}")]
    Family {
        /// Where.
        at: Location,
        /// What is wrong and what is valid.
        what: String,
    },
    /// A jump to a chain that does not exist or is a base chain.
    #[error("{at}: jump to {target:?}: {why}")]
    BadJump {
        /// Where.
        at: Location,
        /// The target.
        target: String,
        /// What is wrong.
        why: &'static str,
    },
    /// Jumps form a loop (the kernel refuses with ELOOP).
    #[error("table {family} {table}: jump loop {}; chains must form a tree", cycle.join(" -> "))]
    JumpLoop {
        /// Table family.
        family: Family,
        /// Table name.
        table: String,
        /// The chains of the loop, the first repeated at the end.
        cycle: Vec<String>,
    },
    /// A comment is too long or unrenderable.
    #[error("{at}: comment is invalid ({len} bytes): {why}")]
    BadComment {
        /// Where.
        at: Location,
        /// Its length in bytes.
        len: usize,
        /// What is wrong.
        why: &'static str,
    },
    /// A set element is of the wrong version or overlaps another.
    #[error("{at}: element {element}: {why}")]
    BadElement {
        /// Where.
        at: Location,
        /// The element.
        element: String,
        /// What is wrong and the fix.
        why: String,
    },
    /// A rule is malformed in itself.
    #[error("{at}: {why}")]
    BadRule {
        /// Where.
        at: Location,
        /// What is wrong and the fix.
        why: String,
    },
}
