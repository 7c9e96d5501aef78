//! [`LabError`]: what failed, where (namespace, command), and its stderr.

use std::path::PathBuf;

/// Everything that can go wrong while building, driving or tearing down a lab.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A command run inside a namespace failed (`ip netns exec NS ...`).
    #[error("in namespace {ns}: `{command}` failed: {stderr}")]
    Command {
        /// The namespace (or `root` for `ip netns add` and friends).
        ns: String,
        /// The command line.
        command: String,
        /// Its standard error (trimmed), or the spawn error.
        stderr: String,
    },
    /// A file of the lab could not be read or written.
    #[error("cannot {verb} lab file {}", path.display())]
    File {
        /// `create`, `read`, `write` or `remove`.
        verb: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Some agents did not report converged with the current config digest in time.
    #[error("agents not converged after {seconds} s: {}\n{logs}", not_converged.join(", "))]
    NotConverged {
        /// Seconds waited.
        seconds: u64,
        /// `node: why` for each agent that is not converged.
        not_converged: Vec<String>,
        /// The tail of each such agent's log.
        logs: String,
    },
    /// An agent (or helper program) could not be started or stopped.
    #[error("agent {node}: {detail}")]
    Agent {
        /// The node.
        node: String,
        /// What went wrong and the fix.
        detail: String,
    },
    /// Traffic did not flow as a check needs.
    #[error("traffic {from} -> {to}: {detail}")]
    Traffic {
        /// Source namespace.
        from: String,
        /// Destination (namespace and address).
        to: String,
        /// What failed.
        detail: String,
    },
    /// A check does not apply to this lab (too few nodes, another cable).
    #[error("not applicable: {0}")]
    Skipped(String),
    /// A manifest the lab runs as containers has a field podman cannot reproduce.
    #[error(transparent)]
    Manifest(#[from] crate::pod::ManifestError),
    /// The configuration asks for something the lab cannot build.
    #[error("lab config: {0}")]
    Config(String),
}

/// Result with [`LabError`].
pub type Result<T, E = LabError> = std::result::Result<T, E>;
