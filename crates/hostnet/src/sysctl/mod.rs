//! Sysctls, with a journal of original values so that uninstall puts every
//! key back.
//!
//! Per-interface IPv4 keys (`net.ipv4.conf.<dev>.<name>` with `<dev>` a
//! link) go over rtnetlink ([`devconf`]: `RTM_SETLINK` with `IFLA_INET_CONF`,
//! CAP_NET_ADMIN only), so they work where /proc/sys is read-only (an
//! unprivileged container). Every other key (`net.ipv4.ip_forward`,
//! `conf.all.*`, `conf.default.*`) goes through /proc/sys ([`procfs`]), and
//! is written only where /proc/sys is writable: elsewhere a global key that
//! differs is left as it is and reported as a notice, not an error.

pub mod devconf;
pub mod procfs;

use crate::error::{Error, Result};
use crate::report::{ConvergeReport, Outcome};
use devconf::DevKey;
use plan::Sysctl;
use procfs::norm;
pub use procfs::{is_read_only, sysctl_path};
use rtnetlink::Handle;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io;

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

/// Reads a key: per-interface IPv4 keys over rtnetlink, others from
/// /proc/sys. Equals `sysctl -n KEY`.
pub async fn read_sysctl(handle: &Handle, key: &str) -> Result<String> {
    match DevKey::parse(key) {
        Some(k) => devconf::get(handle, &k).await.map(|v| v.to_string()),
        None => procfs::read(key),
    }
}

/// Writes a key: per-interface IPv4 keys over rtnetlink, others to
/// /proc/sys. Equals `sysctl -w KEY=VALUE`.
pub async fn write_sysctl(handle: &Handle, key: &str, value: &str) -> Result<()> {
    match DevKey::parse(key) {
        Some(k) => devconf::set(handle, &k, value).await,
        None => procfs::write(key, value),
    }
}

/// True when `e` says the key's object is gone: the link of a
/// per-interface key (ENODEV) or the /proc/sys file (ENOENT).
fn is_gone(e: &Error) -> bool {
    match e {
        Error::Sysctl { cause, .. } => cause.kind() == io::ErrorKind::NotFound,
        other => other.errno() == Some(19),
    }
}

/// Sets one key if it differs, recording its original value in `journal`
/// first (only the first time the key is changed). Equals
/// `sysctl -w KEY=VALUE` when the value differs. A write that fails leaves
/// the journal as it was.
pub async fn ensure_sysctl(
    handle: &Handle,
    s: &Sysctl,
    journal: &mut SysctlJournal,
) -> Result<Outcome> {
    let cur = read_sysctl(handle, &s.key).await?;
    if cur == norm(&s.value) {
        return Ok(Outcome::Unchanged);
    }
    let recorded = !journal.originals.contains_key(&s.key);
    if recorded {
        journal.originals.insert(s.key.clone(), cur);
    }
    let r = write_sysctl(handle, &s.key, &s.value).await;
    if r.is_err() && recorded {
        journal.originals.remove(&s.key);
    }
    r.map(|_| Outcome::Updated)
}

/// Records in `journal`, without writing anything, the current value of
/// every key in `sysctls` that differs from its desired value and is not
/// journaled yet; true when the journal grew. The agent persists the
/// journal after this and before converging, so an agent killed between
/// a change and the journal write never records a changed value as the
/// original. Keys that cannot be read (a link not created yet) are left
/// to [`ensure_sysctl`]. Equals `sysctl -n KEY` per key.
pub async fn record_originals(
    handle: &Handle,
    sysctls: &[Sysctl],
    journal: &mut SysctlJournal,
) -> bool {
    let mut grew = false;
    for s in sysctls {
        if journal.originals.contains_key(&s.key) {
            continue;
        }
        if let Ok(cur) = read_sysctl(handle, &s.key).await {
            if cur != norm(&s.value) {
                journal.originals.insert(s.key.clone(), cur);
                grew = true;
            }
        }
    }
    grew
}

/// [`ensure_sysctl`] for every key, noted in `report`. A global key that
/// differs where /proc/sys is read-only becomes a notice naming its value
/// and the fix, not an error.
pub async fn ensure_sysctls(
    handle: &Handle,
    sysctls: &[Sysctl],
    journal: &mut SysctlJournal,
    report: &mut ConvergeReport,
) {
    for s in sysctls {
        match ensure_sysctl(handle, s, journal).await {
            Err(e) if is_read_only(&e) => report.notices.push(format!(
                "sysctl {} is {}, want {}: /proc/sys is read-only here (an unprivileged container), so it is left as it is; set it on the node (`sysctl -w {}={}`) or run the agent privileged",
                s.key,
                procfs::read(&s.key).unwrap_or_else(|_| "unreadable".into()),
                s.value,
                s.key,
                s.value
            )),
            r => report.note(|r| &mut r.sysctls, r),
        }
    }
}

/// Puts every journaled key back to its original value (`sysctl -w
/// KEY=ORIGINAL`) and drops it from the journal. Keys that no longer exist
/// (those of links removed since) are skipped and dropped too; keys that
/// fail stay in the journal for a later retry.
pub async fn restore(handle: &Handle, journal: &mut SysctlJournal) -> Vec<Result<Outcome>> {
    let mut out = Vec::new();
    let keys: Vec<String> = journal.originals.keys().cloned().collect();
    for key in keys {
        let original = journal.originals[&key].clone();
        let r = match read_sysctl(handle, &key).await {
            Err(e) if is_gone(&e) => Ok(Outcome::Unchanged),
            Err(e) => Err(e),
            Ok(cur) if cur == norm(&original) => Ok(Outcome::Unchanged),
            Ok(_) => write_sysctl(handle, &key, &original)
                .await
                .map(|_| Outcome::Updated),
        };
        if r.is_ok() {
            journal.originals.remove(&key);
        }
        out.push(r);
    }
    out
}
