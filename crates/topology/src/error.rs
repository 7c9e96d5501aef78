//! Errors of parsing, validating and querying a topology.

use std::path::{Path, PathBuf};

/// What is wrong with a topology, naming the field path and the fix.
#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    /// The YAML does not parse into the topology's shape (syntax errors,
    /// unknown fields, wrong types, bad addresses). `message` holds serde's
    /// text, which starts with the field path.
    #[error("{}{}{message}", file_prefix(file.as_deref()), location(*line, *column))]
    Syntax {
        /// The file, when read from one ([`crate::Topology::load`]).
        file: Option<PathBuf>,
        /// 1-based line, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
        /// What is wrong (field path first when known).
        message: String,
    },
    /// The topology parsed but breaks a rule of the format.
    #[error("{}{path}: {message}", file_prefix(file.as_deref()))]
    Invalid {
        /// The file, when read from one ([`crate::Topology::load`]).
        file: Option<PathBuf>,
        /// Field path, e.g. `remoteClusters[1].subnets[0]`.
        path: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// `--node NAME` is not in `cluster.nodes`.
    #[error("node {node:?} is not in cluster.nodes (known: {}); pass one of those to --node or add it to the topology", known.join(", "))]
    UnknownNode {
        /// The name asked for.
        node: String,
        /// The node names the topology has.
        known: Vec<String>,
    },
    /// The topology file could not be read.
    #[error("cannot read topology file {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Serializing to YAML failed (should not happen for a valid topology).
    #[error("cannot write the topology as YAML")]
    Serialize(#[source] serde_yaml::Error),
}

fn file_prefix(file: Option<&Path>) -> String {
    file.map(|f| format!("topology file {}: ", f.display()))
        .unwrap_or_default()
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("line {l} column {c}: "),
        (Some(l), None) => format!("line {l}: "),
        _ => String::new(),
    }
}

impl TopologyError {
    /// An [`TopologyError::Invalid`] at `path`.
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        TopologyError::Invalid {
            file: None,
            path: path.into(),
            message: message.into(),
        }
    }

    /// The same error, naming `path` as the file it is in (syntax and
    /// validation errors; others are returned unchanged).
    pub fn in_file(mut self, path: &Path) -> Self {
        if let TopologyError::Syntax { file, .. } | TopologyError::Invalid { file, .. } = &mut self
        {
            *file = Some(path.to_path_buf());
        }
        self
    }

    pub(crate) fn from_yaml(e: serde_yaml::Error) -> Self {
        let loc = e.location();
        let mut message = e.to_string();
        // serde_yaml appends " at line L column C"; we print it first instead.
        if let Some(l) = &loc {
            let suffix = format!(" at line {} column {}", l.line(), l.column());
            if let Some(stripped) = message.strip_suffix(&suffix) {
                message = stripped.to_string();
            }
        }
        TopologyError::Syntax {
            file: None,
            line: loc.as_ref().map(|l| l.line()),
            column: loc.as_ref().map(|l| l.column()),
            message,
        }
    }
}
