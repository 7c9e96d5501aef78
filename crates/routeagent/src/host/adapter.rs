//! [`HostnetOps`]: the agent's [`HostOps`] over `hostnet::Host`, persisting
//! the sysctl journal whenever a converge changed it.

use super::journal::JournalFile;
use agent::error::BoxError;
use agent::host::{BoxFuture, HostOps, HostReport, Scope};
use anyhow::Result;
use hostnet::{ConvergeReport, Host};
use plan::{FactsQuery, HostFacts, HostPlan};
use std::path::Path;
use tokio::sync::Mutex;

/// `hostnet::Host` behind a mutex, with its journal file.
pub struct HostnetOps {
    host: Mutex<Host>,
    journal: JournalFile,
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
        })
    }
}

fn report(r: hostnet::Result<ConvergeReport>) -> HostReport {
    match r {
        Ok(r) => HostReport {
            changes: r.changes() as usize,
            errors: r
                .errors
                .into_iter()
                .map(|e| Box::new(e) as BoxError)
                .collect(),
        },
        Err(e) => HostReport {
            changes: 0,
            errors: vec![Box::new(e)],
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

    fn converge<'a>(&'a self, plan: &'a HostPlan, scope: Scope) -> BoxFuture<'a, HostReport> {
        Box::pin(async move {
            let mut host = self.host.lock().await;
            let before = host.journal().clone();
            let out = report(match scope {
                Scope::Full => host.converge(plan).await,
                Scope::Changes => host.converge_changes(plan).await,
            });
            if *host.journal() != before {
                self.journal.persist(host.journal());
            }
            out
        })
    }

    fn remove_all(&self) -> BoxFuture<'_, HostReport> {
        Box::pin(async move {
            let mut host = self.host.lock().await;
            let out = report(host.remove_all().await);
            if out.errors.is_empty() {
                self.journal.remove();
            } else {
                self.journal.persist(host.journal());
            }
            out
        })
    }
}
