//! Errors of parsing, validating and querying a topology.

use std::path::PathBuf;

/// What is wrong with a topology, naming the field path and the fix.
#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    /// The YAML does not parse into the topology's shape (syntax errors,
    /// unknown fields, wrong types, bad addresses). `message` holds serde's
    /// text, which starts with the field path.
    #[error("{}{message}", location(*line, *column))]
    Syntax {
        /// 1-based line, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
        /// What is wrong (field path first when known).
        message: String,
    },
    /// The file parsed but breaks a rule of the format.
    #[error("{path}: {message}")]
    Invalid {
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
    #[error("cannot read topology file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// An error in a topology file, with the file's name.
    #[error("topology file {}: {source}", path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// The error inside it.
        #[source]
        source: Box<TopologyError>,
    },
    /// Serializing to YAML failed (should not happen for a valid topology).
    #[error("cannot write the topology as YAML: {0}")]
    Serialize(String),
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
            path: path.into(),
            message: message.into(),
        }
    }

    /// The error inside [`TopologyError::InFile`], or `self`.
    pub fn root(&self) -> &TopologyError {
        match self {
            TopologyError::InFile { source, .. } => source.root(),
            e => e,
        }
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
            line: loc.as_ref().map(|l| l.line()),
            column: loc.as_ref().map(|l| l.column()),
            message,
        }
    }
}
