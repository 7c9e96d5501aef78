//! Errors of packet-filter backends. Each names the object that failed.

use ruleset::validate::ValidationError;
use ruleset::Family;
use std::fmt;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The object a kernel or tool error is attributed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Object {
    /// A whole table.
    Table {
        /// Family.
        family: Family,
        /// Name.
        name: String,
    },
    /// A chain.
    Chain {
        /// Family.
        family: Family,
        /// Table.
        table: String,
        /// Chain.
        name: String,
    },
    /// A rule, with its nft text.
    Rule {
        /// Family.
        family: Family,
        /// Table.
        table: String,
        /// Chain.
        chain: String,
        /// 0-based position in the chain.
        index: usize,
        /// The rule as nft text.
        text: String,
    },
    /// A set.
    Set {
        /// Family.
        family: Family,
        /// Table.
        table: String,
        /// Set.
        name: String,
    },
    /// A batch of set elements.
    Elements {
        /// Family.
        family: Family,
        /// Table.
        table: String,
        /// Set.
        set: String,
        /// The first element of the failing message.
        first: String,
        /// How many elements the failing message carried.
        count: usize,
    },
    /// The transaction as a whole (batch begin/end, the commit itself).
    Transaction,
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Object::Table { family, name } => write!(f, "table {family} {name}"),
            Object::Chain {
                family,
                table,
                name,
            } => write!(f, "chain {name} of table {family} {table}"),
            Object::Rule {
                family,
                table,
                chain,
                index,
                text,
            } => {
                write!(
                    f,
                    "rule #{} of chain {chain} in table {family} {table} ({text})",
                    index + 1
                )
            }
            Object::Set {
                family,
                table,
                name,
            } => write!(f, "set {name} of table {family} {table}"),
            Object::Elements {
                family,
                table,
                set,
                first,
                count,
            } => {
                write!(
                    f,
                    "{count} elements of set {set} in table {family} {table} starting at {first}"
                )
            }
            Object::Transaction => f.write_str("the transaction"),
        }
    }
}

/// A backend failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The desired ruleset is invalid; nothing was sent. (The validation
    /// error names the table, chain or rule and the fix.)
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The kernel refused one message of a transaction; nothing was committed.
    #[error("the kernel refused {object}: {} ({}, errno {errno})", errno_meaning(*errno), errno_name(*errno))]
    Kernel {
        /// What was refused.
        object: Object,
        /// The positive errno.
        errno: i32,
        /// The kernel's extended-ack message, if it sent one.
        message: Option<String>,
    },
    /// A system call failed (socket, send, recv, spawn); `context` says
    /// what was being done, the OS error is the `#[source]`.
    #[error("{context}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// An external tool (iptables-restore, ipset) failed.
    #[error("{tool} failed on {object}: {detail}")]
    Tool {
        /// The tool.
        tool: String,
        /// What it was asked to do.
        object: Object,
        /// Its message (first lines of stderr).
        detail: String,
    },
    /// The backend cannot express part of the ruleset on this host.
    #[error("{object} cannot be expressed by the {backend} backend: {why}")]
    Unsupported {
        /// Backend name.
        backend: String,
        /// What.
        object: Object,
        /// Why, and what would make it work.
        why: String,
    },
    /// A set-element update named a set that does not exist, or an element
    /// that is (not) there.
    #[error("{object}: {why}")]
    NotFound {
        /// What.
        object: Object,
        /// Detail.
        why: String,
    },
    /// What the kernel holds differs from what was applied.
    #[error("drift: {0}")]
    Drift(String),
}

impl Error {
    /// The errno, for kernel errors.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Kernel { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}

/// What an nf_tables errno means for the agent's requests.
pub fn errno_meaning(errno: i32) -> &'static str {
    match errno {
        1 => "operation not permitted: the agent needs CAP_NET_ADMIN in this network namespace",
        2 => "no such object, chain type or expression: the kernel lacks the module, or the referenced object is missing",
        7 => "argument list too long",
        12 => "out of memory",
        13 => "permission denied",
        16 => "busy: the object is still in use",
        17 => "already exists, or overlaps an existing set interval",
        22 => "invalid argument: a message or attribute the kernel does not understand",
        31 => "jumps nest deeper than the kernel allows (16 levels)",
        40 => "too many levels of jumps, or a jump loop",
        61 => "a register was read before it was written (malformed rule)",
        75 => "value too large",
        93 | 95 => "not supported: the chain type does not take this hook or priority, or an expression is not allowed here",
        105 => "no buffer space: the batch did not fit the socket buffers",
        _ => "unexpected kernel error",
    }
}

/// The symbolic errno name (`EOPNOTSUPP`).
pub fn errno_name(errno: i32) -> &'static str {
    match errno {
        1 => "EPERM",
        2 => "ENOENT",
        7 => "E2BIG",
        12 => "ENOMEM",
        13 => "EACCES",
        16 => "EBUSY",
        17 => "EEXIST",
        22 => "EINVAL",
        31 => "EMLINK",
        40 => "ELOOP",
        61 => "ENODATA",
        75 => "EOVERFLOW",
        93 => "EPROTONOSUPPORT",
        95 => "EOPNOTSUPP",
        105 => "ENOBUFS",
        _ => "E?",
    }
}
