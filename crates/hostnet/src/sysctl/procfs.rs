//! Sysctls through /proc/sys: the global keys (`net.ipv4.ip_forward`,
//! `net.ipv4.conf.all.*`, ...). /proc/sys/net shows the network namespace
//! of the *calling thread*, so these functions use blocking `std::fs` on the
//! caller's thread (never a tokio blocking pool, whose threads may sit in
//! another namespace). Each call is one small read or write.

use crate::error::{Error, Result};
use plan::Sysctl;
use std::io;
use std::path::PathBuf;

/// The /proc/sys path of a dotted key (`plan::Sysctl::path`).
pub fn sysctl_path(key: &str) -> PathBuf {
    Sysctl {
        key: key.to_string(),
        value: String::new(),
    }
    .path()
}

fn err(key: &str, verb: &'static str, cause: io::Error) -> Error {
    Error::Sysctl {
        key: key.to_string(),
        path: sysctl_path(key).display().to_string(),
        verb,
        cause,
    }
}

/// Values compare with whitespace normalised (`/proc/sys` separates
/// multi-value keys with tabs, `sysctl -w` takes spaces).
pub fn norm(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads a key from /proc/sys. Equals `sysctl -n KEY`.
pub fn read(key: &str) -> Result<String> {
    std::fs::read_to_string(sysctl_path(key))
        .map(|v| norm(&v))
        .map_err(|e| err(key, "read", e))
}

/// Writes a key to /proc/sys. Equals `sysctl -w KEY=VALUE`.
pub fn write(key: &str, value: &str) -> Result<()> {
    std::fs::write(sysctl_path(key), format!("{}\n", norm(value))).map_err(|e| err(key, "write", e))
}

/// True when `e` is a /proc/sys write refused because /proc/sys is mounted
/// read-only (EROFS), as in an unprivileged container.
pub fn is_read_only(e: &Error) -> bool {
    matches!(e, Error::Sysctl { cause, .. } if cause.raw_os_error() == Some(30))
}
