//! Sysctls through /proc/sys, with a journal of original values so that
//! uninstall puts every key back.
//!
//! /proc/sys/net shows the network namespace of the *calling thread*, so
//! these functions use blocking `std::fs` on the caller's thread (never a
//! tokio blocking pool, whose threads may sit in another namespace). Each
//! call is one small read or write.

use crate::error::{Error, Result};
use crate::report::Outcome;
use plan::Sysctl;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;

/// Original values of the keys the agent changed, recorded before the
/// first change of each key. The agent persists it (serde) to its state
/// file; [`restore`] puts the values back on uninstall.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SysctlJournal {
    /// Dotted key -> value found before the agent first changed it.
    pub originals: BTreeMap<String, String>,
}

impl SysctlJournal {
    /// True when no change is recorded.
    pub fn is_empty(&self) -> bool {
        self.originals.is_empty()
    }
}

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
fn norm(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads a key. Equals `sysctl -n KEY`.
pub fn read_sysctl(key: &str) -> Result<String> {
    std::fs::read_to_string(sysctl_path(key))
        .map(|v| norm(&v))
        .map_err(|e| err(key, "read", e))
}

/// Writes a key. Equals `sysctl -w KEY=VALUE`.
pub fn write_sysctl(key: &str, value: &str) -> Result<()> {
    std::fs::write(sysctl_path(key), format!("{}\n", norm(value))).map_err(|e| err(key, "write", e))
}

/// Sets one key if it differs, recording its original value in `journal`
/// first (only the first time the key is changed). Equals
/// `sysctl -w KEY=VALUE` when the value differs.
pub fn ensure_sysctl(s: &Sysctl, journal: &mut SysctlJournal) -> Result<Outcome> {
    let cur = read_sysctl(&s.key)?;
    if cur == norm(&s.value) {
        return Ok(Outcome::Unchanged);
    }
    journal.originals.entry(s.key.clone()).or_insert(cur);
    write_sysctl(&s.key, &s.value)?;
    Ok(Outcome::Updated)
}

/// [`ensure_sysctl`] for every key; one result per key, in order.
pub fn ensure_sysctls(sysctls: &[Sysctl], journal: &mut SysctlJournal) -> Vec<Result<Outcome>> {
    sysctls.iter().map(|s| ensure_sysctl(s, journal)).collect()
}

/// Puts every journaled key back to its original value (`sysctl -w
/// KEY=ORIGINAL`) and drops it from the journal. Keys that no longer exist
/// (those of links removed since) are skipped and dropped too; keys that
/// fail stay in the journal for a later retry.
pub fn restore(journal: &mut SysctlJournal) -> Vec<Result<Outcome>> {
    let mut out = Vec::new();
    let keys: Vec<String> = journal.originals.keys().cloned().collect();
    for key in keys {
        let original = journal.originals[&key].clone();
        let r = match read_sysctl(&key) {
            Err(Error::Sysctl { cause, .. }) if cause.kind() == io::ErrorKind::NotFound => {
                Ok(Outcome::Unchanged)
            }
            Err(e) => Err(e),
            Ok(cur) if cur == original => Ok(Outcome::Unchanged),
            Ok(_) => write_sysctl(&key, &original).map(|_| Outcome::Updated),
        };
        if r.is_ok() {
            journal.originals.remove(&key);
        }
        out.push(r);
    }
    out
}
