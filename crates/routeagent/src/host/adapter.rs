//! [`HostnetOps`]: the agent's [`HostOps`] over `hostnet::Host`, persisting
//! the sysctl journal (file, and the [`JournalStore`] when one is set)
//! before any sysctl changes: the originals of the keys a converge would
//! change are journaled and persisted first, then the host is converged.

use super::journal::JournalFile;
use agent::error::BoxError;
use agent::host::{BoxFuture, HostOps, HostReport, Scope};
use anyhow::Result;
use hostnet::SysctlJournal;
use hostnet::{ConvergeReport, Host};
use plan::{FactsQuery, HostFacts, HostPlan, OvnFacts};
use std::path::Path;
use std::sync::{Arc, OnceLock};
use tokio::sync::Mutex;

/// A second home for the sysctl journal, outside the pod (the node's
/// RouteAgent object): written, and awaited, before a sysctl changes.
pub trait JournalStore: Send + Sync {
    /// Keeps `journal` (empty: nothing to restore); failures are logged.
    fn store<'a>(&'a self, journal: &'a SysctlJournal) -> BoxFuture<'a, ()>;
}

/// `hostnet::Host` behind a mutex, with its journal file.
pub struct HostnetOps {
    host: Mutex<Host>,
    journal: JournalFile,
    remote: OnceLock<Arc<dyn JournalStore>>,
}

impl HostnetOps {
    /// Opens rtnetlink in the current namespace and loads the journal from
    /// `state_dir`.
    pub async fn new(state_dir: &Path) -> Result<Self> {
        let journal = JournalFile::new(state_dir);
        let host = Host::with_journal(journal.load()?)?;
        Ok(HostnetOps {
            host: Mutex::new(host),
            journal,
            remote: OnceLock::new(),
        })
    }

    /// Adds the originals `found` elsewhere (the RouteAgent's annotation)
    /// to the journal, then keeps the journal in `store` as well as in the
    /// file from now on, and writes it to both at once.
    pub async fn keep_journal_in(&self, found: &SysctlJournal, store: Arc<dyn JournalStore>) {
        let mut host = self.host.lock().await;
        host.merge_journal(found);
        let _ = self.remote.set(store);
        self.save(host.journal()).await;
    }

    /// Adds the originals `found` elsewhere to the journal (uninstall reads
    /// the RouteAgent's annotation as well as the file).
    pub async fn merge_journal(&self, found: &SysctlJournal) {
        self.host.lock().await.merge_journal(found);
    }

    /// Writes the journal to the file and the store, if any.
    async fn save(&self, journal: &SysctlJournal) {
        self.journal.persist(journal);
        if let Some(r) = self.remote.get() {
            r.store(journal).await;
        }
    }
}

/// The agent's report of a converge; `notices` are the host's standing ones.
fn report(r: hostnet::Result<ConvergeReport>, notices: &[String]) -> HostReport {
    let notices = notices.to_vec();
    match r {
        Ok(r) => HostReport {
            changes: r.changes() as usize,
            errors: r
                .errors
                .into_iter()
                .map(|e| Box::new(e) as BoxError)
                .collect(),
            notices,
        },
        Err(e) => HostReport {
            changes: 0,
            errors: vec![Box::new(e)],
            notices,
        },
    }
}

impl HostOps for HostnetOps {
    fn facts<'a>(&'a self, q: &'a FactsQuery) -> BoxFuture<'a, Result<HostFacts, BoxError>> {
        Box::pin(async move {
            let host = self.host.lock().await;
            host.discover(q).await.map_err(|e| Box::new(e) as BoxError)
        })
    }

    fn ovn_facts<'a>(
        &'a self,
        cluster_cidrs: &'a [ipnet::IpNet],
    ) -> BoxFuture<'a, Result<OvnFacts, BoxError>> {
        Box::pin(async move {
            let host = self.host.lock().await;
            hostnet::ovn::ovn_facts(host.handle(), cluster_cidrs)
                .await
                .map_err(|e| Box::new(e) as BoxError)
        })
    }

    fn converge<'a>(&'a self, plan: &'a HostPlan, scope: Scope) -> BoxFuture<'a, HostReport> {
        Box::pin(async move {
            let mut host = self.host.lock().await;
            if host.record_sysctl_originals(plan).await {
                self.save(host.journal()).await;
            }
            let before = host.journal().clone();
            let r = match scope {
                Scope::Full => host.converge(plan).await,
                Scope::Changes => host.converge_changes(plan).await,
            };
            let out = report(r, host.notices());
            // Keys of links this converge created are journaled as they
            // change (their links go away on uninstall anyway).
            if *host.journal() != before {
                self.save(host.journal()).await;
            }
            out
        })
    }

    fn remove_all(&self) -> BoxFuture<'_, HostReport> {
        Box::pin(async move {
            let mut host = self.host.lock().await;
            let out = report(host.remove_all().await, &[]);
            if out.errors.is_empty() {
                self.journal.remove();
                if let Some(r) = self.remote.get() {
                    r.store(host.journal()).await;
                }
            } else {
                self.save(host.journal()).await;
            }
            out
        })
    }
}
