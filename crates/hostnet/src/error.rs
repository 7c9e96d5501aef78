//! One error enum for the crate: every variant names the object that failed
//! (`route 10.245.0.0/16 table 150`, `link vx-submariner`, `sysctl KEY`), the
//! verb and what the operator can do; the kernel's errno is the `#[source]`
//! (render the whole chain with `errchain::Chain`).

use std::io;

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, and on which object.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// [`crate::Host::new`] was called outside a tokio runtime.
    #[error("no tokio runtime: call Host::new inside a tokio runtime (Runtime::block_on or Runtime::enter)")]
    NoRuntime,
    /// The rtnetlink socket could not be opened.
    #[error("cannot open an rtnetlink socket (hostnet needs Linux and CAP_NET_ADMIN)")]
    Socket {
        /// The OS error.
        #[source]
        cause: io::Error,
    },
    /// The kernel refused a netlink request about one object.
    #[error("{object}: cannot {verb}{}", hint(cause))]
    Kernel {
        /// The object, as an `ip` command would name it.
        object: String,
        /// What was attempted (`add`, `replace`, `delete`, `dump`...).
        verb: &'static str,
        /// The kernel's errno.
        #[source]
        cause: io::Error,
    },
    /// A sysctl could not be read or written.
    #[error("sysctl {key} ({path}): cannot {verb}{}", sysctl_hint(cause))]
    Sysctl {
        /// Dotted key.
        key: String,
        /// Its /proc/sys path.
        path: String,
        /// `read` or `write`.
        verb: &'static str,
        /// The OS error.
        #[source]
        cause: io::Error,
    },
    /// The plan asks for something that cannot be programmed as given.
    #[error("{object}: {reason}")]
    Invalid {
        /// The object.
        object: String,
        /// Why, and what to change.
        reason: String,
    },
    /// Host facts could not be discovered.
    #[error("host facts: {reason}")]
    Facts {
        /// Why, and what to check.
        reason: String,
    },
}

impl Error {
    /// The errno behind a kernel or sysctl error, if any.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Kernel { cause, .. } | Error::Sysctl { cause, .. } | Error::Socket { cause } => {
                cause.raw_os_error()
            }
            _ => None,
        }
    }
}

fn hint(e: &io::Error) -> &'static str {
    match e.raw_os_error() {
        Some(1) | Some(13) => " (run as root with CAP_NET_ADMIN)",
        Some(19) => " (the device does not exist yet; check the interface name)",
        Some(17) => " (an object with the same key already exists)",
        Some(101) => " (the next hop is not reachable; add a covering route or mark the route onlink)",
        Some(22) => " (the kernel rejected a parameter: an MTU above what the underlay allows, mixed address families, or an unsupported attribute)",
        Some(95) => " (this kernel does not support it)",
        Some(99) => " (the address is not configured on this host)",
        _ => "",
    }
}

fn sysctl_hint(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::NotFound => " (the key does not exist; is the interface there?)",
        io::ErrorKind::PermissionDenied => " (run as root; /proc/sys must be writable)",
        _ => "",
    }
}
